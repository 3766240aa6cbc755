"""How a supervisor learns that its job's run ended, and with which wait status.

A run it spawned is its child: SIGCHLD, then waitpid reaps it, along with any straggler
the run left (a supervisor is a child subreaper). A run adopted from a supervisor that
died is root's child: a pidfd says when it ends, and root, which reaped it, is asked
for its status (`reaped`); with root gone too, the status is lost (None).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import zmq

from actors.job_process import JobProcess, is_same_process
from actors.loop import EventLoop
from procclaw.client import Client, ClientError
from procclaw.home import Home


class RunExits:
    """Calls `on_exit(status)` when the run `current()` returns ends."""

    def __init__(
        self,
        loop: EventLoop,
        home: Home,
        context: zmq.Context,
        current: Callable[[], JobProcess | None],
        on_exit: Callable[[int | None], None],
    ):
        self._loop = loop
        self._home = home
        self._context = context
        self._current = current
        self._on_exit = on_exit
        self._pidfd: int | None = None
        loop.on_signal(signal.SIGCHLD, lambda _s: self._reap())

    def _reap(self) -> None:
        """Reap every exited child: the run, or a straggler it left."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            process = self._current()
            if process is not None and process.popen is not None and pid == process.pid:
                process.popen.returncode = status  # reaped here, not by Popen
                self._on_exit(status)

    def adopt(self, process: JobProcess) -> bool:
        """Watch an adopted run; False when it had ended already (`on_exit` was called)."""
        if is_same_process(process.pid, process.start_time):
            try:
                self._pidfd = os.pidfd_open(process.pid)
            except ProcessLookupError:
                pass
            else:
                self._loop.add_reader(self._pidfd, lambda: self._adopted_exited(process))
                return True
        self._adopted_exited(process)  # gone already: root may hold its exit status
        return False

    def _adopted_exited(self, process: JobProcess) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        try:
            root = Client(self._home, timeout=2.0, caller="actor", context=self._context)
            reply = root.call_endpoint("daemon", "reaped", {"pid": process.pid})
            status = reply.get("status")
        except ClientError:
            status = None  # root is gone: the status went to init
        self._on_exit(status)
