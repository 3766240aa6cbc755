"""`/api/v1/openapi.json`: the OpenAPI 3 description of every route the app serves.

A test holds this to the app's routes, both ways: every route is here, and nothing
else is.
"""

from __future__ import annotations

from typing import Any

import falcon

from procclaw import __version__

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_JSON = {"application/json": {"schema": {"type": "object"}}}
_ERRORS = {
    "400": "Bad parameters",
    "401": "Missing or wrong token",
    "403": "Host header not this API's address",
    "404": "No such job",
    "409": "Not allowed in the job's current state, or an id taken (`conflict`), or"
    " paused (`paused`)",
    "503": "The daemon is not answering",
}
_STRING = {"type": "string"}
_HTML = {"text/html": {"schema": _STRING}}
_EVENT_STREAM = {"text/event-stream": {"schema": _STRING}}
_JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_TAG = {"name": "tag", "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _operation(
    summary: str,
    *,
    parameters: list | None = None,
    content: dict | None = None,
    open_=False,
    body: str | None = None,
    status: str = "200",
) -> dict[str, Any]:
    responses: dict[str, Any] = {status: {"description": "OK", "content": content or _JSON}}
    for status, description in _ERRORS.items():
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "description": body, "content": _JSON}
    if parameters:
        operation["parameters"] = parameters
    if open_:
        operation["security"] = []
    return operation


def _job_action(verb: str, parameters: list | None = None) -> dict[str, Any]:
    return {"post": _operation(f"{verb} the job", parameters=[_JOB_ID, *(parameters or [])])}


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "ProcClaw", "version": __version__},
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR},
    },
    "paths": {
        "/health": {
            "get": _operation("Whether the daemon answers", open_=True),
            "head": _operation("Whether the daemon answers, without a body", open_=True),
        },
        "/metrics": {
            "get": _operation(
                "Prometheus metrics (open when api.auth.metrics is false)",
                content={"text/plain": {"schema": {"type": "string"}}},
            )
        },
        "/api/v1/jobs": {
            "get": _operation(
                "List the jobs",
                parameters=[
                    _query("status", {"type": "string"}, "only jobs in this state"),
                    _query("tag", {"type": "string"}, "only jobs with this tag"),
                ],
            ),
            "post": _operation(
                "Add a job (written to jobs.d/<id>.yaml) and apply it as a reload would",
                body='the job: its "id" and its keys as in jobs.yaml ("cmd", "type", ...)',
                status="201",
            ),
        },
        "/api/v1/jobs/{id}": {
            "get": _operation("One job in detail", parameters=[_JOB_ID]),
            "patch": _operation(
                "Enable or disable the job (disabled: stopped, not started by itself)",
                parameters=[_JOB_ID],
                body='{"enabled": true} or {"enabled": false}',
            ),
            "delete": _operation(
                "Remove a job added with POST or `procclaw add`, stopping it",
                parameters=[_JOB_ID],
            ),
        },
        "/api/v1/jobs/{id}/start": _job_action("Start"),
        "/api/v1/jobs/{id}/stop": _job_action(
            "Stop", [_query("force", {"type": "boolean"}, "SIGKILL at once, no grace period")]
        ),
        "/api/v1/jobs/{id}/restart": _job_action("Restart"),
        # Pause holds a job down until resume: stopped if it runs (a scheduled run under
        # way finishes), and not started by daemon start, reload or start (409 paused).
        "/api/v1/jobs/{id}/pause": _job_action("Pause"),
        "/api/v1/jobs/{id}/resume": _job_action("Resume"),
        "/api/v1/jobs/{id}/logs": {
            "get": _operation(
                "The last lines of the job's output, secrets masked",
                parameters=[
                    _JOB_ID,
                    _query("lines", {"type": "integer", "minimum": 0}, "how many (100)"),
                    _query("stream", {"type": "string", "enum": ["stdout", "stderr"]}, "which log"),
                ],
            )
        },
        "/api/v1/jobs/{id}/runs": {
            "get": _operation(
                "The job's past runs, the latest first: start, duration, result, exit code"
                " or signal, and how each was started (cause)",
                parameters=[
                    _JOB_ID,
                    _query("limit", {"type": "integer", "minimum": 1}, "how many (10)"),
                ],
            )
        },
        "/api/v1/events": {
            "get": _operation(
                "Server-Sent Events from the event bus",
                parameters=[
                    _query("job", {"type": "string"}, "only this job's events (repeatable)"),
                    _query("type", {"type": "string"}, "only these event types (repeatable)"),
                    _query(
                        "names",
                        {"type": "boolean"},
                        "false: no `event:` line, so EventSource gets each as a message",
                    ),
                ],
                content=_EVENT_STREAM,
            )
        },
        **{
            f"/api/v1/tags/{{tag}}/{action}": {
                "post": _operation(
                    f"{action.capitalize()} every job carrying the tag (404: no job carries it)",
                    parameters=[_TAG],
                )
            }
            for action in ("start", "stop", "restart")
        },
        "/api/v1/reload": {"post": _operation("Re-read and apply the config files")},
        "/api/v1/openapi.json": {"get": _operation("This document")},
        "/api/v1/daemon": {"get": _operation("The daemon and its actors, with their restarts")},
        "/api/v1/jobs/{id}/logs/stream": {
            "get": _operation(
                "The job's stdout and stderr, followed: Server-Sent Events of"
                ' {"stream", "line"}, secrets masked',
                parameters=[
                    _JOB_ID,
                    _query("lines", {"type": "integer", "minimum": 0}, "backlog of each (100)"),
                ],
                content=_EVENT_STREAM,
            )
        },
        # The web dashboard (procclaw/api/dashboard.py): a browser's, with a session cookie.
        "/": {"get": _operation("The dashboard: jobs, events, actors", content=_HTML)},
        "/jobs/{id}": {
            "get": _operation(
                "The dashboard's page of one job", parameters=[_JOB_ID], content=_HTML
            )
        },
        "/static/{name}": {
            "get": _operation(
                "The dashboard's CSS and scripts",
                parameters=[{"name": "name", "in": "path", "required": True, "schema": _STRING}],
                content={"text/css": {"schema": _STRING}, "text/javascript": {"schema": _STRING}},
                open_=True,
            )
        },
        "/login": {
            "get": _operation("The dashboard's login form", content=_HTML, open_=True),
            "post": _operation(
                "Trade the token (form field `token`) for a session cookie; 303 to /",
                content=_HTML,
                open_=True,
            ),
        },
        "/logout": {"post": _operation("End the browser's session (needs X-CSRF-Token)")},
    },
}


class OpenApi:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The spec, its server being the address this request came to."""
        resp.media = {**SPEC, "servers": [{"url": req.prefix}]}
