"""Reading `limits:`, what a job may use, in `defaults:` and in a job.

A job's keys override the defaults' key by key, and `null` lifts an inherited limit.
`memory` is a size and `cpu` a percentage of one core, as systemd's MemoryMax= and
CPUQuota= (a bare number is refused: 0.5 and 50 would both be guesses). `nofile`,
`nproc` and `core` are rlimits; nproc and core may be `unlimited`. The ranges are
checked here; whether the daemon's own hard limits allow a value is known only when
the job starts (actors/runtime/child_setup.py).
"""

from __future__ import annotations

import os
import re
from typing import Any

from procclaw.config.fields import Fields
from procclaw.config.models import UNLIMITED, LimitsConfig
from procclaw.config.values import Invalid, Reader, T, expected, integer, optional, size

LIMITS_KEYS = ("memory", "cpu", "nofile", "nproc", "core")

# Less than a MiB runs no program worth limiting; more than a TiB is no limit at all.
MIN_MEMORY = 1024**2
MAX_MEMORY = 1024**4
# Fewer open files than this and a program cannot even load its libraries.
MIN_NOFILE = 16
MAX_NOFILE = 2**30  # above Linux's largest fs.nr_open
MAX_NPROC = 4 * 1024**2  # Linux's largest pid_max
MAX_CORE = 1024**4

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def read_limits(parent: Fields, base: LimitsConfig, cpu_refusal: str | None) -> LimitsConfig:
    """The limits under `parent`; `cpu_refusal` is why this machine cannot hold a cpu
    limit (None where it can), and refuses a valid one written here."""
    fields = parent.nested("limits", LIMITS_KEYS)
    if cpu_refusal and "cpu" in fields and _is_cpu_percent(fields.raw("cpu")):
        fields.reject(
            "cpu",
            f"cannot be held here: {cpu_refusal}; remove it, or run the daemon where its"
            " cgroup has the cpu controller (`procclaw service install` asks systemd for"
            " Delegate=yes). memory, nofile, nproc and core need no cgroup",
        )
    return LimitsConfig(
        memory=fields.get("memory", optional(_memory), base.memory),
        cpu=fields.get("cpu", optional(cpu_percent), base.cpu),
        nofile=fields.get("nofile", optional(integer(MIN_NOFILE, MAX_NOFILE)), base.nofile),
        nproc=fields.get("nproc", optional(_nproc), base.nproc),
        core=fields.get("core", optional(_core), base.core),
    )


_memory = size(MIN_MEMORY, MAX_MEMORY, "'512M' or '2G'")


def cpu_percent(value: Any) -> float:
    """A percentage of one core, from 1% to all of this machine's cores: '50%', '150%'."""
    cores = os.cpu_count() or 1
    most = cores * 100
    plural = "s" if cores != 1 else ""
    what = (
        f"a percentage of one core from 1% to {most}% (this machine has {cores} core{plural}),"
        " like '50%'"
    )
    match = _PERCENT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        whole = isinstance(value, int) and not isinstance(value, bool) and value > 0
        hint = f" (write {value}%)" if whole else ""
        raise Invalid(f"{expected(what, value)}{hint}")
    percent = float(match.group(1))
    if not 1 <= percent <= most:
        raise expected(what, value)
    return percent


def _is_cpu_percent(value: Any) -> bool:
    """A cpu limit that is well written (a bad one is reported as that, not twice)."""
    try:
        return value is not None and bool(cpu_percent(value))
    except Invalid:
        return False


def _or_unlimited(read: Reader[T], what: str) -> Reader[T | str]:
    def read_limit(value: Any) -> T | str:
        if value == UNLIMITED:
            return UNLIMITED
        try:
            return read(value)
        except Invalid:
            raise expected(what, value) from None

    return read_limit


_nproc = _or_unlimited(integer(1, MAX_NPROC), f"an integer from 1 to {MAX_NPROC}, or 'unlimited'")
_core = _or_unlimited(
    size(0, MAX_CORE, "0"), "a size from 0 to 1TiB, like 0 or '1G', or 'unlimited'"
)
