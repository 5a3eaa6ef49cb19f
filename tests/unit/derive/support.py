"""Build vendor-shaped changes and write them through the engine's own prepare + commit steps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from app.connectors.base import Change
from app.models import (
    Account,
    Attendee,
    CalendarEvent,
    DeleteReason,
    Document,
    Message,
    Person,
    RecordKind,
    Tombstone,
    WorkItem,
    hub_id_for,
)
from app.storage import CursorKey, Store, Transaction
from app.sync.apply import commit_page
from app.sync.derive import derive_page
from app.sync.prepare import Prepared, prepare_page

__all__ = [
    "MONDAY",
    "delete",
    "document",
    "event",
    "hub_id",
    "issue",
    "linked",
    "message",
    "slack_user",
    "write",
    "write_in",
]

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# connector name -> (system, stream, kind)
_STREAMS: dict[str, tuple[str, str, RecordKind]] = {
    "jira": ("jira", "issues", RecordKind.WORK_ITEM),
    "slack": ("slack", "messages", RecordKind.MESSAGE),
    "slack-users": ("slack", "users", RecordKind.PERSON),
    "wiki": ("confluence", "pages", RecordKind.DOCUMENT),
    "gcal": ("google_calendar", "events", RecordKind.CALENDAR_EVENT),
    "outlook": ("outlook", "events", RecordKind.CALENDAR_EVENT),
}
_versions: dict[tuple[str, str], int] = {}


def hub_id(connector: str, external_id: str) -> str:
    return hub_id_for(connector, _STREAMS[connector][1], external_id)


def _version(connector: str, external_id: str) -> str:
    n = _versions[(connector, external_id)] = _versions.get((connector, external_id), 0) + 1
    return f"v{n}"


def _prepare(store: Store, connector: str, changes: Sequence[Change], partition: str) -> list[Prepared]:
    system, stream, kind = _STREAMS[connector]
    ids = [hub_id_for(connector, stream, c.external_id) for c in changes]
    return prepare_page(
        changes,
        store.stored_states(ids),
        connector=connector,
        system=system,
        stream=stream,
        kind=kind,
        partition=partition,
        fetched_at=datetime.now(UTC),
    )


def write_in(tx: Transaction, store: Store, connector: str, *changes: Change) -> list[str]:
    """What ``commit_page`` does with a page, inside a transaction the test holds open."""
    prepared = _prepare(store, connector, changes, "")
    for item in prepared:
        assert item.record is not None
        tx.upsert_record(item.record, "test")
    derive_page(tx, prepared)
    return [p.hub_id for p in prepared]


def write(store: Store, connector: str, *changes: Change, partition: str = "") -> list[str]:
    """One page through ``prepare_page`` + ``commit_page``, as a pull or a webhook writes it."""
    stream = _STREAMS[connector][1]
    ids = [hub_id_for(connector, stream, c.external_id) for c in changes]
    prepared = _prepare(store, connector, changes, partition)
    commit_page(
        store, prepared, key=CursorKey(connector, stream, partition), cursor_after=None, run_id="test"
    )
    return ids


def _change(connector: str, external_id: str, body: Any, raw: dict[str, Any] | None = None) -> Change:
    return Change(external_id, _version(connector, external_id), body=body, raw=raw or {})


def delete(connector: str, external_id: str) -> Change:
    return Change(
        external_id, None, tombstone=Tombstone(deleted_at=datetime.now(UTC), reason=DeleteReason.DELETED)
    )


def message(ts: str, text: str, channel: str = "C1") -> Change:
    return _change("slack", f"{channel}:{ts}", Message(channel=channel, text=text, ts=ts, author="U1"))


def issue(
    issue_id: str,
    key: str,
    title: str = "Work",
    assignee: dict[str, Any] | None = None,
    reporter: dict[str, Any] | None = None,
) -> Change:
    body = WorkItem(
        key=key,
        title=title,
        assignee=(assignee or {}).get("accountId"),
        reporter=(reporter or {}).get("accountId"),
    )
    raw = {
        "id": issue_id,
        "key": key,
        "fields": {"summary": title, "assignee": assignee, "reporter": reporter},
    }
    return _change("jira", issue_id, body, raw)


def document(page_id: str, title: str, text: str, author: str | None = None) -> Change:
    return _change("wiki", page_id, Document(title=title, body_text=text, author=author))


def event(
    connector: str,
    external_id: str,
    ical_uid: str | None,
    title: str = "Sprint planning",
    *,
    start: datetime = MONDAY,
    series_id: str | None = None,
    description: str = "",
    attendees: Sequence[str] = (),
    organizer: str | None = None,
    raw: dict[str, Any] | None = None,
) -> Change:
    body = CalendarEvent(
        calendar="team",
        title=title,
        description=description,
        start=start,
        end=start + timedelta(hours=1),
        ical_uid=ical_uid,
        series_id=series_id,
        organizer=organizer,
        attendees=tuple(Attendee(email=a) for a in attendees),
    )
    return _change(connector, external_id, body, raw)


def slack_user(user_id: str, name: str, email: str | None, confirmed: bool = True) -> Change:
    account = Account(
        system="slack",
        account_id=user_id,
        email=email,
        email_verified=bool(email) and confirmed,
        display_name=name,
    )
    body = Person(display_name=name, emails=(email,) if email else (), accounts=(account,))
    return _change("slack-users", user_id, body)


def linked(store: Store, hub: str, kind: str | None = None) -> set[tuple[str, str, str, str]]:
    """(from, to, kind, derived_by) of every link touching ``hub``."""
    return {
        (x.from_record, x.to_record, x.kind, x.derived_by)
        for x in store.links_for(hub)
        if kind is None or x.kind == kind
    }
