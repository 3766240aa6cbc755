"""Wakeup: a flag a poller waits on, set from any thread, harmless once closed."""

from __future__ import annotations

import select

from procclaw.wakeup import Wakeup


def test_a_wakeup_is_set_cleared_and_safe_to_set_once_closed():
    wakeup = Wakeup()
    assert not select.select([wakeup.fileno()], [], [], 0)[0]
    for _ in range(100_000):  # more than a pipe holds: still no error
        wakeup.set()
    assert select.select([wakeup.fileno()], [], [], 0)[0]
    wakeup.clear()
    assert not select.select([wakeup.fileno()], [], [], 0)[0]
    wakeup.close()
    wakeup.set()  # a late worker: nothing written anywhere
    wakeup.clear()
