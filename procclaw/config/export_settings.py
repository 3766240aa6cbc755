"""Reading `export:`, what `procclaw export` needs beyond what runs a job here.

It may go under `defaults:` in procclaw.yaml and in a job; a job's keys override the
defaults' key by key. `image` is checked as a container image reference
(`registry.example.com/team/api:1.4`, `python:3.12-slim`, or pinned `...@sha256:...`),
so a typo is reported with its line instead of by a cluster that cannot pull it.
"""

from __future__ import annotations

import re
from typing import Any

from procclaw.config.fields import Fields
from procclaw.config.models import ExportConfig
from procclaw.config.values import expected, optional

EXPORT_KEYS = ("image",)

# The reference grammar of the OCI distribution spec, without the length limits.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_IMAGE = re.compile(
    rf"(?:{_HOST}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)


def read_export(parent: Fields, base: ExportConfig) -> ExportConfig:
    """`export:` under `parent`, over `base` (the defaults)."""
    fields = parent.nested("export", EXPORT_KEYS)
    return ExportConfig(image=fields.get("image", optional(image_reference), base.image))


def image_reference(value: Any) -> str:
    """A container image reference such as 'python:3.12-slim' or 'ghcr.io/me/api:1.4'."""
    if not isinstance(value, str) or not _IMAGE.fullmatch(value):
        raise expected("a container image like 'python:3.12-slim' or 'ghcr.io/me/api:1.4'", value)
    return value
