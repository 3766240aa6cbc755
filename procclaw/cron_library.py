"""croniter, imported without the process its import would start.

At import, croniter asks `platform.architecture()` whether Python is 32-bit, and that
function runs the `file` command on the interpreter: a fork and exec (5 to 30 ms, as
the disk cache holds libmagic's database or not), in the CLI at every command that
reads the config and in root as the daemon starts, both on the way to the first job.
The size of a pointer answers the same question without a process, so that is the
answer `platform.architecture` gives while croniter loads, and only then (nothing else
runs in the process at that moment: imports are serialised, and the CLI and root
import it before any thread starts).
"""

from __future__ import annotations

import platform
import struct


def _pointer_size_architecture(*_args: object, **_kwargs: object) -> tuple[str, str]:
    return f"{struct.calcsize('P') * 8}bit", ""


_architecture = platform.architecture
platform.architecture = _pointer_size_architecture
try:
    from croniter import CroniterBadDateError, CroniterError, croniter
finally:
    platform.architecture = _architecture

__all__ = ["CroniterBadDateError", "CroniterError", "croniter"]
