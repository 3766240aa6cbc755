"""The scheduler: the timers of every `type: scheduled` job.

Owns: each scheduled job's next due time (procclaw/rules/schedule_timer.py).
Binds: nothing; asks the controller (`scheduled`, `fire`) and listens to the bus.
Publishes: `schedule.<id>.fired|skipped|missed`.

- actor.py: the process; it sleeps on the platform's wall-clock alarm (procclaw/platform)
"""
