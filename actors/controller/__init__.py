"""The controller: the applied config, the job registry and the state database.

Owns: `procclaw.db`, the audit log, every job's cached facts, dependency waits, and the
schedule book of scheduled jobs.
Binds: ROUTER `run/controller.sock` (CONTROLLER_COMMANDS of procclaw/protocol.py).
Publishes: `config.reloaded`, and `job.<id>.waiting|failed` for a job it holds back.

- actor.py: the process and its command table
- job_control.py, job_placer.py: starting, stopping, restarting, placing jobs
- held_commands.py: a job's commands wait while it is on its way to its supervisor
- job_registry.py, job_health.py, run_stats.py: what it knows of each job
- dependency_gate.py: carrying out the dependency decisions
- schedule_book.py: due times of scheduled jobs
- config_reload.py: applying only what changed
"""
