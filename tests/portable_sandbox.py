"""A sandbox whose daemon runs the portable platform layer (procclaw/platform), so that
real-process tests cover the path a Mac takes, here on Linux. The test process itself
takes the same layer, so that what it computes (a process's identity) matches."""

import pytest

from procclaw.platform import current


@pytest.fixture
def sandbox(sandbox, monkeypatch):
    monkeypatch.setenv("PROCCLAW_PLATFORM", "portable")
    current.cache_clear()
    sandbox.env["PROCCLAW_PLATFORM"] = "portable"
    yield sandbox
    current.cache_clear()
