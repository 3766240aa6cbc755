"""`/api/v1/jobs/{id}/logs`: the last lines of a job's output, its secrets masked.

A job's own log files keep what it wrote; what the API hands out is shown to someone
else, so, as in `status`, every value of the job's secrets is replaced by `********`
(or the lines are withheld when the values cannot be read to build the mask).
"""

from __future__ import annotations

import falcon

from procclaw.api.errors import bad_request
from procclaw.api.jobs import call
from procclaw.client import Client
from procclaw.home import Home
from procclaw.logfiles import last_lines_text
from procclaw.secrets import SecretError, mask_for
from procclaw.secrets.job_secrets import WITHHELD
from procclaw.whole_numbers import whole_number

DEFAULT_LINES = 100
MAX_LINES = 10_000
# The gateway serves other requests meanwhile; a keyring that hangs costs one request this.
MASK_TIMEOUT = 1.0


class JobLogs:
    def __init__(self, client: Client, home: Home):
        self.client = client
        self.home = home

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        stream = req.get_param("stream") or "stdout"
        if stream not in ("stdout", "stderr"):
            raise bad_request(f"stream must be stdout or stderr, not {stream!r}")
        lines = line_count(req)
        job = call(self.client, "status", {"job": job_id})  # 404 for an unknown job
        path = self.home.job_log(job_id, stream)
        text = last_lines_text(path, lines)
        references = [str(value) for value in job["config"].get("env", {}).values()]
        try:
            text = mask_for(self.home, references, MASK_TIMEOUT).lines(text)
        except SecretError as exc:
            text = [WITHHELD.format(exc)] if text else []
        resp.media = {"job": job_id, "stream": stream, "file": str(path), "lines": text}


def line_count(req: falcon.Request) -> int:
    """The `lines` query parameter (DEFAULT_LINES when absent); a 400 when it is no count."""
    raw = req.get_param("lines")
    if raw is None:
        return DEFAULT_LINES
    count = whole_number(raw, 0, MAX_LINES)
    if count is None:
        raise bad_request(f"lines must be a whole number from 0 to {MAX_LINES}, not {raw!r}")
    return count
