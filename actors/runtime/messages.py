"""The protocol messages and events waiting on a socket, decoded; garbage is skipped.

Anyone on this machine who can reach a socket may write to it, so a message that does
not decode is dropped here rather than crashing the actor that reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import zmq

from actors.runtime.loop import pending
from procclaw import protocol


def pending_messages(sock: zmq.Socket) -> Iterator[dict[str, Any]]:
    """Every message (a request, a report) already waiting on `sock`, without blocking."""
    return _decoded(sock, protocol.MAX_MESSAGE_BYTES)


def pending_replies(sock: zmq.Socket) -> Iterator[dict[str, Any]]:
    """Every reply already waiting on `sock`, without blocking: a reply may be larger
    than a request (protocol.MAX_REPLY_BYTES)."""
    return _decoded(sock, protocol.MAX_REPLY_BYTES)


def _decoded(sock: zmq.Socket, max_bytes: int) -> Iterator[dict[str, Any]]:
    for data in pending(sock):
        try:
            yield protocol.decode(data, max_bytes)
        except protocol.ProtocolError:
            continue


def pending_events(sock: zmq.Socket) -> Iterator[protocol.Event]:
    """Every bus event already waiting on the SUB socket `sock`, without blocking."""
    for frames in pending(sock, multipart=True):
        try:
            yield protocol.parse_event(frames)
        except protocol.ProtocolError:
            continue
