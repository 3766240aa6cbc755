"""Root and the supervisors grow their descriptor tables before their first thread.

A threaded process waits an RCU grace period (~10 ms) each time its table grows; a
table grown at the start keeps its size (the kernel's FDSize in /proc/<pid>/status).
"""

from __future__ import annotations

import resource

from actors.root.actor import ROOT_DESCRIPTORS
from actors.supervisor.actor import Supervisor

JOBS = "jobs:\n  svc:\n    cmd: sleep 600\n    type: continuous\n"


def _table_size(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("FDSize:"))
    return int(line.split()[1])


def _expected(count: int) -> int:
    """What the table can hold: `count`, unless the descriptor limit is lower."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # root raises soft to hard
    return count if hard == resource.RLIM_INFINITY else min(count, hard)


def test_root_and_supervisors_start_with_room_for_their_jobs_descriptors(sandbox):
    root_pid = sandbox.run_jobs(JOBS)
    _name, supervisor_pid = sandbox.supervisor_of("svc")
    assert _table_size(root_pid) >= _expected(ROOT_DESCRIPTORS)
    assert _table_size(supervisor_pid) >= _expected(Supervisor.DESCRIPTORS)
    # The others need no room: a growth or two in their lives costs them little.
    assert _table_size(sandbox.actor_pid("controller")) < _expected(Supervisor.DESCRIPTORS)
