"""The pure rules: which keys a text mentions, and which accounts a record shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.models import CalendarEvent, Document, Message, RecordKind, WorkItem
from app.sync.derive import ATLASSIAN, account_sightings, account_system, mentioned_keys
from app.sync.derive.links import MAX_MENTIONS
from app.sync.prepare import build_record


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("CHK-12 is done", {"CHK-12"}),
        ("<https://orbit.atlassian.net/browse/CHK-7|CHK-7> and feature/PAY_2-31-fix", {"CHK-7", "PAY_2-31"}),
        ("(CHK-1), CHK-2. CHK-3: CHK-4!", {"CHK-1", "CHK-2", "CHK-3", "CHK-4"}),
        ("chk-12 XCHK-0 CHK-012 CHK-12a A-1 TOOLONGPROJ-1 ABC-", set()),
        ("UTF-8 looks like a key", {"UTF-8"}),
    ],
)
def test_jira_style_keys_are_found_between_word_boundaries(text: str, keys: set[str]) -> None:
    assert mentioned_keys(Message(channel="C", ts="1", text=text)) == keys


def test_documents_and_events_are_read_in_title_and_text_and_other_kinds_not_at_all() -> None:
    doc = Document(title="CHK-1 notes", body_text="see CHK-2", body_storage="<p>CHK-3</p>")
    at = datetime(2026, 3, 2, tzinfo=UTC)
    meeting = CalendarEvent(calendar="c", title="Demo CHK-4", description="CHK-5", start=at, end=at)
    assert mentioned_keys(doc) == {"CHK-1", "CHK-2"}
    assert mentioned_keys(meeting) == {"CHK-4", "CHK-5"}
    assert mentioned_keys(WorkItem(key="CHK-9", title="relates to CHK-8")) == frozenset()


def test_a_text_listing_too_many_keys_keeps_the_first_ones() -> None:
    text = " ".join(f"CHK-{n}" for n in range(1, MAX_MENTIONS + 50))
    keys = mentioned_keys(Message(channel="C", ts="1", text=text))
    assert len(keys) == MAX_MENTIONS
    assert "CHK-1" in keys and f"CHK-{MAX_MENTIONS + 1}" not in keys


def test_jira_and_confluence_accounts_share_the_atlassian_namespace() -> None:
    assert account_system("jira") == account_system("confluence") == ATLASSIAN
    assert account_system("slack") == "slack"


def test_google_group_and_resource_calendars_are_not_people() -> None:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    body = CalendarEvent(
        calendar="c",
        title="t",
        start=at,
        end=at,
        organizer="team@group.calendar.google.com",
    )
    record = build_record(
        connector="gcal",
        system="google_calendar",
        stream="events",
        kind=RecordKind.CALENDAR_EVENT,
        partition="c",
        external_id="c/e",
        version="1",
        body=body,
        fetched_at=at,
    )
    assert account_sightings(record) == []
