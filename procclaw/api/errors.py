"""Errors as the API returns them: `{"error": {"code": ..., "message": ...}}`.

Falcon's own errors (an unknown route, a method not allowed) get the same shape, and so
do the server's (a request too large to parse: actors/gateway/http_server.py), so a client
parses one format whatever went wrong.
"""

from __future__ import annotations

import json

import falcon

from procclaw.client import ClientError
from procclaw.protocol import ErrorCode

# How each protocol error code reads over HTTP.
_STATUS_OF_CODE = {
    ErrorCode.NO_SUCH_JOB: falcon.HTTP_404,
    ErrorCode.CONFLICT: falcon.HTTP_409,
    ErrorCode.PAUSED: falcon.HTTP_409,
    ErrorCode.BAD_REQUEST: falcon.HTTP_400,
    ErrorCode.INVALID_CONFIG: falcon.HTTP_400,
    ErrorCode.UNAVAILABLE: falcon.HTTP_503,
}


def api_error(
    status: str, code: str, message: str, headers: dict | None = None
) -> falcon.HTTPError:
    return falcon.HTTPError(status, title=code, description=message, headers=headers)


def bad_request(message: str) -> falcon.HTTPError:
    return api_error(falcon.HTTP_400, ErrorCode.BAD_REQUEST, message)


def from_client_error(exc: ClientError) -> falcon.HTTPError:
    """The HTTP error for a failed daemon call; a daemon that does not answer is a 503."""
    status = _STATUS_OF_CODE.get(exc.code, falcon.HTTP_500)
    return api_error(status, exc.code, exc.message)


def serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Every error body in our shape, whatever raised it."""
    code = error.title if error.title and " " not in error.title else code_of(error.status)
    message = error.description or error.title or str(error.status)
    resp.content_type = falcon.MEDIA_JSON
    resp.text = error_json(code, message)


def error_json(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


def code_of(status: str | int) -> str:
    """`405 Method Not Allowed` -> `method_not_allowed`."""
    reason = str(status).partition(" ")[2] or str(status)
    return reason.lower().replace(" ", "_").replace("-", "_")
