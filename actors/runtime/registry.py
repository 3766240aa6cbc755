"""The actor kinds root can start, and the modules the zygote imports in advance.

Adding an actor is one line here plus its module.
"""

from __future__ import annotations

import importlib

from actors.runtime.actor import Actor

# kind -> "module:Class"
ACTOR_CLASSES: dict[str, str] = {
    "controller": "actors.controller.actor:Controller",
    "supervisor": "actors.supervisor.actor:Supervisor",
    "gateway": "actors.gateway.actor:Gateway",
    "health": "actors.health.actor:HealthActor",
    "alerter": "actors.alerter.actor:Alerter",
    "scheduler": "actors.scheduler.actor:Scheduler",
}

# The core actors, in the order they start; at the daemon's stop the controller goes
# last. Those of procclaw/rules/needed_actors.py start only once the config needs them.
CORE_ACTORS: tuple[str, ...] = ("controller", "scheduler", "health", "alerter", "gateway")

# Third-party modules every actor needs; imported once in the zygote so a fork shares them.
PRELOAD_MODULES: tuple[str, ...] = ("zmq", "msgpack", "yaml", "sqlite3", "psutil", "subprocess")


def actor_class(kind: str) -> type[Actor]:
    module_name, _, class_name = ACTOR_CLASSES[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def preload() -> None:
    for module_name in PRELOAD_MODULES:
        importlib.import_module(module_name)
    for kind in ACTOR_CLASSES:
        actor_class(kind)
