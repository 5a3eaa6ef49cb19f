"""A dead cursor on one partition (Google 410 ``fullSyncRequired``, Graph 410 ``syncStateNotFound``)
resyncs that partition only: the request logs show one full listing, the others read incrementally
and keep their cursors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest

from app.hub import Hub
from app.sandbox.graph.delta import DeltaState
from app.sandbox.runner import Sandbox
from app.storage.protocol import CursorKey, RunStatus

from .support import assert_converged, demo_settings, sync_until_succeeded

pytestmark = pytest.mark.faults


def _cursors(hub: Hub, connector: str) -> dict[str, str | None]:
    return {c.key.partition: c.value for c in hub.db.list_cursors(connector)}


async def test_google_410_on_one_calendar_resyncs_that_calendar_only(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = demo_settings(sandbox, tmp_path)
    google: Any = sandbox.simulators["google_calendar"]
    async with Hub(settings, migrate=True) as hub:
        await sync_until_succeeded(hub, "google-events", full=True)
        before = _cursors(hub, "google")
        expired = google.team_calendar
        others = sorted(set(before) - {expired})
        assert len(others) >= 2
        google.expire_sync_tokens(expired)
        google.edit_event(expired, _a_single_event(google, expired), {"summary": "edited after the 410"})
        seq = google.log.last_seq

        run = await hub.sync("google-events")

        assert run.status is RunStatus.SUCCEEDED, run.error
        assert run.flags.count(f"cursor_invalidated:google/events/{expired}") == 1
        assert not [f for f in run.flags if f.startswith("cursor_invalidated:") and expired not in f]
        lists = [e for e in google.log.since(seq) if e.method == "GET" and e.path.endswith("/events")]
        full_lists = {_calendar_of(e.path) for e in lists if "syncToken" not in parse_qs(e.query)}
        assert full_lists == {expired}, f"full listings of {full_lists}"
        assert {_calendar_of(e.path) for e in lists} == set(before), "every calendar was read"
        # The other calendars were read from their stored sync tokens, which were never cleared.
        used = {_calendar_of(e.path): (parse_qs(e.query)["syncToken"][0], e.status) for e in lists
                if "syncToken" in parse_qs(e.query)}
        assert used == {expired: (before[expired], 410)} | {p: (before[p], 200) for p in others}
        assert run.cursor_before == {f"google/events/{p}": v for p, v in before.items()}
        assert_converged(hub.db, sandbox, {"google": hub.connectors["google"]})


async def test_graph_410_on_one_calendar_resyncs_that_calendar_only(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = demo_settings(sandbox, tmp_path)
    graph: Any = sandbox.simulators["graph"]
    async with Hub(settings, migrate=True) as hub:
        await sync_until_succeeded(hub, "outlook-events", full=True)
        before = _cursors(hub, "outlook")
        assert len(before) >= 2
        expired = sorted(before)[0]
        others = sorted(set(before) - {expired})
        # The simulator expires delta tokens store-wide only: give this one calendar a token of the
        # previous generation, which Graph answers with 410 syncStateNotFound, as an expired one.
        stale = _previous_generation(graph, before[expired])
        with hub.db.transaction() as tx:
            tx.set_cursor(CursorKey("outlook", "events", expired), stale)
        seq = graph.log.last_seq

        run = await hub.sync("outlook-events")

        assert run.status is RunStatus.SUCCEEDED, run.error
        assert run.flags.count(f"cursor_invalidated:outlook/events/{expired}") == 1
        assert not [f for f in run.flags if f.startswith("cursor_invalidated:") and expired not in f]
        deltas = [e for e in graph.log.since(seq) if e.path.endswith("/calendarView/delta")]
        fresh = {_calendar_of(e.path, "calendars") for e in deltas if "$deltatoken" not in unquote(e.query)}
        assert fresh == {expired}, f"full delta rounds of {fresh}"
        assert [e.status for e in deltas if e.status == 410] == [410]
        after = _cursors(hub, "outlook")
        assert {p: after[p] for p in others} == {p: before[p] for p in others}
        assert after[expired] != stale
        assert_converged(hub.db, sandbox, {"outlook": hub.connectors["outlook"]})


def _a_single_event(google: Any, calendar: str) -> str:
    with google.lock:
        return str(next(e.id for e in google.store.calendar(calendar).events.values()
                        if not e.cancelled and not e.resource.get("recurrence") and not e.is_exception))


def _calendar_of(path: str, marker: str = "calendars") -> str:
    parts = path.split("/")
    return unquote(parts[parts.index(marker) + 1])


def _previous_generation(graph: Any, delta_link: str | None) -> str:
    assert delta_link is not None and "$deltatoken=" in delta_link
    head, _, token = delta_link.partition("$deltatoken=")
    payload = token.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    state = DeltaState.from_json({**data, "g": int(data["g"]) - 1})
    return f"{head}$deltatoken={graph.tokens.encode(state)}"
