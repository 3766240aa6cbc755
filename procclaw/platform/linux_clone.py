"""Starting a job's process inside its cgroup from birth: clone3 with CLONE_INTO_CGROUP.

A process that joins a cgroup by writing to `cgroup.procs` waits in that write for an
RCU grace period (about 15 ms) unless another join came just before it. A run started
alone, such as the restart of a job that died, pays it as downtime. Born inside its
cgroup (Linux 5.7, cgroup v2) it waits for nothing.

clone3 is a raw system call: glibc's fork(), which takes malloc's locks so that the
child finds them free, does not run around it. Made in a process with other threads
(a supervisor has ZeroMQ's), the child may find a lock that one of them held and wait
on it forever, before it execs. So `clone_into` is called only by a process with one
thread: the spawner (linux_spawner.py). With CLONE_PARENT the job is born its caller's
parent's child, the supervisor's.

It is a fork, not a vfork: the kernel copies the caller's page tables, a few
milliseconds a start, so a burst of starts, which shares one grace period, is cheaper
joining. The fork is made between the interpreter's own fork hooks, as `os.fork` makes
it, with every signal blocked; the child makes a few system calls and execs. Where it
cannot exec, it says why on the job's stderr and exits 127, as the shell that joins
the cgroup otherwise does.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
from dataclasses import dataclass

_SYS_CLONE3 = 435  # the same number on every architecture that has it
_CLONE_PARENT = 0x8000
_CLONE_INTO_CGROUP = 0x200000000
FAILED = 127
# What clone3 answers where it, or CLONE_INTO_CGROUP, is not to be had.
_UNSUPPORTED = (errno.ENOSYS, errno.EINVAL, errno.E2BIG, errno.EOPNOTSUPP, errno.EPERM)
# Python ignores these; an ignored signal would stay ignored in the job.
_PYTHON_IGNORES = {
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name)
}


class _CloneArgs(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "flags",
            "pidfd",
            "child_tid",
            "parent_tid",
            "exit_signal",
            "stack",
            "stack_size",
            "tls",
            "set_tid",
            "set_tid_size",
            "cgroup",
        )
    ]


# PyDLL: the GIL stays held across the call, so the child holds it too.
_libc = ctypes.PyDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_python = ctypes.pythonapi


@dataclass(frozen=True)
class Birth:
    """What the child needs to become the job: all of it made before the clone."""

    program: bytes
    argv: list[bytes]
    env: dict[bytes, bytes]
    cwd: str | None
    umask: int
    stdout_fd: int
    stderr_fd: int


def clone_into(cgroup_fd: int, birth: Birth) -> int:
    """Start `birth` inside the cgroup whose directory `cgroup_fd` is open, as a child of
    our parent: its pid, or minus the errno. Only in a process with one thread."""
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    flags = _CLONE_INTO_CGROUP | _CLONE_PARENT
    # CLONE_PARENT takes the exit signal ours has (SIGCHLD); clone3 wants none given.
    args = _CloneArgs(flags=flags, exit_signal=0, cgroup=cgroup_fd)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    _python.PyOS_BeforeFork()
    pid = _libc.syscall(_SYS_CLONE3, ctypes.byref(args), ctypes.sizeof(args))
    if pid == 0:
        _python.PyOS_AfterFork_Child()
        _become(birth, devnull)  # does not return
    cause = ctypes.get_errno()
    _python.PyOS_AfterFork_Parent()
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(devnull)
    return pid if pid > 0 else -cause


def unsupported(cause: int) -> bool:
    """Whether clone3's errno says this kernel lacks it or CLONE_INTO_CGROUP."""
    return cause in _UNSUPPORTED


def default_signal_handling(python_ignores_too: bool) -> None:
    """Put back the default action of every signal Python handles here (and of those
    it ignores, if asked): a forked copy of the interpreter must not keep them."""
    for signum in signal.valid_signals():
        handler = signal.getsignal(signum)
        if callable(handler) or (python_ignores_too and signum in _PYTHON_IGNORES):
            signal.signal(signum, signal.SIG_DFL)


def _become(birth: Birth, devnull: int) -> None:
    """In the child: the job's session, descriptors, umask, directory and signals, then
    its program. Never returns."""
    why = "cannot start"
    try:
        os.setsid()
        os.dup2(devnull, 0)
        os.dup2(birth.stdout_fd, 1)
        os.dup2(birth.stderr_fd, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.umask(birth.umask)
        if birth.cwd:
            os.chdir(birth.cwd)
        default_signal_handling(python_ignores_too=True)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        os.execve(birth.program, birth.argv, birth.env)
    except OSError as exc:
        why = f"cannot start {os.fsdecode(birth.program)}: {exc.strerror or exc}"
    except BaseException as exc:  # a bug here must not pass for the job's own failure
        why = f"cannot start {os.fsdecode(birth.program)}: {type(exc).__name__}: {exc}"
    try:
        os.write(2, f"procclaw: {why}\n".encode())
    finally:
        os._exit(FAILED)
