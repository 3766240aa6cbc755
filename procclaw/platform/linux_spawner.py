"""The spawner: a process with one thread that starts a supervisor's runs in their cgroups.

A supervisor cannot make the clone itself (linux_clone.py: ZeroMQ's threads may hold a
malloc lock at that moment, and the child waits on it forever). It forks the spawner
once, at its start and before its first thread, and asks it for each run to be born
in a cgroup. The run is born the supervisor's child (CLONE_PARENT), so its reaper
sees it end; the spawner holds nothing of it.

A request is one message on a socket pair: the cgroup's directory and the run's
stdout and stderr as descriptors, the program, arguments, environment, directory and
umask as a msgpack list. The answer is the pid, or minus the errno. A spawner found
dead (kill -9) is forked anew and asked again; one that dies or stalls after it was
asked leaves the run to be started the usual way, once whatever it may have started in
the cgroup is killed. The spawner exits when the supervisor's end of the pair closes,
which a supervisor's death does too.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import os
import select
import signal
import socket
import warnings
from collections.abc import Callable

import msgpack

from procclaw.platform.base import ChildSpec
from procclaw.platform.linux_clone import (
    Birth,
    clone_into,
    default_signal_handling,
    unsupported,
)

ANSWER_WITHIN = 2.0  # seconds: a clone takes a few milliseconds
LET_GO_WITHIN = 1.0  # seconds for a spawner let go to exit: it does at once
MAX_REQUEST = 1 << 20  # a larger environment starts the usual way
_ANSWER = 8  # bytes: a signed pid or -errno
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


class Spawner:
    """The supervisor's end: forks the spawner, asks it, and replaces it if it died."""

    def __init__(self, name_process: Callable[[], None] = lambda: None):
        self._name_process = name_process  # what the spawner calls itself, once forked
        self._link: socket.socket | None = None
        self._pidfd: int | None = None  # ours to signal and reap, whatever its pid now
        self._pid = 0
        self.available = True  # False once the kernel said it cannot

    @property
    def pid(self) -> int | None:
        """The spawner's pid while it runs (an exited one's pid may be another's now)."""
        if self._pidfd is None or select.select([self._pidfd], [], [], 0)[0]:
            return None
        return self._pid

    def start(self) -> bool:
        """Fork the spawner now (while this process has one thread), if none runs; False
        if it cannot be (out of processes or descriptors: runs start the usual way)."""
        if self._link is not None:
            return True
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError:
            return False
        parent = os.getpid()
        try:
            with warnings.catch_warnings():
                # Python 3.12 warns of a fork with threads running. glibc's fork leaves
                # malloc usable in the child, which touches no other thread's state.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            return False
        if pid == 0:
            _serve(theirs.fileno(), parent, self._name_process)  # does not return
        theirs.close()
        ours.settimeout(ANSWER_WITHIN)
        self._link, self._pid = ours, pid
        try:
            self._pidfd = os.pidfd_open(pid)  # not reaped yet: our reaper runs on our loop
        except OSError:
            self.close()  # out of descriptors: it exits on the closed pair
            return False
        return True

    def spawn(self, cgroup: str, spec: ChildSpec) -> int | None:
        """Start `spec` born inside `cgroup`: its pid, or None to start it the usual way."""
        if not self.available:
            return None
        request = _request(spec)
        if len(request) > MAX_REQUEST:
            return None
        try:
            directory = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None  # the usual way fails too, and says why
        try:
            return self._ask(request, (directory, spec.stdout_fd, spec.stderr_fd))
        finally:
            os.close(directory)

    def close(self) -> None:
        """Let the spawner go, and reap it: it exits once its end of the pair reads
        nothing more (or is killed, if it does not within LET_GO_WITHIN)."""
        if self._link is not None:
            self._link.close()
        if self._pidfd is not None:
            if not select.select([self._pidfd], [], [], LET_GO_WITHIN)[0]:
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED)  # unless our reaper did
            os.close(self._pidfd)
        self._link = self._pidfd = None

    def _ask(self, request: bytes, fds: tuple[int, int, int]) -> int | None:
        for _ in range(2):  # a spawner found dead before it was asked is replaced once
            if not self.start():
                return None
            assert self._link is not None
            try:
                socket.send_fds(self._link, [request], fds, socket.MSG_NOSIGNAL)
            except OSError as exc:
                if exc.errno == errno.EMSGSIZE:
                    return None  # past what the pair carries: started the usual way
                self._discard()
                continue
            try:
                answer = self._link.recv(_ANSWER)
            except OSError:
                answer = b""
            if len(answer) != _ANSWER:
                # Dead or stalled while asked: what it may have started must not run.
                self._discard()
                _kill_everything_in(fds[0])
                return None
            pid = int.from_bytes(answer, "little", signed=True)
            if pid > 0:
                return pid
            if unsupported(-pid):
                self.available = False
                self.close()  # of no more use
            return None
        return None

    def _discard(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        self.close()


def _request(spec: ChildSpec) -> bytes:
    env = {os.fsencode(key): os.fsencode(value) for key, value in spec.env.items()}
    argv = [os.fsencode(arg) for arg in spec.argv]
    return msgpack.packb([os.fsencode(spec.program), argv, env, spec.cwd, spec.umask])


def _kill_everything_in(cgroup_fd: int) -> None:
    try:
        kill = os.open("cgroup.kill", os.O_WRONLY | os.O_CLOEXEC, dir_fd=cgroup_fd)
    except OSError:
        return  # no cgroup.kill (before Linux 5.14): the run's end kills it
    try:
        os.write(kill, b"1")
    except OSError:
        pass
    finally:
        os.close(kill)


def _serve(fd: int, parent: int, name_process: Callable[[], None]) -> None:
    """The spawner's life, in the forked child: answer each request until the
    supervisor's end closes. Never returns."""
    try:
        gc.disable()  # nothing of the supervisor's is finalized here (its ZeroMQ sockets)
        # Killed with the supervisor, even in the middle of a clone, or if stopped: a
        # run it would start then would be no one's.
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            return  # it died before the line above
        os.closerange(3, fd)
        os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
        signal.set_wakeup_fd(-1)
        default_signal_handling(python_ignores_too=False)  # its runs reset the rest
        name_process()
        link = socket.socket(fileno=fd)
        while True:
            request, fds, _flags, _address = socket.recv_fds(link, MAX_REQUEST, 3)
            if not request:
                break
            try:
                answer = _born(request, fds)
            finally:
                for received in fds:
                    os.close(received)
            link.send(answer.to_bytes(_ANSWER, "little", signed=True))
    finally:
        os._exit(0)


def _born(request: bytes, fds: list[int]) -> int:
    if len(fds) != 3:
        return -errno.EBADF
    program, argv, env, cwd, umask = msgpack.unpackb(request, strict_map_key=False)
    cgroup_fd, stdout_fd, stderr_fd = fds
    return clone_into(cgroup_fd, Birth(program, argv, env, cwd, umask, stdout_fd, stderr_fd))
