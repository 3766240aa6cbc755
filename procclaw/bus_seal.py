"""Sealed events: only what our actors publish reaches the bus's subscribers.

Root makes a key when it starts and keeps it in memory. It hands the key to each actor
it spawns (in the spawn request, over the zygote's private socketpair) and to each
supervisor it adopts from a daemon that died (over that supervisor's command socket,
accepted once, only while it is orphaned). An actor seals every event it publishes with
keyed BLAKE2b (a MAC by design), and root forwards only events whose seal holds. A
process that can merely reach `run/bus-in.sock` cannot make one that passes, so it
cannot fake a `job.x.failed` and have an alert sent for a job that runs.

A supervisor adopted from a daemon of the version before seals with HMAC-SHA256, as
that version did; root still accepts its seal (`unsealed`), so its jobs' events keep
flowing until it is replaced.
"""

from __future__ import annotations

import os
import struct

from procclaw.lean_hashes import blake2b, compare_digest

SEAL_BYTES = 16
# A key given to root at start instead of a fresh one: how a test stands in for an actor.
# Root takes it out of its environment before it starts anything, so no actor or job
# inherits it.
KEY_VARIABLE = "PROCCLAW_BUS_KEY"


def new_key() -> str:
    """A fresh key, as hex: it travels in typed records."""
    return os.urandom(32).hex()


def daemon_key(environ: dict[str, str]) -> str:
    """The key for a starting daemon: KEY_VARIABLE's (taken out of `environ`), or a
    fresh one. ValueError if the variable holds no key."""
    given = environ.pop(KEY_VARIABLE, None)
    if given is None:
        return new_key()
    try:
        if len(bytes.fromhex(given)) == 32:
            return given
    except ValueError:
        pass
    raise ValueError(f"{KEY_VARIABLE} must be 64 hex digits (a 32-byte key)")


def seal(key: bytes, frames: list[bytes]) -> list[bytes]:
    """The event's frames with its seal as one more frame."""
    return [*frames, _mac(key, frames)]


def unsealed(key: bytes, frames: list[bytes]) -> list[bytes] | None:
    """The event's frames if their seal holds, else None."""
    if len(frames) < 2:
        return None
    *event, mac = frames
    if compare_digest(mac, _mac(key, event)):
        return event
    return event if compare_digest(mac, _mac_of_the_version_before(key, event)) else None


def _mac(key: bytes, frames: list[bytes]) -> bytes:
    digest = blake2b(key=key, digest_size=SEAL_BYTES)
    _feed(digest, frames)
    return digest.digest()


def _mac_of_the_version_before(key: bytes, frames: list[bytes]) -> bytes:
    # Imported here: they load OpenSSL, which only this rare seal needs (lean_hashes.py).
    import hashlib
    import hmac

    digest = hmac.new(key, digestmod=hashlib.sha256)
    _feed(digest, frames)
    return digest.digest()[:SEAL_BYTES]


def _feed(digest, frames: list[bytes]) -> None:
    for frame in frames:  # length-prefixed: no two framings of one byte string match
        digest.update(struct.pack(">Q", len(frame)))
        digest.update(frame)
