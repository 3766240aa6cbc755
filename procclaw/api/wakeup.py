"""`Wakeup`: a flag that a zmq poller can wait on beside its sockets, set from any thread.

An event stream waits on its bus subscription; when its client leaves, or the gateway
stops, it must stop waiting at once rather than at its next keepalive, to give back its
place and its worker thread. A pipe is what a poller can wait on.
"""

from __future__ import annotations

import contextlib
import os
import threading


class Wakeup:
    def __init__(self) -> None:
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._lock = threading.Lock()  # a set() racing close() must not write a reused fd
        self._closed = False

    def fileno(self) -> int:
        """Readable once set."""
        return self._read

    def set(self) -> None:
        with self._lock:
            if not self._closed:
                with contextlib.suppress(BlockingIOError):  # already set, and then some
                    os.write(self._write, b"!")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._read)
                os.close(self._write)
