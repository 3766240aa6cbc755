"""Room in a process's descriptor table, made while the process runs a single thread.

Linux grows a process's table of descriptors as it needs more (64, 256, 512, ...
slots), and a process with threads pays a grace period of RCU for each growth (about
10 ms, blocked): ZeroMQ's threads make every actor such a process. Root and the
supervisors hold several descriptors per job (pipes, log files), so starting a few
hundred jobs cost them several such waits, on the way of every start. Grown once at
the start, before any thread exists, the table costs nothing more: a descriptor placed
at the far end and closed again leaves it at that size for good.
"""

from __future__ import annotations

import fcntl
import os
import resource


def make_room_for_descriptors(count: int) -> None:
    """Grow the table to hold `count` descriptors (at most the soft limit allows)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        count = min(count, soft)
    farthest = count - 1
    try:
        fcntl.fcntl(farthest, fcntl.F_GETFD)
        return  # in use already: the table is that large
    except OSError:
        pass
    placeholder = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.dup2(placeholder, farthest, inheritable=False)
        os.close(farthest)
    except OSError:
        pass  # a limit lower than it said: the table grows as it must
    finally:
        os.close(placeholder)
