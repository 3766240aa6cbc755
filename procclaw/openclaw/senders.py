"""Sending one message to one chat: through the `openclaw` CLI, or the gateway's HTTP API.

Both block for at most their timeout, so the alerter calls them off its event loop.
A failure is a `SendError` that says whether trying again could help: a refused token
will be refused again, a gateway that is restarting may answer next time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from typing import TYPE_CHECKING, Any, Protocol

from procclaw.home import Home
from procclaw.secrets import SecretError, SecretNotFound, resolve_text

if TYPE_CHECKING:
    import urllib.error

CLI_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0
TOKEN_VARIABLE = "OPENCLAW_GATEWAY_TOKEN"
_GATEWAY_TOKEN_SETTING = "openclaw.gateway.token"


class SendError(Exception):
    """A message was not delivered; `retryable` is False when retrying cannot help."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Sender(Protocol):
    transport: str

    def send(self, channel: str, target: str, text: str) -> None: ...


class CliSender:
    """`openclaw message send --channel C --target T --message M`."""

    transport = "cli"

    def __init__(self, executable: str, timeout: float = CLI_TIMEOUT):
        self.executable = executable
        self.timeout = timeout

    def send(self, channel: str, target: str, text: str) -> None:
        argv = [self.executable, "message", "send", "--channel", channel, "--target", target]
        try:
            # A session of its own: `openclaw message send` re-runs itself as a child,
            # and a timeout or our shutdown must end both.
            process = subprocess.Popen(
                [*argv, "--message", text],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise SendError(f"cannot run {self.executable}: {exc.strerror or exc}") from None
        with _LIVE_LOCK:
            _LIVE.add(process.pid)
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)  # before the leader is reaped: its pid is still ours
            process.communicate()
            raise SendError(f"openclaw did not finish within {self.timeout:g} s") from None
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(process.pid)
        if process.returncode != 0:
            said = (err.strip() or out.strip()).splitlines()
            detail = f": {said[-1]}" if said else ""
            raise SendError(f"openclaw exited with status {process.returncode}{detail}")


# The process groups of the `openclaw` senders under way, for `stop_senders`.
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()


def stop_senders() -> None:
    """End every `openclaw` sender under way, children included: the alerter is exiting.

    A sender that ends meanwhile leaves the set when its leader is reaped; its group id
    could be another's only after the kernel's pids wrapped around in that instant."""
    with _LIVE_LOCK:
        groups = list(_LIVE)
    for group in groups:
        _kill_group(group)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone


class HttpSender:
    """`POST <gateway>/tools/invoke` with the message tool, and `POST /hooks/wake`."""

    transport = "http"

    def __init__(self, url: str, token: str | None, timeout: float = HTTP_TIMEOUT):
        self.url = url
        self.token = token
        self.timeout = timeout
        # Imported here: urllib brings http.client, email and ssl, and only a daemon
        # that alerts through the gateway needs them.
        import urllib.request

        # A proxy from the environment must not see the token or the messages.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, channel: str, target: str, text: str) -> None:
        args = {"action": "send", "channel": channel, "target": target, "message": text}
        reply = self._post("/tools/invoke", {"tool": "message", "args": args})
        if isinstance(reply, dict) and reply.get("ok") is False:
            error = reply.get("error")
            message = error.get("message") if isinstance(error, dict) else error
            raise SendError(f"the gateway could not send it: {message or 'no reason given'}")

    def wake(self, text: str) -> None:
        """Wake the agent now, with `text` as what it wakes up to. This sender's token
        must be OpenClaw's hooks token, not the gateway's."""
        self._post("/hooks/wake", {"text": text, "mode": "now"}, "openclaw.gateway.hooks_token")

    def _post(
        self, path: str, body: dict[str, Any], token_setting: str = _GATEWAY_TOKEN_SETTING
    ) -> Any:
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.url + path, json.dumps(body).encode(), headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(self.url + path, exc.code, _said(exc), token_setting) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendError(f"gateway not reachable at {self.url}: {reason}") from None
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None  # delivered; the gateway just did not answer in JSON


def _said(reply: urllib.error.HTTPError) -> str | None:
    """The gateway's own `error.message` in an error reply, if it gave one."""
    try:
        body = json.loads(reply.read(65536) or b"null")
    except (OSError, ValueError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:300] if message else None


def _http_error(url: str, status: int, said: str | None, token_setting: str) -> SendError:
    if status in (401, 403):
        also = f" or {TOKEN_VARIABLE}" if token_setting == _GATEWAY_TOKEN_SETTING else ""
        return SendError(
            f"gateway refused the token ({status} from {url}): set {token_setting}{also}",
            retryable=False,
        )
    if status == 404:
        return SendError(f"gateway has no {url} (404): is openclaw.gateway.url right?", False)
    return SendError(f"gateway answered {status} from {url}" + (f": {said}" if said else ""))


def gateway_token(home: Home, configured: str | None) -> str | None:
    """The configured token (with `${secret:NAME}` resolved), else OPENCLAW_GATEWAY_TOKEN."""
    if configured is None:
        return os.environ.get(TOKEN_VARIABLE) or None
    try:
        return resolve_text(home, configured)
    except SecretError as exc:
        retryable = not isinstance(exc, SecretNotFound)  # a keyring may just be slow
        raise SendError(f"openclaw.gateway.token: {exc}", retryable) from None


def current_transport() -> str:
    """How the next alert travels: `cli` when `openclaw` is on PATH, else `http`."""
    return "cli" if shutil.which("openclaw") else "http"


def choose_sender(home: Home, url: str, token: str | None) -> Sender:
    """The `openclaw` CLI when it is on PATH, else the gateway over HTTP."""
    executable = shutil.which("openclaw")
    if executable:
        return CliSender(executable)
    return HttpSender(url, gateway_token(home, token))
