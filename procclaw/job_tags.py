"""Jobs chosen by tag (`stop --tag web`, `POST /api/v1/tags/web/stop`): the one rule, so
the CLI and the API choose alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class UnknownTag(ValueError):
    """A tag no job carries: a typo must not quietly select nothing."""


def tagged(jobs: Sequence[dict[str, Any]], tags: Iterable[str]) -> list[str]:
    """The ids of the jobs (summaries with `id` and `tags`) carrying any of `tags`, in
    config order; UnknownTag, naming the tags there are, for a tag that none carries."""
    wanted = list(dict.fromkeys(tags))
    known = sorted({tag for job in jobs for tag in job.get("tags", ())})
    missing = [tag for tag in wanted if tag not in known]
    if missing:
        raise UnknownTag(_unknown(missing[0], known))
    return [job["id"] for job in jobs if set(wanted) & set(job.get("tags", ()))]


def _unknown(tag: str, known: list[str]) -> str:
    from procclaw.suggest import did_you_mean

    if not known:
        return f"no job is tagged '{tag}': no job has tags (add `tags: [{tag}]` to a job)"
    return f"no job is tagged '{tag}'{did_you_mean(tag, known)}; tags: {', '.join(known)}"
