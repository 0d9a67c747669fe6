"""``GET /metrics`` in Prometheus' text format (prometheus_client), read from
the database at scrape time (a few thousand rows, not the events): every
instance behind a balancer answers the same, and a restart loses nothing.
Nothing here is about a person.

    ashyq_kiosks{state="offline"} 3.0
    ashyq_decisions_total{decision="admit"} 120453.0
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..health import STATES
from ..protocol import token_matches
from ..storage.base import utc_now


class FleetCollector:
    """A prometheus_client collector that asks storage on each scrape."""

    def __init__(self, storage, settings):
        self.storage, self.settings = storage, settings

    def describe(self):
        return []  # do not query the database when registering

    def collect(self):
        census = self.storage.fleet_census(now=utc_now(), interval=self.settings.heartbeat_interval,
                                           min_version=self.settings.min_version)
        kiosks = GaugeMetricFamily("ashyq_kiosks", "Kiosks by state (offline: no heartbeat for "
                                   "3 intervals)", labels=["state"])
        for state in STATES:
            kiosks.add_metric([state], census[state])
        yield kiosks
        yield GaugeMetricFamily("ashyq_kiosks_with_problems", "Online kiosks whose last heartbeat "
                                "reports a problem", value=census["troubled"])
        yield GaugeMetricFamily("ashyq_kiosk_backlog", "Decisions waiting on kiosks, summed over "
                                "their last heartbeats", value=census["backlog"])
        decisions = CounterMetricFamily("ashyq_decisions", "Events ingested, by decision (kept "
                                        "past retention)", labels=["decision"])
        for decision, n in self.storage.decision_totals().items():
            decisions.add_metric([decision or "none"], n)
        yield decisions


def metrics_endpoint(storage, settings):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(storage, settings))

    async def metrics(request: Request) -> Response:
        if settings.metrics_token_hash and not token_matches(request.headers.get("authorization"),
                                                             settings.metrics_token_hash):
            return JSONResponse({"error": "no token, or not the metrics token"}, 401)
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
    return metrics
