"""Prints `alive <n>` every INTERVAL seconds, BEATS times, among other lines, on STREAM
(stdout or stderr), then stays up printing nothing that matches: a gateway that hangs.
Usage: output_heartbeat.py BEATS INTERVAL [STREAM]."""

import sys
import time

beats, interval = int(sys.argv[1]), float(sys.argv[2])
out = sys.stderr if sys.argv[3:] == ["stderr"] else sys.stdout
for number in range(beats):
    print(f"request served {number}", file=out, flush=True)
    print(f"alive {number}", file=out, flush=True)
    time.sleep(interval)
print("hung", file=out, flush=True)
time.sleep(3600)
