"""``python -m bench.run [--quick] [--only NAME ...] [--out FILE]``: run the benchmarks, print verdicts.

``make bench`` runs the full sizes (10,000 and 100,000 Jira issues; 20,000 deliveries per
ingest run on SQLite and PostgreSQL). ``--quick`` runs every benchmark at a tiny size, to
prove the scripts work (the smoke test in ``tests/bench``). Results are written as JSON
(default ``bench/results/latest.json``; ``--quick``: ``bench/results/quick.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest import IngestSizes, run_ingest
from bench.latency import LatencySizes, run_latency
from bench.syncbench import SyncSizes, run_sync_bench

__all__ = ["BENCHMARKS", "main", "verdicts"]

RESULTS = Path(__file__).resolve().parent / "results"

FULL: dict[str, Any] = {
    "ingest": IngestSizes(),
    "sync": SyncSizes(),
    "latency": LatencySizes(),
}
QUICK: dict[str, Any] = {
    "ingest": IngestSizes(requests=300, connections=8, runs=1, warmup=50, rate=100.0, rate_seconds=1.0),
    "sync": SyncSizes(scales=(2,), runs=1, pairs=("jira-issues",), fixed_changes=10, vendor_latency_ms=(5.0,),
                      burst_edits=20, quiet_after_burst_wait_s=0.1, quiet_after_burst_cycles=2),
    "latency": LatencySizes(rate=20.0, seconds=1.0, runs=1, settle_s=30.0),
}


def _postgres_reachable() -> bool:
    import psycopg

    from bench.hubconfig import POSTGRES_URL

    try:
        raw = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(raw, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _ingest(sizes: IngestSizes, workdir: Path, quick: bool) -> dict[str, Any]:
    databases = ("sqlite",) if quick or not _postgres_reachable() else ("sqlite", "postgres")
    return run_ingest(sizes, workdir, databases)


BENCHMARKS: dict[str, Callable[[Any, Path, bool], dict[str, Any]]] = {
    "ingest": _ingest,
    "sync": lambda sizes, workdir, quick: run_sync_bench(sizes, workdir),
    "latency": lambda sizes, workdir, quick: run_latency(sizes, workdir),
}


def _machine() -> dict[str, Any]:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {"cpus": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/MISS) for every target the results cover."""
    rows: list[tuple[str, str, str]] = []
    ingest = results.get("ingest")
    if ingest:
        for db in ingest["results"]:
            floor = 0.75 if db["database"] == "sqlite" else 0.5
            rows.append((f"ingest {db['database']}: >= {floor}x baseline req/s",
                         f"{db['hub']['median_rps']} vs {db['baseline']['median_rps']} req/s "
                         f"= {db['ratio']}x",
                         _verdict(db["ratio"] is not None and db["ratio"] >= floor)))
            at_rate = db["hub"]["at_rate"]
            rate = ingest["sizes"]["rate"]
            rows.append((f"ingest {db['database']}: p99 <= 50 ms at {rate:g} req/s",
                         f"p50 {at_rate['p50_ms']} ms, p99 {at_rate['p99_ms']} ms, "
                         f"errors {at_rate['errors']}",
                         _verdict(at_rate["p99_ms"] <= 50 and at_rate["ok"] == at_rate["sent"])))
            rows.append((f"ingest {db['database']}: every acknowledged delivery in the inbox",
                         f"{db['acknowledged']} acknowledged, {db['inbox_rows']} inbox rows",
                         _verdict(db["inbox_rows"] >= db["acknowledged"])))
    sync = results.get("sync")
    if sync:
        for scale in sync["scales"]:
            size = f"{scale['issues']:,} issues"
            for pair, full in scale["full"].items():
                rows.append((f"full sync {pair} ({size}): <= 1.2x bare loop",
                             f"{full['hub_median_s']} s vs {full['baseline_median_s']} s "
                             f"= {full['ratio']}x, "
                             f"{full['items']} items, {full['items_per_s']} items/s",
                             _verdict(full["ratio"] is not None and full["ratio"] <= 1.2)))
                rows.append((f"full sync {pair} ({size}): "
                             f"calls = ceil(items / {full['page_size']}) per partition",
                             f"{full['api_calls']} calls (run record), "
                             f"minimum {full['min_calls']} over {full['partitions']} partitions",
                             _verdict(full["api_calls"] <= full["min_calls"])))
                if scale["issues"] >= 100_000:
                    rows.append((f"full sync {pair} ({size}): peak RSS <= 200 MB",
                                 f"{full['peak_rss_mb']} MB", _verdict(full["peak_rss_mb"] <= 200)))
            for pair, by_latency in scale.get("full_with_latency", {}).items():
                for latency, full in by_latency.items():
                    rows.append((f"supplementary: full sync {pair} ({size}), {latency} ms added to every "
                                 f"vendor call: <= 1.2x bare loop",
                                 f"{full['hub_median_s']} s vs {full['baseline_median_s']} s = {full['ratio']}x",
                                 _verdict(full["ratio"] is not None and full["ratio"] <= 1.2)))
            quiet = scale["incremental"]["no_change"]["runs"]
            rows.append((f"no-change cycle ({size}): one call per partition",
                         f"run record {[r['api_calls'] for r in quiet]}, sandbox search calls "
                         f"{[r['search_calls'] for r in quiet]}",
                         _verdict(all(r["search_calls"] == 1 for r in quiet))))
            after = scale["incremental"].get("after_burst", {}).get("runs")
            if after:
                # A census (every ``census_every_runs``-th run) adds its id-only pages: judged apart.
                calls = [r["search_calls"] for r in after if not r.get("census")]
                census = [r["search_calls"] for r in after if r.get("census")]
                rows.append((f"quiet cycles more than the overlap after a burst ({size}): one re-read of the "
                             "burst's window, then one call per partition",
                             f"sandbox search calls {calls}" + (f"; census runs {census}" if census else ""),
                             _verdict(len(calls) >= 2 and all(c == 1 for c in calls[1:]))))
        if len(sync["scales"]) >= 2:
            small, big = sync["scales"][0], sync["scales"][-1]
            for label in ("share", "fixed"):
                a, b = small["incremental"][label], big["incremental"][label]
                ratio = b["median_s"] / a["median_s"] if a["median_s"] else None
                what = "1% changed" if label == "share" else f"{sync['sizes']['fixed_changes']} changed"
                rows.append((f"incremental {what}: time {big['issues']:,}/{small['issues']:,} <= 1.5",
                             f"{b['median_s']} s / {a['median_s']} s = {ratio:.2f}" if ratio else "n/a",
                             _verdict(ratio is not None and ratio <= 1.5)))
    latency = results.get("latency")
    if latency:
        rows.append((f"webhook to record: p95 <= 1 s at {latency['sizes']['rate']:g} events/s",
                     f"median p95 {latency['median_p95_s']} s, median p50 {latency['median_p50_s']} s, "
                     f"arrived {[(r['arrived'], r['edits']) for r in latency['runs']]}",
                     _verdict(latency["median_p95_s"] is not None and latency["median_p95_s"] <= 1.0
                              and all(r["arrived"] == r["edits"] for r in latency["runs"]))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: prove the scripts work")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark")
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sizes = QUICK if args.quick else FULL
    names = args.only or list(BENCHMARKS)
    out_path = args.out or RESULTS / ("quick.json" if args.quick else "latest.json")
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(),
                               "command": " ".join(["python -m bench.run", *(argv or sys.argv[1:])]),
                               "quick": args.quick, "seconds": {}}
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-") as tmp:
        for name in names:
            started = time.perf_counter()
            print(f"== {name} ...", file=sys.stderr, flush=True)
            results[name] = BENCHMARKS[name](sizes[name], Path(tmp), args.quick)
            results["seconds"][name] = round(time.perf_counter() - started, 1)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1, default=str))
    rows = verdicts(results)
    print("| target | measured | verdict |\n|---|---|---|")
    for target, measured, verdict in rows:
        print(f"| {target} | {measured} | {verdict} |")
    print(f"\nresults: {out_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
