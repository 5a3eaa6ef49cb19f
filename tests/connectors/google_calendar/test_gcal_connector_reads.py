"""Reads against the simulator: full-read parameters, one call per quiet calendar, 410, series."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest
from gcal_connector_helpers import event_requests, fast_policy, sandbox_settings

from app.connectors.base import Page
from app.connectors.google_calendar import GoogleCalendarConnector
from app.errors import CursorInvalidated
from app.models.calendar import CalendarEvent
from app.sandbox.common import ServedApp
from app.sandbox.google_calendar import GoogleCalendarSimulator


async def _read(connector: GoogleCalendarConnector, calendar: str, cursor: str | None) -> list[Page]:
    return [page async for page in connector.read_changes("events", calendar, cursor)]


def _cursor(pages: list[Page]) -> str:
    cursor = pages[-1].cursor_after
    assert cursor is not None
    return cursor


async def test_a_full_read_asks_for_2500_per_page_and_deleted_events(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    await _read(connector, sim.team_calendar, None)
    (request,) = event_requests(sim.log.since(0), sim.team_calendar)
    query = parse_qs(request.query)
    assert query["maxResults"] == ["2500"] and query["showDeleted"] == ["true"]
    assert "singleEvents" not in query and "syncToken" not in query


async def test_an_incremental_read_with_no_change_costs_one_call_per_calendar(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    calendars = [sim.team_calendar, sim.user_email]
    cursors = {c: _cursor(await _read(connector, c, None)) for c in calendars}
    seen = sim.log.last_seq
    for calendar in calendars:
        pages = await _read(connector, calendar, cursors[calendar])
        assert [list(p.changes) for p in pages] == [[]]
        assert pages[-1].cursor_after is not None
    new = sim.log.since(seen)
    assert len(new) == len(calendars)
    for calendar in calendars:
        (request,) = event_requests(new, calendar)
        assert parse_qs(request.query)["syncToken"] == [cursors[calendar]]


async def test_a_long_calendar_pages_and_only_the_last_page_carries_the_cursor(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    for n in range(2600):
        sim.create_event(
            sim.user_email,
            {"summary": f"bulk {n}", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}},
        )
    pages = await _read(connector, sim.user_email, None)
    assert [len(p.changes) >= 2500 for p in pages] == [True, False]
    assert pages[0].cursor_after is None and pages[1].cursor_after is not None


async def test_a_dead_sync_token_raises_cursor_invalidated_for_that_calendar_only(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    team = _cursor(await _read(connector, sim.team_calendar, None))
    mine = _cursor(await _read(connector, sim.user_email, None))
    sim.expire_sync_tokens(sim.team_calendar)
    with pytest.raises(CursorInvalidated):
        await _read(connector, sim.team_calendar, team)
    assert [list(p.changes) for p in await _read(connector, sim.user_email, mine)] == [[]]
    assert await _read(connector, sim.team_calendar, None)


async def test_masters_and_exceptions_are_separate_records_linked_by_series_id(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    changes = [c for p in await _read(connector, sim.team_calendar, None) for c in p.changes]
    bodies = {c.external_id: c.body for c in changes if isinstance(c.body, CalendarEvent)}
    exceptions = [b for b in bodies.values() if b.series_id is not None]
    assert exceptions
    for exception in exceptions:
        master = bodies[exception.series_id or ""]
        assert master.recurrence and master.ical_uid == exception.ical_uid
    cancelled = [c for c in changes if c.tombstone is not None]
    assert cancelled and all("_" in c.external_id.rsplit("/", 1)[1] for c in cancelled)


async def test_an_edit_and_a_cancelled_instance_arrive_incrementally(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    cursor = _cursor(await _read(connector, sim.team_calendar, None))
    master = next(
        e
        for e in sim.store.calendar(sim.team_calendar).events.values()
        if e.resource.get("summary") == "Backlog refinement"
    )
    first = datetime.fromisoformat(master.resource["start"]["dateTime"])
    instance_id = f"{master.id}_{first.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    sim.cancel_event(sim.team_calendar, instance_id)
    changes = [c for p in await _read(connector, sim.team_calendar, cursor) for c in p.changes]
    assert [(c.external_id, c.tombstone is not None) for c in changes] == [
        (f"{sim.team_calendar}/{instance_id}", True)
    ]


async def test_census_lists_ids_and_etags_without_cancelled_instances(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    refs = [r async for batch in connector.list_refs("events", sim.team_calendar) for r in batch]
    live = {
        f"{sim.team_calendar}/{e.id}": e.resource["etag"]
        for e in sim.store.calendar(sim.team_calendar).events.values()
        if not e.cancelled
    }
    assert {r.external_id: r.version for r in refs} == live
    (request,) = event_requests(sim.log.since(0), sim.team_calendar)
    assert "syncToken" not in parse_qs(request.query) and "fields" in parse_qs(request.query)


async def test_get_many_tombstones_deleted_and_unknown_events(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    created = sim.create_event(
        sim.user_email, {"summary": "x", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}}
    )
    sim.cancel_event(sim.user_email, created["id"])
    ids = [f"{sim.user_email}/{created['id']}", f"{sim.user_email}/doesnotexist"]
    changes = await connector.get_many("events", ids)
    assert [(c.external_id, c.tombstone is not None) for c in changes] == [(i, True) for i in ids]


async def test_partitions_come_from_the_calendar_list_when_none_are_configured(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> None:
    async with GoogleCalendarConnector("g", sandbox_settings(served.url), retry_policy=fast_policy()) as conn:
        partitions = await conn.list_partitions("events")
    assert partitions[0] == sim.team_calendar and sim.user_email in partitions and len(partitions) == 7


async def test_the_connector_talks_to_the_full_service_path_form_too(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> None:
    settings = sandbox_settings(served.url, [sim.team_calendar], base_url=f"{served.url}/calendar/v3/")
    async with GoogleCalendarConnector("g", settings, retry_policy=fast_policy()) as conn:
        pages: list[Any] = await _read(conn, sim.team_calendar, None)
    assert pages[-1].cursor_after
    assert all(e.path.startswith("/calendar/v3/") for e in sim.log.since(0))
