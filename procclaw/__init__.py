"""ProcClaw: a per-user process manager built from small actor processes."""

__version__ = "0.1.0"
