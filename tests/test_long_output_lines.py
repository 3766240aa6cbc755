"""A job's line of a megabyte: `status` still answers, in the CLI and the API, showing
the line cut at 1 KiB and marked."""

import json
import sys

from http_helpers import get

from procclaw.logfiles import TAIL_LINE_BYTES

PRINT_WIDE = "import time; print('x' * 1048576); print('done', flush=True); time.sleep(60)"
JOBS = f"""\
jobs:
  wide:
    type: continuous
    cmd: [{sys.executable}, -c, "{PRINT_WIDE}"]
"""


def test_status_of_a_job_whose_tail_holds_a_line_of_a_megabyte(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_output("wide", "done")
    result = sandbox.cli("status", "wide", "--json", check=True)
    tail = json.loads(result.stdout)["log_tail"]
    assert tail == ["x" * TAIL_LINE_BYTES + "…", "done"]
    assert sandbox.cli("status", "wide", check=True).stdout.count("x" * TAIL_LINE_BYTES + "…") == 1
    reply = get(sandbox.api_port, "/api/v1/jobs/wide")
    assert reply.status == 200 and reply.json["log_tail"] == tail
