"""Read a job's own `alerts:` in jobs.yaml: which of its events alert, and to whom.

`on` and `channels` replace those of `openclaw.alerts` for this job; `targets` change
or add recipients channel by channel. A job's channels are therefore checked against
both files: each needs a target, the job's own or one in openclaw.alerts.targets.
"""

from __future__ import annotations

from procclaw.config.alert_fields import (
    NOT_IN_CHANNELS,
    read_channels,
    read_events,
    read_targets,
    report_untargeted,
)
from procclaw.config.fields import Fields
from procclaw.config.models import AlertSettings, JobAlerts

JOB_ALERT_KEYS = ("on", "channels", "targets")
# Said of a job's target when the job sends to the global channels, not its own.
_NOT_IN_GLOBAL_CHANNELS = (
    "is not in openclaw.alerts.channels, where this job's alerts go:"
    " list the job's channels in its alerts.channels, or remove this target"
)


def read_job_alerts(job: Fields, alerts: AlertSettings) -> JobAlerts | None:
    """The job's `alerts:` over `alerts` (openclaw.alerts); None when it has none."""
    if "alerts" not in job:
        return None
    fields = job.nested("alerts", JOB_ALERT_KEYS)
    channels = read_channels(fields)
    if channels is None:
        targets = read_targets(fields, alerts.channels, _NOT_IN_GLOBAL_CHANNELS)
    else:
        targets = read_targets(fields, channels, NOT_IN_CHANNELS)
        report_untargeted(fields, inherited=dict(alerts.targets))
    return JobAlerts(on=read_events(fields), channels=channels, targets=targets)
