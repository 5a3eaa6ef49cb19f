"""Fixtures of the end-to-end suite: a fresh sandbox per test, the hub over it, a synced hub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.hub import Hub
from app.sandbox.runner import Sandbox, start_sandbox
from app.sandbox.truth import format_differences
from app.storage.protocol import RunStatus
from e2e.kit import SEED, Rig, e2e_settings, prepare_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(base_port=0, seed=SEED)
    try:
        assert not running.missing, running.missing
        prepare_sandbox(running)
        yield running
    finally:
        running.stop()


@pytest.fixture
async def rig(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Rig]:
    settings = e2e_settings(tmp_path, sandbox.urls)
    async with Hub(settings, migrate=True) as hub:
        yield Rig(sandbox, hub, settings)


@pytest.fixture
async def synced(rig: Rig) -> Rig:
    """The hub after a full sync of every pair, checked equal to the sandbox."""
    runs = await rig.sync_all()
    failed = {p: (r.status, r.error) for p, r in runs.items() if r.status is not RunStatus.SUCCEEDED}
    assert not failed, failed
    differences = rig.differences()
    assert differences == [], format_differences(differences)
    return rig
