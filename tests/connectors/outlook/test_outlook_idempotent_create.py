"""A create with an idempotency key: it becomes the Graph transactionId, so a retry makes no second event."""

from __future__ import annotations

from outlook_helpers import hub_event

from app.connectors.outlook import OutlookConnector
from app.sandbox.graph import GraphSimulator


async def test_a_retried_create_with_the_same_key_makes_one_event(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    before = len(sim.events_of("po"))
    first = await connector.create("events", calendar, hub_event(calendar), origin="hub:p", idempotency_key="k-1")
    # The outbox re-sends the body it queued; a different body under the same key is still the same write.
    retried = await connector.create("events", calendar, hub_event(calendar, "Changed"), origin="hub:p",
                                     idempotency_key="k-1")
    other = await connector.create("events", calendar, hub_event(calendar), origin="hub:p", idempotency_key="k-2")
    assert retried.external_id == first.external_id != other.external_id
    assert len(sim.events_of("po")) == before + 2
