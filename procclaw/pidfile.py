"""The daemon's pid file, which is also its single-instance lock.

Root holds an exclusive flock(2) on `procclaw.pid` for its whole life. The kernel drops
the lock when root dies however it dies, so a pid file left behind by a dead daemon is
never mistaken for a live one, and a pid that was since reused means nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from procclaw.whole_numbers import whole_number

# A CLI probing the lock holds it for microseconds; a starting daemon retries this long.
_ACQUIRE_PATIENCE = 0.3


class AlreadyRunning(Exception):
    def __init__(self, pid: int | None):
        super().__init__(f"already running (pid {pid if pid is not None else '?'})")
        self.pid = pid


class PidFile:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Lock the file and write our pid, or raise AlreadyRunning naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + _ACQUIRE_PATIENCE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise AlreadyRunning(self.read_pid()) from None
                time.sleep(0.01)  # a CLI's probe holds the lock for microseconds
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def read_pid(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return whole_number(text, 1)

    def running_pid(self) -> int | None:
        """The pid of the live daemon holding the lock, or None if there is none."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self.read_pid()  # someone holds it: that daemon is alive
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)
