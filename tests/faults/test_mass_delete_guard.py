"""A source that suddenly lists nothing, or loses most of its items, deletes nothing in the hub:
a revoked token fails the run as a configuration error; an emptied source flags the run
``suspicious_mass_delete``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.hub import Hub
from app.sandbox.runner import Sandbox
from app.storage.protocol import CursorKey, RunStatus

from .support import demo_settings, sync_until_succeeded

pytestmark = pytest.mark.faults


async def test_revoked_access_fails_the_run_as_config_and_deletes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = demo_settings(sandbox, tmp_path)
    async with Hub(settings, migrate=True) as hub:
        for pair in ("jira-issues", "slack-messages"):
            await sync_until_succeeded(hub, pair, full=True)
        live = {name: hub.db.count_records(name) for name in ("jira", "slack")}
        for vendor in ("jira", "slack"):
            sandbox.simulators[vendor].chaos.update({"token_expired": True})

        for pair in ("jira-issues", "slack-messages"):
            for full in (False, True):
                run = await hub.sync(pair, full=full)
                assert run.status is RunStatus.FAILED, (pair, full, run.status)
                assert run.error_class == "config", (pair, run.error)
                assert run.deleted == 0

        assert {name: hub.db.count_records(name) for name in ("jira", "slack")} == live


async def test_a_mostly_emptied_project_deletes_nothing_and_flags_the_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = demo_settings(sandbox, tmp_path)
    jira: Any = sandbox.simulators["jira"]
    async with Hub(settings, migrate=True) as hub:
        await sync_until_succeeded(hub, "jira-issues", full=True)
        live = hub.db.count_records("jira", "issues")
        assert live == sandbox.world.issue_count
        for number in range(1, live - 4):  # all but 5 vanish
            jira.delete_issue(f"{sandbox.world.project_key}-{number}")

        run = await hub.sync("jira-issues", full=True)

        assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE, (run.status, run.error)
        assert "suspicious_mass_delete:jira/issues/CHK" in run.flags
        assert run.deleted == 0
        assert hub.db.count_records("jira", "issues") == live
        # The next scheduled (incremental) run deletes nothing either; an admin decides.
        later = await hub.sync("jira-issues")
        assert later.deleted == 0
        assert hub.db.count_records("jira", "issues") == live
        held = hub.db.held_deletes(CursorKey("jira", "issues", "CHK"))
        assert held is not None and held.missing == live - 5

        # The admin confirms the clean-up: the next run deletes exactly what vanished.
        hub.db.approve_held_deletes(held.key, held.missing)
        approved = await hub.sync("jira-issues")
        assert (approved.status, approved.deleted) == (RunStatus.SUCCEEDED, live - 5)
        assert hub.db.count_records("jira", "issues") == 5
        assert hub.db.held_deletes(held.key) is None


async def test_a_channel_that_lists_nothing_infers_no_deletes_and_flags_the_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = demo_settings(sandbox, tmp_path)
    slack: Any = sandbox.simulators["slack"]
    with slack.lock:
        # A channel without threads: a thread parent deleted at the source reads as Slack's explicit
        # "tombstone" placeholder, a per-item delete the feed reports (not a listing that went empty).
        channel = next(cid for cid, c in slack.workspace.channels.items() if c.get("is_member")
                       and not any(m.get("reply_count") or m.get("thread_ts")
                                   for m in slack.workspace.messages[cid].values()))
    async with Hub(settings, migrate=True) as hub:
        await sync_until_succeeded(hub, "slack-messages", full=True)
        before = _live_ids(hub, channel)
        assert before
        with slack.lock:
            messages = list(slack.workspace.messages[channel].values())
        for message in messages:
            slack.delete_message(channel, message["ts"])

        run = await hub.sync("slack-messages", full=True)

        assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE, (run.status, run.error)
        assert f"suspicious_mass_delete:slack/messages/{channel}" in run.flags
        # A full resync first drains the feed: a message of the look-back window that Slack confirms
        # gone one by one (history at its ts) is a fact and is deleted. Nothing is *inferred* from the
        # empty listing: every older message stays live.
        horizon = time.time() - settings.connectors["slack"].thread_lookback_days * 86400  # type: ignore[union-attr]
        confirmable = {f"{channel}:{m['ts']}" for m in messages if float(m["ts"]) >= horizon}
        inferred_only = before - confirmable
        assert inferred_only, "every message was in the look-back window: the test proves nothing"
        after = _live_ids(hub, channel)
        assert inferred_only <= after
        assert run.deleted == len(before - after) <= len(confirmable)


def _live_ids(hub: Hub, channel: str) -> set[str]:
    records = hub.db.iter_records("slack", "messages", include_deleted=False)
    return {r.source.external_id for r in records if r.source.partition == channel}
