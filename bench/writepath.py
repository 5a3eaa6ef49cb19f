"""``python -m bench.writepath [--pair P] [--scale N] [--rounds R] [--tree DIR]``: the write path's CPU per change.

A full read of one pair is captured from a sandbox once; then, in this process and with no
HTTP, each round writes it into a fresh SQLite store as the pull does (look up what the hub
holds, ``prepare_page``, ``commit_page``) three times: into the empty store, again unchanged
(a full resync that finds nothing new), and again with every record edited (a new version and
title). CPU time per change is steadier than wall time on a shared machine, and it is what the
hub spends whatever the vendor's latency. ``--tree DIR`` measures another source tree of the hub
(``git archive <commit> | tar -x -C DIR``); trees from before ``Store.stored_states`` look
records up with ``get_records``, as they did.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.inprocess import CONNECTOR, PULL_GC_THRESHOLD0, sandbox_with_config

__all__ = ["main"]



async def _capture(config: Path, connector: str, stream: str) -> tuple[str, Any, list[tuple[str, list[Any], Any]]]:
    from app.connectors.registry import build_connector
    from app.settings import load_settings

    settings = load_settings(config)
    pages: list[tuple[str, list[Any], Any]] = []
    async with build_connector(connector, settings.connectors[connector]) as conn:
        kind = next(spec.kind for spec in conn.streams if spec.name == stream)
        for partition in await conn.list_partitions(stream):
            async for page in conn.read_changes(stream, partition, None):
                pages.append((partition, list(page.changes), page.cursor_after))
        return conn.system, kind, pages


def _edited(pages: list[tuple[str, list[Any], Any]]) -> list[tuple[str, list[Any], Any]]:
    def edit(change: Any) -> Any:
        body = change.body
        for field in ("title", "text"):
            if body is not None and hasattr(body, field):
                body = body.model_copy(update={field: f"{getattr(body, field)} (edited)"})
                break
        return dataclasses.replace(change, version=f"{change.version}-edited", body=body)

    return [(partition, [edit(c) for c in changes], after) for partition, changes, after in pages]


def _write(store: Any, system: str, kind: Any, pages: list[tuple[str, list[Any], Any]], connector: str,
           stream: str) -> float:
    from app.models import hub_id_for
    from app.storage.protocol import CursorKey
    from app.sync.apply import commit_page
    from app.sync.prepare import prepare_page

    lookup = getattr(store, "stored_states", None) or store.get_records
    started = time.process_time()
    for partition, changes, after in pages:
        ids = [hub_id_for(connector, stream, c.external_id) for c in changes]
        prepared = prepare_page(changes, lookup(ids), connector=connector, system=system, stream=stream,
                                kind=kind, partition=partition, fetched_at=datetime.now(UTC))
        commit_page(store, prepared, key=CursorKey(connector, stream, partition), cursor_after=after,
                    run_id="bench")
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=sorted(CONNECTOR), default="jira-issues")
    parser.add_argument("--scale", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, help="another source tree of the hub to measure")
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    if args.tree is not None:
        if "app" in sys.modules:
            parser.error("--tree must be given before the hub's code is imported")
        sys.path.insert(0, str(args.tree.resolve()))
    from app.storage import create_store

    connector, stream = CONNECTOR[args.pair]
    with tempfile.TemporaryDirectory(prefix="passerelle-writepath-") as tmp:
        workdir = Path(tmp)
        with sandbox_with_config(args.scale, workdir, args.pair, "writepath") as (_, config):
            system, kind, pages = asyncio.run(_capture(config, connector, stream))
        edited = _edited(pages)
        changes = sum(len(c) for _, c, _ in pages)
        gc.set_threshold(PULL_GC_THRESHOLD0, *gc.get_threshold()[1:])
        rounds: list[dict[str, float]] = []
        for n in range(args.rounds):
            store = create_store(f"sqlite:///{workdir / f'round-{n}.db'}", migrate=True)
            try:
                times = {step: _write(store, system, kind, data, connector, stream)
                         for step, data in (("first", pages), ("unchanged", pages), ("edited", edited))}
            finally:
                store.close()
            row = {step: round(1e6 * seconds / changes, 1) for step, seconds in times.items()}
            rounds.append(row)
            print(f"round {n}: CPU per change, us: {row}", flush=True)
    medians = {step: statistics.median(r[step] for r in rounds) for step in rounds[0]}
    print(f"{args.pair}, {changes} changes, median CPU per change (us): {medians}")
    if args.out:
        args.out.write_text(json.dumps({"pair": args.pair, "scale": args.scale, "changes": changes,
                                        "tree": str(args.tree or "."), "rounds": rounds,
                                        "median_us_per_change": medians}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
