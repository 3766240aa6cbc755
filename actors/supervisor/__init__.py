"""A supervisor: holds many jobs, their processes, restarts and log files.

Owns: the process groups of the jobs root handed it, their runs, restarts, stops,
NOTIFY_SOCKETs and log files; each held job's live state.
Binds: ROUTER `run/<name>.sock` (SUPERVISOR_COMMANDS); takes jobs with their pipes on a
private channel from root.
Publishes: `job.<id>.<state>` and run events, once the controller has the report.

- actor.py: the process, its commands and its channel to root
- word_to_root.py, usage_sampler.py: what root hears of the jobs; what they cost now
- job_supervision.py, supervision_host.py: one held job's state machine
- job_commands.py: start, stop, restart, unhealthy, queue and state of a held job
- run_start.py, run_cgroups.py: starting a run (secrets, cgroup); emptying its cgroup
- run_exits.py, stop_sequence.py: learning of exits, ending a run (grace, max_runtime)
- run_watches.py, output_heartbeat.py, memory_limit.py: the output check, memory limit
- job_output.py, log_writer.py: output from the pipes to the log files
- job_notices.py, notify_socket.py: sd_notify from the job
"""
