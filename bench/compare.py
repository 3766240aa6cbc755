"""ProcClaw against supervisord and Circus on the same workloads, measured by hand.

    python bench/compare.py [--runs 3] [--big] [--markdown bench/RESULTS.md]
    python bench/compare.py --quick        # a smoke test at small sizes, one run

Installs supervisor and circus into a throwaway virtualenv (/tmp/pcbench-venv, reused),
runs each manager in its own temp directory with every socket local (unix sockets or
ipc://; Circus with no multicast discovery) and prints one table: a row per metric, the
median (min-max) over the runs per manager, ProcClaw's ratio to the faster anchor and a
verdict against ProcClaw's target. A run measures each manager in turn (the order
rotates from run to run); a metric sampled many times in a run (a client call, a
respawn) counts the run's median as the run's value. Never part of the test suite.

What users pay is what is measured, whatever a manager's design: a job is up when its
process has been exec'd, it is gone when its process has exited, memory is the PSS of
every process of the manager (not the jobs), CPU is every thread of those processes,
and calls go through each manager's own client in-process.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import platform
import random
import statistics
import subprocess
import sys
import time
import traceback
import venv
from collections.abc import Callable

import measure
import psutil
from managers import (
    MANAGERS,
    VENV,
    Circus,
    Manager,
    ProcClaw,
    ProcClawEveryActor,
    ensure_bytecode,
    other_managers,
    run,
    sleepers,
)


@dataclasses.dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one comparison."""

    small: int = 100  # most rows are measured with this many running jobs
    large: int = 500
    big: int | None = None  # --big: one more cold start, the slow one
    idle: int = 500  # jobs defined, none running, for the idle shutdown
    runs: int = 3
    kills: int = 12  # respawns timed per run
    calls: int = 200  # client status calls timed per run
    cli_runs: int = 7
    idle_seconds: float = 10.0
    log_lines: int = 200_000
    pause: float = 1.0  # quiet time after the manager reports it got there


QUICK = Plan(
    small=10,
    large=50,
    idle=50,
    runs=1,
    kills=4,
    calls=50,
    cli_runs=3,
    idle_seconds=2.0,
    log_lines=50_000,
    pause=0.3,
)


Check = Callable[[float, dict[str, float]], bool]


@dataclasses.dataclass
class Row:
    """One metric: samples per manager, which way is better, and ProcClaw's target."""

    label: str
    unit: str
    better: str = "lower"
    target: str = ""
    check: Check | None = None  # (ProcClaw's median, the anchors' medians) -> met
    samples: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def median(self, name: str) -> float | None:
        values = self.samples.get(name)
        return statistics.median(values) if values else None

    def anchors(self) -> dict[str, float]:
        found = {n: self.median(n) for n in ("supervisord", "Circus")}
        return {n: m for n, m in found.items() if m is not None}

    def best_anchor(self) -> float | None:
        medians = list(self.anchors().values())
        if not medians:
            return None
        return min(medians) if self.better == "lower" else max(medians)

    def cells(self) -> list[str]:
        ours, best = self.median("ProcClaw"), self.best_anchor()
        ratio = f"{ours / best:.3g}x" if ours is not None and best else "-"
        verdict = "-"
        if self.check is not None and ours is not None:
            try:
                verdict = "ok" if self.check(ours, self.anchors()) else "behind"
            except KeyError:
                verdict = "-"  # the anchor it is compared with has no number
        spreads = [_spread(self.samples.get(m.name)) for m in MANAGERS]
        return [f"{self.label} [{self.unit}]", *spreads, ratio, self.target, verdict]


def _spread(values: list[float] | None) -> str:
    if not values:
        return "n/a"
    text = _num(statistics.median(values))
    return text if len(values) == 1 else f"{text} ({_num(min(values))}-{_num(max(values))})"


def _num(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def _at_most(limit: float) -> Check:
    return lambda ours, anchors: ours <= limit


def _at_most_of(anchor: str) -> Check:
    return lambda ours, anchors: ours <= anchors[anchor]


def _at_least_best(ours: float, anchors: dict[str, float]) -> bool:
    return ours >= max(anchors.values())


def new_rows(plan: Plan) -> dict[str, Row]:
    """The table's rows, empty, in its order: key -> row."""
    rows: dict[str, Row] = {}

    def row(key, label, unit, target="", check=None, better="lower") -> None:
        rows[key] = Row(label, unit, better, target, check)

    n, span = plan.small, f"{plan.small} to {plan.large}"
    circus, supervisord = _at_most_of("Circus"), _at_most_of("supervisord")
    cold = [("cold_small", plan.small), ("cold_large", plan.large), ("cold_big", plan.big)]
    for key, size in cold:
        if size:
            row(key, f"cold start, {size} jobs", "ms", "<= Circus", circus)
    row("cold_per_job", f"cold start, cost per extra job ({span})", "ms", "<= 2 ms", _at_most(2))
    row("pss_small", f"memory, PSS of all manager processes, {n} jobs", "MiB", "<= 60 MiB",
        _at_most(60))  # fmt: skip
    row("pss_every_actor", f"memory, {n} jobs, every actor up (ProcClaw col.)", "MiB")
    row("pss_large", f"memory, PSS of all manager processes, {plan.large} jobs", "MiB")
    row("pss_per_job", f"memory, PSS per extra job ({span})", "MiB", "<= 0.1 MiB", _at_most(0.1))
    row("status_all", f"status of all {n} jobs, in-process client", "ms", "<= 2 ms", _at_most(2))
    row("status_cli", f"CLI `status <job>`, first look, {n} jobs", "ms", "<= 60 ms",
        _at_most(60))  # fmt: skip
    row("start_all", f"start all {n} jobs (API) until all run", "ms", "<= Circus", circus)
    row("stop_all", f"stop all {n} jobs (API) until all gone", "ms", "<= Circus", circus)
    row("shutdown", f"daemon shutdown, {n} jobs running", "ms", "<= Circus", circus)
    row("idle_shutdown", f"daemon shutdown, {plan.idle} jobs defined, 0 running", "ms",
        "<= 100 ms", _at_most(100))  # fmt: skip
    row("respawn", f"kill -9 to new process exec'd, {n} jobs", "ms", "<= 10 ms", _at_most(10))
    row("event", "kill -9 to job.exited event received", "ms", "<= 5 ms", _at_most(5))
    row("log", f"log throughput, {plan.log_lines // 1000}k x 100 B", "lines/s",
        ">= faster anchor", _at_least_best, better="higher")  # fmt: skip
    row("log_damage", "log lines missing + doubled + out of order", "lines", "0", _at_most(0))
    row("cpu", f"idle CPU over {plan.idle_seconds:g} s, {n} jobs", "% core", "<= supervisord",
        supervisord)  # fmt: skip
    row("floor_spawn", f"floor: Popen {n} sleeps (ProcClaw col.)", "ms")
    row("floor_reap", "floor: kill -9 to waitpid (ProcClaw col.)", "ms")
    return rows


def ensure_venv() -> None:
    """The anchors live in their own virtualenv, never in ProcClaw's environment."""
    if not (VENV / "bin/python").exists():
        venv.create(VENV, with_pip=True)
    if not (VENV / "bin/circusd").exists() or not (VENV / "bin/supervisord").exists():
        run([str(VENV / "bin/pip"), "install", "-q", "supervisor", "circus"])


class Table:
    """The rows being filled, and what went wrong on the way."""

    def __init__(self, plan: Plan):
        self.rows = new_rows(plan)
        self.failures: list[str] = []

    def add(self, key: str, name: str, value: float) -> None:
        self.rows[key].samples.setdefault(name, []).append(value)

    def attempt(self, name: str, what: str, step: Callable[[], None]) -> None:
        """Run one step; a failure loses that step's numbers, never the whole table."""
        try:
            step()
        except Exception as exc:  # reported below; the other managers go on
            self.failures.append(f"{name}, {what}: {type(exc).__name__}: {exc}")
            print(f"!! {name}, {what} failed:", file=sys.stderr)
            traceback.print_exc()

    def filled(self) -> list[Row]:
        return [row for row in self.rows.values() if row.samples]


def collect(plan: Plan, rng: random.Random) -> Table:
    """Run every workload on every manager, `plan.runs` times; the table."""
    table = Table(plan)
    for number in range(plan.runs):
        shift = number % len(MANAGERS)
        for cls in MANAGERS[shift:] + MANAGERS[:shift]:
            _progress(f"run {number + 1}/{plan.runs}: {cls.name}")
            one_run(cls, plan, table, rng)
        spawn, reap = measure.popen_floor(plan.small)
        table.add("floor_spawn", "ProcClaw", spawn)
        table.add("floor_reap", "ProcClaw", reap)
    return table


def one_run(cls: type[Manager], plan: Plan, table: Table, rng: random.Random) -> None:
    name = cls.name
    cold: dict[int, float] = {}
    pss: dict[int, float] = {}

    def small() -> None:
        with measure.started(cls, sleepers(plan.small)) as (manager, ms):
            cold[plan.small] = ms
            table.add("cold_small", name, ms)
            measure.settle(manager, plan.small, plan.pause)
            _with_small(manager, plan, table, rng, pss)

    def large() -> None:
        with measure.started(cls, sleepers(plan.large)) as (manager, ms):
            cold[plan.large] = ms
            table.add("cold_large", name, ms)
            measure.settle(manager, plan.large, plan.pause)
            pss[plan.large] = measure.pss_mib(manager.manager_pids())
            table.add("pss_large", name, pss[plan.large])

    def every_actor() -> None:
        """What a daemon that needs every actor costs (ProcClaw starts the scheduler, the
        health actor, the alerter and the gateway only once something needs them)."""
        with measure.started(ProcClawEveryActor, sleepers(plan.small)) as (manager, _ms):
            measure.settle(manager, plan.small, 0.0)
            manager.wake_every_actor()
            time.sleep(plan.pause)
            table.add("pss_every_actor", "ProcClaw", measure.pss_mib(manager.manager_pids()))

    def biggest() -> None:
        with measure.started(cls, sleepers(plan.big)) as (_, ms):
            table.add("cold_big", name, ms)

    def idle() -> None:
        with measure.started(cls, sleepers(plan.idle, autostart=False), wait=False) as (m, _):
            measure.wait_listed(m, plan.idle)
            time.sleep(plan.pause)
            table.add("idle_shutdown", name, measure.until_gone(m.shutdown, m.all_pids()))

    def logs() -> None:
        rate, damaged = measure.log_throughput(cls, plan.log_lines, plan.pause)
        table.add("log", name, rate)
        table.add("log_damage", name, damaged)

    table.attempt(name, f"{plan.small} jobs", small)
    if cls is ProcClaw:
        table.attempt(name, f"{plan.small} jobs, every actor up", every_actor)
    table.attempt(name, f"{plan.large} jobs", large)
    if plan.small in cold and plan.large in cold:
        extra = plan.large - plan.small
        table.add("cold_per_job", name, (cold[plan.large] - cold[plan.small]) / extra)
    if plan.small in pss and plan.large in pss:
        extra = plan.large - plan.small
        table.add("pss_per_job", name, (pss[plan.large] - pss[plan.small]) / extra)
    if plan.big:
        table.attempt(name, f"{plan.big} jobs", biggest)
    table.attempt(name, "idle shutdown", idle)
    table.attempt(name, "log throughput", logs)


def _with_small(
    manager: Manager, plan: Plan, table: Table, rng: random.Random, pss: dict[int, float]
) -> None:
    """Everything measured with `plan.small` running jobs, each step on its own (one that
    fails loses only its numbers), the quiet ones (memory, idle CPU) first."""
    name, n = manager.name, plan.small

    def memory() -> None:
        if isinstance(manager, Circus) and manager.udp_sockets():
            raise SystemExit(f"circusd opened UDP sockets: {manager.udp_sockets()}")
        pss[n] = measure.pss_mib(manager.manager_pids())
        table.add("pss_small", name, pss[n])

    def idle_cpu() -> None:
        percent, ended = measure.idle_cpu(manager.manager_pids, plan.idle_seconds)
        table.add("cpu", name, percent)
        if ended:
            print(f"!! {name}: {ended} threads ended in the idle window", file=sys.stderr)

    def status() -> None:
        # The CLI first, each run on a job no view has looked at yet (as a user's first
        # `status` is): a manager that measures a job on its first look pays it here.
        argvs = [manager.status_argv(f"j{i}") for i in range(1, plan.cli_runs + 1)]
        cli = [measure.timed_runs(argv, manager.env, 1)[0] for argv in argvs]
        table.add("status_cli", name, statistics.median(cli))
        calls = measure.timed_calls(manager.status_all, plan.calls)
        table.add("status_all", name, statistics.median(calls))

    def respawn() -> None:
        # Each job is killed once at most: a job killed again soon after its restart is
        # a crash loop to ProcClaw's retry policy, and backs off.
        original = manager.job_pids()
        victims = rng.sample(sorted(original), plan.kills)
        table.add("respawn", name, statistics.median(measure.respawns(manager, victims, rng)))
        if isinstance(manager, ProcClaw):
            spared = original - set(victims)
            jobs = [j["id"] for j in manager.client.call("list") if j.get("pid") in spared]
            latency = measure.procclaw_event_latency(manager, rng.sample(jobs, plan.kills), rng)
            table.add("event", name, statistics.median(latency))

    def stop_start() -> None:
        measure.settle(manager, n, plan.pause)
        table.add("stop_all", name, measure.until_gone(manager.stop_all, manager.job_pids()))
        measure.settle(manager, 0, plan.pause)
        table.add("start_all", name, measure.until_running(manager, manager.start_all, n))

    def shutdown() -> None:
        measure.settle(manager, n, plan.pause)
        table.add("shutdown", name, measure.until_gone(manager.shutdown, manager.all_pids()))

    for step in (memory, idle_cpu, status, respawn, stop_start, shutdown):
        table.attempt(name, f"{n} jobs, {step.__name__.replace('_', ' ')}", step)


def _progress(text: str) -> None:
    print(f"-- {text}", file=sys.stderr, flush=True)


HEADERS = ["metric", *(m.name for m in MANAGERS), "ratio", "target", "verdict"]


def text_table(rows: list[Row]) -> str:
    lines = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    return "\n".join("  ".join(map(str.ljust, line, widths)) for line in lines)


def markdown(rows: list[Row], plan: Plan, quick: bool) -> str:
    anchors = subprocess.run(
        [
            str(VENV / "bin/python"),
            "-c",
            "import importlib.metadata as m;print(m.version('supervisor'), m.version('circus'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    head = [
        "# ProcClaw vs supervisord vs Circus",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
        + (" (--quick)" if quick else ""),
        f"- machine: `{_uname()}`, {psutil.cpu_count()} CPUs,"
        f" {psutil.virtual_memory().total / 2**30:.1f} GiB",
        f"- python {platform.python_version()}, procclaw {importlib.metadata.version('procclaw')},"
        f" supervisor {anchors[0]}, circus {anchors[1]}",
        f"- cells: median (min-max) of {plan.runs} run(s); ratio: ProcClaw / faster anchor",
        "- a job is up when its process was exec'd and gone when it exited; memory is the"
        " PSS of every manager process (jobs excluded); calls go through each manager's"
        " in-process client",
        "- anchors run with their defaults: supervisord acts on a child's exit at its next"
        " 1 s poll, Circus at its next `check_delay` tick (5 s); that bounds their respawn;"
        " supervisord's shutdown stops one program per pass of its main loop, and with few"
        " jobs a pass can wait out its 1 s timeout",
        "- every manager runs from bytecode (ProcClaw's modules are compiled first, as pip"
        " compiles the anchors'); ProcClaw's CLI is the script beside the interpreter",
        "- log throughput: the writer is started through each manager's client once it has"
        " settled, and writes each line with a write() of its own",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    return "\n".join(head + ["| " + " | ".join(row.cells()) + " |" for row in rows]) + "\n"


def _uname() -> str:
    return subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: small sizes, 1 run")
    parser.add_argument("--runs", type=int, help="runs per row (default 3; --quick: 1)")
    parser.add_argument("--big", action="store_true", help="also a cold start with 1,000 jobs")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table there")
    parser.add_argument(
        "--beside-others",
        action="store_true",
        help="measure even with another process manager running (its numbers are off)",
    )
    options = parser.parse_args()
    others = other_managers()
    if others and not options.beside_others:
        print(
            "bench: process managers are already running, and would share pages and CPU"
            " with the measured ones; stop them first (or pass --beside-others):",
            *others,
            sep="\n  ",
            file=sys.stderr,
        )
        return 2
    plan = QUICK if options.quick else Plan()
    if options.big:
        plan = dataclasses.replace(plan, big=2 * plan.large if options.quick else 1000)
    if options.runs is not None:
        plan = dataclasses.replace(plan, runs=options.runs)
    ensure_venv()
    ensure_bytecode()
    table = collect(plan, random.Random(7))
    rows = table.filled()
    print(text_table(rows))
    for failure in table.failures:
        print(f"failed: {failure}")
    if options.markdown:
        with open(options.markdown, "w") as out:
            out.write(markdown(rows, plan, options.quick))
    return 1 if table.failures else 0


if __name__ == "__main__":
    sys.exit(main())
