"""Speaks sd_notify the way a plain program would, with sendto on NOTIFY_SOCKET.

Usage: notifier.py DELAY [BEATS]: after DELAY seconds sends `READY=1` and
`STATUS=serving`, then sends `WATCHDOG=1` every 0.1 s, BEATS times (for ever without
BEATS), then stays up silent.
"""

import itertools
import sys
import time

from sd_notify import notify

time.sleep(float(sys.argv[1]))
notify("READY=1\nSTATUS=serving")
print("ready", flush=True)
beats = itertools.count() if len(sys.argv) < 3 else range(int(sys.argv[2]))
for _ in beats:
    notify("WATCHDOG=1")
    time.sleep(0.1)
print("silent", flush=True)
time.sleep(3600)
