"""The gateway actor: the REST API, `/metrics` and the event stream over HTTP.

Serves the Falcon app of procclaw/api with waitress on `daemon.host:daemon.port`
(127.0.0.1:9876 by default). Waitress runs in threads of its own (one listener, a pool
of request workers); this actor's loop stays in the main thread, heartbeating to root
and reacting to SIGTERM, root's death and the bus, exactly like the other actors.

It is a client of the daemon like the CLI: requests become commands through
`procclaw.client.Client` (caller "api"); `/api/v1/events` subscribes to the bus. Binds
no ZeroMQ socket. Subscribes to `config.reloaded` to take up a new token, and a new
address, without a restart.

Where it listens and its auth come from the controller's `api_settings` (the applied
config). Root starts it when a first client connects to that address, which root held
until then, and hands it those sockets (actors/root/gateway_activation.py); a gateway
started without them (a replacement) binds the address itself. It loads the web server
(Falcon, waitress, procclaw.api: about 17 MiB) only when a client waits, in the listen
backlog (actors/runtime/api_listeners.py). When the address cannot be bound (a port in
use), it says so in the daemon log and in `daemon status`, and tries again every
BIND_RETRY seconds: it never dies of it, so root does not restart it in a loop, and the
rest of the daemon runs on.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

import zmq

from actors.runtime.actor import Actor, ActorContext
from actors.runtime.api_listeners import bind_listeners
from actors.runtime.loop import pending
from procclaw import protocol
from procclaw.api.token_check import TokenCheck
from procclaw.client import Client, ClientError

if TYPE_CHECKING:
    from actors.gateway.http_server import HttpServer
    from procclaw.api.app import ApiApp

log = logging.getLogger("procclaw.gateway")

BIND_RETRY = 10.0
# Before our `hello` (so that `daemon start` returns with the API up) root gives us 15 s;
# once our loop runs, a call must stay well under root's 7 s heartbeat patience.
FIRST_SETTINGS_TIMEOUT = 8.0
SETTINGS_TIMEOUT = 2.0
SETTINGS_RETRY = 1.0
# Request workers; at most STREAMS of them may hold an event stream open.
THREADS = 12
STREAMS = 8


class Gateway(Actor):
    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self.client = Client(self.home, caller="api")
        self.app: ApiApp | None = None
        self.server: HttpServer | None = None
        self.listeners: list[socket.socket] = []
        self.check = TokenCheck(enabled=True, problem="no settings yet")
        self.address: tuple[str, int] | None = None
        self.problem: str | None = "starting"
        # The sockets root held for us, with the address they are bound to.
        self.handed = [socket.socket(fileno=fd) for fd in ctx.fds]
        self.handed_address = (ctx.args["host"], ctx.args["port"]) if ctx.fds else None

    def setup(self) -> None:
        # Waitress warns of every request that waits for a worker: noise in daemon.log.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._events = self.zmq.socket(zmq.SUB)
        self._events.setsockopt(zmq.LINGER, 0)
        self._events.setsockopt(zmq.SUBSCRIBE, protocol.CONFIG_RELOADED.encode())
        self._events.connect(self.home.endpoint("bus"))
        self.loop.add_reader(self._events, self._on_events)
        self._configure(FIRST_SETTINGS_TIMEOUT)

    def teardown(self) -> None:
        self._stop_serving()
        self._events.close(0)

    def heartbeat_facts(self) -> dict[str, Any]:
        """What `daemon status` shows of us: where we listen, or why we do not."""
        if self.problem is not None:
            return {"problem": self.problem}
        assert self.address is not None
        return {"listening": f"http://{_url_host(self.address[0])}:{self.address[1]}"}

    # ---- configuration -----------------------------------------------------------------

    def _on_events(self) -> None:
        if list(pending(self._events, multipart=True)):
            self._configure()

    def _configure(self, timeout: float = SETTINGS_TIMEOUT) -> None:
        """(Re)read the API settings; serve them, binding again if the address changed."""
        try:
            settings = self.client.call("api_settings", timeout=timeout)
        except ClientError as exc:
            problem = f"no settings from the controller: {exc.message}"
            log.warning("gateway: %s; asking again in %g s", problem, SETTINGS_RETRY)
            self.loop.call_later(SETTINGS_RETRY, self._configure)
            if self.handed_address is not None and not self.listeners:
                # The clients root let in wait: answer them (503, no token check yet).
                self.check = TokenCheck(enabled=True, problem=problem)
                self._listen(self.handed_address)
            self.problem = problem
            return
        check = TokenCheck.from_settings(self.home, settings["auth"])
        if check.problem:
            log.error("gateway: %s: every request that needs it gets a 503", check.problem)
        address = (settings["host"], int(settings["port"]))
        self.check = check
        if self.listeners and address == self.address:
            self.problem = None  # a failed ask before this one is over
            if self.app is not None:
                self.app.use_token(check)
            return
        self._stop_serving()
        self._listen(address)

    def _listen(self, address: tuple[str, int]) -> None:
        handed, self.handed = self.handed, []
        try:
            if handed and address == self.handed_address:
                self.listeners = handed
            else:
                for listener in handed:
                    listener.close()
                self.listeners = bind_listeners(*address)
        except OSError as exc:
            self.problem = f"cannot listen on {_url_host(address[0])}:{address[1]}: {exc.strerror}"
            log.error("gateway: %s; trying again every %g s", self.problem, BIND_RETRY)
            self.loop.call_later(BIND_RETRY, self._configure)
            return
        self.address, self.problem = address, None
        for listener in self.listeners:
            self.loop.add_reader(listener.fileno(), self._serve)
        log.info("gateway: listening on http://%s:%d", _url_host(address[0]), address[1])
        self._tell_root("heartbeat")  # so `daemon status` shows the address at once

    def _serve(self) -> None:
        """The first client is waiting: build the web server, which accepts it."""
        # Loaded here, not at the top: a gateway nobody calls never pays for them.
        from actors.gateway.http_server import HttpServer
        from procclaw.api.app import ApiApp

        for listener in self.listeners:
            self.loop.remove_reader(listener.fileno())
        assert self.address is not None
        self.app = ApiApp(self.home, self.client, self.address[0], self.check, STREAMS)
        self.server = HttpServer(self.app.wsgi, self.listeners, THREADS)
        self.server.start()
        log.info("gateway: serving its first client")

    def _stop_serving(self) -> None:
        """Stop the server, or close the sockets it has not taken yet."""
        if self.server is not None:
            assert self.app is not None
            self.server.stop(self.app.close)  # closes the listeners too
        for listener in self.listeners:
            self.loop.remove_reader(listener.fileno())
            listener.close()
        self.server, self.app, self.listeners = None, None, []


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
