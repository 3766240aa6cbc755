"""ProcClaw as a per-user system service: a systemd user unit on Linux, a launchd
agent on macOS, written, loaded, removed and inspected by `procclaw service`."""
