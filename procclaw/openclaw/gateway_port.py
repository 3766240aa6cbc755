"""The port the OpenClaw gateway listens on, chosen as OpenClaw chooses it.

`procclaw init --openclaw` writes it into the gateway job (`openclaw gateway --port N`,
the health check's URL) and into `openclaw.gateway.url`, so the gateway, its health
check, ProcClaw's alerts and OpenClaw's own CLI all meet on one port. OpenClaw takes
`gateway.port` from openclaw.json; without one, a port derived from $OPENCLAW_PROFILE;
without a profile, 18789.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from procclaw.config.models import OPENCLAW_GATEWAY_PORT
from procclaw.openclaw.openclaw_config import UnreadableOpenClawConfig, read_openclaw_config

_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)


@dataclass(frozen=True)
class GatewayPort:
    """The port, and why openclaw.json gave none when it exists but could not be used."""

    number: int
    unread_because: str | None = None


def openclaw_gateway_port(
    config_file: Path, environ: Mapping[str, str] | None = None
) -> GatewayPort:
    """`gateway.port` from `config_file`, else OpenClaw's default for the profile.

    A missing file is not a problem here (OpenClaw falls back the same way); a file that
    cannot be read, or whose port is not a port, comes back with the reason.
    """
    env = os.environ if environ is None else environ
    fallback = default_gateway_port(env.get("OPENCLAW_PROFILE"))
    try:
        config = read_openclaw_config(config_file)
    except FileNotFoundError:
        return GatewayPort(fallback)
    except UnreadableOpenClawConfig as exc:
        return GatewayPort(fallback, str(exc))
    gateway = config.get("gateway")
    port = gateway.get("port") if isinstance(gateway, dict) else None
    if port is None:
        return GatewayPort(fallback)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        return GatewayPort(fallback, f"gateway.port is {port!r}, not a port number")
    return GatewayPort(port)


def default_gateway_port(profile: str | None) -> int:
    """18789, or for a named profile the port OpenClaw derives from its name (an FNV-1a
    hash into 20000-59999), so that two profiles' gateways do not collide."""
    name = (profile or "").strip()
    if not name or name.lower() == "default" or not _PROFILE_NAME.match(name):
        return OPENCLAW_GATEWAY_PORT
    digest = 2166136261
    for byte in name.encode():
        digest = ((digest ^ byte) * 16777619) & 0xFFFFFFFF
    return 20000 + digest % 40000
