"""The zygote: a pre-imported template process that every actor is forked from.

Root imports every actor module once (what only one actor uses, and only when asked,
such as the gateway's web server, that actor loads itself), freezes those objects out of
the garbage collector (so a fork keeps sharing their pages) and forks the zygote before
it opens anything else (`fork_from_root`): root, the zygote and every actor then share
one image of the code instead of root holding a second one. A zygote that died is
replaced by a fresh interpreter (`python -m actors.runtime.zygote SOCK_FD LIFELINE_FD`),
since root by then runs threads that a fork would not carry. Either way the zygote waits
on its SOCK_SEQPACKET socket for spawn requests: a `Spawn` record (procclaw/commands.py)
plus any file descriptors (SCM_RIGHTS) the actor should inherit. It answers with a
`Spawned`: the pid, or why not.

It forks twice: the intermediate child exits at once, so the actor is orphaned and
re-parents to root, the subreaper. Root is then the actor's parent and sees its exit
through SIGCHLD like any child's, even if the zygote itself has died meanwhile. A new
actor costs one fork of a warm process: milliseconds, and little unique memory.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import socket
import struct
import sys

import msgpack

from actors.runtime import process_title
from procclaw import wire_record
from procclaw.commands import Spawn, Spawned

MAX_FDS = 16
MAX_REQUEST = 65536


def preload() -> None:
    """Import every actor's modules and keep them out of the collector's reach.

    The collector stays off while they load and nothing is collected before the freeze:
    a collection frees blocks all over the pages the imports filled, and every process
    forked afterwards fills those holes with its own objects, copying each page it
    writes to. The little cyclic garbage the imports leave is kept instead, shared.
    Whoever forks from the image turns the collector back on (`collect_again`).
    """
    from actors.runtime import registry

    gc.disable()
    registry.preload()
    wire_record.prepare_every_record()
    gc.freeze()


def collect_again() -> None:
    """Turn the collector back on in a process forked from the preloaded image."""
    gc.enable()


def fork_from_root(lifeline: int) -> tuple[int, socket.socket]:
    """Fork the zygote from root, which has preloaded and runs no thread yet.

    Returns the zygote's pid and root's end of the channel. The zygote keeps only its
    end, the lifeline and the standard streams: root's lock and readiness pipe stay
    root's alone.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _close_all_but({0, 1, 2, theirs.fileno(), lifeline})
            code = serve(theirs, lifeline)
        finally:
            os._exit(code)
    theirs.close()
    return pid, ours


def main(argv: list[str]) -> int:
    preload()
    return serve(socket.socket(fileno=int(argv[1])), int(argv[2]))


def serve(channel: socket.socket, lifeline: int) -> int:
    collect_again()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # root decides when actors stop
    process_title.name_zygote()
    while True:
        readable, _, _ = select.select([channel, lifeline], [], [])
        if lifeline in readable:
            return 0  # root is gone
        try:
            data, fds, _, _ = socket.recv_fds(channel, MAX_REQUEST, MAX_FDS)
        except OSError:
            return 1
        if not data:
            return 0  # root closed the channel
        reply = _handle(data, fds, channel, lifeline)
        for fd in fds:
            os.close(fd)
        channel.send(msgpack.packb(reply))


def _close_all_but(keep: set[int]) -> None:
    for fd in [int(name) for name in os.listdir("/dev/fd")]:  # Linux and macOS both
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the directory's own descriptor, gone once listed


def _handle(data: bytes, fds: list[int], channel: socket.socket, lifeline: int) -> dict:
    token = None
    try:
        spec = Spawn.from_wire(msgpack.unpackb(data))
        token = spec.token
        pid = _fork_actor(spec, fds, channel, lifeline)
    except Exception as exc:  # report any failure to root instead of dying
        return Spawned(token, error=f"{type(exc).__name__}: {exc}").to_wire()
    return Spawned(token, pid=pid).to_wire()


def _fork_actor(spec: Spawn, fds: list[int], channel: socket.socket, lifeline: int) -> int:
    pid_reader, pid_writer = os.pipe()
    middle = os.fork()
    if middle == 0:
        code = 0
        try:
            os.close(pid_reader)
            actor_pid = os.fork()
            if actor_pid == 0:
                os.close(pid_writer)
                channel.close()
                _run_actor(spec, fds, lifeline)  # never returns
            os.write(pid_writer, struct.pack("=i", actor_pid))
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(pid_writer)
    try:
        data = os.read(pid_reader, 4)
    finally:
        os.close(pid_reader)
        os.waitpid(middle, 0)
    if len(data) != 4:
        raise RuntimeError("the actor could not be forked")
    return struct.unpack("=i", data)[0]


def _run_actor(spec: Spawn, fds: list[int], lifeline: int) -> None:
    code = 1
    try:
        from pathlib import Path

        from actors.runtime.actor import ActorContext, configure_logging
        from actors.runtime.registry import actor_class
        from procclaw.home import Home

        # Out of root's process group, so a Ctrl-C at a foreground daemon reaches only
        # root (which stops everything in order); and no signal left ignored, since
        # ignored dispositions would pass on to the jobs.
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        home = Home(Path(spec.home))
        kind = actor_class(spec.kind)
        kind.first_in_process(home, spec.name)
        process_title.name_actor(spec.kind, spec.name)
        configure_logging(spec.name, spec.log_level)
        ctx = ActorContext(
            kind=spec.kind,
            name=spec.name,
            home=home,
            lifeline_fd=lifeline,
            daemon_id=spec.daemon_id,
            args=spec.args,
            fds=tuple(fds),
            job_umask=spec.job_umask,
            bus_key=spec.bus_key,
        )
        code = kind(ctx).run()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
