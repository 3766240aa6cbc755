"""`Wakeup`: a flag that a poller can wait on beside its sockets, set from any thread.

A worker thread tells an actor's event loop that it has a result (actors/runtime/blocking_calls.py);
the gateway tells an event stream that its client left. A pipe is what a poller can
wait on; the lock keeps a late `set()` from writing into a file that reused the number
of a closed pipe.
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

    def clear(self) -> None:
        """Unset it: read what the pipe holds (the loop's thread, before it looks for work)."""
        with self._lock:
            if self._closed:
                return
            with contextlib.suppress(BlockingIOError):
                while os.read(self._read, 4096):
                    pass

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._read)
                os.close(self._write)
