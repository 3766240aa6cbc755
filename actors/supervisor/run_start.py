"""Starting one run of a held job: its secrets, its cgroup, its process.

The secrets are read off the supervisor's loop (a keyring may take seconds to answer,
and the other jobs of the supervisor must not wait for it); then the run's cgroup is
made and its process spawned with the values in its environment alone. A job with
rlimits runs child_setup first, which sets them and then execs the program; its
report (the program runs, or why not) is awaited on the loop, not by blocking it, as
that interpreter takes some ten milliseconds. A stop that comes while the secrets are
read cancels the start, and one that comes while child_setup runs kills that process:
the job's program has not started, or has only just.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping

from actors.runtime.job_process import (
    JobProcess,
    SpawnError,
    exec_outcome,
    new_run_id,
    signal_group,
    spawn,
)
from actors.supervisor.supervision_host import JobPipes, SupervisionHost
from procclaw.config import JobConfig
from procclaw.secrets import SecretError
from procclaw.secrets.job_secrets import JobSecrets


class RunStart:
    def __init__(self, host: SupervisionHost, job: JobConfig, pipes: JobPipes):
        self.host = host
        self.job = job
        self.pipes = pipes
        self.secrets = JobSecrets(host.home, job)
        self._waiting: object | None = None  # the start whose secrets are being read
        self._setting_up: tuple[JobProcess, int] | None = None  # child_setup, its report
        self._alone = False  # the start under way is a restart after an exit

    @property
    def waiting(self) -> bool:
        """A start is under way (its secrets, or child_setup): the job runs nothing yet."""
        return self._waiting is not None or self._setting_up is not None

    def begin(
        self,
        extra_env: Mapping[str, str],
        spawned: Callable[[JobProcess], None],
        failed: Callable[[str], None],
        alone: bool = False,
    ) -> None:
        """Start a run: `spawned(process)` once it runs, or `failed(reason)`.

        `extra_env` is what ProcClaw itself tells the run (NOTIFY_SOCKET). A run started
        `alone` (a restart after an exit) is born in its cgroup where the system allows:
        a fork of the supervisor costs it a few milliseconds, the join's wait some
        fifteen, which a start among many shares with the others."""
        self._alone = alone
        if not self.secrets.needed:
            self._spawn({}, None, extra_env, spawned, failed)
            return
        token = self._waiting = object()

        def secrets_read(values: dict[str, str], error: BaseException | None) -> None:
            if token is self._waiting:
                self._spawn(values, error, extra_env, spawned, failed)

        self.host.blocking.submit(self.secrets.fetch, secrets_read)

    def cancel(self) -> None:
        """End a start under way: secrets still being read are ignored when they come, and
        a child_setup still running is killed (with what it started) and reaped."""
        self._waiting = None
        if self._setting_up is None:
            return
        process, report_fd = self._setting_up
        self._setting_up = None
        self.host.loop.remove_reader(report_fd)
        os.close(report_fd)
        signal_group(process.pid, signal.SIGKILL)
        assert process.popen is not None
        process.popen.wait()  # SIGKILL: at once
        self.host.reaper.forget(process.pid)
        self.host.cgroups.end(self.job.id, process.cgroup)

    def _spawn(
        self,
        values: dict[str, str],
        error: BaseException | None,
        extra_env: Mapping[str, str],
        spawned: Callable[[JobProcess], None],
        failed: Callable[[str], None],
    ) -> None:
        self._waiting = None
        run_id, cgroup = new_run_id(), None
        try:
            if error is not None:
                raise error
            secrets = self.secrets.use(values)
            cgroup = self.host.cgroups.make(self.job, run_id)
            process, report_fd = spawn(
                self.job,
                self.pipes.out_w,
                self.pipes.err_w,
                secrets,
                extra_env,
                umask=self.host.job_umask,
                cgroup=cgroup,
                run_id=run_id,
                born_inside=self._alone,
            )
        except (SpawnError, SecretError) as exc:
            self.host.cgroups.end(self.job.id, cgroup)
            failed(str(exc))
            return
        if report_fd is None:
            spawned(process)
            return
        self._setting_up = (process, report_fd)
        # The program may run and end before the report is read: its status waits.
        self.host.reaper.expect(process)

        def reported() -> None:
            self._setting_up = None
            self.host.loop.remove_reader(report_fd)
            error = exec_outcome(process, report_fd, self.job)
            if error is None:
                spawned(process)
            else:
                self.host.reaper.forget(process.pid)
                self.host.cgroups.end(self.job.id, process.cgroup)
                failed(str(error))

        self.host.loop.add_reader(report_fd, reported)
