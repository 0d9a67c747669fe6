"""``GET /metrics`` in Prometheus' text format (prometheus_client), read from
the database at scrape time: every instance behind a balancer answers the
same, and a restart loses nothing. Nothing here is about a person.

    ashyq_kiosks{state="offline"} 3.0
    ashyq_decisions_total{decision="admit"} 120453.0
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..storage.base import utc_now
from .views import fleet_rows, state_totals


class FleetCollector:
    """A prometheus_client collector that asks storage on each scrape."""

    def __init__(self, storage, settings):
        self.storage, self.settings = storage, settings

    def describe(self):
        return []  # do not query the database when registering

    def collect(self):
        rows = fleet_rows(self.storage.kiosks(), utc_now(), self.settings.heartbeat_interval,
                          self.settings.min_version)
        kiosks = GaugeMetricFamily("ashyq_kiosks", "Kiosks by state (offline: no heartbeat for "
                                   "3 intervals)", labels=["state"])
        for state, n in state_totals(rows).items():
            kiosks.add_metric([state], n)
        yield kiosks
        yield GaugeMetricFamily("ashyq_kiosks_with_problems", "Kiosks whose last heartbeat reports "
                                "a problem", value=sum(1 for r in rows if r["problems"]))
        yield GaugeMetricFamily("ashyq_kiosk_backlog", "Decisions waiting on kiosks, summed over "
                                "their last heartbeats", value=sum(r["backlog"] or 0 for r in rows
                                                                  if isinstance(r["backlog"], int)))
        totals = self.storage.totals()
        decisions = CounterMetricFamily("ashyq_decisions", "Events ingested, by decision (kept "
                                        "past retention)", labels=["decision"])
        for decision, n in sorted(totals["decisions"].items()):
            decisions.add_metric([decision or "none"], n)
        yield decisions
        yield GaugeMetricFamily("ashyq_heartbeats_stored", "Heartbeats kept in the history "
                                "(retention purges them)", value=totals["heartbeats"])


def metrics_endpoint(storage, settings):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(storage, settings))

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
    return metrics
