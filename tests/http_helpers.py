"""Talking HTTP to a test daemon's gateway, on 127.0.0.1 and the sandbox's own port."""

from __future__ import annotations

import http.client
import json
from typing import Any, NamedTuple


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]
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
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        connection.request(method, path, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def get(port: int, path: str, **kwargs) -> Reply:
    return request(port, "GET", path, **kwargs)


def post(port: int, path: str, **kwargs) -> Reply:
    return request(port, "POST", path, **kwargs)
