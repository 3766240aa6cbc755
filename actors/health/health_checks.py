"""The health checks themselves: each looks once and says (passed, reason).

They run on the health actor's worker threads, never on its loop, and each is bounded
by the check's `timeout`, so a service that hangs holds up nothing but its own check.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from procclaw.client import Client, ClientError
from procclaw.config import HealthCheckConfig

if TYPE_CHECKING:
    import urllib.request

# Enough of a response body to find `expected_body` in; health pages are short.
MAX_BODY = 64 * 1024

Result = tuple[bool | None, str | None]  # passed (None: too soon to tell), why not


@dataclass(frozen=True)
class Target:
    """What a check looks at: one run of one job."""

    job: str
    pid: int | None
    job_start: str | None
    started_at: float  # wall clock
    supervisor: str | None  # who holds the job, and hears its NOTIFY_SOCKET


def run_check(check: HealthCheckConfig, target: Target, client: Client) -> Result:
    try:
        if check.type == "http":
            return _http(check)
        if check.type == "file":
            return _file(check)
        if check.type == "watchdog":
            return _watchdog(check, target, client)
        # process and output checks are answered by their supervisor's events
        return False, f"a {check.type} check is not run by looking"
    except Exception as exc:  # a check that breaks is a failed check, never a dead actor
        return False, f"check failed: {exc}"


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """Imported at the first HTTP check: urllib brings http.client, email and ssl, a
    tenth of every actor's preload, and most daemons check no URL.

    Health checks go straight to the service: a proxy from the environment would be wrong.
    """
    import urllib.request

    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http(check: HealthCheckConfig) -> Result:
    import urllib.error  # loaded by _opener()

    assert check.url is not None
    try:
        with _opener().open(check.url, timeout=check.timeout) as response:
            status, body = response.status, response.read(MAX_BODY)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(MAX_BODY)
    except urllib.error.URLError as exc:
        return False, f"{check.url}: {exc.reason}"
    except TimeoutError:
        return False, f"{check.url}: no answer within {check.timeout:g} s"
    if status != check.expected_status:
        return False, f"{check.url} answered {status}, expected {check.expected_status}"
    if check.expected_body and check.expected_body not in body.decode(errors="replace"):
        return False, f"{check.url}: the body does not contain {check.expected_body!r}"
    return True, None


def _file(check: HealthCheckConfig) -> Result:
    assert check.path is not None and check.max_age is not None
    try:
        age = time.time() - os.stat(check.path).st_mtime
    except FileNotFoundError:
        return False, f"{check.path} does not exist"
    if age > check.max_age:
        return False, f"{check.path} not touched for {age:.0f} s (max_age {check.max_age:g} s)"
    return True, None


def heartbeat_result(
    check: HealthCheckConfig, heard_at: float | None, late: bool, now: float
) -> Result:
    """An output check's result, as the job's supervisor found it (`late`: nothing
    matched for `max_age`), with the reason told in the time since the last match."""
    if not late:
        return True, None
    where = f"no line matching {check.pattern!r} on {check.stream}"
    if heard_at is None:
        return False, f"{where} since it started (max_age {check.max_age:g} s)"
    return False, f"{where} for {now - heard_at:.0f} s (max_age {check.max_age:g} s)"


def _watchdog(check: HealthCheckConfig, target: Target, client: Client) -> Result:
    """Asks the job's supervisor, which reads the job's NOTIFY_SOCKET, for the last beat."""
    if target.supervisor is None:
        return False, "no supervisor holds it"
    try:
        facts = client.call_endpoint(
            target.supervisor, "state", {"job": target.job}, timeout=check.timeout
        )
    except ClientError as exc:
        return False, f"cannot ask its supervisor: {exc.message}"
    last = facts.get("watchdog_at")
    silent = time.time() - (last or target.started_at)
    if last is None and silent <= check.interval:
        return None, "no WATCHDOG=1 yet"  # not healthy on its start alone, not late either
    if silent > check.interval:
        return False, f"no WATCHDOG=1 for {silent:.1f} s (interval {check.interval:g} s)"
    return True, None
