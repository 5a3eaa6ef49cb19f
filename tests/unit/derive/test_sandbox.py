"""End to end over real HTTP: the seeded team synced from the sandbox has links and one person each."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.demo import DEFAULT_DEMO_CONFIG, point_at_sandbox
from app.hub import Hub
from app.models import CalendarEvent, Message, Record, RecordKind, WorkItem
from app.sandbox.google_calendar.meetings import team_meetings
from app.sandbox.runner import Sandbox, start_sandbox
from app.settings import load_settings
from app.storage import RecordQuery, RunStatus, Store
from app.sync.derive import ATLASSIAN, MENTION_RULE, MIRROR_RULE

pytestmark = pytest.mark.e2e

# Messages first: their mentions wait for the work items, which link them when they arrive.
PAIRS = [
    "slack-messages",
    "confluence-pages",
    "google-events",
    "jira-issues",
    "outlook-events",
    "slack-people",
]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(
        base_port=0, seed=3, vendors=["jira", "confluence", "slack", "google_calendar", "graph"]
    )
    try:
        assert not running.missing, running.missing
        yield running
    finally:
        running.stop()


def _all(store: Store, kind: RecordKind) -> list[Record]:
    return store.search_records(RecordQuery(kind=kind, limit=10_000))


async def test_seeded_mentions_meetings_and_people_are_linked_after_a_sync(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = point_at_sandbox(load_settings(DEFAULT_DEMO_CONFIG, data_dir=tmp_path / "data"), sandbox.urls)
    async with Hub(settings, migrate=True) as hub:
        took: dict[str, float] = {}
        for pair_id in PAIRS:
            started = time.perf_counter()
            run = await hub.sync(pair_id, full=True)
            took[pair_id] = time.perf_counter() - started
            assert run.status is RunStatus.SUCCEEDED, (pair_id, run.error)
        print("sync seconds with derivation:", {k: round(v, 2) for k, v in took.items()})
        store = hub.db

        items = {
            r.body.key: r.hub_id for r in _all(store, RecordKind.WORK_ITEM) if isinstance(r.body, WorkItem)
        }
        mentioning = 0
        for msg in _all(store, RecordKind.MESSAGE):
            assert isinstance(msg.body, Message)
            keys = set(re.findall(r"\bCHK-\d+\b", msg.body.text))
            out = {
                x.to_record
                for x in store.links_for(msg.hub_id)
                if x.from_record == msg.hub_id and x.derived_by == MENTION_RULE
            }
            assert out == {items[k] for k in keys if k in items}, msg.body.text
            mentioning += bool(out)
        assert mentioning >= 10, "the seeded channels talk about CHK issues"

        # (hub id, system, body) of every event
        events = [
            (r.hub_id, r.source.system, r.body)
            for r in _all(store, RecordKind.CALENDAR_EVENT)
            if isinstance(r.body, CalendarEvent)
        ]
        shared = [m for m in team_meetings(sandbox.world) if "outlook" in m.systems]
        assert shared
        for meeting in shared:
            google = {
                hub
                for hub, system, body in events
                if system == "google_calendar"
                and body.ical_uid == meeting.ical_uid
                and body.series_id is None
            }
            outlook = {
                hub
                for hub, system, body in events
                if system == "outlook" and body.ical_uid == meeting.ical_uid
            }
            assert google and outlook, meeting.title
            for g in google:
                mirrored = {
                    x.to_record
                    for x in store.links_for(g)
                    if x.from_record == g and x.kind == "mirrors" and x.derived_by == MIRROR_RULE
                }
                assert outlook <= mirrored, meeting.title

        people = store.list_people(limit=500)
        atlassian_emails = {
            a["account_id"]: a["email"] for p in people for a in p["accounts"] if a["system"] == ATLASSIAN
        }
        merged_with_jira = 0
        for member in sandbox.world.members:
            person = store.person_for_account("slack", member.slack_user_id)
            assert person is not None, member.name
            assert store.person_for_account("google_calendar", member.email) == person, member.name
            # Jira shows an email only for users on issues (assignee, reporter); a Confluence
            # author is an id alone, so it joins nobody by email.
            if atlassian_emails.get(member.jira_account_id):
                assert store.person_for_account(ATLASSIAN, member.jira_account_id) == person, member.name
                merged_with_jira += 1
        assert merged_with_jira >= 4
        cast = {m.email for m in sandbox.world.members}
        assert sum(1 for p in people if cast & set(p["emails"])) == len(cast)
