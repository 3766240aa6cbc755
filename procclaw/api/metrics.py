"""`/metrics`: Prometheus metrics, asked of the daemon at scrape time
(procclaw/api/metric_families.py says which).

prometheus_client is imported at the first scrape: a daemon that nobody scrapes does
not carry it in its gateway (about 1.5 MiB).
"""

from __future__ import annotations

from typing import Any

import falcon

from procclaw.client import Client


class Metrics:
    def __init__(self, client: Client):
        self.client = client
        self._registry: Any = None  # prometheus_client's, built at the first scrape

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from procclaw.api import metric_families

        if self._registry is None:
            self._registry = metric_families.daemon_registry(self.client)
        resp.content_type, resp.data = metric_families.exposition(self._registry)
