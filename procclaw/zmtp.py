"""One request to a ZeroMQ ROUTER on a unix socket, and its answer, without libzmq.

The daemon's command endpoints are ROUTER sockets. Every `procclaw` command makes one
or two requests and exits; loading pyzmq and libzmq for that costs each command about
20 ms, a third of `procclaw status`. So the client speaks the part of ZMTP 3.0
(https://rfc.zeromq.org/spec/23/) that a DEALER needs for one exchange: the greeting,
the NULL mechanism's READY, and one-part messages. Subscriptions to the bus, and the
actors' own sockets, still use pyzmq.
"""

from __future__ import annotations

import socket
import struct
import time

# Signature (0xFF, 8 bytes of padding ending in 1, 0x7F), version 3.0, mechanism NULL,
# as-server 0, filler: RFC 23's 64 octets.
_GREETING = b"\xff" + bytes(7) + b"\x01\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + bytes(32)
_MORE, _LONG, _COMMAND = 0x01, 0x02, 0x04
# How long to wait before connecting again to an endpoint that is not there yet (an
# actor being replaced binds it anew), as libzmq's own reconnect does.
RECONNECT_INTERVAL = 0.02


class ZmtpError(Exception):
    """The peer does not speak ZMTP 3 as a ROUTER with no security."""


class PeerGone(Exception):
    """The peer closed the connection before it answered."""


def exchange(path: str, body: bytes, deadline: float, max_reply: int) -> bytes | None:
    """Send `body` as one message to the ROUTER listening on unix socket `path`, and
    return its answer; None if `deadline` (of `time.monotonic`) passes first.

    An endpoint that is missing, refuses connections, or hangs up before its greeting
    (an actor killed just then, whose successor binds the endpoint anew) is tried again
    until the deadline, as libzmq would: nothing was sent to it yet. The request itself
    is never sent twice: a peer that hangs up after it raises PeerGone. ZmtpError: the
    peer breaks the protocol, or answers with more than `max_reply` bytes.
    """
    try:
        connection = _greeted(path, deadline)
    except TimeoutError:
        return None
    try:
        connection.send(body)
        return connection.receive(max_reply)
    except TimeoutError:
        return None
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise PeerGone(str(exc)) from None
    finally:
        connection.close()


# Why a connection attempt may be made again: the peer was not there (yet), or went
# away before the handshake was over.
_TRY_AGAIN = (
    FileNotFoundError,
    ConnectionRefusedError,
    BlockingIOError,
    ConnectionResetError,
    BrokenPipeError,
    PeerGone,
)


def _greeted(path: str, deadline: float) -> _Connection:
    """A connection to `path` past the handshake; TimeoutError at the deadline."""
    while True:
        connection = _Connection(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), deadline)
        try:
            connection.connect(path)
            connection.handshake()
            return connection
        except _TRY_AGAIN:
            connection.close()
        except BaseException:
            connection.close()
            raise
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        time.sleep(min(RECONNECT_INTERVAL, left))


class _Connection:
    """One connected stream, every read and write bounded by the same deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock = sock
        self._deadline = deadline

    def connect(self, path: str) -> None:
        self._sock.settimeout(self._left())  # a full listen backlog does not hold us up
        self._sock.connect(path)

    def close(self) -> None:
        self._sock.close()

    def handshake(self) -> None:
        self._write(_GREETING)
        greeting = self._read(64)
        if greeting[0] != 0xFF or not greeting[9] & 1 or greeting[10] < 3:
            raise ZmtpError("not a ZMTP 3 peer")
        mechanism = greeting[12:32].rstrip(b"\0").decode(errors="replace")
        if mechanism != "NULL":
            raise ZmtpError(f"security mechanism {mechanism}, not NULL")
        try:
            self._write(_frame(_COMMAND, _ready_command()))
        except (BrokenPipeError, ConnectionResetError):
            pass  # it may have said why before it hung up: read on
        flags, command = self._read_frame(max_size=1 << 16)
        name = command[1 : 1 + command[0]] if command else b""
        if name == b"ERROR":  # its reason: one byte of length, then the text
            reason = command[7 : 7 + command[6]].decode(errors="replace") if command[6:] else ""
            raise ZmtpError(f"handshake refused: {reason}")
        if not flags & _COMMAND or name != b"READY":
            raise ZmtpError(f"handshake: {name!r} where READY was due")

    def send(self, body: bytes) -> None:
        self._write(_frame(0, body))

    def receive(self, max_size: int) -> bytes:
        """The first part of the next message (a ROUTER's answer to a DEALER has one);
        commands (ZMTP 3.1's heartbeats) are skipped."""
        first: bytes | None = None
        while True:
            flags, data = self._read_frame(max_size)
            if flags & _COMMAND:
                continue
            first = data if first is None else first
            if not flags & _MORE:
                return first

    def _read_frame(self, max_size: int) -> tuple[int, bytes]:
        flags = self._read(1)[0]
        if flags & _LONG:
            (size,) = struct.unpack(">Q", self._read(8))
        else:
            size = self._read(1)[0]
        if size > max_size:
            raise ZmtpError(f"message too large ({size} bytes)")
        return flags, self._read(size)

    def _read(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            self._sock.settimeout(self._left())
            chunk = self._sock.recv(count - len(data))
            if not chunk:
                raise PeerGone("connection closed")
            data += chunk
        return bytes(data)

    def _write(self, data: bytes) -> None:
        self._sock.settimeout(self._left())
        self._sock.sendall(data)

    def _left(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left


def _ready_command() -> bytes:
    """READY with the properties libzmq checks: a DEALER, with no routing id of its own."""
    return b"\x05READY" + _property(b"Socket-Type", b"DEALER") + _property(b"Identity", b"")


def _property(name: bytes, value: bytes) -> bytes:
    return bytes([len(name)]) + name + struct.pack(">I", len(value)) + value


def _frame(flags: int, body: bytes) -> bytes:
    if len(body) > 255:
        return bytes([flags | _LONG]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body
