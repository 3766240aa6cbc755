"""ProcClaw against supervisord and Circus on the same workloads, measured by hand.

    python bench/compare.py [--quick] [--markdown bench/RESULTS.md]

Installs supervisor and circus into a throwaway virtualenv (/tmp/pcbench-venv, reused),
runs each manager in its own temp directory with every socket local (unix sockets or
ipc://; Circus with no multicast discovery) and prints one table: a row per metric, the
median (min-max) per manager, ProcClaw's ratio to the faster anchor and a verdict
against the target. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import platform
import random
import statistics
import subprocess
import sys
import venv
from dataclasses import dataclass, field

import measure
import psutil
from managers import MANAGERS, VENV, Circus, ProcClaw, run, sleepers

KILLS = 12


@dataclass
class Row:
    """One metric: samples per manager, which way is better, and ProcClaw's target."""

    label: str
    unit: str
    better: str = "lower"
    target: str = ""
    check: object = None  # (procclaw median, best anchor median) -> bool
    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float | None:
        values = self.samples.get(name)
        return statistics.median(values) if values else None

    def best_anchor(self) -> float | None:
        medians = [m for n in ("supervisord", "Circus") if (m := self.median(n)) is not None]
        if not medians:
            return None
        return min(medians) if self.better == "lower" else max(medians)

    def cells(self) -> list[str]:
        ours, best = self.median("ProcClaw"), self.best_anchor()
        ratio = f"{ours / best:.3g}x" if ours is not None and best else "-"
        verdict = "-"
        if self.check is not None and ours is not None:
            verdict = "ok" if self.check(ours, best) else "behind"
        spreads = [_spread(self.samples.get(m.name)) for m in MANAGERS]
        return [f"{self.label} [{self.unit}]", *spreads, ratio, self.target, verdict]


def _spread(values: list[float] | None) -> str:
    if not values:
        return "n/a"
    text = _num(statistics.median(values))
    return text if len(values) == 1 else f"{text} ({_num(min(values))}-{_num(max(values))})"


def _num(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def ensure_venv() -> None:
    """The anchors live in their own virtualenv, never in ProcClaw's environment."""
    if not (VENV / "bin/python").exists():
        venv.create(VENV, with_pip=True)
    if not (VENV / "bin/circusd").exists() or not (VENV / "bin/supervisord").exists():
        run([str(VENV / "bin/pip"), "install", "-q", "supervisor", "circus"])


def collect(sizes: list[int], reps: int, rng: random.Random) -> list[Row]:
    """Run every workload on every manager; the rows of the table."""
    rows = {key: Row(*spec) for key, spec in _ROW_SPECS.items()}
    for name in ("cold10", "cold100", "cold500"):
        rows[name].label = f"cold start, {name[4:]} jobs"
    for rep in range(reps):
        for cls in MANAGERS:
            for size in sizes:
                with measure.started(cls, sleepers(size)) as (manager, ms):
                    _add(rows, f"cold{size}", cls.name, ms)
                    if size == 100:
                        _on_hundred(manager, rows, rep, rng)
            rate, damaged = measure.log_throughput(cls)
            _add(rows, "log", cls.name, rate)
            _add(rows, "log_damage", cls.name, damaged)
    _per_job_cost(rows, sizes)
    spawn, reaps = measure.popen_floor()
    rows["floor_spawn"].samples["ProcClaw"] = [spawn]
    rows["floor_reap"].samples["ProcClaw"] = reaps
    return [row for row in rows.values() if row.samples]


def _add(rows: dict[str, Row], key: str, name: str, *values: float) -> None:
    rows[key].samples.setdefault(name, []).extend(values)


def _on_hundred(manager, rows: dict[str, Row], rep: int, rng: random.Random) -> None:
    """Everything measured with 100 running jobs; the heavy part only on the first rep."""
    name = manager.name
    if rep == 0:
        if isinstance(manager, Circus) and manager.udp_sockets():
            raise SystemExit(f"circusd opened UDP sockets: {manager.udp_sockets()}")
        _add(rows, "status", name, *measure.timed_runs(manager.status_argv("j0"), manager.env))
        _add(rows, "pss", name, measure.pss_mib(manager.manager_pids()))
        _add(rows, "cpu", name, measure.idle_cpu(manager.manager_pids()))
        if isinstance(manager, ProcClaw):
            _procclaw_extras(manager, rows, rng)
        else:
            _add(rows, "respawn", name, *measure.respawns(manager, KILLS, rng))
    _stops(manager, rows)


def _stops(manager, rows: dict[str, Row]) -> None:
    """Stopping all jobs with the daemon up (anchors only), then shutting the daemon down."""
    stop_all = manager.stop_all_argv()
    if stop_all:
        stopped = measure.until_gone(manager, stop_all, manager.job_pids())
        _add(rows, "stopall", manager.name, stopped)
        run(manager.start_all_argv(), manager.env)
        measure.wait_until(lambda: manager.running() >= 100, 60, "start all", 0.01)
    down = measure.until_gone(manager, manager.shutdown_argv(), manager.all_pids())
    _add(rows, "shutdown", manager.name, down)


def _procclaw_extras(manager: ProcClaw, rows: dict[str, Row], rng: random.Random) -> None:
    respawn, latency = measure.procclaw_respawns(manager, KILLS, rng)
    _add(rows, "respawn", "ProcClaw", *respawn)
    _add(rows, "event", "ProcClaw", *latency)
    _add(rows, "api", "ProcClaw", *measure.client_status(manager))
    supervisors = manager.supervisors()
    _add(
        rows,
        "sup_pss",
        "ProcClaw",
        measure.pss_mib([p.pid for p in supervisors]) / len(supervisors),
    )
    _add(rows, "sup_uss", "ProcClaw", supervisors[0].memory_full_info().uss / 2**20)


def _per_job_cost(rows: dict[str, Row], sizes: list[int]) -> None:
    low, high = f"cold{min(sizes)}", f"cold{max(sizes)}"
    for name in rows[low].samples:
        slope = (rows[high].median(name) - rows[low].median(name)) / (max(sizes) - min(sizes))
        rows["perjob"].samples[name] = [slope]
    rows["perjob"].label = f"cold start, cost per extra job ({min(sizes)} to {max(sizes)})"


def _half(ours, best):
    return ours <= best / 2


_ROW_SPECS = {
    "cold10": ("", "ms"),
    "cold100": ("", "ms", "lower", "<= 1/2 faster anchor", _half),
    "cold500": ("", "ms"),
    "perjob": ("", "ms"),
    "respawn": ("crash to respawn, 100 jobs", "ms", "lower", "<= 10 ms", lambda o, b: o <= 10),
    "status": ("CLI status j0, 100 jobs", "ms", "lower", "<= 60 ms", lambda o, b: o <= 60),
    "api": ("ProcClaw Client.call status", "ms"),
    "stopall": (
        "stop all 100 jobs (daemon stays)",
        "ms",
        "lower",
        "<= 100 ms",
        lambda o, b: o <= 100,
    ),
    "shutdown": ("daemon shutdown with 100 jobs", "ms"),
    "pss": ("memory, manager processes PSS", "MiB"),
    "sup_pss": ("memory, PSS per job supervisor", "MiB", "lower", "<= 2 MiB", lambda o, b: o <= 2),
    "sup_uss": ("memory, USS of one supervisor", "MiB"),
    "cpu": ("idle CPU over 10 s, 100 jobs", "% core", "lower", "<= anchors", lambda o, b: o <= b),
    "log": (
        "log throughput, 200k x 100 B",
        "lines/s",
        "higher",
        ">= faster anchor",
        lambda o, b: o >= b,
    ),
    "log_damage": (
        "log lines missing + doubled + out of order",
        "lines",
        "lower",
        "0",
        lambda o, b: o == 0,
    ),
    "event": ("event latency exit to job.exited", "ms", "lower", "<= 5 ms", lambda o, b: o <= 5),
    "floor_spawn": ("floor: Popen 100 sleeps (ProcClaw col.)", "ms"),
    "floor_reap": ("floor: kill -9 to waitpid (ProcClaw col.)", "ms"),
}


HEADERS = ["metric", *(m.name for m in MANAGERS), "ratio", "target", "verdict"]


def text_table(rows: list[Row]) -> str:
    lines = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    return "\n".join("  ".join(map(str.ljust, line, widths)) for line in lines)


def markdown(rows: list[Row], quick: bool) -> str:
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
        "- cells: median (min-max); ratio: ProcClaw / faster anchor",
        "- anchors run with their defaults: supervisord acts on a child's exit at its next"
        " 1 s poll, Circus at its next `check_delay` tick (5 s); that bounds their respawn",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    return "\n".join(head + ["| " + " | ".join(row.cells()) + " |" for row in rows]) + "\n"


def _uname() -> str:
    return subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=10,100 and 1 repetition")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--markdown", metavar="PATH")
    options = parser.parse_args()
    ensure_venv()
    sizes = [10, 100] if options.quick else [10, 100, 500]
    rows = collect(sizes, 1 if options.quick else options.reps, random.Random(7))
    print(text_table(rows))
    if options.markdown:
        with open(options.markdown, "w") as out:
            out.write(markdown(rows, options.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
