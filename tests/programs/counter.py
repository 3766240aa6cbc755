"""Prints 0, 1, 2, ... one number a millisecond, flushing each: a log-loss detector."""

import itertools
import time

for number in itertools.count():
    print(number, flush=True)
    time.sleep(0.001)
