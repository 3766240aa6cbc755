"""The gateway's waitress server: three changes the API needs, and an orderly stop.

Waitress runs a select loop in one thread and each request in a worker thread. The
worker sends what the app writes itself, holding the channel's output lock; its
leftovers, if the socket would not take them all, it leaves to the loop. But the loop
asks to write to every channel with output pending, even while a worker holds that
lock: select answers at once (the socket is writable), the loop fails to take the
lock, and selects again, spinning and holding the GIL that the worker needs to finish.
With two clients a request took 40 ms instead of 0.4 ms, at a full core.

`HandoffChannel` does not ask to write while a worker holds the lock, and a worker that
leaves output behind wakes the loop once it has let go of the lock, so that the loop
then sends it.

Requests the server refuses before the app sees them (headers or body too large, a
malformed request) get the API's JSON error shape, not waitress's plain text.

It also tells a request when its client has left: a long request (an event stream)
registers a callback through `environ["procclaw.on_client_gone"]`, called from the
loop the moment it reads the end of the connection. Waitress's own
`waitress.client_disconnected` can only be asked, not waited on.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.trigger import trigger

from procclaw.api.errors import code_of, error_json

CLIENT_GONE = "procclaw.on_client_gone"
IDLE_WAKEUP = 30  # seconds: waitress's cleanup_interval


class HandoffTask(WSGITask):
    """A request whose environ offers CLIENT_GONE."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[CLIENT_GONE] = self.channel.on_client_gone
        return environ


class JsonErrorTask(ErrorTask):
    """The server's own refusals in the API's error shape."""

    def execute(self) -> None:
        error = self.request.error
        body = error_json(code_of(f"{error.code} {error.reason}"), error.body).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class HandoffChannel(HTTPChannel):
    """An HTTP channel whose loop leaves a writing worker alone, and says when its client left."""

    task_class = HandoffTask
    error_task_class = JsonErrorTask

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._gone_lock = threading.Lock()
        self._gone_callbacks: list[Callable[[], None]] | None = []  # None: the client left

    def on_client_gone(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from the loop's thread) when the client leaves; now if it has."""
        with self._gone_lock:
            if self._gone_callbacks is not None:
                self._gone_callbacks.append(callback)
                return
        callback()

    def handle_read(self) -> None:
        super().handle_read()
        if not self.connected:
            self._client_gone()

    def handle_close(self) -> None:
        super().handle_close()
        self._client_gone()

    def _client_gone(self) -> None:
        with self._gone_lock:
            callbacks, self._gone_callbacks = self._gone_callbacks or [], None
        for callback in callbacks:
            callback()

    def writable(self) -> bool:
        pending = self.total_outbufs_len
        # Past the high watermark, a worker pulls the trigger holding the lock and then
        # waits for the loop to send: the loop must keep asking, or it sleeps its 1 s.
        below_watermark = pending <= self.adj.outbuf_high_watermark
        if pending and below_watermark and self.requests and not self._lock_is_free():
            return False
        return bool(super().writable())

    def write_soon(self, data: Any) -> int:
        written = super().write_soon(data)
        if self.total_outbufs_len:  # what the socket did not take: the loop sends it
            self.server.pull_trigger()
        return written

    def _lock_is_free(self) -> bool:
        if not self.outbuf_lock.acquire(False):
            return False
        self.outbuf_lock.release()
        return True


class HttpServer:
    """A waitress server for a WSGI app, run in a thread of its own and stopped in order.

    Stopping ends the requests first (workers joined), then the loop, from inside it,
    and only then closes its sockets: a worker finishing late would otherwise wake a
    loop whose trigger pipe is closed, writing into whatever file took that number.
    """

    def __init__(self, app: Any, listeners: list[socket.socket], threads: int):
        """Serving `app` on `listeners` (bound and listening) once started."""
        self._map: dict[int, Any] = {}
        self._workers = ThreadedTaskDispatcher()
        # Waitress's server: its adjustments, its trigger.
        self.waitress: Any = create_server(
            app,
            map=self._map,
            _dispatcher=self._workers,
            sockets=listeners,
            threads=threads,
            ident="procclaw",
            clear_untrusted_proxy_headers=True,
            # Keeps a connection read while its request runs: how the loop learns
            # that an event stream's client left (CLIENT_GONE).
            channel_request_lookahead=1,
            # The loop is woken by every socket and by the workers' trigger; its
            # timeout only paces the cleanup of idle connections (every 30 s), and at
            # waitress's 1 s it woke an idle daemon once a second for nothing.
            asyncore_loop_timeout=IDLE_WAKEUP,
        )
        for dispatcher in self._map.values():
            if isinstance(dispatcher, BaseWSGIServer):
                dispatcher.channel_class = HandoffChannel
        self._trigger = next(d for d in self._map.values() if isinstance(d, trigger))
        self._workers.set_thread_count(threads)
        self._loop = threading.Thread(target=self.waitress.run, name="waitress", daemon=True)

    def start(self) -> None:
        self._loop.start()

    def stop(self, end_requests: Callable[[], None], timeout: float = 5.0) -> None:
        """Stop serving: `end_requests` ends the long ones (event streams), then all stops."""
        end_requests()
        self._workers.shutdown(timeout=timeout)
        if self._loop.is_alive():
            self._trigger.pull_trigger(lambda: wasyncore.close_all(self._map, ignore_all=True))
            self._loop.join(timeout)
        else:
            wasyncore.close_all(self._map, ignore_all=True)
