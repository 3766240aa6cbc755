"""Touches FILE every 0.1 s, BEATS times, then stays up without touching it: a service
that hangs. Usage: heartbeat.py FILE BEATS."""

import pathlib
import sys
import time

path = pathlib.Path(sys.argv[1])
for _ in range(int(sys.argv[2])):
    path.touch()
    time.sleep(0.1)
print("hung", flush=True)
time.sleep(3600)
