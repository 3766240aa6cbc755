"""SIGHUP to the daemon: root passes it on to the controller as a `reload`.

Root parses no config, so it only forwards the request and logs the answer when it
comes; it never waits for it, so a slow reload cannot hold up root's own loop.
"""

from __future__ import annotations

import logging

import zmq

from actors.runtime.loop import EventLoop
from actors.runtime.messages import pending_replies
from procclaw import protocol
from procclaw.home import Home

log = logging.getLogger("procclaw.root")


class ReloadSignal:
    def __init__(self, context: zmq.Context, loop: EventLoop, home: Home):
        self._socket = context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(home.endpoint("controller"))
        loop.add_reader(self._socket, self._on_replies)

    def forward(self) -> None:
        log.info("SIGHUP: asking the controller to reload the config")
        request = protocol.request("reload", caller="signal")
        try:
            self._socket.send(protocol.encode(request), zmq.NOBLOCK)
        except zmq.Again:
            log.error("reload not asked: the controller is not taking requests")

    def _on_replies(self) -> None:
        for reply in pending_replies(self._socket):
            if reply.get("ok"):
                result = reply.get("result") or {}
                log.info(
                    "config reloaded: added %s, removed %s, changed %s",
                    *(", ".join(result.get(key) or []) or "none" for key in _CHANGES),
                )
            else:
                message = (reply.get("error") or {}).get("message", "unknown error")
                log.error("config not reloaded, nothing changed:\n%s", message)

    def close(self) -> None:
        self._socket.close(0)


_CHANGES = ("added", "removed", "changed")
