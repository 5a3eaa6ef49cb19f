"""The inbox processor's background loop with coalescing: Jira deliveries posted to the real
routes, a fake issue tracker behind the Jira connector name whose fetches the test holds."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from app.connectors.base import Change, StreamSpec
from app.errors import TransientError
from app.models import RecordKind, WorkItem, hub_id_for
from app.storage.protocol import InboxItem
from tests.waiting import eventually
from webhooks.kit import Running, hub_settings, jira_headers, running_app


class HeldTracker:
    """Issues answer ``get_many`` as version 1; a fetch naming a ``held`` id waits for ``release``."""

    name = "jira"
    system = "jira"
    streams: Sequence[StreamSpec] = (StreamSpec("issues", RecordKind.WORK_ITEM, partitioned=True),)

    def __init__(self) -> None:
        self.fetched: list[list[str]] = []
        self.held: set[str] = set()
        self.release = asyncio.Event()
        self.fail_transiently = 0

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self.fetched.append(list(ids))
        if self.held & set(ids):
            await self.release.wait()
        if self.fail_transiently:
            self.fail_transiently -= 1
            raise TransientError("jira: 503")
        return [Change(i, "1", body=WorkItem(key=f"CHK-{i}", title=f"Issue {i}")) for i in ids]


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Running]:
    async with running_app(hub_settings(tmp_path)) as running:
        yield running


@pytest.fixture
def tracker(run: Running) -> HeldTracker:
    fake = HeldTracker()
    run.hub.connectors["jira"] = fake  # type: ignore[assignment]
    return fake


async def _post(run: Running, issue_id: str, project: str = "CHK") -> str:
    identifier = str(uuid.uuid4())
    body = json.dumps({"webhookEvent": "jira:issue_updated", "timestamp": 1,
                       "issue": {"id": issue_id, "key": f"{project}-{issue_id}",
                                 "fields": {"project": {"key": project}}}}).encode()
    answer = await run.client.post("/webhooks/jira", content=body, headers=jira_headers(body, identifier))
    assert answer.status_code == 200, answer.text
    return identifier


def _inbox(run: Running) -> dict[str, InboxItem]:
    return {i.delivery_id: i for i in run.hub.db.inbox_list(limit=1000)}


async def test_deliveries_that_gather_during_a_fetch_share_one_and_are_done_after_its_commit(
    run: Running, tracker: HeldTracker
) -> None:
    processor = run.webhooks.processor
    tracker.held = {"1"}
    processor.start()
    try:
        first = await _post(run, "1")
        await eventually(lambda: tracker.fetched == [["1"]])
        others = [await _post(run, n) for n in ("2", "3", "4")]
        await eventually(lambda: processor.waiting == 3)
        assert {i.status for i in _inbox(run).values()} == {"pending"}  # nothing is done before its commit
        tracker.release.set()
        await eventually(lambda: all(i.status == "done" for i in _inbox(run).values()))
    finally:
        await processor.stop()
    assert tracker.fetched == [["1"], ["2", "3", "4"]]
    for issue, identifier in zip(("1", "2", "3", "4"), [first, *others], strict=True):
        assert run.hub.db.record_lineage(hub_id_for("jira", "issues", issue)) == f"webhook:jira:{identifier}"


async def test_a_delivery_held_in_one_partition_does_not_keep_another_from_being_claimed(
    run: Running, tracker: HeldTracker
) -> None:
    processor = run.webhooks.processor
    tracker.held = {"1"}
    processor.start()
    try:
        held = await _post(run, "1", project="AAA")
        await eventually(lambda: tracker.fetched == [["1"]])
        other = await _post(run, "2", project="BBB")
        await eventually(lambda: _inbox(run)[other].status == "done")
        assert _inbox(run)[held].status == "pending"
        tracker.release.set()
        await eventually(lambda: _inbox(run)[held].status == "done")
    finally:
        await processor.stop()


async def test_a_failed_batch_fails_each_of_its_deliveries_and_each_retry_succeeds(
    run: Running, tracker: HeldTracker
) -> None:
    processor = run.webhooks.processor
    tracker.held = {"1"}
    processor.start()
    try:
        posted = [await _post(run, "1")]
        await eventually(lambda: tracker.fetched == [["1"]])
        posted += [await _post(run, n) for n in ("2", "3")]
        await eventually(lambda: processor.waiting == 2)
        tracker.fail_transiently = 2  # the held fetch, then the batch that gathered behind it
        tracker.release.set()
        # Backoff is 0 in tests: the retries are due at once (claimed at the next wake or poll).
        await eventually(lambda: all(i.status == "done" for i in _inbox(run).values()))
    finally:
        await processor.stop()
    inbox = _inbox(run)
    assert tracker.fetched[:2] == [["1"], ["2", "3"]]
    assert [(inbox[d].status, inbox[d].attempts) for d in posted] == [("done", 1)] * 3
    assert run.hub.db.count_records(connector="jira") == 3
