"""Writes 1,000,000 lines of 100 bytes (100 MB) to stdout as fast as it can."""

import sys

line = b"x" * 99 + b"\n"
for _ in range(1_000_000):
    sys.stdout.buffer.write(line)
