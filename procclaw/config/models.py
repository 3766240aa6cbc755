"""The validated configuration: frozen, typed models with the YAML files' key names.

Nothing here reads files or reports problems; by the time a model exists its values
are known to be good. `to_dict()` gives plain data for the wire and for `status`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

JOB_TYPES = ("manual", "continuous", "scheduled")
OVERLAP_POLICIES = ("skip", "queue", "kill_restart")
CATCHUP_POLICIES = ("skip", "once")
DEPENDENCY_CONDITIONS = ("after_start", "after_complete", "before_complete")
HEALTH_CHECK_TYPES = ("process", "http", "file", "watchdog", "output")
OUTPUT_STREAMS = ("stdout", "stderr")
READY_PROTOCOLS = ("notify",)
DEPENDENCY_FAILURE_POLICIES = ("keep_running", "stop")
# When a continuous job that exited is restarted, as systemd's Restart=.
RESTART_POLICIES = ("always", "on-failure", "never")
RETRY_PRESETS = ("webhook", "fixed", "exponential", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The limits set with setrlimit(2) before a job's program runs; memory and cpu are not.
RLIMIT_KEYS = ("nofile", "nproc", "core")
UNLIMITED = "unlimited"  # nproc and core: no limit, even where the default has one

# 0s, 30s, 5m, 15m, 1h: retry at once, then back off towards an hour.
WEBHOOK_DELAYS = (0.0, 30.0, 300.0, 900.0, 3600.0)
DEFAULT_LOG_BYTES = 10 * 1024 * 1024


class _Model:
    """Gives every model the same `to_dict()`: nested models as dicts, tuples as lists."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            item.name: _plain(getattr(self, item.name))
            for item in fields(self)
            if not item.name.startswith("_")  # derived, not configured
        }


def _plain(value: Any) -> Any:
    if isinstance(value, _Model):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class DaemonSettings(_Model):
    """Where the API listens, how much the daemon logs, and how many supervisors hold
    the jobs (`supervisors`; None: one per CPU core, at least two)."""

    host: str = "127.0.0.1"
    port: int = 9876
    log_level: str = "INFO"
    supervisors: int | None = None


@dataclass(frozen=True, slots=True)
class AuthSettings(_Model):
    """Bearer-token auth of the HTTP API.

    `token` may be `${secret:NAME}`; `token_file` names a file holding the token.
    `metrics: false` leaves `/metrics` open to scrapers without a token.
    """

    enabled: bool = False
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    metrics: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The settings with the token masked: this dict travels and gets displayed."""
        return {
            "enabled": self.enabled,
            "token": None if self.token is None else "********",
            "token_file": self.token_file,
            "metrics": self.metrics,
        }


@dataclass(frozen=True, slots=True)
class ApiSettings(_Model):
    auth: AuthSettings = field(default_factory=AuthSettings)


@dataclass(frozen=True, slots=True)
class RetryConfig(_Model):
    """When to restart a job that failed.

    kind "delays" waits delays[n] before attempt n+1 (the last delay repeats when
    max_attempts allows more); "fixed" waits `delay`; "exponential" waits
    initial * factor**n capped at max_delay; "none" never restarts. `jitter` is the
    random fraction added or removed, max_attempts None means no limit, and a run
    lasting reset_after seconds forgets earlier failures.
    """

    kind: str = "delays"
    delays: tuple[float, ...] = WEBHOOK_DELAYS
    delay: float = 5.0
    initial: float = 1.0
    factor: float = 2.0
    max_delay: float = 300.0
    jitter: float = 0.0
    max_attempts: int | None = len(WEBHOOK_DELAYS)
    reset_after: float = 60.0


@dataclass(frozen=True, slots=True)
class ShutdownConfig(_Model):
    """How to stop a job: send `signal`, then SIGKILL after grace_period seconds."""

    grace_period: float = 60.0
    signal: str = "SIGTERM"


@dataclass(frozen=True, slots=True)
class HealthCheckConfig(_Model):
    """How to tell a running job is healthy; url/expected_* are http's, path/max_age file's.

    watchdog expects `WATCHDOG=1` on the job's NOTIFY_SOCKET at least every `interval`;
    output expects a line matching `pattern` on `stream` at least every `max_age`.
    """

    type: str = "process"
    interval: float = 60.0
    timeout: float = 10.0
    retries: int = 3
    start_period: float = 0.0
    url: str | None = None
    expected_status: int = 200
    expected_body: str | None = None
    path: str | None = None
    max_age: float | None = None
    pattern: str | None = None
    stream: str = "stdout"


@dataclass(frozen=True, slots=True)
class LogConfig(_Model):
    """Rotation of a job's log files: keep `backups` old files of max_bytes each."""

    max_bytes: int = DEFAULT_LOG_BYTES
    backups: int = 5
    timestamps: bool = False


@dataclass(frozen=True, slots=True)
class LimitsConfig(_Model):
    """What a job may use; None is no limit.

    `memory` is bytes and `cpu` a percentage of one core (150.0: one and a half cores).
    `nofile` (open files), `nproc` (processes of the user) and `core` (bytes of a core
    dump) are rlimits, set soft and hard before the job's program runs; nproc and core
    may be UNLIMITED.
    """

    memory: int | None = None
    cpu: float | None = None
    nofile: int | None = None
    nproc: int | str | None = None
    core: int | str | None = None

    def rlimits(self) -> tuple[tuple[str, int | str], ...]:
        """The rlimits that are set, as (name, value) in RLIMIT_KEYS order."""
        given = ((name, getattr(self, name)) for name in RLIMIT_KEYS)
        return tuple((name, value) for name, value in given if value is not None)


@dataclass(frozen=True, slots=True)
class ExportConfig(_Model):
    """What `procclaw export` needs that running here does not: the container `image`
    the job's command runs in on Kubernetes, Nomad (docker) and Compose."""

    image: str | None = None


@dataclass(frozen=True, slots=True)
class Dependency(_Model):
    """`job` must reach `condition` within `timeout` seconds before this job starts.

    before_complete is the reverse: this job must complete before `job` starts.
    """

    job: str
    condition: str = "after_start"
    timeout: float = 60.0

    def edge(self, declared_by: str) -> tuple[str, str]:
        """(the job that waits, the job it waits for) of this entry in the
        `depends_on` of `declared_by`."""
        if self.condition == "before_complete":
            return self.job, declared_by
        return declared_by, self.job


@dataclass(frozen=True, slots=True)
class Defaults(_Model):
    """What jobs inherit; a job's own keys override these key by key."""

    retry: RetryConfig = field(default_factory=RetryConfig)
    shutdown: ShutdownConfig = field(default_factory=ShutdownConfig)
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    log: LogConfig = field(default_factory=LogConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    timezone: str | None = None
    export: ExportConfig = field(default_factory=ExportConfig)


# What can raise an alert: a job failed (retries exhausted), its health check went bad
# or came back, it waited too long for a dependency, a scheduled run was missed, it
# crashed (exited when nobody asked it to), it was started again after a crash, or it
# went over its memory limit.
ALERT_EVENTS = (
    "failed",
    "unhealthy",
    "recovered",
    "dependency_timeout",
    "missed",
    "limit",
    "crash",
    "restart",
)
# What alerts unless `on` says otherwise. A crash that its restart mends is no news to
# most (systemd and supervisord say nothing of one either), so crash and restart are
# asked for, and a config written before they existed sends what it always sent.
DEFAULT_ALERT_EVENTS = ALERT_EVENTS[:6]
OPENCLAW_GATEWAY_PORT = 18789  # OpenClaw's default; see procclaw/openclaw/gateway_port.py


def local_gateway_url(port: int) -> str:
    """The base URL of an OpenClaw gateway on this machine."""
    return f"http://127.0.0.1:{port}"


OPENCLAW_GATEWAY_URL = local_gateway_url(OPENCLAW_GATEWAY_PORT)


def _with_targets_as_map(model: AlertSettings | JobAlerts) -> dict[str, Any]:
    data = _Model.to_dict(model)
    data["targets"] = dict(model.targets)
    return data


@dataclass(frozen=True, slots=True)
class JobAlerts(_Model):
    """A job's own `alerts:`: `on` and `channels`, when given (not None), replace those
    of openclaw.alerts for this job; `targets` change or add recipients channel by
    channel."""

    on: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    targets: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _with_targets_as_map(self)


@dataclass(frozen=True, slots=True)
class AlertSettings(_Model):
    """Where alerts go (`targets` pairs each channel with its recipient) and when.

    One alert per job per `window` seconds; what else happens meanwhile is folded into
    one follow-up. A send that fails is retried after each of `retry_delays`.
    """

    enabled: bool = True
    channels: tuple[str, ...] = ()
    targets: tuple[tuple[str, str], ...] = ()
    on: tuple[str, ...] = DEFAULT_ALERT_EVENTS
    window: float = 300.0
    retry_delays: tuple[float, ...] = (2.0, 10.0, 60.0)
    wake: bool = False

    def target(self, channel: str) -> str | None:
        return dict(self.targets).get(channel)

    def for_job(self, own: JobAlerts | None) -> AlertSettings:
        """The settings that apply to a job with `own` alerts (None: it has none)."""
        if own is None:
            return self
        return replace(
            self,
            on=self.on if own.on is None else own.on,
            channels=self.channels if own.channels is None else own.channels,
            targets=tuple({**dict(self.targets), **dict(own.targets)}.items()),
        )

    def to_dict(self) -> dict[str, Any]:
        return _with_targets_as_map(self)


@dataclass(frozen=True, slots=True)
class GatewaySettings(_Model):
    """The OpenClaw gateway; `token` may be `${secret:NAME}`, resolved when used.

    `hooks_token` is OpenClaw's `hooks.token`, which `/hooks/wake` takes (and which
    should differ from the gateway's token).
    """

    url: str = OPENCLAW_GATEWAY_URL
    token: str | None = field(default=None, repr=False)
    hooks_token: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The settings with the tokens masked: this dict travels and gets displayed."""
        return {
            "url": self.url,
            "token": None if self.token is None else "********",
            "hooks_token": None if self.hooks_token is None else "********",
        }


@dataclass(frozen=True, slots=True)
class OpenClawSettings(_Model):
    enabled: bool = True
    memory_logging: bool = True
    alerts: AlertSettings = field(default_factory=AlertSettings)
    workspace: str | None = None
    gateway: GatewaySettings = field(default_factory=GatewaySettings)


@dataclass(frozen=True, slots=True)
class Settings(_Model):
    """Everything in procclaw.yaml."""

    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    defaults: Defaults = field(default_factory=Defaults)
    openclaw: OpenClawSettings = field(default_factory=OpenClawSettings)


@dataclass(frozen=True, slots=True)
class JobConfig(_Model):
    """One job from jobs.yaml, with the defaults from procclaw.yaml already applied.

    `cmd` is a string (run through the shell when `shell` is true, else split like a
    shell would) or an argv tuple. `env` holds (name, value) pairs in file order.
    `timezone` is the job's own or defaults.timezone; None means the system's zone.
    `ready: notify` means the job says READY=1 on NOTIFY_SOCKET once it is ready;
    `on_dependency_failure: stop` stops it when a job it depends on fails.
    `catchup` says what a scheduled job does about runs missed while the daemon was down;
    `max_runtime` (seconds) stops a run that goes on longer. `isolate` gives the job a
    supervisor of its own instead of a place in the shared pool. `limits` are what it
    may use (rlimits, memory, cpu). `alerts` is the job's own choice of alerts
    (procclaw/config/job_alerts.py). `export` is what `procclaw export` needs.
    """

    id: str
    cmd: str | tuple[str, ...]
    name: str = ""
    cwd: str | None = None
    type: str = "manual"
    shell: bool = False
    schedule: str | None = None
    timezone: str | None = None
    on_overlap: str = "skip"
    catchup: str = "skip"
    max_runtime: float | None = None
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    depends_on: tuple[Dependency, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    retry: RetryConfig = field(default_factory=RetryConfig)
    shutdown: ShutdownConfig = field(default_factory=ShutdownConfig)
    log: LogConfig = field(default_factory=LogConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    tags: tuple[str, ...] = ()
    enabled: bool = True
    ready: str | None = None
    on_dependency_failure: str = "keep_running"
    isolate: bool = False
    restart: str = "always"  # continuous jobs: always | on-failure | never
    # Its own `alerts:` (None: openclaw.alerts as it is). Not compared: a reload that
    # changes only who hears of a job must not restart it.
    alerts: JobAlerts | None = field(default=None, compare=False)
    # Read only by `procclaw export`: a change of it is no reason to restart the job.
    export: ExportConfig = field(default_factory=ExportConfig, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.id)

    def to_dict(self) -> dict[str, Any]:
        data = _Model.to_dict(self)
        data["env"] = dict(self.env)
        return data


@dataclass(frozen=True, slots=True)
class Config(_Model):
    """Both files, validated: the settings and the jobs in file order."""

    settings: Settings = field(default_factory=Settings)
    jobs: tuple[JobConfig, ...] = ()
    # Jobs by id, so that finding one costs the same with a thousand jobs as with one.
    _by_id: dict[str, JobConfig] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {job.id: job for job in self.jobs})

    def job(self, job_id: str) -> JobConfig | None:
        return self._by_id.get(job_id)

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(job.id for job in self.jobs)
