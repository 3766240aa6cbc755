"""The actor processes of the ProcClaw daemon and the runtime they share."""
