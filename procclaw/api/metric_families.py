"""The metric families of `/metrics` (procclaw/api/metrics.py), asked of the daemon at
scrape time.

A custom collector: nothing is counted in the gateway, so a restarted gateway loses
nothing. Each source of facts has one small function yielding its metric families;
adding metrics (alerts, schedules) means adding a function to SOURCES.

- `procclaw_jobs_total`, `procclaw_job_status{job}` (1 running, 0 not),
  `procclaw_job_uptime_seconds{job}`, `procclaw_job_restart_count_total{job}`,
  `procclaw_job_cpu_seconds_total{job}`, `procclaw_job_memory_bytes{job}` (running jobs),
  `procclaw_job_health{job}` (1 healthy, 0 unhealthy; absent while the job is not
  running or before its first verdict): the controller's job list.
- `procclaw_job_runs_total{job,result}` and the histogram
  `procclaw_job_run_duration_seconds{job}`: the finished runs in procclaw.db.
- `procclaw_actor_restarts_total{actor}`: root's book of actors.
- `procclaw_alerts_total{channel,result}` (sent, failed, retried) and
  `procclaw_alerts_folded_total`: the alerter's counts, left out while it restarts so
  that a scrape never fails for want of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from procclaw.api.jobs import call
from procclaw.client import Client, ClientError

Source = Callable[[Client], Iterable[Metric]]
ALERTER_TIMEOUT = 1.0  # seconds; the alerter answers at once unless it is restarting


def job_metrics(client: Client) -> Iterator[Metric]:
    jobs = call(client, "list")
    total = GaugeMetricFamily("procclaw_jobs_total", "Jobs in the applied config")
    total.add_metric([], len(jobs))
    yield total
    status = GaugeMetricFamily("procclaw_job_status", "1 when the job runs, else 0", labels=["job"])
    uptime = GaugeMetricFamily(
        "procclaw_job_uptime_seconds", "Seconds since the running job started", labels=["job"]
    )
    restarts = CounterMetricFamily(
        "procclaw_job_restart_count", "Restarts of the job by its retry policy", labels=["job"]
    )
    health = GaugeMetricFamily(
        "procclaw_job_health", "1 healthy, 0 unhealthy (jobs with a health check)", labels=["job"]
    )
    cpu = CounterMetricFamily(
        "procclaw_job_cpu_seconds",
        "CPU time of the running job's process tree, since its run started",
        labels=["job"],
    )
    memory = GaugeMetricFamily(
        "procclaw_job_memory_bytes", "RSS of the running job's process tree", labels=["job"]
    )
    running = [job["id"] for job in jobs if job.get("pid")]
    usage = call(client, "usage", {"jobs": running}) if running else {}
    for job in jobs:
        labels = [job["id"]]
        status.add_metric(labels, 1 if job["state"] == "running" else 0)
        uptime.add_metric(labels, job["uptime"] or 0.0)
        restarts.add_metric(labels, job.get("restarts") or 0)
        if job.get("health") in ("healthy", "unhealthy"):
            health.add_metric(labels, 1 if job["health"] == "healthy" else 0)
        if measured := usage.get(job["id"]):
            cpu.add_metric(labels, measured["cpu_seconds"])
            memory.add_metric(labels, measured["memory"])
    yield from (status, uptime, restarts, health, cpu, memory)


def run_metrics(client: Client) -> Iterator[Metric]:
    summary: dict[str, Any] = call(client, "runs_summary")
    runs = CounterMetricFamily(
        "procclaw_job_runs", "Finished runs by result", labels=["job", "result"]
    )
    durations = HistogramMetricFamily(
        "procclaw_job_run_duration_seconds", "How long finished runs lasted", labels=["job"]
    )
    for job, entry in sorted(summary.items()):
        for result, count in sorted(entry["results"].items()):
            runs.add_metric([job, result], count)
        buckets = [(str(float(bound)), count) for bound, count in entry["buckets"]]
        buckets.append(("+Inf", entry["count"]))
        durations.add_metric([job], buckets, entry["sum"])
    yield from (runs, durations)


def actor_metrics(client: Client) -> Iterator[Metric]:
    status = call(client, "status", target="daemon")
    restarts = CounterMetricFamily(
        "procclaw_actor_restarts", "Restarts of each actor by root", labels=["actor"]
    )
    for actor in status["actors"]:
        restarts.add_metric([actor["name"]], actor["restarts"])
    yield restarts


def alert_metrics(client: Client) -> Iterator[Metric]:
    try:
        if client.not_started("alerter") is not None:
            return  # no channel and no memory to write: nothing counted
        status = client.call_endpoint("alerter", "status", timeout=ALERTER_TIMEOUT)
    except ClientError:
        return
    alerts = CounterMetricFamily(
        "procclaw_alerts", "Alerts by channel and outcome", labels=["channel", "result"]
    )
    for channel, results in sorted(status["channels"].items()):
        for result, count in sorted(results.items()):
            alerts.add_metric([channel, result], count)
    folded = CounterMetricFamily(
        "procclaw_alerts_folded", "Alerts folded into a later summary of their job"
    )
    folded.add_metric([], status["totals"]["folded"])
    yield from (alerts, folded)


SOURCES: tuple[Source, ...] = (job_metrics, run_metrics, actor_metrics, alert_metrics)


class DaemonCollector(Collector):
    """Asks the daemon for every metric at each scrape."""

    def __init__(self, client: Client, sources: tuple[Source, ...] = SOURCES):
        self.client = client
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source(self.client)


def daemon_registry(client: Client) -> CollectorRegistry:
    """A registry whose one collector asks the daemon for every metric at each scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DaemonCollector(client))
    return registry


def exposition(registry: CollectorRegistry) -> tuple[str, bytes]:
    """The scrape's content type and body."""
    return CONTENT_TYPE_LATEST, generate_latest(registry)
