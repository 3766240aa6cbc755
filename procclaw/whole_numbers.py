"""Reading a whole number typed by a person, without the surprises of `str.isdigit`.

`"²".isdigit()` is true and `int("²")` raises; so does `int()` of more than 4,300
digits. Both reached users as tracebacks (CLI) or 500s (API).
"""

from __future__ import annotations

import sys


def whole_number(text: str, least: int = 0, most: int = sys.maxsize) -> int | None:
    """`text` as a number from `least` to `most`, or None when it is not one.

    Only ASCII digits count; leading zeros are allowed.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(most)):
        return None
    value = int(digits)
    return value if least <= value <= most else None
