"""``kill -9`` of a ``passerelle sync --full`` at random moments: no cursor is ever ahead of the
committed records, and after a restart the hub converges to the sandbox with no duplicates."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from app.hub import Hub
from app.sandbox.runner import Sandbox
from app.storage import create_store
from app.storage.protocol import Store

from .cursor_claims import cursor_problems
from .hubproc import HubProcess, wait_for
from .support import assert_converged, demo_settings, sync_until_succeeded, write_config

pytestmark = pytest.mark.faults

TRIALS = 10
LEASE_TTL_S = 1.0
LATENCY_MS = 10.0
"""Every sandbox request takes this long, so a full sync lasts long enough to be killed inside."""


def _duplicates(store: Store, connector: str) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    dupes: list[tuple[str, str]] = []
    for record in store.iter_records(connector, include_deleted=True):
        key = (record.source.stream, record.source.external_id)
        if key in seen:
            dupes.append(key)
        seen.add(key)
    return dupes


def _requests(sandbox: Sandbox) -> int:
    return sum(sim.log.last_seq for sim in sandbox.simulators.values())


def _start_and_kill(sandbox: Sandbox, config: Path, log: Path, delay_s: float) -> HubProcess:
    """Start ``passerelle sync --full``; SIGKILL it ``delay_s`` after its first request to the sandbox."""
    before = _requests(sandbox)
    hub = HubProcess(config, ["sync", "--full"], log)
    try:
        wait_for(lambda: _requests(sandbox) > before or not hub.alive(), 30, "the hub's first request")
        time.sleep(delay_s)
        hub.kill9()
    finally:
        hub.stop()
    return hub


def _sync_duration(sandbox: Sandbox, config: Path, log: Path) -> float:
    """Seconds from a full sync's first request to its exit, uninterrupted: the window kills aim at."""
    before = _requests(sandbox)
    hub = HubProcess(config, ["sync", "--full"], log)
    try:
        wait_for(lambda: _requests(sandbox) > before or not hub.alive(), 30, "the hub's first request")
        started = time.monotonic()
        assert hub.wait(120) == 0, hub.output()
        return time.monotonic() - started
    finally:
        hub.stop()


async def test_kill_9_during_a_full_sync_never_leaves_a_cursor_ahead_and_restart_converges(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rng = random.Random(20240917)
    killed_mid_sync = 0
    cursors_checked = 0
    slack: Any = sandbox.simulators["slack"]
    # Kills aim inside the sync as it runs on this machine now (a faster hub or machine must
    # not turn the kills into kills after the end). The shorter of two timed syncs: one slowed by a
    # busy moment of a shared machine would aim later kills past the end of faster syncs.
    windows: list[float] = []
    for n in range(2):
        calibration = tmp_path / f"calibration-{n}"
        calibration.mkdir()
        calibration_settings = demo_settings(sandbox, calibration, lease_ttl_s=LEASE_TTL_S)
        create_store(calibration_settings.effective_database_url, migrate=True).close()
        for sim in sandbox.simulators.values():
            sim.chaos.update({"latency_ms": LATENCY_MS})
        slack.limiter.reset()
        windows.append(_sync_duration(sandbox, write_config(calibration_settings, calibration / "passerelle.yaml"),
                                      calibration / "hub.log"))
    window_s = min(windows)
    for trial in range(TRIALS):
        data_dir = tmp_path / f"trial-{trial}"
        data_dir.mkdir()
        settings = demo_settings(sandbox, data_dir, lease_ttl_s=LEASE_TTL_S)
        create_store(settings.effective_database_url, migrate=True).close()
        config = write_config(settings, data_dir / "passerelle.yaml")
        for sim in sandbox.simulators.values():
            sim.chaos.update({"latency_ms": LATENCY_MS})
        # Ten full syncs a minute exceed Slack's per-minute tiers; its 429s (Retry-After ~1 min) are
        # honoured, which is right but would only make this test slow: each trial starts a fresh minute.
        slack.limiter.reset()

        hub = _start_and_kill(sandbox, config, data_dir / "hub.log", delay_s=rng.uniform(0.02, 0.75 * window_s))
        killed = hub.proc.returncode == -signal.SIGKILL
        assert killed or hub.proc.returncode == 0, hub.output()
        killed_mid_sync += killed
        for sim in sandbox.simulators.values():
            sim.chaos.update({"latency_ms": 0.0})

        async with Hub(settings) as restarted:
            problems, checked = cursor_problems(restarted.db, sandbox, restarted.connectors)
            assert not problems, f"trial {trial}: cursors ahead of the records:\n  " + "\n  ".join(problems)
            cursors_checked += checked
            for name in restarted.connectors:
                assert not _duplicates(restarted.db, name), f"trial {trial}: duplicate source keys in {name}"

            await asyncio.sleep(LEASE_TTL_S)  # the killed process's partition lease runs out
            slack.limiter.reset()
            for pair in settings.pairs:
                await sync_until_succeeded(restarted, pair.id, attempts=1)
            assert_converged(restarted.db, sandbox, restarted.connectors)
            for name in restarted.connectors:
                assert not _duplicates(restarted.db, name), f"trial {trial}: duplicate source keys in {name}"

    assert killed_mid_sync >= TRIALS - 2, f"only {killed_mid_sync} of {TRIALS} kills landed during the sync"
    assert cursors_checked > 0, "no kill left a cursor to check"
