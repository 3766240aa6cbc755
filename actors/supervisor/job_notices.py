"""What a supervisor hears on its job's NOTIFY_SOCKET (actors/supervisor/notify_socket.py).

The socket is bound only for a job with `ready: notify` or a watchdog check, before
any run is spawned; what the current run said there (`Notices`) is among the job's
facts for every job. The supervisor is told, through callbacks, when the run became
ready and when a fact it reports changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from actors.runtime.loop import EventLoop
from actors.supervisor.notify_socket import (
    Notices,
    NotifySocket,
    notify_socket_path,
    uses_notify_socket,
)
from procclaw.config import JobConfig
from procclaw.home import Home
from procclaw.job_facts import JobFacts


class JobNotices:
    def __init__(self, home: Home, job: JobConfig, resume: JobFacts):
        self.notices = Notices.resumed(resume)
        self._path = notify_socket_path(home, job.id) if uses_notify_socket(job) else None
        self._socket: NotifySocket | None = None
        self._loop: EventLoop | None = None

    def listen(
        self,
        loop: EventLoop,
        running: Callable[[], bool],
        on_ready: Callable[[], None],
        on_change: Callable[[], None],
    ) -> None:
        """Bind the socket (for a job that uses one); messages arriving while no run is
        `running` are from what the last run left behind, and are ignored."""
        if self._path is None:
            return
        socket = self._socket = NotifySocket(self._path)
        self._loop = loop

        def on_messages() -> None:
            changed = False
            for message in socket.receive():
                if not running():
                    continue
                said, became_ready = self.notices.absorb(message, time.time())
                changed = changed or said
                if became_ready:
                    on_ready()
            if changed:
                on_change()

        loop.add_reader(socket.fileno(), on_messages)

    def run_env(self) -> dict[str, str]:
        """What a run's environment needs to find the socket."""
        return {"NOTIFY_SOCKET": self._socket.path} if self._socket is not None else {}

    def new_run(self) -> None:
        self.notices = Notices()

    def facts(self) -> dict[str, Any]:
        return self.notices.facts()

    def close(self) -> None:
        """Unbind the socket, and stop the loop watching it first: a closed descriptor
        left in the poller reads as ready on every turn, until its number is reused."""
        if self._socket is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
