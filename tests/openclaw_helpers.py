"""Stand-ins for OpenClaw in tests: a fake `openclaw` executable and a fake gateway.

Both record what they were asked, and answer as the test tells them, on this machine
only (the gateway listens on 127.0.0.1, on a free port).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import zmq

from procclaw import protocol
from procclaw.bus_events import checked
from procclaw.bus_seal import seal
from procclaw.home import Home
from procclaw.wire_record import WireRecord

if TYPE_CHECKING:
    from conftest import Sandbox


def openclaw_settings(workspace: Path, alerts: str = "", gateway: str = "") -> str:
    """procclaw.yaml alerting to one WhatsApp number; `alerts` and `gateway` add lines."""
    return (
        "openclaw:\n"
        f"  workspace: {workspace}\n"
        "  alerts:\n"
        "    channels: [whatsapp]\n"
        '    targets: {whatsapp: "+15555550123"}\n'
        f"{alerts}"
        f"{gateway}"
    )


def alerter_status(sandbox: Sandbox) -> dict:
    return sandbox.client().call_endpoint("alerter", "status")


def today_memory(workspace: Path) -> Path:
    return workspace / "memory" / f"{datetime.now():%Y-%m-%d}.md"


_FAKE_CLI = """\
#!{python}
# A fake `openclaw`: records its argv, then exits with the status in exit-status.
import json, pathlib, sys
here = pathlib.Path(__file__).parent
with open(here / "calls.jsonl", "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
status = here / "exit-status"
code = int(status.read_text()) if status.exists() else 0
if code:
    print("fake openclaw: channel not linked", file=sys.stderr)
sys.exit(code)
"""


class FakeOpenClawCli:
    """An `openclaw` executable in `bin_dir`; put bin_dir first on PATH."""

    def __init__(self, bin_dir: Path):
        bin_dir.mkdir(parents=True, exist_ok=True)
        self.bin_dir = bin_dir
        self.path = bin_dir / "openclaw"
        self.path.write_text(_FAKE_CLI.format(python=sys.executable))
        self.path.chmod(0o755)

    def exit_with(self, status: int) -> None:
        (self.bin_dir / "exit-status").write_text(str(status))

    def calls(self) -> list[list[str]]:
        log = self.bin_dir / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def messages(self) -> list[str]:
        return [argv[argv.index("--message") + 1] for argv in self.calls()]


class FakeGateway:
    """`/tools/invoke` and `/hooks/wake` on 127.0.0.1: checks the bearer tokens, records
    each request, and answers with `statuses` in turn (then 200 for ever)."""

    def __init__(
        self, token: str, statuses: list[int] | None = None, hooks_token: str | None = None
    ):
        self.token = token
        self.hooks_token = hooks_token or token  # OpenClaw's hooks.token, for /hooks/wake
        self.statuses = list(statuses or [])
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                status = gateway._answer(self.path, self.headers.get("Authorization"), body)
                reply: dict = {"ok": status == 200}
                if status == 500:  # as the real gateway says why a tool failed
                    reply["error"] = {"message": "message tool failed: channel not linked"}
                payload = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _answer(self, path: str, authorization: str | None, body) -> int:
        with self._lock:
            self.requests.append({"path": path, "authorization": authorization, "body": body})
            expected = self.hooks_token if path == "/hooks/wake" else self.token
            if authorization != f"Bearer {expected}":
                return 401
            if path not in ("/tools/invoke", "/hooks/wake"):
                return 404
            return self.statuses.pop(0) if self.statuses else 200

    def sent(self, path: str = "/tools/invoke") -> list[dict]:
        with self._lock:
            return [request for request in self.requests if request["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class BusPublisher:
    """Publishes events on a daemon's bus as an actor would (for events whose
    publishers are not part of this test: health checks, the scheduler), sealed with
    the key the daemon was given (bus_seal.KEY_VARIABLE)."""

    def __init__(self, home: Home, key: str):
        self._key = bytes.fromhex(key)
        self._context = zmq.Context.instance()
        self._socket = self._context.socket(zmq.PUSH)
        self._socket.setsockopt(zmq.LINGER, 1000)
        self._socket.connect(home.endpoint("bus-in"))
        self._events = protocol.EventSource("test")

    def publish(self, topic: str, record: WireRecord) -> None:
        self._socket.send_multipart(
            seal(self._key, self._events.frames(topic, checked(topic, record)))
        )

    def publish_raw(self, topic: str, data: dict) -> None:
        """Data in no shape of ours, as a stranger on the bus might send."""
        self._socket.send_multipart(seal(self._key, self._events.frames(topic, data)))

    def close(self) -> None:
        self._socket.close()
