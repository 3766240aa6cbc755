"""The REST API: a Falcon app that the gateway actor serves with waitress.

Thin by design: each resource turns a request into one protocol command, sends it
through `procclaw.client.Client` (as the CLI does, with caller "api"), and renders the
reply as JSON. Nothing here knows how a job is supervised.
"""
