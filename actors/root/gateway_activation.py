"""Root's hold on the REST API's address until its first client: socket activation.

The gateway is a Python process of its own (5 MiB of memory), and most daemons are
driven from the CLI alone. So, as systemd and launchd do for a socket-activated service,
root binds the API's address as soon as the controller names it (`need`), watches the
sockets, and starts the gateway only when a client connects. The sockets go to the
gateway through the zygote; the client that knocked waits in the listen backlog until
the gateway's web server accepts it. From then on the address is the gateway's: it
follows reloads that change it, and a replacement binds it anew.

When the address cannot be bound (a port in use) the gateway is started at once: it says
why in `daemon status` and tries again, as it always has. So it is for a host given by
name: resolving it could block root's loop for seconds, and the gateway's is its own.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from actors.runtime.api_listeners import bind_listeners
from actors.runtime.loop import EventLoop

log = logging.getLogger("procclaw.root")

# Starts the gateway with these spawn args and these listening descriptors (root's own,
# closed once the gateway has them).
StartGateway = Callable[[dict[str, Any], tuple[int, ...]], None]


class GatewayActivation:
    def __init__(self, loop: EventLoop, start_gateway: StartGateway):
        self._loop = loop
        self._start_gateway = start_gateway
        self._listeners: list[socket.socket] = []
        self.address: tuple[str, int] | None = None
        self.started = False

    def listen(self, host: str, port: int) -> None:
        """Hold `host:port` for the gateway, unless it runs already (then it is its)."""
        if self.started or (host, port) == self.address:
            return
        self.close()
        if not _is_address(host):
            log.info("the API's host %s is a name: starting the gateway to resolve it", host)
            self._start({}, ())
            return
        try:
            self._listeners = bind_listeners(host, port)
        except (OSError, ValueError) as exc:  # a port in use; a host name IDNA refuses
            log.info("cannot hold %s:%d for the API (%s): starting the gateway", host, port, exc)
            self._start({}, ())
            return
        self.address = (host, port)
        for listener in self._listeners:
            self._loop.add_reader(listener.fileno(), self._knocked)

    def _knocked(self) -> None:
        """A first client waits: the gateway takes the sockets and serves it."""
        assert self.address is not None
        log.info("starting the gateway: a first client connected to the API")
        host, port = self.address
        fds = []
        for listener in self._listeners:
            self._loop.remove_reader(listener.fileno())
            fds.append(listener.detach())  # closed by the keeper once handed over
        self._listeners = []
        self._start({"host": host, "port": port}, tuple(fds))

    def _start(self, args: dict[str, Any], fds: tuple[int, ...]) -> None:
        self.started = True
        self._start_gateway(args, fds)

    def note(self) -> str | None:
        """What `daemon status` says of a gateway not started yet."""
        if self.started or self.address is None:
            return None
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}, starts with the first request"

    def close(self) -> None:
        for listener in self._listeners:
            self._loop.remove_reader(listener.fileno())
            listener.close()
        self._listeners = []
        self.address = None


def _is_address(host: str) -> bool:
    """Whether `host` is an IPv4 or IPv6 address, which binds without a name lookup."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            continue
    return False
