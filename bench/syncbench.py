"""Benchmarks 2 and 3, full and incremental sync, driven through ``passerelle sync <pair>``.

Per scale: one sandbox process; per measured run a fresh SQLite database and a
``passerelle sync`` process, whose own peak RSS is its ``VmHWM``, polled while it runs. The run's time is
the run record's duration (printed by the CLI; process start and connector open
excluded, and reported separately as wall time). API calls: the run record's count
and the sandbox's request log. Baselines: :mod:`bench.bareloop`.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select

from app.sandbox.world import TeamWorld
from app.storage.tables import records, runs
from app.sync.runs import CENSUS_FLAG
from bench import bareloop
from bench.hubconfig import database, write_config
from bench.procs import SandboxProcess, passerelle, run_measured, start_sandbox

__all__ = ["SyncSizes", "run_sync_bench"]

_SUMMARY = re.compile(
    r"^(?P<pair>\S+): (?P<status>\S+) in (?P<secs>[\d.]+)s — created (?P<created>\d+), "
    r"updated (?P<updated>\d+), deleted (?P<deleted>\d+), unchanged (?P<unchanged>\d+), "
    r"failed (?P<failed>\d+), api calls (?P<calls>\d+)",
    re.MULTILINE,
)
_VENDOR = {"jira-issues": "jira", "slack-messages": "slack", "google-events": "google_calendar"}
_PAGE = {"jira-issues": 100, "slack-messages": 999, "google-events": 2500}


@dataclass(frozen=True)
class SyncSizes:
    scales: tuple[int, ...] = (250, 2500)  # 10,000 and 100,000 Jira issues (40 per scale unit)
    runs: int = 3
    big_runs: int = 3  # runs at scales of 100,000 issues and more
    pairs: tuple[str, ...] = ("jira-issues", "slack-messages", "google-events")
    big_pairs: tuple[str, ...] = ("jira-issues", "slack-messages", "google-events")
    change_share: float = 0.01
    fixed_changes: int = 100
    quiet_after_burst_wait_s: float = 64.0
    """Before the quiet cycles that follow the last edit burst (at the smallest scale): the Jira
    cursor's 60 s overlap, the whole second of the ``Date`` it anchors on, and up to a second more
    by which the sandbox's server may hand out an older ``Date`` (it refreshes it once a second).
    ``--quick`` waits 0.1 s only to drive the steps. 0: not measured."""
    quiet_after_burst_cycles: int = 4
    burst_edits: int = 1000
    """The burst before those quiet cycles: ten pages, so that a re-read of it shows."""
    vendor_latency_ms: tuple[float, ...] = (10.0, 50.0)
    """Supplementary: the full syncs of ``latency_pairs`` again at the small scale, with the sandbox
    adding this much to every call (chaos ``latency_ms``), for the hub and the bare loop alike: how
    much of the hub's own work its read-ahead hides once the vendor is not on loopback."""
    latency_pairs: tuple[str, ...] = ("jira-issues", "google-events")


def _log(sandbox: SandboxProcess, vendor: str) -> list[dict[str, Any]]:
    data = httpx.get(f"{sandbox.vendor_url(vendor)}/_sandbox/requests", timeout=60).json()
    return list(data["requests"])


def _clear_log(sandbox: SandboxProcess, vendor: str) -> None:
    httpx.delete(f"{sandbox.vendor_url(vendor)}/_sandbox/requests", timeout=60).raise_for_status()


def _last_run(database_url: str, pair: str) -> tuple[float, list[str]]:
    """The latest run's duration (the CLI prints tenths of a second) and flags, from the run table."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(runs.c.started_at, runs.c.finished_at, runs.c.flags).where(runs.c.pair_id == pair)
                .order_by(runs.c.started_at.desc()).limit(1)
            ).one()
    finally:
        engine.dispose()
    return float((row.finished_at - row.started_at).total_seconds()), list(row.flags)


def _sync(config: Path, pair: str, *, full: bool, database_url: str) -> dict[str, Any]:
    args = ["--config", str(config), "sync", pair] + (["--full"] if full else [])
    measured = run_measured(passerelle(*args))
    found = _SUMMARY.search(measured.stdout)
    if measured.returncode != 0 or found is None:
        raise RuntimeError(
            f"passerelle sync {pair} failed ({measured.returncode}):\n{measured.stdout[-3000:]}"
        )
    g = found.groupdict()
    items = sum(int(g[k]) for k in ("created", "updated", "unchanged"))
    seconds, flags = _last_run(database_url, pair)
    return {"status": g["status"], "seconds": round(seconds, 4), "census": CENSUS_FLAG in flags,
            "wall_s": round(measured.wall_s, 2),
            "items": items, "created": int(g["created"]), "updated": int(g["updated"]),
            "api_calls": int(g["calls"]), "peak_rss_mb": round(measured.peak_rss_mb, 1),
            "rusage_maxrss_mb": round(measured.rusage_maxrss_mb, 1)}


def _partition_items(database_url: str) -> dict[str, int]:
    """Live records per partition in a database that one full sync of one pair filled."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(records.c.partition, func.count()).where(records.c.deleted_at.is_(None))
                .group_by(records.c.partition)
            ).all()
    finally:
        engine.dispose()
    return {str(partition): int(count) for partition, count in rows}


def _upgrade(config: Path) -> None:
    measured = run_measured(passerelle("--config", str(config), "db", "upgrade"))
    if measured.returncode != 0:
        raise RuntimeError(f"db upgrade failed:\n{measured.stdout[-2000:]}")


def _api_requests(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if not e["path"].startswith("/_sandbox") and e["path"] != "/token"]


def _search_calls(sandbox: SandboxProcess) -> int:
    return sum(1 for e in _api_requests(_log(sandbox, "jira")) if "search" in e["path"])


def _full_once(sandbox: SandboxProcess, pair: str, workdir: Path, tag: str) -> dict[str, Any]:
    vendor = _VENDOR[pair]
    with database("sqlite", workdir) as url:
        config = write_config(workdir / f"sync-{tag}.yaml", sandbox, url, pairs=[pair], log_level="WARNING")
        _upgrade(config)
        _clear_log(sandbox, vendor)
        hub = _sync(config, pair, full=True, database_url=url)
        hub["partition_items"] = _partition_items(url)
        log = _api_requests(_log(sandbox, vendor))
        by_path: dict[str, int] = {}
        for entry in log:
            by_path[entry["path"]] = by_path.get(entry["path"], 0) + 1
        hub["sandbox_calls"] = by_path
        if pair == "jira-issues":
            base = bareloop.bare_jira_full(sandbox.vendor_url("jira"))
        else:
            headers = bareloop.slack_headers() if vendor == "slack" else bareloop.google_headers()
            base = bareloop.replay(sandbox.vendor_url(vendor), log, headers)
    return {"hub": hub, "baseline": base}


def _edit_issues(sandbox: SandboxProcess, numbers: list[int], tag: str) -> None:
    with httpx.Client(base_url=sandbox.vendor_url("jira"), timeout=60) as client:
        for n in numbers:
            client.patch(f"/_sandbox/issues/CHK-{n}", json={"fields": {"summary": f"bench edit {tag} {n}"}}
                         ).raise_for_status()


def _spread(count: int, total: int) -> list[int]:
    step = max(1, total // max(1, count))
    return [1 + (i * step) % total for i in range(count)]


def _incremental(sandbox: SandboxProcess, workdir: Path, issues: int, sizes: SyncSizes, runs: int,
                 *, quiet_after: bool = False) -> dict[str, Any]:
    """Full sync once; then ``runs`` no-change cycles; then per run ``fixed_changes`` changed and 1% changed;
    then, with ``quiet_after``, the quiet cycles after a burst of ``burst_edits``.

    The Jira cursor re-reads the ``overlap_s`` (60 s) before the later of its newest change and
    Jira's clock when its last complete read began, to catch edits that reach the search index
    late. The read that picks up a burst begins within the overlap of it, so the next read looks
    at the burst once more; only then does it cost one call. The no-change cycles therefore come
    before any edit, and the edit steps run once where 1% is more than the fixed count (a second
    run's fixed step would re-read the first run's 1% burst). ``quiet_after`` measures the cycles
    after a burst, once the overlap has passed.
    """
    out: dict[str, list[dict[str, Any]]] = {"no_change": [], "share": [], "fixed": [], "after_burst": []}
    share = math.ceil(issues * sizes.change_share)
    with database("sqlite", workdir) as url:
        config = write_config(workdir / f"incr-{issues}.yaml", sandbox, url, pairs=["jira-issues"],
                              log_level="WARNING")
        _upgrade(config)
        _sync(config, "jira-issues", full=True, database_url=url)
        for _ in range(runs):
            _clear_log(sandbox, "jira")
            quiet = _sync(config, "jira-issues", full=False, database_url=url)
            quiet["search_calls"] = _search_calls(sandbox)
            out["no_change"].append(quiet)
        for run in range(runs if share <= sizes.fixed_changes else 1):
            # The fixed count first: its edits are a subset of the share's, so neither re-read
            # window holds the other step's edits.
            for label, count in (("fixed", sizes.fixed_changes), ("share", share)):
                _edit_issues(sandbox, _spread(count, issues), f"{label}{run}")
                _clear_log(sandbox, "jira")
                result = _sync(config, "jira-issues", full=False, database_url=url)
                result["changed"] = count
                result["search_calls"] = _search_calls(sandbox)
                out[label].append(result)
        if quiet_after:
            _edit_issues(sandbox, _spread(sizes.burst_edits, issues), "burst")
            _sync(config, "jira-issues", full=False, database_url=url)  # the read that finds the burst
            time.sleep(sizes.quiet_after_burst_wait_s)
            for _ in range(sizes.quiet_after_burst_cycles):
                _clear_log(sandbox, "jira")
                quiet = _sync(config, "jira-issues", full=False, database_url=url)
                quiet["search_calls"] = _search_calls(sandbox)
                out["after_burst"].append(quiet)
    return {k: {"runs": v, "median_s": round(statistics.median(r["seconds"] for r in v), 3)}
            for k, v in out.items() if v}


def _median_full(results: list[dict[str, Any]]) -> dict[str, Any]:
    hub_s = statistics.median(r["hub"]["seconds"] for r in results)
    base_s = statistics.median(r["baseline"]["seconds"] for r in results)
    last = results[-1]["hub"]
    return {
        "runs": results, "items": last["items"], "api_calls": last["api_calls"],
        "hub_median_s": round(hub_s, 3), "baseline_median_s": round(base_s, 3),
        "ratio": round(hub_s / base_s, 3) if base_s else None,
        "items_per_s": round(last["items"] / hub_s, 1) if hub_s else None,
        "peak_rss_mb": max(r["hub"]["peak_rss_mb"] for r in results),
    }


def _with_latency(sandbox: SandboxProcess, workdir: Path, scale: int, sizes: SyncSizes, runs: int
                  ) -> dict[str, Any]:
    """Per pair of ``sizes.latency_pairs``, per added latency (ms): the full sync's summary."""
    out: dict[str, Any] = {}
    for pair in sizes.latency_pairs:
        chaos = f"{sandbox.vendor_url(_VENDOR[pair])}/_sandbox/chaos"
        out[pair] = {}
        try:
            for latency in sizes.vendor_latency_ms:
                httpx.patch(chaos, json={"latency_ms": latency}, timeout=30).raise_for_status()
                results = [_full_once(sandbox, pair, workdir, f"{scale}-{pair}-latency{latency:g}-{i}")
                           for i in range(runs)]
                out[pair][f"{latency:g}"] = _median_full(results)
        finally:
            httpx.patch(chaos, json={"latency_ms": 0}, timeout=30).raise_for_status()
    return out


def run_sync_bench(sizes: SyncSizes, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": sizes.__dict__, "scales": []}
    for scale in sizes.scales:
        world = TeamWorld(scale=scale)
        big = world.issue_count >= 100_000
        runs = sizes.big_runs if big else sizes.runs
        entry: dict[str, Any] = {"scale": scale, "issues": world.issue_count, "messages": world.message_count,
                                 "full": {}}
        with start_sandbox(scale, workdir) as sandbox:
            entry["sandbox_rss_mb"] = sandbox.peak_rss_mb()
            httpx.patch(f"{sandbox.vendor_url('slack')}/_sandbox/rate_limits", json={"enabled": False},
                        timeout=30).raise_for_status()
            for pair in sizes.big_pairs if big else sizes.pairs:
                results = [_full_once(sandbox, pair, workdir, f"{scale}-{pair}-{i}") for i in range(runs)]
                summary = _median_full(results)
                summary["page_size"] = _PAGE[pair]
                # The issue's target: ceil(items / largest page) per partition (a channel, a calendar).
                per_partition = results[-1]["hub"]["partition_items"]
                summary["partitions"] = len(per_partition)
                summary["min_calls"] = sum(math.ceil(n / _PAGE[pair]) for n in per_partition.values())
                entry["full"][pair] = summary
            if not big:
                entry["full_with_latency"] = _with_latency(sandbox, workdir, scale, sizes, runs)
            quiet_after = scale == sizes.scales[0] and sizes.quiet_after_burst_wait_s > 0
            entry["incremental"] = _incremental(sandbox, workdir, world.issue_count, sizes, runs,
                                                quiet_after=quiet_after)
        out["scales"].append(entry)
    return out
