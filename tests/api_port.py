"""A port of its own for each test daemon's HTTP API, written into its procclaw.yaml.

Tests run beside each other (and beside other checkouts' tests): none may bind the
default 9876, or one daemon's gateway would find another's port taken.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_port(config_file: Path, port: int) -> None:
    """Set daemon.port in procclaw.yaml, unless the test chose a port itself.

    Appends or edits a line rather than rewriting the file, so the line numbers a
    test expects in an error message stay where they were.
    """
    text = config_file.read_text() if config_file.exists() else ""
    if "port: 9876" in text:
        text = text.replace("port: 9876", f"port: {port}", 1)
    elif re.search(r"^daemon:\s*$", text, re.MULTILINE):
        if re.search(r"^\s+port:", text, re.MULTILINE):
            return
        text = re.sub(r"^daemon:\s*$", f"daemon:\n  port: {port}", text, count=1, flags=re.M)
    elif not re.search(r"^daemon:", text, re.MULTILINE):
        separator = "\n" if text and not text.endswith("\n") else ""
        text += f"{separator}daemon:\n  port: {port}\n"
    config_file.write_text(text)
