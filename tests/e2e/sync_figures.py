"""Measure a full sync of the seeded sandbox world, per connector: wall time and vendor API calls.

Run from the repository root::

    .venv/bin/python tests/e2e/sync_figures.py --seed 1 --scale 1 --repeat 3

Each repetition starts a fresh sandbox and a fresh hub (SQLite in a temporary directory)
with the demo configuration, then runs every pair of one connector with no stored cursor
(a full read plus its census). Reported per connector: the median wall time of those runs,
the vendor requests the simulator logged during them (partition listings included), the
calls the engine counted (``RunRecord.api_calls``: reads and census), and the records made.
Connecting (credentials check, Jira's field catalogue) happens before and is listed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.cli.demo import DEFAULT_DEMO_CONFIG, point_at_sandbox
from app.hub import Hub
from app.logging import configure_logging
from app.sandbox.runner import start_sandbox
from app.sandbox.truth import SANDBOX_VENDOR, compare, format_differences
from app.settings import load_settings
from app.storage.protocol import RunStatus


@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    requests: set[int] = field(default_factory=set)
    engine_calls: set[int] = field(default_factory=set)
    records: set[int] = field(default_factory=set)
    connect_requests: set[int] = field(default_factory=set)


async def _measure_once(seed: int, scale: int, figures: dict[str, Figures]) -> None:
    sandbox = start_sandbox(base_port=0, seed=seed, scale=scale)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = point_at_sandbox(load_settings(DEFAULT_DEMO_CONFIG, data_dir=Path(tmp)), sandbox.urls)
            async with Hub(settings, migrate=True) as hub:
                for name, connector in hub.connectors.items():
                    vendor = SANDBOX_VENDOR[connector.system][0]
                    sim = sandbox.simulators[vendor]
                    entry = figures.setdefault(name, Figures())
                    entry.connect_requests.add(sim.log.last_seq)
                    mark = sim.log.last_seq
                    started = time.perf_counter()
                    runs = [await hub.sync(p.id) for p in settings.pairs if p.source.connector == name]
                    entry.seconds.append(time.perf_counter() - started)
                    failed = [r for r in runs if r.status is not RunStatus.SUCCEEDED]
                    if failed:
                        raise SystemExit(f"{name}: a run did not succeed: {failed}")
                    entry.requests.add(sim.log.last_seq - mark)
                    entry.engine_calls.add(sum(r.api_calls for r in runs))
                    entry.records.add(hub.db.count_records(connector=name))
                differences = compare(hub.db, sandbox, hub.connectors)
                if differences:
                    raise SystemExit(format_differences(differences))
    finally:
        sandbox.stop()


def _one(values: set[int]) -> str:
    return str(next(iter(values))) if len(values) == 1 else "/".join(str(v) for v in sorted(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    figures: dict[str, Figures] = {}
    for _ in range(args.repeat):
        asyncio.run(_measure_once(args.seed, args.scale, figures))
    print(f"seed={args.seed} scale={args.scale} repeat={args.repeat}")
    print(
        "| connector | records | full-sync time (median) | vendor requests | engine-counted calls "
        "| requests to connect |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, f in figures.items():
        print(
            f"| {name} | {_one(f.records)} | {statistics.median(f.seconds) * 1000:.0f} ms "
            f"| {_one(f.requests)} | {_one(f.engine_calls)} | {_one(f.connect_requests)} |"
        )


if __name__ == "__main__":
    main()
