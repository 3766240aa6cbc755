"""Starts /bin/true COUNT times born in the cgroup CGROUP, from a process whose ZeroMQ
I/O thread frees, as each start is made, what this thread allocated (a supervisor's
reports): prints how many of them never ran (their clone inherited a malloc lock held).

usage: clones_under_threads.py CGROUP COUNT
"""

import os
import sys
import threading
import time

import zmq

from procclaw.platform.base import ChildSpec
from procclaw.platform.linux_spawner import Spawner

MESSAGES, SIZE = 50, 60_000  # what made one clone in twenty hang, cloned in-process
RAN_WITHIN = 2.0  # seconds for /bin/true to exit

cgroup, count = sys.argv[1], int(sys.argv[2])
spawner = Spawner()
spawner.start()  # as a supervisor does: before ZeroMQ's threads
context = zmq.Context()
pull = context.socket(zmq.PULL)
port = pull.bind_to_random_port("tcp://127.0.0.1")
push = context.socket(zmq.PUSH)
push.connect(f"tcp://127.0.0.1:{port}")
threading.Thread(target=lambda: [pull.recv() for _ in range(count * MESSAGES)], daemon=True).start()
spec = ChildSpec("/bin/true", ["/bin/true"], {}, None, 0o022, 1, 2)
hung = 0
for _ in range(count):
    for _ in range(MESSAGES):
        push.send(b"x" * SIZE)
    pid = spawner.spawn(cgroup, spec)
    assert pid is not None, "not born in the cgroup"
    deadline = time.monotonic() + RAN_WITHIN
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.monotonic() > deadline:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.001)
print(hung)
spawner.close()
