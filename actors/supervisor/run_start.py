"""Starting one run of a held job: its secrets, its cgroup, its process.

The secrets are read off the supervisor's loop (a keyring may take seconds to answer,
and the other jobs of the supervisor must not wait for it); then the run's cgroup is
made and its process spawned with the values in its environment alone. A stop that
comes while the secrets are read cancels the start: there is nothing yet to signal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from actors.runtime.job_process import JobProcess, SpawnError, new_run_id, spawn
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

    @property
    def waiting(self) -> bool:
        """A start is waiting for its secrets: no process runs yet."""
        return self._waiting is not None

    def begin(
        self,
        extra_env: Mapping[str, str],
        spawned: Callable[[JobProcess], None],
        failed: Callable[[str], None],
    ) -> None:
        """Start a run: `spawned(process)` once it runs, or `failed(reason)`.

        `extra_env` is what ProcClaw itself tells the run (NOTIFY_SOCKET)."""
        if not self.secrets.needed:
            self._spawn({}, None, extra_env, spawned, failed)
            return
        token = self._waiting = object()

        def secrets_read(values: dict[str, str], error: BaseException | None) -> None:
            if token is self._waiting:
                self._spawn(values, error, extra_env, spawned, failed)

        self.host.blocking.submit(self.secrets.fetch, secrets_read)

    def cancel(self) -> None:
        """Forget a start waiting for its secrets: their answer will be ignored."""
        self._waiting = None

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
            process = spawn(
                self.job,
                self.pipes.out_w,
                self.pipes.err_w,
                secrets,
                extra_env,
                umask=self.host.job_umask,
                cgroup=cgroup,
                run_id=run_id,
            )
        except (SpawnError, SecretError) as exc:
            self.host.cgroups.end(self.job.id, cgroup)
            failed(str(exc))
            return
        spawned(process)
