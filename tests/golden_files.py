"""Comparing made files with golden files kept in the tree, or rewriting those with
PROCCLAW_REGENERATE_GOLDEN=1 after a deliberate change (then read the diff)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REGENERATE = os.environ.get("PROCCLAW_REGENERATE_GOLDEN") == "1"


def assert_matches_golden(directory: Path, files: dict[str, str]) -> None:
    """`files` (name -> text) are exactly the files in `directory`, text for text."""
    if REGENERATE:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for name, text in files.items():
            (directory / name).write_text(text)
    golden = {path.name: path.read_text() for path in sorted(directory.iterdir())}
    assert sorted(files) == sorted(golden)
    for name, text in files.items():
        assert text == golden[name], f"{directory.name}/{name} differs from its golden file"
