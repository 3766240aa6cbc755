"""The REST API's listening sockets, bound before any web code loads.

Falcon, waitress and procclaw.api cost the gateway about 17 MiB and 80 ms of imports,
and the gateway itself a Python process of its own, which a daemon whose API nobody
calls should not pay. So root binds the API's address once the controller names it and
starts the gateway only when the first client connects (actors/root/gateway_activation.py),
handing it these sockets; that client waits in the listen backlog meanwhile. A gateway
that binds the address itself (a replacement, or after the address changed) binds it the
same way. The sockets are bound as waitress binds them: one per address the host
resolves to, IPv6 ones for IPv6 only.
"""

from __future__ import annotations

import socket

# As waitress's own default.
BACKLOG = 1024


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address of `host`; OSError when one cannot be bound."""
    addresses = socket.getaddrinfo(
        host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE
    )
    listeners: list[socket.socket] = []
    seen: set[tuple[str, int]] = set()
    try:
        for family, kind, proto, _name, address in addresses:
            # The same address may come back twice, once per zone index on some systems.
            key = (address[0].split("%", 1)[0], address[1])
            if key in seen:
                continue
            seen.add(key)
            listener = socket.socket(family, kind, proto)
            listeners.append(listener)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(BACKLOG)
    except OSError:
        for listener in listeners:
            listener.close()
        raise
    return listeners
