"""ProcClaw's configuration: procclaw.yaml (settings) and jobs.yaml (jobs), loaded
into frozen models, with every problem reported as `file:line: where: message`."""

from procclaw.config.loader import MAX_CONFIG_BYTES, load_config, parse_config, read_config_texts
from procclaw.config.models import (
    AlertSettings,
    ApiSettings,
    AuthSettings,
    Config,
    DaemonSettings,
    Defaults,
    Dependency,
    GatewaySettings,
    HealthCheckConfig,
    JobConfig,
    LimitsConfig,
    LogConfig,
    OpenClawSettings,
    RetryConfig,
    Settings,
    ShutdownConfig,
)
from procclaw.config.problems import ConfigError, Problem
from procclaw.config.templates import (
    JOBS_TEMPLATE,
    OPENCLAW_GATEWAY_JOB_ID,
    SETTINGS_TEMPLATE,
    openclaw_gateway_job,
    settings_template,
)

__all__ = [
    "JOBS_TEMPLATE",
    "MAX_CONFIG_BYTES",
    "OPENCLAW_GATEWAY_JOB_ID",
    "SETTINGS_TEMPLATE",
    "AlertSettings",
    "ApiSettings",
    "AuthSettings",
    "Config",
    "ConfigError",
    "DaemonSettings",
    "Defaults",
    "Dependency",
    "GatewaySettings",
    "HealthCheckConfig",
    "JobConfig",
    "LimitsConfig",
    "LogConfig",
    "OpenClawSettings",
    "Problem",
    "RetryConfig",
    "Settings",
    "ShutdownConfig",
    "load_config",
    "openclaw_gateway_job",
    "parse_config",
    "read_config_texts",
    "settings_template",
]
