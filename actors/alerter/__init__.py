"""The alerter: alerts to chat channels through OpenClaw, notes in the agent's memory.

Owns: alert channels, folding, delivery counts.
Binds: ROUTER `run/alerter.sock` (`ping`, `status`).
Publishes: nothing; subscribes to `job.` and `schedule.` events and `config.reloaded`;
asks the controller for the jobs' configs (`config`).

- actor.py: the process
- alert_delivery.py: one alert to every channel, off the loop, retried
"""
