"""The gateway: the REST API, `/metrics` and the event stream over HTTP.

Owns: the HTTP listener on `daemon.host:daemon.port` and its bearer token.
Binds: no ZeroMQ socket; it is a client of the controller and the bus like the CLI.
Publishes: nothing.

- actor.py: the process
- http_server.py: the waitress server and its orderly stop
"""
