"""tests/test_job_output.py again, with the daemon on the portable platform layer."""

# ruff: noqa: I001 (the portable sandbox is imported last, so that it wins)
from test_job_output import *  # noqa: F403
from portable_sandbox import sandbox  # noqa: F401
