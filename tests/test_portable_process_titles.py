"""tests/test_process_titles.py again, with the daemon on the portable platform layer."""

# ruff: noqa: I001 (the portable sandbox is imported last, so that it wins)
from test_process_titles import *  # noqa: F403
from portable_sandbox import sandbox  # noqa: F401
