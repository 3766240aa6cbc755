"""Throughput and latency of `GET /api/v1/jobs` with N running jobs (by hand, not a test).

    python bench/api_jobs.py [--jobs 100] [--clients 4] [--seconds 10] [--ticker]

Starts a daemon in a throwaway PROCCLAW_HOME with N continuous `sleep 3600` jobs, the
API on a free port, waits until all run, then runs `--clients` threads, each with one
keep-alive `http.client` connection, sending requests back to back for `--seconds`.
`--ticker` adds a job run every second, so that the bus carries events all along.
Prints requests/s, latency percentiles and the gateway's CPU time per request.
Goal: >= 1,000 req/s and p99 < 20 ms.
The load generator shares the machine (and the GIL of its own process) with the
daemon: the numbers include that cost.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time

import psutil
from api_daemon import api_daemon

from procclaw.client import Client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ticker", action="store_true", help="and a job run every second")
    options = parser.parse_args()
    ticker = ""
    if options.ticker:
        ticker = "  ticker:\n    type: scheduled\n    schedule: '* * * * * *'\n    cmd: 'true'\n"
    with api_daemon(options.jobs, ticker) as daemon:
        _load(daemon.port, 1, 1.0)  # warm up: first connections, first imports
        gateway = _gateway(daemon.client)
        cpu_before = sum(gateway.cpu_times()[:2])
        latencies, elapsed = _load(daemon.port, options.clients, options.seconds)
        cpu = sum(gateway.cpu_times()[:2]) - cpu_before
    latencies.sort()
    rate = len(latencies) / elapsed

    def percentile(p: float) -> str:
        return f"{latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000:.1f} ms"

    ticker = " and a job run every second" if options.ticker else ""
    print(f"GET /api/v1/jobs, {options.jobs} running jobs{ticker}, {options.clients} clients")
    print(f"requests     {len(latencies)} in {elapsed:.1f} s = {rate:.0f} req/s")
    print(f"latency      p50 {percentile(0.5)}  p90 {percentile(0.9)}  p99 {percentile(0.99)}")
    print(f"             max {latencies[-1] * 1000:.1f} ms")
    print(f"gateway CPU  {cpu / len(latencies) * 1e6:.0f} us per request")
    return 0


def _load(port: int, clients: int, seconds: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            connection.request("GET", "/api/v1/jobs")
            response = connection.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200 or not body:
                raise SystemExit(f"status {response.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.monotonic() - began


def _gateway(client: Client) -> psutil.Process:
    actors = client.call_endpoint("daemon", "status")["actors"]
    return psutil.Process(next(a["pid"] for a in actors if a["name"] == "gateway"))


if __name__ == "__main__":
    raise SystemExit(main())
