"""A throwaway daemon with N sleeping jobs and its API on a free port, for the API's
benchmarks (api_jobs.py, dashboard.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from managers import wait_until

from procclaw.client import Client
from procclaw.home import Home

CLI = shutil.which("procclaw") or "procclaw"


@dataclass(frozen=True)
class ApiDaemon:
    port: int
    env: dict[str, str]
    client: Client


@contextmanager
def api_daemon(jobs: int, extra_jobs: str = "", tags: int = 0) -> Iterator[ApiDaemon]:
    """`jobs` continuous `sleep 3600` jobs (tagged `t0`..`t<tags-1>` in turn), all
    running, and `extra_jobs` (jobs.yaml lines); stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="pca-", dir="/tmp"))
    env = {**os.environ, "PROCCLAW_HOME": str(root)}
    port = _free_port()
    (root / "procclaw.yaml").write_text(f"daemon:\n  port: {port}\n")
    lines = "".join(
        f"  j{i:03}:\n    type: continuous\n    cmd: sleep 3600\n"
        + (f"    tags: [t{i % tags}]\n" if tags else "")
        for i in range(jobs)
    )
    (root / "jobs.yaml").write_text("jobs:\n" + lines + extra_jobs)
    try:
        subprocess.run([CLI, "daemon", "start"], env=env, check=True, capture_output=True)
        client = Client(Home(root))
        wait_until(
            lambda: [job["state"] for job in client.call("list")].count("running") >= jobs,
            120,
            "all jobs running",
        )
        yield ApiDaemon(port, env, client)
    finally:
        subprocess.run([CLI, "daemon", "stop"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
