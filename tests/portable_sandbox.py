"""A sandbox whose daemon runs the portable platform layer (procclaw/platform), so that
real-process tests cover the path a Mac takes, here on Linux. The test process itself
takes the same layer, so that what it computes (a process's identity) matches."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from procclaw.platform import current


@contextmanager
def portable_layer(sandbox, monkeypatch) -> Iterator:
    """`sandbox`, its daemon and this test on the portable layer while it lasts."""
    monkeypatch.setenv("PROCCLAW_PLATFORM", "portable")
    current.cache_clear()
    sandbox.env["PROCCLAW_PLATFORM"] = "portable"
    try:
        yield sandbox
    finally:
        current.cache_clear()


@pytest.fixture
def sandbox(sandbox, monkeypatch):
    with portable_layer(sandbox, monkeypatch):
        yield sandbox
