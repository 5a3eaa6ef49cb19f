"""Reading Outlook calendars through the sandbox: rounds, pages, tombstones, dead cursors, calls."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from outlook_helpers import read_round, settings_for

from app.connectors.outlook import OutlookConnector
from app.errors import CursorInvalidated
from app.sandbox.common import ServedApp
from app.sandbox.graph import GraphSimulator
from app.sandbox.graph import odata as sandbox_odata


async def test_a_no_change_incremental_read_is_one_call_per_calendar(
    sim: GraphSimulator, connector: OutlookConnector
) -> None:
    calendars = await connector.list_partitions("events")
    cursors = {}
    for calendar in calendars:
        _, cursors[calendar], _, _ = await read_round(connector, calendar, None)
    seq = sim.log.last_seq
    for calendar in calendars:
        changes, cursor, pages, calls = await read_round(connector, calendar, cursors[calendar])
        assert (changes, pages, calls) == ([], 1, 1)
        assert cursor is not None
    assert len(sim.log.since(seq)) == len(calendars) == 2


async def test_a_full_read_pages_by_what_graph_honours_and_resumes_from_any_page(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_odata, "MAX_PAGE_SIZE", 25)
    pages = []
    async for page in connector.read_changes("events", calendar, None):
        pages.append(page)
    assert len(pages) > 3
    assert all(len(p.changes) == 25 for p in pages[:-1])
    assert "$skiptoken=" in str(pages[0].cursor_after) and "$deltatoken=" in str(pages[-1].cursor_after)
    # A crash after page 2: resuming from its cursor reads exactly the rest of the round.
    rest, _, _, _ = await read_round(connector, calendar, pages[1].cursor_after)
    assert [c.external_id for c in rest] == [c.external_id for p in pages[2:] for c in p.changes]


async def test_occurrences_carry_their_series_and_its_shared_ical_uid(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    changes, _, _, _ = await read_round(connector, calendar, None)
    scrums = [c.body for c in changes if c.body is not None and c.body.title == "Daily scrum"]
    assert len(scrums) > 40
    assert {s.ical_uid for s in scrums} == {sim.meeting_ical_uid("daily-scrum")}
    assert all(s.series_id for s in scrums)
    assert all(s.start.tzinfo is not None for s in scrums)


async def test_a_deleted_event_and_a_cancelled_occurrence_become_tombstones(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    changes, cursor, _, _ = await read_round(connector, calendar, None)
    single = next(c for c in changes if c.body is not None and c.body.series_id is None)
    occurrence = next(c for c in changes if c.body is not None and c.body.series_id is not None)
    sim.delete_event(single.external_id)
    sim.cancel_event(occurrence.external_id)
    later, _, _, _ = await read_round(connector, calendar, cursor)
    tombstoned = {c.external_id for c in later if c.tombstone is not None}
    assert {single.external_id, occurrence.external_id} <= tombstoned


async def test_a_moved_meeting_shows_its_new_time(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    changes, cursor, _, _ = await read_round(connector, calendar, None)
    single = next(c for c in changes if c.body is not None and c.body.series_id is None)
    assert single.body is not None
    sim.move_event(single.external_id, timedelta(minutes=30))
    later, _, _, _ = await read_round(connector, calendar, cursor)
    moved = next(c for c in later if c.external_id == single.external_id)
    assert moved.body is not None and moved.body.start == single.body.start + timedelta(minutes=30)
    assert moved.version != single.version


async def test_an_expired_delta_token_raises_cursor_invalidated(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    _, cursor, _, _ = await read_round(connector, calendar, None)
    sim.expire_delta_tokens()
    with pytest.raises(CursorInvalidated):
        await read_round(connector, calendar, cursor)


async def test_one_token_is_fetched_for_many_concurrent_calls(sim: GraphSimulator, served: ServedApp) -> None:
    async with OutlookConnector("outlook", settings_for(served.url)) as fresh:
        await asyncio.gather(*(fresh.list_partitions("events") for _ in range(12)))
        assert fresh.client.tokens.acquisitions == 1
    assert sim.issuer.issued == 1


async def test_get_many_returns_bodies_and_tombstones_for_missing_ids(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    changes, _, _, _ = await read_round(connector, calendar, None)
    sample = [c for c in changes if c.body is not None][:2]
    fetched = await connector.get_many("events", [c.external_id for c in sample] + ["AAMk-gone"])
    assert [c.body for c in fetched[:2]] == [c.body for c in sample]
    assert fetched[2].tombstone is not None and fetched[2].external_id == "AAMk-gone"
