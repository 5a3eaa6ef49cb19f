"""Ground truth of the Google Calendar and Microsoft Graph simulators.

Google: every event a full ``events.list`` (no ``singleEvents``) returns live, i.e. not
cancelled (series masters and their exceptions are separate records), as its stored
resource, mapped by the connector's own per-item rule (which also drops unmappable items).

Outlook: the items an initial ``calendarView/delta`` round over the connector's window
would return, built by the simulator's own delta page reader (times in UTC, text
bodies: what the connector's ``Prefer`` header asks for). An occurrence carries the
series master's iCalUId, as the connector passes it to ``to_unified``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from app.connectors.google_calendar.connector import GoogleCalendarConnector
from app.connectors.outlook.connector import OutlookConnector, _timestamp
from app.connectors.outlook.mapping import to_unified
from app.sandbox.google_calendar.simulator import GoogleCalendarSimulator
from app.sandbox.graph.delta import DeltaState, read_delta_page
from app.sandbox.graph.simulator import GraphSimulator
from app.sandbox.truth.model import TruthRecord

__all__ = ["google_truth", "outlook_truth"]

_EVERYTHING = 10**9
"""A page size no calendar reaches: the whole initial round in one page."""


def google_truth(sim: GoogleCalendarSimulator, connector: GoogleCalendarConnector) -> Iterator[TruthRecord]:
    with sim.lock:
        store = sim.store
        calendars = connector.settings.calendars or list(store.calendars)
        now = datetime.now(UTC)
        for calendar_id in calendars:
            cal = store.calendar(calendar_id)
            for event in cal.events.values():
                if event.cancelled:
                    continue
                change = GoogleCalendarConnector._change(calendar_id, event.public(), now)
                if change is not None:
                    yield TruthRecord.of(connector.name, "events", calendar_id, change)


def _parse_window(window: dict[str, str]) -> tuple[datetime, datetime]:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return parse(window["startDateTime"]), parse(window["endDateTime"])


def outlook_truth(sim: GraphSimulator, connector: OutlookConnector) -> Iterator[TruthRecord]:
    start, end = _parse_window(connector._window())
    with sim.lock:
        store = sim.store
        user = store.resolve_user(connector.settings.user)
        calendars = connector.settings.calendars or [c.id for c in store.user_calendars(user.id)]
        for calendar_id in calendars:
            state = DeltaState(user.id, calendar_id, start, end, 0, store.seq, (0, 0), store.generation)
            page = read_delta_page(store, state, _EVERYTHING, "UTC", None, "text")
            for item in page.items:
                master_id = item.get("seriesMasterId")
                master = store.events.get(master_id) if master_id else None
                series_uid = master.instance().render()["iCalUId"] if master and not master.deleted else None
                body = to_unified(item, calendar_id, series_uid)
                yield TruthRecord(
                    connector.name,
                    "events",
                    calendar_id,
                    str(item["id"]),
                    item.get("changeKey"),
                    body,
                    item.get("webLink"),
                    _timestamp(item.get("createdDateTime")),
                    _timestamp(item.get("lastModifiedDateTime")),
                )
