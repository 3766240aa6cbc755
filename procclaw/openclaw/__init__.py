"""OpenClaw integration: alerts through the OpenClaw CLI or gateway, the agent's daily
memory file, and the skill that teaches an OpenClaw agent to drive ProcClaw.

The alerter actor (actors/alerter/actor.py) puts these pieces together; each module here
does one part and can be used and tested without a daemon.
"""
