"""Talking HTTP to a test daemon's gateway, on 127.0.0.1 and the sandbox's own port."""

from __future__ import annotations

import http.client
import json
from typing import Any, NamedTuple


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 15.0,
    body: Any = None,
) -> Reply:
    """One request; `body` is sent as it is if text or bytes (a form), else as JSON."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = body
        if body is not None and not isinstance(body, str | bytes):
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, headers, response.read())
    finally:
        connection.close()


def get(port: int, path: str, **kwargs) -> Reply:
    return request(port, "GET", path, **kwargs)


def post(port: int, path: str, **kwargs) -> Reply:
    return request(port, "POST", path, **kwargs)


class EventStream:
    """An open `/api/v1/events` response, read one Server-Sent Event at a time."""

    def __init__(
        self,
        port: int,
        path: str,
        token: str | None = None,
        timeout: float = 20.0,
        headers: dict[str, str] | None = None,
    ):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()

    def next_block(self) -> list[str]:
        """The lines of the next event or comment, up to its blank line."""
        lines = []
        while True:
            line = self.response.readline().decode()
            if not line:
                raise EOFError("the event stream ended")
            if line == "\n":
                return lines
            lines.append(line.rstrip("\n"))

    def next_event(self) -> dict[str, Any]:
        """The next event (comments skipped) as {"id", "event", "data"}."""
        while True:
            fields = dict(
                line.split(": ", 1) for line in self.next_block() if not line.startswith(":")
            )
            if fields:
                return {**fields, "data": json.loads(fields["data"])}

    def close(self) -> None:
        self.response.close()  # it holds the socket, whatever the connection says
        self.connection.close()
