"""Replacing a file whole, so that a reader meanwhile sees the old text or the new one."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, content: str | bytes, *, private: bool = False) -> None:
    """Write `content` (text as UTF-8) beside `path`, then rename it over `path`.

    `private`: mode 0600 whatever the umask, from the first byte written (a config may
    hold a token).
    """
    data = content.encode() if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)  # a leftover keeps its mode; start afresh
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(temporary, path)
