"""Which of the actors that only some configs use this config needs.

The scheduler, the health actor and the alerter each cost the daemon a Python process
(about 4 to 5 MiB of its own memory, a tenth of a 100-job daemon's). A daemon whose jobs
are all continuous or manual has nothing for the scheduler to time; one whose checks
are all `process` checks (the default: alive from `running` until the exit its
supervisor reports, which the controller answers itself) has nothing for the health
actor to look at; one with no alert channel, no agent to wake and no OpenClaw memory to
write has nothing for the alerter to do. Root starts each one when the controller says
it is needed, and keeps it (restarting it like any other actor) until the daemon stops.
"""

from __future__ import annotations

from collections.abc import Callable

from procclaw.config import Config

# The actors root starts only once the applied config needs them.
ON_DEMAND_ACTORS = ("scheduler", "health", "alerter")
# What `daemon status` says of one that the config does not need.
WHEN_NEEDED = {
    "scheduler": "starts with the first scheduled job",
    "health": "starts with the first http, file, watchdog or output check",
    "alerter": "starts with the first alert channel or `wake`, or OpenClaw memory to write",
}


def needed_actors(config: Config, workspace_exists: Callable[[], bool]) -> list[str]:
    """The on-demand actors `config` needs, in ON_DEMAND_ACTORS order.

    `workspace_exists` is asked only when nothing else decides for the alerter: it
    says whether OpenClaw's workspace is there to write the agent's memory in.
    """
    needed = set()
    if any(job.type == "scheduled" for job in config.jobs):
        needed.add("scheduler")
    if any(job.health_check.type != "process" for job in config.jobs):
        needed.add("health")
    if _alerter_needed(config, workspace_exists):
        needed.add("alerter")
    return [kind for kind in ON_DEMAND_ACTORS if kind in needed]


def _alerter_needed(config: Config, workspace_exists: Callable[[], bool]) -> bool:
    openclaw = config.settings.openclaw
    if not openclaw.enabled:
        return False
    alerts = openclaw.alerts
    if alerts.enabled:
        if alerts.channels or alerts.wake:
            return True
        if any(job.alerts is not None and job.alerts.channels for job in config.jobs):
            return True
    return openclaw.memory_logging and workspace_exists()
