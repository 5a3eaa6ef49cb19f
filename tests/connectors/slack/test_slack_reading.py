"""Reading channels: threads, incremental cost, confirmed deletions, users, check, and paced 429s."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from app.connectors.base import Change
from app.connectors.slack import SlackConnector
from app.connectors.slack.mapping import origin_of
from app.errors import PermissionDenied
from app.models import Message
from app.sandbox.common import ServedApp
from app.sandbox.slack import SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.sandbox.slack.timestamps import ts_str
from app.settings import SlackSettings


async def read(connector: SlackConnector, stream: str, partition: str,
               cursor: str | None) -> tuple[list[Change], str | None]:
    changes: list[Change] = []
    last = cursor
    async for page in connector.read_changes(stream, partition, cursor):
        changes.extend(page.changes)
        last = page.cursor_after or last
    return changes, last


def api_calls(sim: SlackSimulator, since: int) -> list[tuple[str, str]]:
    return [(e.path.removeprefix("/api/"), e.query) for e in sim.log.since(since)]


def a_recent_thread(sim: SlackSimulator, channel: str) -> str:
    ws = sim.workspace
    parent = max(ws.threads[channel], key=lambda t: ws.threads[channel][t][-1])
    return ts_str(parent)


async def test_a_full_read_includes_every_thread_reply(sim: SlackSimulator, connector: SlackConnector,
                                                       driver: SlackSourceDriver) -> None:
    channel = driver.partition()
    changes, _ = await read(connector, "messages", channel, None)
    ids = {c.external_id for c in changes}
    ws = sim.workspace
    replies = {f"{channel}:{ts_str(r)}" for thread in ws.threads[channel].values() for r in thread}
    assert replies and replies <= ids
    assert len(ids) == len(ws.messages[channel])


async def test_an_unchanged_channel_costs_one_call(sim: SlackSimulator, connector: SlackConnector,
                                                   driver: SlackSourceDriver) -> None:
    for channel in sim.workspace.channels:
        _, cursor = await read(connector, "messages", channel, None)
        before = sim.log.last_seq
        changes, _ = await read(connector, "messages", channel, cursor)
        assert changes == []
        calls = api_calls(sim, before)
        assert len(calls) == 1 and calls[0][0] == "conversations.history", calls


async def test_a_new_reply_in_an_active_thread_rereads_only_that_thread(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    parent = sim.post_message(channel, "Who reviews CHK-9?", user="po")["ts"]
    driver.reply(channel, parent, "me")
    _, cursor = await read(connector, "messages", channel, None)
    reply = driver.reply(channel, parent, "me too")
    before = sim.log.last_seq
    changes, cursor = await read(connector, "messages", channel, cursor)
    by_id = {c.external_id: c for c in changes}
    assert set(by_id) == {reply, f"{channel}:{parent}"}
    parent_body = by_id[f"{channel}:{parent}"].body
    assert isinstance(parent_body, Message) and parent_body.reply_count == 2
    assert [c[0] for c in api_calls(sim, before)] == ["conversations.history", "conversations.replies"]
    again, _ = await read(connector, "messages", channel, cursor)
    assert again == []


async def test_a_reply_to_a_new_message_is_read_with_it(sim: SlackSimulator, connector: SlackConnector,
                                                        driver: SlackSourceDriver) -> None:
    channel = driver.partition()
    _, cursor = await read(connector, "messages", channel, None)
    parent = driver.add(channel)
    reply = driver.reply(channel, parent.split(":")[1])
    changes, _ = await read(connector, "messages", channel, cursor)
    assert {parent, reply} <= {c.external_id for c in changes if c.body is not None}


async def test_a_missing_message_is_tombstoned_only_after_a_confirming_read(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    _, cursor = await read(connector, "messages", channel, None)
    removed = driver.remove(channel)
    before = sim.log.last_seq
    changes, _ = await read(connector, "messages", channel, cursor)
    assert [c.external_id for c in changes if c.tombstone is not None] == [removed]
    # The window read, then the confirmation: by ts in history, then as a possible thread reply.
    assert [method for method, _ in api_calls(sim, before)] == [
        "conversations.history", "conversations.history", "conversations.replies"]


async def test_deleted_replies_and_deleted_parents_become_tombstones(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    parent = sim.post_message(channel, "Thread about CHK-5", user="po")
    first = driver.reply(channel, parent["ts"], "one")
    second = driver.reply(channel, parent["ts"], "two")
    _, cursor = await read(connector, "messages", channel, None)
    sim.delete_message(channel, first.split(":")[1])
    changes, cursor = await read(connector, "messages", channel, cursor)
    assert first in {c.external_id for c in changes if c.tombstone is not None}
    sim.delete_message(channel, parent["ts"])  # replies remain: Slack keeps a placeholder
    changes, cursor = await read(connector, "messages", channel, cursor)
    assert {c.external_id for c in changes if c.tombstone is not None} == {f"{channel}:{parent['ts']}"}
    sim.delete_message(channel, second.split(":")[1])
    changes, _ = await read(connector, "messages", channel, cursor)
    assert second in {c.external_id for c in changes if c.tombstone is not None}


async def test_get_many_fetches_replies_and_tombstones_the_missing(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    parent = a_recent_thread(sim, channel)
    reply = driver.reply(channel, parent, "fetched by id")
    gone = f"{channel}:1000000000.000001"
    fetched = {c.external_id: c for c in await connector.get_many("messages", [reply, gone])}
    assert isinstance(fetched[reply].body, Message) and fetched[reply].body.text == "fetched by id"
    assert fetched[gone].tombstone is not None


async def test_writes_post_into_a_thread_with_the_origin_marker(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    parent = a_recent_thread(sim, channel)
    body = Message(channel=channel, text="Synced from Jira: CHK-7 done", ts="0", thread_ts=parent)
    created = await connector.create("messages", channel, body, origin="outbox-42")
    ts = created.external_id.split(":")[1]
    stored = sim.workspace.messages[channel][int(ts.replace(".", ""))]
    assert stored["thread_ts"] == parent
    assert origin_of(stored) == "outbox-42"
    await connector.delete("messages", created.external_id, if_version=None)
    assert int(ts.replace(".", "")) not in sim.workspace.messages[channel]


async def test_users_are_people_with_emails_and_an_unchanged_list_reads_empty(
    sim: SlackSimulator, connector: SlackConnector
) -> None:
    changes, cursor = await read(connector, "users", "", None)
    people = [c.body for c in changes]
    assert {p.emails[0] for p in people if p is not None and p.kind == "person"} == {
        m.email for m in sim.world.members}
    assert len(people) == len(sim.world.members)  # the bot is not a person
    again, _ = await read(connector, "users", "", cursor)
    assert again == []


async def test_check_names_the_scopes_the_token_lacks(sim: SlackSimulator, served: ServedApp,
                                                      connector: SlackConnector) -> None:
    assert (await connector.check()).ok
    sim.grant_token("xoxb-narrow", {"channels:read", "channels:history"})
    narrow = SlackSettings(bot_token=SecretStr("xoxb-narrow"), base_url=served.url)
    async with SlackConnector("slack", narrow) as limited:
        result = await limited.check()
        assert not result.ok
        assert set(result.missing_scopes) == {"chat:write", "users:read", "users:read.email"}
        with pytest.raises(PermissionDenied, match="users:read"):
            await read(limited, "users", "", None)
    sim.revoke_token()
    revoked = await connector.check()
    assert not revoked.ok and "token_revoked" in revoked.detail


async def test_a_429_is_waited_out_never_before_retry_after(sim: SlackSimulator, served: ServedApp,
                                                            connector: SlackConnector,
                                                            driver: SlackSourceDriver) -> None:
    sim.limiter.limits.update({"enabled": True, "t3": 2, "window_s": 2.0})
    channel = driver.partition()
    before = sim.log.last_seq
    for _ in range(3):
        await connector.get_many("messages", [f"{channel}:{a_recent_thread(sim, channel)}"])
    entries = [e for e in sim.log.since(before) if e.path.endswith("conversations.history")]
    limited = [e for e in entries if e.status == 429]
    assert limited, "the tier limit was never hit"
    for hit in limited:
        after = next(e for e in entries if e.seq > hit.seq)
        assert hit.retry_after_s is not None
        assert after.time - hit.time >= hit.retry_after_s, (hit, after)
    assert entries[-1].status == 200
