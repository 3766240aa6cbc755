"""What a spawn that cannot happen raises: a SpawnError with the reason, whatever the
cause, so that the job fails with it and its supervisor carries on."""

from __future__ import annotations

import dataclasses
import os

import pytest
from config_samples import one_job

from actors.runtime.job_process import SpawnError, spawn

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize("limits", ["", "limits: {nofile: 64}\n"])
def test_a_nul_in_the_environment_fails_the_spawn_with_the_reason(limits):
    """The config refuses one; a job made some other way must not take down its
    supervisor with Popen's ValueError."""
    job = one_job("cmd: 'true'\nenv: {X: x}\n" + limits)
    job = dataclasses.replace(job, env=(("X", "before\0after"),))
    with open(os.devnull, "wb") as sink, pytest.raises(SpawnError) as caught:
        spawn(job, sink.fileno(), sink.fileno(), {})
    assert str(caught.value) == "cannot start: embedded null byte"
