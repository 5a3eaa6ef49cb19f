"""The connector contract for Outlook, against the Graph simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from app.connectors.outlook import OutlookConnector
from app.models import AnyBody
from app.models.calendar import Attendee, CalendarEvent
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.graph import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID, GraphSimulator
from app.settings import OutlookSettings

try:  # the contract lives beside the tests; `tests` is a package only when run from the repo root
    from tests.contract.connector_contract import WritableConnectorContract
except ModuleNotFoundError:
    from contract.connector_contract import WritableConnectorContract  # type: ignore[no-redef]


class OutlookSource:
    """Changes the sandbox the way a user of Outlook would."""

    def __init__(self, sim: GraphSimulator) -> None:
        self.sim = sim
        self._made = 0

    def partition(self) -> str:
        return next(c.id for c in self.sim.calendars("po") if c.is_default)

    def _single(self, partition: str) -> str:
        soon = datetime.now(UTC) + timedelta(days=1)
        return next(
            e.id
            for e in self.sim.events_of("po", partition)
            if not e.is_series and not e.is_cancelled and e.start > soon
        )

    def touch(self, partition: str) -> str:
        event_id = self._single(partition)
        self.sim.update_event(event_id, {"subject": "Edited in Outlook"})
        return event_id

    def add(self, partition: str) -> str:
        self._made += 1
        day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
        created = self.sim.create_event(
            "po",
            {
                "subject": f"Added in Outlook {self._made}",
                "start": {"dateTime": f"{day}T10:00:00", "timeZone": "Romance Standard Time"},
                "end": {"dateTime": f"{day}T11:00:00", "timeZone": "Romance Standard Time"},
            },
            partition,
        )
        return str(created["id"])

    def remove(self, partition: str) -> str:
        event_id = self._single(partition)
        self.sim.delete_event(event_id)
        return event_id

    def revoke_token(self) -> None:
        self.sim.chaos.update({"token_expired": True})

    def new_body(self, partition: str) -> AnyBody:
        start = datetime.combine(
            datetime.now(UTC).date() + timedelta(days=5), datetime.min.time(), UTC
        ) + timedelta(hours=9)
        return CalendarEvent(
            calendar=partition,
            title="Created by the hub",
            description="Agenda: CHK-7",
            start=start,
            end=start + timedelta(hours=1),
            location="Room Ada",
            attendees=(Attendee(email=self.sim.world.member("qa").email, name="Mei Chen"),),
        )

    def edited(self, body: AnyBody) -> AnyBody:
        assert isinstance(body, CalendarEvent)
        return body.model_copy(
            update={
                "title": body.title + " (moved)",
                "start": body.start + timedelta(hours=1),
                "end": body.end + timedelta(hours=1),
            }
        )


@pytest.fixture
def sim() -> GraphSimulator:
    return GraphSimulator()


@pytest.fixture
def served(sim: GraphSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    yield app
    app.stop()


def outlook_settings(url: str) -> OutlookSettings:
    return OutlookSettings(
        tenant_id=SANDBOX_TENANT_ID,
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SecretStr(SANDBOX_CLIENT_SECRET),
        base_url=url,
        authority_url=url,
        client_state=SecretStr("contract-client-state"),
    )


@pytest.fixture
async def connector(served: ServedApp) -> AsyncIterator[OutlookConnector]:
    async with OutlookConnector("outlook", outlook_settings(served.url)) as conn:
        yield conn


@pytest.fixture
def source(sim: GraphSimulator) -> OutlookSource:
    return OutlookSource(sim)


class TestOutlookContract(WritableConnectorContract):
    stream = "events"
