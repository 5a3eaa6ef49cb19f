"""Under chaos (5xx, 429 with Retry-After, latency spikes) full and incremental syncs still converge
to exact equality with the sandbox, and no 429'd request is retried before its Retry-After."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.hub import Hub
from app.sandbox.runner import Sandbox

from .support import (
    assert_converged,
    clear_chaos,
    demo_settings,
    mutate_sources,
    retry_after_violations,
    set_chaos,
    sync_until_succeeded,
)

pytestmark = pytest.mark.faults

CHAOS = {
    "error_rate": 0.10,
    "rate_limit_rate": 0.05,
    "retry_after_s": 0.3,
    "latency_spike_rate": 0.05,
    "latency_spike_ms": 200.0,
}


async def test_full_and_incremental_syncs_under_chaos_converge_and_honour_retry_after(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # A census on every run: deletes the change feeds do not report (Jira) are found at once.
    settings = demo_settings(sandbox, tmp_path, census_every_runs=1)
    first_seq = {vendor: sim.log.last_seq for vendor, sim in sandbox.simulators.items()}
    set_chaos(sandbox, **CHAOS)
    async with Hub(settings, migrate=True) as hub:
        for pair in settings.pairs:
            await sync_until_succeeded(hub, pair.id, full=True)
        clear_chaos(sandbox)
        assert_converged(hub.db, sandbox, hub.connectors)

        mutate_sources(sandbox, seed=11)
        set_chaos(sandbox, **CHAOS)
        for pair in settings.pairs:
            await sync_until_succeeded(hub, pair.id)
        clear_chaos(sandbox)
        assert_converged(hub.db, sandbox, hub.connectors)

    checked = 0
    violations = []
    for vendor, sim in sandbox.simulators.items():
        found, count = retry_after_violations(vendor, sim.log.since(first_seq[vendor]))
        violations += found
        checked += count
    assert not violations, "\n".join(map(str, violations))
    assert checked >= 3, f"only {checked} 429s were answered: the pacing check proves little"
