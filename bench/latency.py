"""Benchmark 4, webhook to record: from a change in the sandbox to the hub's record of it.

The Jira sandbox sends a signed admin webhook to the hub for every edit. Edits of
distinct issues start on a fixed schedule (``rate`` per second, open loop); an edit's
time is the ``updated`` the sandbox stamped on it, its arrival the ``fetched_at`` of the
hub's record once that record shows the edit (``updated_at_source`` equal to it).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from app.storage.tables import records
from bench.hubconfig import database, write_config
from bench.payloads import JIRA_WEBHOOK_SECRET
from bench.procs import SandboxProcess, start_hub, start_sandbox

__all__ = ["LatencySizes", "run_latency"]


@dataclass(frozen=True)
class LatencySizes:
    rate: float = 100.0
    seconds: float = 10.0
    runs: int = 3
    settle_s: float = 60.0


async def _edit_on_schedule(jira_url: str, numbers: list[int], rate: float, tag: str) -> dict[str, int]:
    """Edit ``CHK-<n>`` for each n at ``i / rate`` s; returns issue id -> the edit's ``updated`` (ms)."""
    stamps: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=jira_url, timeout=30) as client:

        async def edit(n: int) -> None:
            answer = await client.patch(f"/_sandbox/issues/CHK-{n}",
                                        json={"fields": {"summary": f"latency {tag} {n}"}})
            answer.raise_for_status()
            data = answer.json()
            stamps[str(data["id"])] = int(data["updated"])

        started = time.perf_counter()
        tasks = []
        for i, n in enumerate(numbers):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(edit(n)))
        await asyncio.gather(*tasks)
    return stamps


def _arrivals(database_url: str, stamps: dict[str, int], settle_s: float) -> dict[str, float]:
    """Issue id -> seconds from the edit to the hub's record of it (waits up to ``settle_s``)."""
    engine = create_engine(database_url)
    found: dict[str, float] = {}
    deadline = time.monotonic() + settle_s
    try:
        while len(found) < len(stamps) and time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(records.c.external_id, records.c.updated_at_source, records.c.fetched_at)
                    .where(records.c.connector == "jira", records.c.external_id.in_(list(stamps)))
                ).all()
            for external_id, updated, fetched in rows:
                if external_id in found or updated is None:
                    continue
                updated_ms = int(_utc(updated).timestamp() * 1000)
                if updated_ms >= stamps[external_id]:
                    found[external_id] = _utc(fetched).timestamp() - stamps[external_id] / 1000
            if len(found) < len(stamps):
                time.sleep(0.25)
    finally:
        engine.dispose()
    return found


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _register(sandbox: SandboxProcess, hub_url: str) -> None:
    httpx.post(f"{sandbox.vendor_url('jira')}/_sandbox/webhooks", timeout=30, json={
        "url": f"{hub_url}/webhooks/jira", "events": ["jira:issue_updated"], "secret": JIRA_WEBHOOK_SECRET,
    }).raise_for_status()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]  # nearest rank


def run_latency(sizes: LatencySizes, workdir: Path) -> dict[str, Any]:
    per_run = int(sizes.rate * sizes.seconds)
    scale = max(1, -(-per_run * sizes.runs // 40))  # distinct issues for every edit of every run
    runs: list[dict[str, Any]] = []
    with start_sandbox(scale, workdir) as sandbox, database("sqlite", workdir) as url:
        config = write_config(workdir / "latency.yaml", sandbox, url)
        with start_hub(config, workdir) as hub:
            _register(sandbox, hub.url)
            for run in range(sizes.runs):
                numbers = list(range(1 + run * per_run, 1 + (run + 1) * per_run))
                jira = sandbox.vendor_url("jira")
                stamps = asyncio.run(_edit_on_schedule(jira, numbers, sizes.rate, str(run)))
                seconds = list(_arrivals(url, stamps, sizes.settle_s).values())
                runs.append({
                    "edits": len(stamps), "arrived": len(seconds),
                    "p50_s": round(_percentile(seconds, 50), 3) if seconds else None,
                    "p95_s": round(_percentile(seconds, 95), 3) if seconds else None,
                    "max_s": round(max(seconds), 3) if seconds else None,
                })
    p95s = [r["p95_s"] for r in runs if r["p95_s"] is not None]
    return {"sizes": sizes.__dict__, "runs": runs,
            "median_p95_s": round(statistics.median(p95s), 3) if p95s else None,
            "median_p50_s": round(statistics.median(r["p50_s"] for r in runs if r["p50_s"] is not None), 3)
            if p95s else None}
