"""calendarView/delta in the Graph sandbox: paging, delta links, removals, dead tokens."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from graph_fixtures import window
from graph_spec import validate_exchange

from app.sandbox.graph import GraphSimulator
from app.sandbox.graph.delta import DeltaState, read_delta_page
from app.sandbox.world import TeamWorld


def full_round(
    graph: httpx.Client,
    me_id: str,
    url: str,
    params: dict[str, str] | None = None,
    page_size: int | None = None,
) -> tuple[list[dict[str, Any]], str, list[httpx.Response]]:
    headers = {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}
    items: list[dict[str, Any]] = []
    responses = []
    response = graph.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        validate_exchange(response, me_id)
        responses.append(response)
        body = response.json()
        items.extend(body["value"])
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            response = graph.get(body["@odata.nextLink"], headers=headers)
            continue
        return items, body["@odata.deltaLink"], responses


def test_the_first_round_pages_by_the_preferred_size_and_ends_with_a_delta_link(
    graph: httpx.Client, me_id: str
) -> None:
    items, delta_link, responses = full_round(
        graph, me_id, "/v1.0/me/calendarView/delta", window(), page_size=25
    )
    assert len(responses) > 2
    assert all(len(r.json()["value"]) == 25 for r in responses[:-1])
    assert all(r.headers["Preference-Applied"] == "odata.maxpagesize=25" for r in responses)
    assert "$deltatoken=" in delta_link
    assert len({i["id"] for i in items}) == len(items)
    assert not any("@removed" in i for i in items)


def test_without_a_preference_pages_hold_ten_items(graph: httpx.Client, me_id: str) -> None:
    first = graph.get("/v1.0/me/calendarView/delta", params=window())
    assert len(first.json()["value"]) == 10
    assert "$skiptoken=" in first.json()["@odata.nextLink"]


def test_recurring_meetings_come_as_occurrences_of_their_series(graph: httpx.Client, me_id: str) -> None:
    items, _, _ = full_round(graph, me_id, "/v1.0/me/calendarView/delta", window(), page_size=200)
    scrums = [i for i in items if i["subject"] == "Daily scrum"]
    assert len(scrums) > 40
    assert {i["type"] for i in scrums} == {"occurrence"}
    assert len({i["seriesMasterId"] for i in scrums}) == 1
    assert all(i["start"]["timeZone"] == "UTC" for i in scrums)


def test_a_round_with_no_change_returns_nothing_and_a_new_delta_link(graph: httpx.Client, me_id: str) -> None:
    _, delta_link, _ = full_round(graph, me_id, "/v1.0/me/calendarView/delta", window(), page_size=200)
    items, again, _ = full_round(graph, me_id, delta_link)
    assert items == []
    assert again.startswith("http")


def test_edits_creations_and_deletions_show_in_the_next_round(
    sim: GraphSimulator, graph: httpx.Client, me_id: str
) -> None:
    _, delta_link, _ = full_round(graph, me_id, "/v1.0/me/calendarView/delta", window(), page_size=200)
    singles = [e for e in sim.events_of("po") if not e.is_series]
    edited, deleted = singles[0], singles[1]
    sim.update_event(edited.id, {"subject": "Renamed by Amélie"})
    sim.delete_event(deleted.id)
    start = (edited.start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    added = sim.create_event(
        "po",
        {
            "subject": "New",
            "start": {"dateTime": start, "timeZone": "UTC"},
            "end": {"dateTime": start, "timeZone": "UTC"},
        },
    )
    items, _, _ = full_round(graph, me_id, delta_link)
    by_id = {i["id"]: i for i in items}
    assert by_id[edited.id]["subject"] == "Renamed by Amélie"
    assert by_id[deleted.id] == {
        "@odata.type": "#microsoft.graph.event",
        "id": deleted.id,
        "@removed": {"reason": "deleted"},
    }
    assert by_id[added["id"]]["subject"] == "New"


def test_a_cancelled_occurrence_is_removed_and_an_edited_one_becomes_an_exception(
    sim: GraphSimulator, graph: httpx.Client, me_id: str
) -> None:
    items, delta_link, _ = full_round(graph, me_id, "/v1.0/me/calendarView/delta", window(), page_size=200)
    scrums = [i for i in items if i["subject"] == "Daily scrum"]
    sim.cancel_event(scrums[3]["id"])
    sim.move_event(scrums[5]["id"], timedelta(minutes=15))
    changed, _, _ = full_round(graph, me_id, delta_link, page_size=200)
    by_id = {i["id"]: i for i in changed}
    assert by_id[scrums[3]["id"]]["@removed"] == {"reason": "deleted"}
    assert by_id[scrums[5]["id"]]["type"] == "exception"
    assert by_id[scrums[5]["id"]]["start"]["dateTime"] > scrums[5]["start"]["dateTime"]


def test_the_window_is_fixed_by_the_first_call_and_leaving_it_is_a_removal(
    sim: GraphSimulator, graph: httpx.Client, me_id: str
) -> None:
    items, delta_link, _ = full_round(
        graph, me_id, "/v1.0/me/calendarView/delta", window(10, 10), page_size=200
    )
    single = next(i for i in items if i["type"] == "singleInstance")
    sim.move_event(single["id"], timedelta(days=60))
    changed, _, _ = full_round(graph, me_id, delta_link)
    assert {i["id"]: i for i in changed}[single["id"]]["@removed"] == {"reason": "deleted"}


def test_a_change_during_a_round_is_not_lost(sim: GraphSimulator, graph: httpx.Client, me_id: str) -> None:
    prefer = {"Prefer": "odata.maxpagesize=20"}
    first = graph.get("/v1.0/me/calendarView/delta", params=window(), headers=prefer).json()
    target = first["value"][0]  # already handed out in this round
    sim.update_event(target["id"], {"subject": "Changed mid-round"})
    _, delta_link, _ = full_round(graph, me_id, first["@odata.nextLink"], page_size=20)
    changed, _, _ = full_round(graph, me_id, delta_link)
    assert {i["id"]: i for i in changed}[target["id"]]["subject"] == "Changed mid-round"


def test_an_expired_delta_token_answers_410_sync_state_not_found(
    sim: GraphSimulator, graph: httpx.Client, me_id: str
) -> None:
    _, delta_link, _ = full_round(graph, me_id, "/v1.0/me/calendarView/delta", window(), page_size=200)
    sim.expire_delta_tokens()
    response = graph.get(delta_link)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "SyncStateNotFound"
    validate_exchange(response, me_id)


def test_a_forged_token_answers_410(graph: httpx.Client) -> None:
    response = graph.get("/v1.0/me/calendarView/delta", params={"$deltatoken": "eyJ1IjoiYWRtaW4ifQ.AAAA"})
    assert response.status_code == 410


def test_the_first_call_needs_a_time_window(graph: httpx.Client) -> None:
    response = graph.get("/v1.0/me/calendarView/delta")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorInvalidParameter"


def test_a_named_calendar_has_its_own_delta(sim: GraphSimulator, graph: httpx.Client, me_id: str) -> None:
    releases = next(c for c in sim.calendars("po") if not c.is_default)
    items, _, _ = full_round(graph, me_id, f"/v1.0/me/calendars/{releases.id}/calendarView/delta", window())
    assert sorted(i["subject"] for i in items) == [
        "Release 1.4 go/no-go",
        "Release 1.5 go/no-go",
        "Release 1.6 go/no-go",
    ]


def test_the_outlook_timezone_preference_renders_local_times(graph: httpx.Client) -> None:
    response = graph.get(
        "/v1.0/me/calendarView/delta",
        params=window(),
        headers={"Prefer": 'outlook.timezone="Romance Standard Time", odata.maxpagesize=200'},
    )
    scrum = next(i for i in response.json()["value"] if i["subject"] == "Daily scrum")
    assert scrum["start"]["timeZone"] == "Romance Standard Time"
    assert scrum["start"]["dateTime"].endswith("T09:15:00.0000000")


def test_a_page_costs_about_its_size_not_the_calendar_size() -> None:
    big = GraphSimulator(TeamWorld(seed=2, scale=300))
    store = big.store
    calendar = store.default_calendar(big.user("po").id)
    assert len(store.journals[calendar.id]) > 3000
    now = datetime.now(UTC)
    middle = store.journals[calendar.id][len(store.journals[calendar.id]) // 2][0]
    state = DeltaState(
        calendar.user_id,
        calendar.id,
        now - timedelta(days=30),
        now + timedelta(days=90),
        0,
        store.seq,
        (middle, 0),
        store.generation,
    )
    t0 = time.perf_counter()
    for _ in range(20):
        page = read_delta_page(store, state, 10, "UTC", None)
        state = page.next_state
    per_page = (time.perf_counter() - t0) / 20
    assert len(page.items) == 10
    assert per_page < 0.02, f"{per_page * 1000:.1f} ms per page of 10"
