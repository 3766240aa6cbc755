"""Writes bytes that are not UTF-8, and ends without a newline."""

import sys

sys.stdout.buffer.write(b"\xff\xfe not utf-8\n")
sys.stdout.buffer.flush()
sys.stdout.buffer.write(b"no newline at end")
sys.stderr.buffer.write(b"err \xc3\x28\n")
