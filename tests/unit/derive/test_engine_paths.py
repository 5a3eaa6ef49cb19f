"""Both ways records enter the hub derive links in the page's own transaction: pulls and webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.connectors.base import WebhookHint
from app.connectors.memory import MemoryConnector
from app.models import CalendarEvent, WorkItem, hub_id_for
from app.settings import MemorySettings, PairEndpoint, PairSettings, SyncSettings
from app.storage import RunStatus, SqlStore
from app.sync import run_sync
from app.sync.derive import MENTION_RULE, MIRROR_RULE
from app.webhooks.targeted import apply_hint

from .support import linked, message, write

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _meeting(uid: str, title: str = "Sprint review") -> CalendarEvent:
    return CalendarEvent(calendar="team", title=title, start=AT, end=AT + timedelta(hours=1), ical_uid=uid)


async def test_a_pull_and_a_webhook_both_derive_links(store: SqlStore) -> None:
    a = MemoryConnector("cal-a", MemorySettings(items=0))
    b = MemoryConnector("cal-b", MemorySettings(items=0))
    a_id = a.add("events", "team", _meeting("uid-review"))
    b_id = b.add("events", "team", _meeting("uid-review", "Review (Outlook copy)"))
    pair = PairSettings(id="cal-a", source=PairEndpoint(connector="cal-a", stream="events"))

    run = await run_sync(pair, {"cal-a": a}, store, trigger="test", settings=SyncSettings())
    assert run.status is RunStatus.SUCCEEDED
    counts = await apply_hint(
        store,
        b,
        WebhookHint(connector="cal-b", stream="events", partition="team", external_ids=(b_id,)),
        lineage="delivery-1",
        received_at=AT,
        clock=lambda: AT,
        lease_ttl_s=30,
    )
    assert counts.created == 1

    a_hub, b_hub = hub_id_for("cal-a", "events", a_id), hub_id_for("cal-b", "events", b_id)
    assert linked(store, a_hub) == {
        (a_hub, b_hub, "mirrors", MIRROR_RULE),
        (b_hub, a_hub, "mirrors", MIRROR_RULE),
    }

    # A webhook that says the copy is gone removes the mirror in the same write.
    await apply_hint(
        store,
        b,
        WebhookHint(connector="cal-b", stream="events", partition="team", deleted_ids=(b_id,)),
        lineage="delivery-2",
        received_at=AT,
        clock=lambda: AT,
        lease_ttl_s=30,
    )
    assert linked(store, a_hub) == set()


async def test_work_items_pulled_by_the_engine_link_the_messages_waiting_for_them(store: SqlStore) -> None:
    [msg] = write(store, "slack", message("1.0", "ALPHA-1 is ready for review"))
    tool = MemoryConnector("tracker", MemorySettings(items=0))
    item_id = tool.add("items", "alpha", WorkItem(key="ALPHA-1", title="Checkout form"))
    pair = PairSettings(id="tracker", source=PairEndpoint(connector="tracker", stream="items"))

    run = await run_sync(pair, {"tracker": tool}, store, trigger="test", settings=SyncSettings())

    assert run.status is RunStatus.SUCCEEDED
    item = hub_id_for("tracker", "items", item_id)
    assert linked(store, msg) == {(msg, item, "mentions", MENTION_RULE)}
