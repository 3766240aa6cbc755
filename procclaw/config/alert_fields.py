"""The keys that `openclaw.alerts` in procclaw.yaml and a job's own `alerts:` share:
`on`, `channels` and `targets`, read and checked the same way in both files.

Every channel needs a target: a channel that names nobody to send to would otherwise be
counted as alerted while nothing reached anyone.
"""

from __future__ import annotations

from collections.abc import Collection

from procclaw.config.fields import Fields
from procclaw.config.models import ALERT_EVENTS
from procclaw.config.values import Invalid, choice, is_number, text
from procclaw.suggest import did_you_mean

# Said of a target whose channel is not among the `channels:` beside it.
NOT_IN_CHANNELS = "is not in alerts.channels: add it there, or remove this target"


def read_events(fields: Fields) -> tuple[str, ...] | None:
    """`on:`, each event once; None when it is not given."""
    if "on" not in fields:
        return None
    return tuple(dict.fromkeys(fields.list("on", choice(ALERT_EVENTS), "a list of events")))


def read_channels(fields: Fields) -> tuple[str, ...] | None:
    """`channels:`, each channel once; None when it is not given."""
    if "channels" not in fields:
        return None
    return tuple(dict.fromkeys(fields.list("channels", text, "a list of channel names")))


def read_targets(
    fields: Fields, channels: Collection[str], not_listed: str
) -> tuple[tuple[str, str], ...]:
    """`targets: {channel: recipient}` for `channels`; a target for another channel is
    a mistake, reported as `'<channel>' <not_listed>`."""
    targets = []
    scope = fields.scope.at("targets")
    for channel, value, name_line, value_line in fields.pairs("targets", "a mapping"):
        if channel not in channels:
            scope.error(name_line, f"'{channel}' {not_listed}")
            continue
        if is_number(value):
            scope.at(channel).error(
                value_line,
                f'write the target in quotes, like "+15555550123": YAML reads {value}'
                " as a number, which loses a leading + or 0",
            )
            continue
        try:
            targets.append((channel, text(value)))
        except Invalid as err:
            scope.at(channel).error(value_line, str(err))
    return tuple(targets)


def report_untargeted(fields: Fields, inherited: Collection[str] = ()) -> None:
    """Report each channel in `channels:` that has no target, neither in this mapping's
    `targets:` nor among the `inherited` ones, at its line; a close name is suggested."""
    given = fields.raw("targets") if isinstance(fields.raw("targets"), dict) else {}
    known = {*given, *inherited}
    items = fields.raw("channels") if isinstance(fields.raw("channels"), list) else []
    for index, channel in enumerate(items):
        if not isinstance(channel, str) or not channel.strip() or channel in known:
            continue  # not a channel name: reported as such already
        fields.scope.at("channels", index).error(
            _item_line(fields, "channels", index),
            f"channel '{channel}' has no target{did_you_mean(channel, known)}:"
            f" add alerts.targets.{channel} (the number, chat or channel id to send to)",
        )


def _item_line(fields: Fields, key: str, index: int) -> int | None:
    items = fields.raw(key)
    lines = getattr(items, "item_lines", None)
    return lines[index] if lines else fields.value_line(key)
