"""Prometheus metrics at ``/metrics`` (bearer token, like ``/api``), one registry per app.

Counted as they happen: webhook deliveries by vendor and result. Read from the store
at scrape time: records per connector, inbox depth, and every run finished since the
process started scraping (runs by pair and status, and the sync duration histogram),
so runs made by the scheduler, the CLI or another instance are all counted once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.api.deps import AdminDep
from app.hub import Hub

__all__ = ["HubMetrics", "metrics_of", "router"]

_RUN_WINDOW = 500
"""Runs read per scrape: more than finish between two scrapes."""
_INBOX_CAP = 1000


class _StoreCollector(Collector):
    def __init__(self, metrics: HubMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        hub = self._metrics.hub
        if hub is None or hub.store is None:
            return []
        store = hub.store
        records = GaugeMetricFamily("passerelle_records", "Live records in the hub", labels=["connector"])
        for name in hub.settings.connectors:
            records.add_metric([name], store.count_records(connector=name))
        inbox = GaugeMetricFamily(
            "passerelle_inbox_items", "Webhook deliveries in the inbox", labels=["status"]
        )
        for status in ("pending", "dead"):
            inbox.add_metric([status], len(store.inbox_list(status=status, limit=_INBOX_CAP)))
        return [records, inbox]


class HubMetrics:
    """The app's metrics; ``hub`` is attached once the lifespan opened it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.hub: Hub | None = None
        self.webhook_deliveries = Counter(
            "passerelle_webhook_deliveries",
            "Webhook deliveries received",
            ["vendor", "result"],
            registry=self.registry,
        )
        self.runs = Counter(
            "passerelle_runs", "Sync runs finished", ["pair", "status"], registry=self.registry
        )
        self.sync_duration = Histogram(
            "passerelle_sync_duration_seconds",
            "Duration of finished sync runs",
            ["pair"],
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=self.registry,
        )
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.registry.register(_StoreCollector(self))

    def scrape(self) -> bytes:
        """The exposition text; blocking (store reads): call from a worker thread."""
        self.observe_runs()  # before rendering: the run counters are rendered first
        return generate_latest(self.registry)

    def observe_runs(self) -> None:
        if self.hub is None or self.hub.store is None:
            return
        finished = [r for r in self.hub.store.list_runs(limit=_RUN_WINDOW) if r.finished_at is not None]
        with self._lock:
            for run in reversed(finished):
                if run.run_id in self._seen:
                    continue
                self._seen.add(run.run_id)
                self.runs.labels(run.pair_id, run.status.value).inc()
                if run.duration_s is not None:
                    self.sync_duration.labels(run.pair_id).observe(run.duration_s)
            if len(self._seen) > 4 * _RUN_WINDOW:  # forget the oldest ids: they left the window for good
                keep = {r.run_id for r in finished}
                self._seen &= keep


def metrics_of(request: Request) -> HubMetrics:
    """The app's metrics, made on first use (an ``async`` caller: no race on the event loop)."""
    state = request.app.state
    metrics: HubMetrics | None = getattr(state, "metrics", None)
    if metrics is None:
        metrics = HubMetrics()
        state.metrics = metrics
    if metrics.hub is None:
        metrics.hub = getattr(state, "hub", None)
    return metrics


router = APIRouter(tags=["metrics"], dependencies=[AdminDep])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (scrape with ``authorization: {credentials: <admin token>}``)."""
    hub_metrics = metrics_of(request)
    body = await anyio.to_thread.run_sync(hub_metrics.scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
