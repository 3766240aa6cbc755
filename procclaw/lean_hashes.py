"""Hashes from the interpreter's own modules, not from OpenSSL.

`hashlib` and `hmac` load OpenSSL's libcrypto when they are imported. Root preloads the
image every actor is forked from, so every actor would map it: about 2 MiB of the
daemon's memory and 2 ms of its start, for two small uses (sealing bus events, naming
the daemon's cgroup) that CPython's built-in BLAKE2 and SHA-256 do as well. Where an
interpreter was built without them, hashlib's are used instead.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:
    from hashlib import blake2b

try:
    from _sha2 import sha256  # Python 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        from hashlib import sha256

try:
    from _operator import _compare_digest as compare_digest
except ImportError:
    from hmac import compare_digest

__all__ = ["blake2b", "compare_digest", "sha256"]
