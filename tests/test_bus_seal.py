"""The seal on bus events: what root forwards, and what it drops (procclaw/bus_seal.py)."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest

from procclaw.bus_seal import SEAL_BYTES, new_key, seal, unsealed

pytestmark = pytest.mark.timeout(10)

KEY = bytes.fromhex(new_key())
EVENT = [b"job.api.failed", b"\x82\xa1v\x01\xa3seq\x07"]


def test_an_event_sealed_with_the_key_comes_back_whole():
    assert unsealed(KEY, seal(KEY, EVENT)) == EVENT


def test_a_seal_made_with_another_key_does_not_hold():
    assert unsealed(KEY, seal(bytes.fromhex(new_key()), EVENT)) is None


@pytest.mark.parametrize(
    "tampered",
    [
        lambda frames: [b"job.api.exited", *frames[1:]],  # another topic
        lambda frames: [frames[0], frames[1] + b"\x00", frames[2]],  # a longer payload
        lambda frames: [frames[0] + frames[1], frames[2]],  # the frames joined
        lambda frames: frames[-1:],  # the seal alone
        lambda frames: [],
    ],
)
def test_a_changed_event_is_dropped(tampered):
    assert unsealed(KEY, tampered(seal(KEY, EVENT))) is None


def test_a_supervisor_of_the_version_before_still_gets_its_events_through():
    """It seals with HMAC-SHA256, cut to the same length, over the same framing."""
    digest = hmac.new(KEY, digestmod=hashlib.sha256)
    for frame in EVENT:
        digest.update(struct.pack(">Q", len(frame)))
        digest.update(frame)
    assert unsealed(KEY, [*EVENT, digest.digest()[:SEAL_BYTES]]) == EVENT


def test_new_keys_differ_and_are_32_bytes_of_hex():
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(bytes.fromhex(key)) == 32 for key in keys)
