"""What a stored cursor claims is already in the hub, per connector, and whether it is.

The engine commits each page's records and the cursor after it in one transaction, so
after any crash every stored cursor must be *behind or at* the committed records: each
source item the cursor says was read must be live in the hub at the source's version.
"Ahead" is defined per connector from the cursor's own content:

- Jira issues: ``updated_ms`` and ``read_ms`` — every issue of the project updated at or before
  the later of the two;
- Jira sprints, Slack users: the ids (and versions) the cursor lists;
- Confluence pages: ``since`` — every current page saved before it, and those in ``seen``;
- Slack messages: ``oldest`` — every top-level message at or before it, with its replies;
- Google events: a sync token is only handed out after the last page — the whole calendar;
- Outlook events: a ``$deltatoken`` (round finished) — the whole window; a ``$skiptoken`` — the
  items of the round before its position (replayed with the simulator's own delta reader).

The source must not change while this is checked (the kill trials leave it alone).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from app.connectors.base import Connector
from app.models import Message
from app.sandbox.graph.delta import DeltaState, read_delta_page
from app.sandbox.runner import Sandbox
from app.sandbox.truth import TruthRecord, ground_truth
from app.storage.protocol import Store
from app.sync.cursors import unwrap_cursor

__all__ = ["cursor_problems"]

Covers = Callable[[TruthRecord], bool]


def _jira(sandbox: Sandbox, stream: str, cursor: str) -> Covers:
    data = json.loads(cursor)
    if stream == "sprints":
        listed = set(data["versions"])
        return lambda t: t.external_id in listed
    sim: Any = sandbox.simulators["jira"]
    # A complete read also claims what Jira showed when it began (the trials add no search lag).
    upto = max(int(data["updated_ms"]), int(data.get("read_ms") or 0))
    return lambda t: int(sim.store.issues[int(t.external_id)].updated_ms) <= upto


def _confluence(sandbox: Sandbox, stream: str, cursor: str) -> Covers:
    data = json.loads(cursor)
    since, seen = int(data["since"]), set(data["seen"])
    sim: Any = sandbox.simulators["confluence"]

    def saved_ms(page_id: str) -> int:
        return int(sim.wiki.page(page_id).versions[-1].created_at.timestamp() * 1000)

    return lambda t: t.external_id in seen or saved_ms(t.external_id) < since


def _slack(sandbox: Sandbox, stream: str, cursor: str) -> Covers:
    data = json.loads(cursor)
    if stream == "users":
        listed = set(data["users"])
        return lambda t: t.external_id in listed
    oldest = Decimal(data["oldest"]) if data.get("oldest") else None

    def covers(t: TruthRecord) -> bool:
        body = t.body
        assert isinstance(body, Message)
        top = body.thread_ts if body.thread_ts and body.thread_ts != body.ts else body.ts
        return oldest is not None and Decimal(top) <= oldest

    return covers


def _google(sandbox: Sandbox, stream: str, cursor: str) -> Covers:
    return lambda t: True


def _outlook(sandbox: Sandbox, stream: str, cursor: str) -> Covers:
    if "$deltatoken=" in cursor:
        return lambda t: True
    token = cursor.split("$skiptoken=")[1].split("&")[0].split(".")[0]
    state = DeltaState.from_json(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))))
    sim: Any = sandbox.simulators["graph"]
    with sim.lock:
        start = DeltaState(state.user_id, state.calendar_id, state.start, state.end, state.low, state.high,
                           (0, 0), state.generation)
        everything = read_delta_page(sim.store, start, 10**9, "UTC", None)
        rest = read_delta_page(sim.store, state, 10**9, "UTC", None)
    before = {i["id"] for i in everything.items} - {i["id"] for i in rest.items}
    return lambda t: t.external_id in before


_BY_SYSTEM: dict[str, Callable[[Sandbox, str, str], Covers]] = {
    "jira": _jira,
    "confluence": _confluence,
    "slack": _slack,
    "google_calendar": _google,
    "outlook": _outlook,
}


def cursor_problems(
    store: Store, sandbox: Sandbox, connectors: Mapping[str, Connector]
) -> tuple[list[str], int]:
    """Cursors that claim source items the hub has not committed; and how many cursors were checked."""
    problems: list[str] = []
    checked = 0
    truth: dict[str, list[TruthRecord]] = {name: ground_truth(sandbox, c) for name, c in connectors.items()}
    for state in store.list_cursors():
        key = state.key
        cursor, _ = unwrap_cursor(state.value)
        if cursor is None or key.connector not in connectors:
            continue
        checked += 1
        covers = _BY_SYSTEM[connectors[key.connector].system](sandbox, key.stream, cursor)
        records = store.iter_records(key.connector, key.stream, include_deleted=False)
        live = {r.source.external_id: r for r in records if r.source.partition == key.partition}
        for item in truth[key.connector]:
            if item.stream != key.stream or item.partition != key.partition or not covers(item):
                continue
            held = live.get(item.external_id)
            where = f"{key.connector}/{key.stream}/{key.partition}"
            if held is None:
                problems.append(f"{where}: the cursor covers {item.external_id}, which is not committed")
            elif held.source_version != item.version:
                problems.append(f"{where}: the cursor covers {item.external_id} at {item.version}, "
                                f"the hub holds {held.source_version}")
    return problems, checked
