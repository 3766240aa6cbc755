"""The dashboard's first view and its speed to show a change (by hand, not a test).

    python bench/dashboard.py [--jobs 100] [--rounds 50] [--no-browser]

Starts a daemon in a throwaway PROCCLAW_HOME with N continuous `sleep 3600` jobs, waits
until all run, then:
- times `GET /` (the server renders the jobs table) `--rounds` times on one keep-alive
  connection, and weighs the page with its CSS and scripts. Goal: < 200 ms, < 100 KB.
- with a headless Chromium (tests/browser.py), opens `/`, stops jobs one by one (a client
  call each), and takes for each the time from its `stopped` event (the publisher's timestamp)
  to the moment its row says `stopped` (the browser's clock; the same machine). Goal:
  < 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
import time
from pathlib import Path

from api_daemon import api_daemon

from procclaw.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

# Installed in the page: when a row turns `stopped`, and when each `stopped` event came.
OBSERVE = """
window.seen = {}; window.events = {};
new MutationObserver((changes) => {
  for (const change of changes) {
    const row = change.target;
    const id = row.dataset.id;
    if (row.dataset.state === "stopped" && !(id in seen)) seen[id] = Date.now();
  }
}).observe(document.getElementById("job-rows"), {subtree: true, attributeFilter: ["data-state"]});
const source = new EventSource("/api/v1/events?names=false&type=stopped");
source.onmessage = (m) => { const e = JSON.parse(m.data); events[e.data.job] = e.ts * 1000; };
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--no-browser", action="store_true")
    options = parser.parse_args()
    with api_daemon(options.jobs, tags=5) as daemon:
        _render_times(daemon.port, options.rounds, options.jobs)
        if not options.no_browser:
            _latencies(daemon.port, daemon.client)
    return 0


def _render_times(port: int, rounds: int, jobs: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    page = b""
    for _ in range(rounds + 1):
        started = time.perf_counter()
        connection.request("GET", "/")
        page = connection.getresponse().read()
        times.append(time.perf_counter() - started)
    times = sorted(times[1:])  # the first warms the job list up
    weight = len(page)
    packed = len(_get(connection, "/", gzip=True))
    for asset in re.findall(rb'(?:src|href)="(/static/[^"]+)"', page):
        weight += len(_get(connection, asset.decode()))
        packed += len(_get(connection, asset.decode(), gzip=True))
    connection.close()
    print(f"GET / with {jobs} jobs, {rounds} rounds")
    print(
        f"render       p50 {times[len(times) // 2] * 1000:.1f} ms"
        f"  p90 {times[int(len(times) * 0.9)] * 1000:.1f} ms  max {times[-1] * 1000:.1f} ms"
    )
    print(f"weight       {weight / 1000:.1f} KB (HTML {len(page) / 1000:.1f} KB, CSS and scripts)")
    print(f"gzipped      {packed / 1000:.1f} KB: what a browser downloads")


def _get(connection: http.client.HTTPConnection, path: str, gzip: bool = False) -> bytes:
    connection.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
    return connection.getresponse().read()


def _latencies(port: int, client: Client, count: int = 10) -> None:
    from browser import chromium, wait_for

    session = chromium()
    browser = next(session)
    try:
        browser.get(f"http://127.0.0.1:{port}/")
        wait_for(browser, lambda d: d.execute_script("return typeof PC !== 'undefined'"))
        browser.execute_script(OBSERVE)
        time.sleep(1)  # both streams subscribed
        names = [f"j{i:03}" for i in range(count)]
        for name in names:
            client.call("stop", {"job": name})
            time.sleep(0.3)  # one at a time: each stop's own latency, not a queue's
        wait_for(browser, lambda d: len(d.execute_script("return Object.keys(seen)")) == count)
        seen = browser.execute_script("return seen")
        events = browser.execute_script("return events")
    finally:
        session.close()
    delays = sorted(seen[name] - events[name] for name in names)
    print(f"event to row, {count} stops: p50 {delays[count // 2]:.0f} ms  max {delays[-1]:.0f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
