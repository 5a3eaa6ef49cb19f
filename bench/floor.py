"""``python -m bench.floor [--pair P] [--scale N] [--rounds R]``: what a full sync cannot go below.

The full-sync target is the hub's time within 1.2x the bare loop's. This measures, per item and
against that budget, the two parts of a full sync no design of the hub can leave out, each alone:

- **read**: the connector's own read of every partition (the vendor SDK's requests, its JSON, the
  mapping to unified bodies), nothing stored; CPU time, with the pull's GC setting;
- **insert**: SQLite inserting the hub's rows for those items, already built (values as the store
  binds them, the records table with its indexes), in transactions of one page, with the store's
  connection settings and its WAL checkpointer on its own thread; CPU time of the inserting
  thread in raw ``sqlite3`` calls, no SQLAlchemy, no Python work of the hub.

and the bare loop over the same requests in the same round (wall time: it is what the ratio
divides by). The read's wall time is a floor of a run's time: a connector reads page after page,
each fetched and mapped before the next is asked for, in the hub's pull as here. When either part
alone costs more CPU than the budget per item, the target cannot be met by overlapping work, on
any number of cores; when their sum does, not on one core's worth of GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bareloop
from bench.inprocess import CONNECTOR, PULL_GC_THRESHOLD0, sandbox_with_config
from bench.syncbench import _VENDOR, _api_requests, _clear_log, _log

__all__ = ["main"]

_BUDGET = 1.2


async def _read(config: Path, connector: str, stream: str, opened: Callable[[], None], *, keep: bool
                ) -> tuple[float, float, int, list[tuple[str, list[Any]]]]:
    """(wall s, CPU s, items, pages if ``keep``) of one read of every partition, nothing stored;
    ``opened`` is called once the connector is open (its opening calls are not part of a sync's
    time). A timed read keeps nothing: a heap holding every page read so far makes each garbage
    collection slower, which a pull, that drops each page once written, does not pay."""
    from app.connectors.registry import build_connector
    from app.settings import load_settings

    settings = load_settings(config)
    pages: list[tuple[str, list[Any]]] = []
    items = 0
    async with build_connector(connector, settings.connectors[connector]) as conn:
        opened()
        wall, cpu = time.perf_counter(), time.process_time()
        for partition in await conn.list_partitions(stream):
            async for page in conn.read_changes(stream, partition, None):
                items += len(page.changes)
                if keep:
                    pages.append((partition, list(page.changes)))
        return time.perf_counter() - wall, time.process_time() - cpu, items, pages


def _rows(pages: list[tuple[str, list[Any]]], connector: str, stream: str, system: str, kind: Any
          ) -> tuple[list[str], list[list[tuple[Any, ...]]]]:
    """The records table's columns, and the rows of ``pages`` per page as the store binds them on SQLite."""
    # The store's own row builder and bindings (private to it: this measures what it writes).
    from app.storage.engine import json_text
    from app.storage.records import _row_values
    from app.storage.sql import _sqlite_utc_text
    from app.sync.prepare import prepare_page

    def bound(value: Any) -> Any:
        if isinstance(value, datetime):
            return _sqlite_utc_text(value)
        return json_text(value) if isinstance(value, dict | list) else value

    columns: list[str] = []
    out: list[list[tuple[Any, ...]]] = []
    fetched = datetime.now(UTC)
    for partition, changes in pages:
        prepared = prepare_page(changes, {}, connector=connector, system=system, stream=stream, kind=kind,
                                partition=partition, fetched_at=fetched)
        values = [_row_values(p.record, "bench") for p in prepared if p.record is not None]
        if values and not columns:
            columns = list(values[0])
        out.append([tuple(bound(row[c]) for c in columns) for row in values])
    return columns, out


def _insert(database: Path, columns: list[str], pages: list[list[tuple[Any, ...]]]) -> float:
    """CPU s of the inserting thread, inserting ``pages`` into a fresh migrated store at ``database``,
    a transaction a page, with the store's connection settings and its checkpointer running (the
    hub's committing thread pays for its inserts, not for the checkpoints)."""
    from app.storage import create_store
    from app.storage.checkpoint import BACKSTOP_PAGES, WalCheckpointer

    create_store(f"sqlite:///{database}", migrate=True).close()
    conn = sqlite3.connect(database, isolation_level=None)
    checkpointer = WalCheckpointer(str(database))
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        sql = f"INSERT INTO records ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        checkpointer.ensure_started()
        gc.collect()
        started = time.thread_time()
        for rows in pages:
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        return time.thread_time() - started
    finally:
        checkpointer.close()
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=sorted(CONNECTOR), default="google-events")
    parser.add_argument("--scale", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    from app.connectors.registry import build_connector
    from app.settings import load_settings

    connector, stream = CONNECTOR[args.pair]
    vendor = _VENDOR[args.pair]
    rounds: list[dict[str, float]] = []
    threshold = gc.get_threshold()
    with tempfile.TemporaryDirectory(prefix="passerelle-floor-") as tmp:
        workdir = Path(tmp)
        with sandbox_with_config(args.scale, workdir, args.pair, "floor") as (sandbox, config):

            async def identity() -> tuple[str, Any]:
                async with build_connector(connector, load_settings(config).connectors[connector]) as conn:
                    return conn.system, next(s.kind for s in conn.streams if s.name == stream)

            system, kind = asyncio.run(identity())
            for n in range(args.rounds):
                gc.set_threshold(PULL_GC_THRESHOLD0, *threshold[1:])
                try:
                    read_wall, read_cpu, read_items, _ = asyncio.run(
                        _read(config, connector, stream, lambda: _clear_log(sandbox, vendor), keep=False))
                finally:
                    gc.set_threshold(*threshold)
                requests = _api_requests(_log(sandbox, vendor))
                if args.pair == "jira-issues":
                    bare = bareloop.bare_jira_full(sandbox.vendor_url("jira"))
                else:
                    headers = bareloop.slack_headers() if vendor == "slack" else bareloop.google_headers()
                    bare = bareloop.replay(sandbox.vendor_url(vendor), requests, headers)
                _, _, items, pages = asyncio.run(_read(config, connector, stream, lambda: None, keep=True))
                if items != read_items:
                    raise RuntimeError(f"the timed read saw {read_items} items, the kept one {items}")
                columns, rows = _rows(pages, connector, stream, system, kind)  # a deletion has no row
                del pages
                insert_cpu = _insert(workdir / f"floor-{n}.db", columns, rows)
                del rows
                row = {"items": items, "calls": len(requests), "bare_s": bare["seconds"], "read_wall_s": read_wall,
                       "read_cpu_s": read_cpu, "insert_cpu_s": insert_cpu}
                rounds.append(row)
                per = {k: round(1e6 * v / items, 1) for k, v in row.items() if k.endswith("_s")}
                print(f"round {n}: {items} items, {len(requests)} calls, us an item: {per}", flush=True)
    medians = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    items = int(medians["items"])
    us = {k: round(1e6 * v / items, 1) for k, v in medians.items() if k.endswith("_s")}
    budget = round(_BUDGET * us["bare_s"], 1)
    verdict = {
        "budget_us": budget,
        "read_wall_over_budget": us["read_wall_s"] > budget,
        "read_alone_over_budget": us["read_cpu_s"] > budget,
        "insert_alone_over_budget": us["insert_cpu_s"] > budget,
        "read_plus_insert_over_budget": us["read_cpu_s"] + us["insert_cpu_s"] > budget,
    }
    print(f"{args.pair} at scale {args.scale}, {items} items, medians in us an item: {us}; "
          f"budget (1.2x the bare loop) {budget} us; {verdict}")
    if args.out:
        args.out.write_text(json.dumps({"pair": args.pair, "scale": args.scale, "rounds": rounds,
                                        "median_us_per_item": us, **verdict}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
