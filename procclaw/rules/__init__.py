"""Rules that do no I/O: given the facts and the clock, they decide; actors carry it out.

Each takes the current time as an argument, so its tests step through time in
microseconds without a process or a sleep.
"""
