"""Benchmark 1, webhook ingest: signed Slack and Jira deliveries at the hub vs a bare endpoint.

Per database: the bare FastAPI endpoint (:mod:`bench.baseline_app`) and the hub are
loaded by the same generator with the same requests (``connections`` keep-alive
connections, ``requests`` deliveries a run, ``runs`` runs; medians reported). Then the
hub takes an open-loop ``rate`` requests/s for the latency target. Afterwards every
acknowledged delivery must be a row of the inbox (counted through the store).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.storage import create_store
from app.storage.tables import inbox
from bench import loadgen
from bench.hubconfig import database, write_config
from bench.payloads import Delivery, SlackTarget, mixed_deliveries, slack_targets
from bench.procs import SandboxProcess, start_baseline, start_hub, start_sandbox

__all__ = ["IngestSizes", "run_ingest"]


@dataclass(frozen=True)
class IngestSizes:
    requests: int = 20_000
    connections: int = 64
    runs: int = 3
    warmup: int = 1_000
    rate: float = 500.0
    rate_seconds: float = 10.0


def _wire(url: str, deliveries: list[Delivery]) -> list[bytes]:
    return [loadgen.build_request(url + d.path, d.headers, d.body) for d in deliveries]


def _summary(result: loadgen.LoadResult) -> dict[str, Any]:
    return {
        "rps": round(result.rps, 1), "ok": result.ok, "sent": result.sent, "errors": result.errors,
        "non_2xx": result.sent - result.ok - result.errors, "p50_ms": round(result.percentile(50), 2),
        "p99_ms": round(result.percentile(99), 2), "statuses": dict(result.statuses),
    }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(r[key] for r in runs)), 2)


def _load_runs(url: str, make: Any, sizes: IngestSizes) -> list[dict[str, Any]]:
    loadgen.run(loadgen.closed_loop(url, _wire(url, make(sizes.warmup)), sizes.connections))
    runs = []
    for _ in range(sizes.runs):
        wire = _wire(url, make(sizes.requests))  # fresh ids and Slack timestamps for every run
        runs.append(_summary(loadgen.run(loadgen.closed_loop(url, wire, sizes.connections))))
    return runs


def _inbox_rows(database_url: str) -> int:
    store = create_store(database_url)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
    finally:
        store.close()


def _one_database(kind: str, sizes: IngestSizes, workdir: Path, targets: list[SlackTarget],
                  sandbox: SandboxProcess, issue_count: int) -> dict[str, Any]:
    def make(n: int) -> list[Delivery]:
        return mixed_deliveries(n, targets, issue_count)

    with start_baseline(workdir) as base:
        baseline = _load_runs(base.url, make, sizes)
        rate_n = int(sizes.rate * sizes.rate_seconds)
        base_rate = _summary(loadgen.run(loadgen.open_loop(
            base.url, _wire(base.url, make(rate_n)), sizes.rate, sizes.connections)))
    with database(kind, workdir) as url:
        config = write_config(workdir / f"ingest-{kind}.yaml", sandbox, url)
        with start_hub(config, workdir) as hub:
            hub_runs = _load_runs(hub.url, make, sizes)
            hub_rate = _summary(loadgen.run(loadgen.open_loop(
                hub.url, _wire(hub.url, make(rate_n)), sizes.rate, sizes.connections)))
            hub_rss = hub.peak_rss_mb()
        acknowledged = sizes.warmup + sum(r["ok"] for r in hub_runs) + hub_rate["ok"]
        stored = _inbox_rows(url)
    base_rps, hub_rps = _median(baseline, "rps"), _median(hub_runs, "rps")
    return {
        "database": kind,
        "baseline": {"runs": baseline, "median_rps": base_rps, "median_p50_ms": _median(baseline, "p50_ms"),
                     "median_p99_ms": _median(baseline, "p99_ms"), "at_rate": base_rate},
        "hub": {"runs": hub_runs, "median_rps": hub_rps, "median_p50_ms": _median(hub_runs, "p50_ms"),
                "median_p99_ms": _median(hub_runs, "p99_ms"), "at_rate": hub_rate, "peak_rss_mb": hub_rss},
        "ratio": round(hub_rps / base_rps, 3) if base_rps else None,
        "acknowledged": acknowledged,
        "inbox_rows": stored,
    }


def run_ingest(sizes: IngestSizes, workdir: Path, databases: tuple[str, ...] = ("sqlite", "postgres")
               ) -> dict[str, Any]:
    with start_sandbox(1, workdir) as sandbox:
        from app.sandbox.world import TeamWorld

        issue_count = TeamWorld(scale=1).issue_count
        # Listed once: the Slack sandbox rate-limits conversations.history (50 a minute).
        targets = slack_targets(sandbox.vendor_url("slack"))
        results = [_one_database(kind, sizes, workdir, targets, sandbox, issue_count) for kind in databases]
    return {"sizes": sizes.__dict__, "results": results}

