"""Set up a job's own process, then exec the job's program: join its cgroup, set its
rlimits.

A supervisor has threads, so nothing may run between its fork and the exec (no
`preexec_fn`), and `prlimit` on the new pid, or moving it into a cgroup, would race
the program's start (it could fork first). So a job with a cgroup or rlimits is started
through this script, run as `python -I -S`: it writes its own pid to the cgroup's
`cgroup.procs` (whatever it forks later is born inside), sets each limit (soft and
hard, as systemd's LimitNOFILE= does), puts back the signals Python ignores, and execs
the program with the same pid, session and environment.

    python -I -S child_setup.py REPORT_FD [cgroup=PATH] NAME=VALUE... -- PROGRAM ARG...

REPORT_FD is a pipe to the supervisor. When all goes well the exec closes it (it is
close-on-exec) and the supervisor reads nothing. Otherwise one report goes to it and
the script exits 127: `cgroup <message>` when it cannot join its cgroup,
`limit <message>` when a limit cannot be set, `exec <errno>`
when the program cannot be run, `error <message>` for anything else. The script
imports the standard library only, since it runs without site-packages; `command`
and `read_report` are the supervisor's half.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

LIMITS = {
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}
UNLIMITED = "unlimited"  # procclaw.config.models.UNLIMITED: this script imports no procclaw
FAILED = 127  # the exit status when the program was never run, as the shell's


Limits = tuple[tuple[str, int | str], ...]


def command(argv: list[str], limits: Limits, report_fd: int, cgroup: str | None) -> list[str]:
    """The command line that runs `argv` in `cgroup` with `limits` ((name, value) pairs)."""
    settings = [f"{name}={value}" for name, value in limits]
    if cgroup is not None:
        settings.insert(0, f"cgroup={cgroup}")
    return [sys.executable, "-I", "-S", __file__, str(report_fd), *settings, "--", *argv]


def read_report(fd: int) -> tuple[str, str] | None:
    """(kind, detail) of what went wrong, or None once the program runs; closes `fd`."""
    chunks = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(4096):
            chunks.append(chunk)
    if not chunks:
        return None
    kind, _, detail = b"".join(chunks).decode(errors="replace").partition(" ")
    return kind, detail


def _set(name: str, value: str) -> str | None:
    """Set limit `name` to `value`, soft and hard; what went wrong, if anything."""
    which = LIMITS[name]
    wanted = resource.RLIM_INFINITY if value == UNLIMITED else int(value)
    hard = resource.getrlimit(which)[1]
    try:
        resource.setrlimit(which, (wanted, wanted))
    except (ValueError, OSError) as exc:
        # Raising a hard limit takes privilege the daemon does not have.
        if hard != resource.RLIM_INFINITY and (wanted == resource.RLIM_INFINITY or wanted > hard):
            return f"cannot set {name} to {value}: the hard limit is {hard}"
        return f"cannot set {name} to {value}: {exc}"
    return None


def _join(report_fd: int, cgroup: str) -> None:
    try:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
            procs.write("0")  # this process: the program it becomes stays inside
    except OSError as exc:
        _fail(report_fd, f"cgroup cannot join {cgroup}: {exc.strerror or exc}")


def _restore_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec."""
    for name in ("SIGPIPE", "SIGXFSZ", "SIGXFZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def main(args: list[str]) -> None:
    report_fd = int(args[0])
    split = args.index("--")
    try:
        for setting in args[1:split]:
            name, _, value = setting.partition("=")
            if name == "cgroup":
                _join(report_fd, value)
            elif problem := _set(name, value):
                _fail(report_fd, f"limit {problem}")
        argv = args[split + 1 :]
        _restore_signals()
        os.set_inheritable(report_fd, False)
        os.execvp(argv[0], argv)
    except OSError as exc:
        _fail(report_fd, f"exec {exc.errno}")
    except Exception as exc:  # a bug here must not pass for the job's own failure
        _fail(report_fd, f"error {type(exc).__name__}: {exc}")


def _fail(report_fd: int, report: str) -> None:
    os.write(report_fd, report.encode())
    os._exit(FAILED)


if __name__ == "__main__":
    main(sys.argv[1:])
