"""What loading ProcClaw's code may not do: start processes, or load the HTTP client or
OpenSSL. The CLI reads the config and root preloads every actor on the way to the first
job; a helper process there (croniter's `file` on the interpreter, ctypes' `ldconfig
-p`) cost 5 to 30 ms each, and urllib (with http.client, email and ssl) 10 ms, which
only an HTTP health check or an alert through the gateway needs. OpenSSL's libcrypto
(hashlib, hmac) would be mapped by every actor forked from the image: about 2 MiB of
the daemon's memory (procclaw/lean_hashes.py), and the JSON5 parser half a MiB that only
a daemon with OpenClaw set up needs."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)

PRELOAD_WATCHED = """
import platform, sys
before = platform.architecture
started = []
sys.addaudithook(
    lambda event, args: started.append((event, str(args)[:200]))
    if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork", "os.system")
    else None
)
from procclaw.config import parse_config
from procclaw.platform import current
from actors.runtime import zygote
current()
zygote.preload()
assert platform.architecture is before, "platform.architecture left replaced"
loaded = [
    name
    for name in ("urllib.request", "http.client", "ssl", "_hashlib", "hmac", "json5")
    if name in sys.modules
]
assert not loaded, f"preloaded: {loaded}"
print(started)
"""


def test_reading_the_config_and_preloading_every_actor_start_no_process_nor_load_openssl():
    """Run in a fresh interpreter: this one has imported most of it already."""
    result = subprocess.run(
        [sys.executable, "-c", PRELOAD_WATCHED], capture_output=True, text=True, timeout=50
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_croniter_still_knows_the_interpreter_is_64_bit():
    from procclaw.cron_library import croniter

    assert sys.modules[croniter.__module__].OVERFLOW32B_MODE is False
