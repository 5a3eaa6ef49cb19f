"""Ground truth of the Slack simulator: channel messages with their thread replies, and people.

The workspace keeps every message as the JSON Slack returns (history and replies serve
those very objects), so each stored message is mapped as the connector maps a listed one,
by the channel reader's own ``upsert`` (version digest, body, ts-derived times; Slack's
``tombstone`` placeholder of a deleted thread parent becomes a tombstone, not a live
record). Users are rendered through the ``users.list`` visibility rule for the connector's
token and mapped by the connector's own per-user rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.connectors.slack.connector import SlackConnector
from app.connectors.slack.mapping import is_person
from app.sandbox.slack.methods import _public_user
from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.truth.model import TruthRecord

__all__ = ["slack_truth"]


def _channels_in_scope(sim: SlackSimulator, connector: SlackConnector) -> list[str]:
    channels = sim.workspace.channels
    if not connector.settings.channels:
        return [cid for cid, c in channels.items() if c.get("is_member") and not c.get("is_archived")]
    by_name = {c["name"]: cid for cid, c in channels.items()}
    return [
        w.lstrip("#") if w.lstrip("#") in channels else by_name[w.lstrip("#")]
        for w in connector.settings.channels
    ]


def slack_truth(sim: SlackSimulator, connector: SlackConnector) -> Iterator[TruthRecord]:
    with sim.lock:
        ws = sim.workspace
        for cid in _channels_in_scope(sim, connector):
            for raw in ws.messages[cid].values():
                change = connector.reader.upsert(cid, raw)  # no I/O: the reader's mapping of a listed message
                if change.body is not None:  # Slack's placeholder of a deleted thread parent is not live
                    yield TruthRecord.of(connector.name, "messages", cid, change)
        grant = sim.tokens[connector.settings.bot_token.get_secret_value()]
        for user in ws.users.values():
            raw = _public_user(user, grant)
            if is_person(raw):
                change = connector._person_change(raw)  # a deactivated account is a tombstone
                if change.body is not None:
                    yield TruthRecord.of(connector.name, "users", "", change)
