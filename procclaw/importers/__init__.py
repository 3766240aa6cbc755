"""`procclaw import`: other process managers' programs as ProcClaw jobs, each written
as a drop-in `jobs.d/<id>.yaml`, with a warning for each setting that has no equivalent."""
