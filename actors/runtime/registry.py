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

# The core actors, started in this order at daemon start; at its stop the controller
# goes last.
CORE_ACTORS: tuple[str, ...] = ("controller", "scheduler", "health", "alerter", "gateway")

# Third-party modules every actor needs; imported once in the zygote so a fork shares them.
PRELOAD_MODULES: tuple[str, ...] = ("zmq", "msgpack", "yaml", "sqlite3", "psutil", "subprocess")

# Kinds whose modules the zygote leaves to the actor, which imports them after the fork.
# A module in the shared image counts once whoever uses it, but each process copies the
# pages of it that it touches (reference counts): what one process alone uses costs less
# as its own. The gateway's Falcon, waitress, prometheus_client and procclaw.api, some
# 160 modules no other actor imports, are 2.5 to 3 MiB less PSS so.
IMPORTED_AFTER_FORK: tuple[str, ...] = ("gateway",)


def actor_class(kind: str) -> type[Actor]:
    module_name, _, class_name = ACTOR_CLASSES[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def preload() -> None:
    for module_name in PRELOAD_MODULES:
        importlib.import_module(module_name)
    for kind in ACTOR_CLASSES:
        if kind not in IMPORTED_AFTER_FORK:
            actor_class(kind)
