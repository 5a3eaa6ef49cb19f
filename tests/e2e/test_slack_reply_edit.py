"""A Slack thread reply edited: invisible to the incremental read by design, brought in by its event.

Slack does not move a thread parent's summary when a reply is edited, so the connector
documents that reply edits arrive through the Events API (a targeted fetch) or the next
full read. The test shows the incremental run leaves exactly that reply behind, then hands
the ``message_changed`` event the simulator emitted to the connector's webhook parser and
the hub's targeted sync, as the webhook processor does after verifying the signature.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.truth import DifferenceKind, format_differences
from app.sync.runs import utc_now
from app.webhooks.targeted import apply_hint
from e2e.burst import newest_message
from e2e.kit import Rig

pytestmark = pytest.mark.e2e


async def test_an_edited_thread_reply_arrives_through_its_event(
    synced: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = synced.sandbox.simulators["slack"]
    assert isinstance(slack, SlackSimulator)
    emitted: list[dict[str, Any]] = []
    emit = slack.events.emit

    def record(event: dict[str, Any]) -> str | None:
        emitted.append(event)
        return emit(event)

    monkeypatch.setattr(slack.events, "emit", record)
    channel = slack.channel_id("team-checkout")
    thread = newest_message(slack, channel, with_replies=True)
    reply = slack.workspace.threads[channel][int(thread.replace(".", ""))][-1]
    was_edited = "edited" in slack.workspace.messages[channel][reply]
    edited = slack.edit_message(channel, reply, "Edited: the 3-D Secure cases pass", user="qa")

    run = await synced.sync("slack-messages")

    differences = synced.differences()
    left = {(d.kind, d.external_id, d.field) for d in differences}
    reply_id = f"{channel}:{edited['ts']}"
    expected = {
        (DifferenceKind.VERSION, reply_id, None),
        (DifferenceKind.ENVELOPE, reply_id, "updated_at_source"),
        (DifferenceKind.FIELD, reply_id, "text"),
    }
    if not was_edited:
        expected.add((DifferenceKind.FIELD, reply_id, "edited"))
    assert left == expected, format_differences(differences)
    assert run.updated == 0

    connector = synced.hub.connectors["slack"]
    body = json.dumps({"type": "event_callback", "event_id": "Ev0001", "event": emitted[-1]}).encode()
    hints = connector.parse({}, body)  # type: ignore[attr-defined]
    assert [h.external_ids for h in hints] == [(reply_id,)]
    for hint in hints:
        counts = await apply_hint(
            synced.hub.db,
            connector,
            hint,
            lineage="webhook:slack:Ev0001",
            received_at=datetime.now(UTC),
            clock=utc_now,
            lease_ttl_s=synced.settings.sync.lease_ttl_s,
        )
        assert counts.updated == 1

    final = synced.differences()
    assert final == [], format_differences(final)
