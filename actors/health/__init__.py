"""The health actor: the health checks of every running job, and their verdicts.

Owns: each run's checks and its verdict (procclaw/rules/health_verdict.py).
Binds: nothing; reports verdicts to the controller and follows runs on the bus.
Publishes: `job.<id>.health`.

- actor.py: the process and its timers
- health_checks.py: the checks themselves (HTTP, file, process, heartbeat)
"""
