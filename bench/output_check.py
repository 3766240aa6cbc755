"""What an output heartbeat (`health_check: {type: output}`) costs in log throughput.

One job writes LINES lines of 100 bytes as fast as it can; the rate is lines per second
from its start until its log holds every line (bench/measure.py's log_throughput, as
compare.py measures it). Three ProcClaw jobs side by side, medians of --runs:
no check (splice, nothing searched), an output check whose pattern no line matches
(every chunk searched to its end: the worst case), and one that every line matches
(the search stops at the first line of each chunk). Run by hand on a quiet machine:

    python bench/output_check.py [--lines N] [--runs N]
"""

from __future__ import annotations

import argparse
import random
import statistics

from managers import ProcClaw
from measure import log_throughput


class _Checked(ProcClaw):
    pattern = ""

    def configure(self, jobs) -> None:
        super().configure(jobs)
        check = f"    health_check: {{type: output, pattern: '{self.pattern}', max_age: 1h}}\n"
        with self.home.jobs_file.open("a") as jobs_file:
            jobs_file.write(check)


class NeverMatched(_Checked):
    name = "output check, no line matches"
    pattern = "^alive$"


class EveryLineMatched(_Checked):
    name = "output check, every line matches"
    pattern = "^[0-9]{9} "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    classes = (ProcClaw, NeverMatched, EveryLineMatched)
    rates: dict[str, list[float]] = {cls.name: [] for cls in classes}
    for _ in range(args.runs):  # round robin: a machine that slows down slows all three
        for cls in random.sample(classes, len(classes)):  # and none is always first
            rate, damaged = log_throughput(cls, args.lines)
            if damaged:
                raise SystemExit(f"{cls.name}: {damaged} lines missing, doubled or out of place")
            rates[cls.name].append(rate)
    rows = [(name, statistics.median(values)) for name, values in rates.items()]
    base = rows[0][1]
    print(f"{'job':<36} {'lines/s':>12} {'vs no check':>12}")
    for name, rate in rows:
        label = "no check" if name == ProcClaw.name else name
        print(f"{label:<36} {rate:>12,.0f} {rate / base - 1:>+11.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
