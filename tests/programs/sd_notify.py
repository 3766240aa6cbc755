"""notify(): what sd_notify(3) does, in a few lines, for the test programs."""

import os
import socket


def notify(message: str) -> None:
    """Send `message` to NOTIFY_SOCKET; do nothing when the job has none."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):  # the abstract namespace, as sd_notify(3) reads it
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)
