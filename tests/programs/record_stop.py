"""Appends `start NAME` to FILE and says READY=1; on SIGTERM takes 0.3 s to shut down,
then appends `stop NAME`. Usage: record_stop.py NAME FILE. An order test reads FILE:
jobs stopped all at once would finish in any order."""

import signal
import sys
import time

from sd_notify import notify


def stop(_signum, _frame):
    time.sleep(0.3)
    with open(sys.argv[2], "a") as record:
        record.write(f"stop {sys.argv[1]}\n")
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
with open(sys.argv[2], "a") as record:
    record.write(f"start {sys.argv[1]}\n")
notify("READY=1")
while True:
    signal.pause()
