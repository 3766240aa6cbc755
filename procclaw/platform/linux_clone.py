"""Starting a job's process inside its cgroup from birth: clone3 with CLONE_INTO_CGROUP.

A process that joins a cgroup by writing to `cgroup.procs` waits in that write for an
RCU grace period (about 15 ms) unless another join came just before it. A run started
alone, such as the restart of a job that died, pays it as downtime. Born inside its
cgroup (Linux 5.7, cgroup v2) it waits for nothing.

It is a fork, not a vfork: the kernel copies the supervisor's page tables, a few
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

from procclaw.platform.base import ChildSpec

_SYS_CLONE3 = 435  # the same number on every architecture that has it
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
_available = True


def spawn_inside(cgroup: str, spec: ChildSpec) -> int | None:
    """Start `spec` inside the cgroup directory `cgroup`; its pid, or None where it
    cannot be started so: the caller starts it the usual way, which fails, if it does,
    with the usual error (the cgroup is gone, no process may be forked), and this
    kernel is not asked again where it lacks clone3 or CLONE_INTO_CGROUP."""
    global _available
    if not _available:
        return None
    try:
        directory = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    argv = [os.fsencode(arg) for arg in spec.argv]
    env = {os.fsencode(key): os.fsencode(value) for key, value in spec.env.items()}
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    args = _CloneArgs(flags=_CLONE_INTO_CGROUP, exit_signal=signal.SIGCHLD, cgroup=directory)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    _python.PyOS_BeforeFork()
    pid = _libc.syscall(_SYS_CLONE3, ctypes.byref(args), ctypes.sizeof(args))
    if pid == 0:
        _python.PyOS_AfterFork_Child()
        _become(spec, argv, env, devnull)  # does not return
    cause = ctypes.get_errno()
    _python.PyOS_AfterFork_Parent()
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(directory)
    os.close(devnull)
    if pid > 0:
        return pid
    if cause in _UNSUPPORTED:
        _available = False
    return None


def _become(spec: ChildSpec, argv: list[bytes], env: dict[bytes, bytes], devnull: int) -> None:
    """In the child: the job's session, descriptors, umask, directory and signals, then
    its program. Never returns."""
    why = "cannot start"
    try:
        os.setsid()
        os.dup2(devnull, 0)
        os.dup2(spec.stdout_fd, 1)
        os.dup2(spec.stderr_fd, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.umask(spec.umask)
        if spec.cwd:
            os.chdir(spec.cwd)
        for signum in signal.valid_signals():
            if callable(signal.getsignal(signum)) or signum in _PYTHON_IGNORES:
                signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        os.execve(spec.program, argv, env)
    except OSError as exc:
        why = f"cannot start {spec.program}: {exc.strerror or exc}"
    except BaseException as exc:  # a bug here must not pass for the job's own failure
        why = f"cannot start {spec.program}: {type(exc).__name__}: {exc}"
    try:
        os.write(2, f"procclaw: {why}\n".encode())
    finally:
        os._exit(FAILED)
