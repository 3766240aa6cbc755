"""Root: the daemon process (`procclaw daemon start`); owns the other actors' lives.

Owns: the single-instance lock, being child subreaper, every job's pipes (four ends per
live job), the pool of supervisors and which jobs each holds.
Binds: ROUTER `run/daemon.sock` (`ping`, `status`, `probe`, `held`, `supervise`,
`shutdown`), PULL `run/actors.sock` (hello, heartbeat, bye), and the bus (PULL
`run/bus-in.sock` -> XPUB `run/bus.sock`).
Publishes: `actor.<name>.up|down`.

- actor.py: the process and its shutdown order (`python -m actors.root.actor`)
- actor_keeper.py, actor_table.py: starting, watching and restarting actors
- supervisor_pool.py, held_jobs.py: where jobs are placed, what a replacement gets
- bus.py: the event bus proxy
- reload_signal.py: SIGHUP becomes the controller's `reload`
"""
