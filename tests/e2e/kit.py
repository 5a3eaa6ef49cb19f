"""The end-to-end rig: the whole sandbox on free loopback ports and the hub with the demo's settings.

Demo settings with one change: Jira syncs a second project (``OPS``, added to the Jira
simulator before the hub starts), so an issue can move between two synced projects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.cli.demo import DEFAULT_DEMO_CONFIG, point_at_sandbox
from app.hub import Hub
from app.sandbox.common.requestlog import RequestLogEntry
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.runner import Sandbox
from app.sandbox.truth import Difference, compare
from app.settings import JiraSettings, Settings, SyncSettings, load_settings
from app.storage.protocol import RunRecord
from app.sync.engine import run_sync

__all__ = ["SEED", "Rig", "e2e_settings", "prepare_sandbox"]

SEED = 7
SECOND_PROJECT = "OPS"


def prepare_sandbox(sandbox: Sandbox) -> None:
    """What the world needs besides its seed: a second, empty Jira project to move issues into."""
    jira = sandbox.simulators["jira"]
    assert isinstance(jira, JiraSimulator)
    jira.add_project(SECOND_PROJECT, "Operations")


def e2e_settings(tmp_path: Path, urls: dict[str, str]) -> Settings:
    base = load_settings(DEFAULT_DEMO_CONFIG, data_dir=tmp_path / "data")
    jira = base.connectors["jira"]
    assert isinstance(jira, JiraSettings)
    connectors = {**base.connectors, "jira": jira.model_copy(update={"projects": ["CHK", SECOND_PROJECT]})}
    return point_at_sandbox(base.model_copy(update={"connectors": connectors}), urls)


@dataclass
class Rig:
    sandbox: Sandbox
    hub: Hub
    settings: Settings

    @property
    def pair_ids(self) -> list[str]:
        return [p.id for p in self.settings.pairs]

    async def sync(self, pair_id: str, *, full: bool = False, sync: SyncSettings | None = None) -> RunRecord:
        if sync is None:
            return await self.hub.sync(pair_id, full=full)
        pair = self.hub.pair(pair_id)
        return await run_sync(
            pair, self.hub.pair_connectors(pair), self.hub.db, trigger="test", full=full, settings=sync
        )

    async def sync_all(self, *, full: bool = False, sync: SyncSettings | None = None) -> dict[str, RunRecord]:
        return {pair_id: await self.sync(pair_id, full=full, sync=sync) for pair_id in self.pair_ids}

    def differences(self) -> list[Difference]:
        return compare(self.hub.db, self.sandbox, self.hub.connectors)

    def marks(self) -> dict[str, int]:
        """Where each simulator's request log is now."""
        return {vendor: sim.log.last_seq for vendor, sim in self.sandbox.simulators.items()}

    def requests_since(self, marks: Mapping[str, int]) -> dict[str, list[RequestLogEntry]]:
        return {
            vendor: sim.log.since(marks.get(vendor, 0)) for vendor, sim in self.sandbox.simulators.items()
        }
