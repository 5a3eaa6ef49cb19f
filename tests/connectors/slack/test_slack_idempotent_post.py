"""A post whose answer was lost (Slack posted, then a 5xx reached the hub) is found by its write key
on the retry, not posted a second time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.connectors.common import RetryPolicy
from app.connectors.slack import SlackConnector
from app.connectors.slack.mapping import write_key_of
from app.models import Message
from app.sandbox.slack import SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.sandbox.slack.timestamps import ts_str
from app.settings import SlackSettings


@pytest.fixture
async def fast(settings: SlackSettings) -> AsyncIterator[SlackConnector]:
    async with SlackConnector("slack", settings, retry_policy=RetryPolicy(base_delay_s=0.01, jitter_s=0.01)) as c:
        yield c


def _posted(sim: SlackSimulator, channel: str, text: str) -> list[dict[str, object]]:
    return [m for m in sim.workspace.messages[channel].values() if m.get("text") == text]


async def test_a_post_whose_answer_was_lost_is_found_not_repeated(
    sim: SlackSimulator, fast: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    sim.chaos.update({"lost_answers": 1})
    body = Message(channel=channel, text="posted once, answer lost", ts="0")

    created = await fast.create("messages", channel, body, origin="outbox-7", idempotency_key="mirror:k-1")

    (posted,) = _posted(sim, channel, "posted once, answer lost")
    assert created.external_id == f"{channel}:{posted['ts']}"
    assert write_key_of(posted) == "mirror:k-1"
    posts = [e for e in sim.log.since(0) if e.path.endswith("chat.postMessage")]
    assert [e.status for e in posts] == [502], "one post, whose answer was lost; no second post"


async def test_a_reply_whose_answer_was_lost_is_found_in_its_thread(
    sim: SlackSimulator, fast: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    ws = sim.workspace
    parent = ts_str(max(ws.threads[channel], key=lambda t: ws.threads[channel][t][-1]))
    sim.chaos.update({"lost_answers": 1})
    body = Message(channel=channel, text="a reply, answer lost", ts="0", thread_ts=parent)

    created = await fast.create("messages", channel, body, origin="outbox-8", idempotency_key="mirror:k-2")

    (posted,) = _posted(sim, channel, "a reply, answer lost")
    assert posted["thread_ts"] == parent and created.external_id == f"{channel}:{posted['ts']}"


async def test_without_a_lost_answer_nothing_is_looked_up(
    sim: SlackSimulator, fast: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    since = sim.log.last_seq
    await fast.create("messages", channel, Message(channel=channel, text="plain", ts="0"), origin="o",
                      idempotency_key="mirror:k-3")
    assert [e.path.rsplit("/", 1)[1] for e in sim.log.since(since)] == ["chat.postMessage"]


async def test_a_later_call_told_of_an_earlier_attempt_takes_the_message_that_attempt_posted(
    sim: SlackSimulator, fast: SlackConnector, driver: SlackSourceDriver
) -> None:
    # The outbox retries a post whose run crashed after Slack posted: a new call, same key.
    channel = driver.partition()
    body = Message(channel=channel, text="posted before the crash", ts="0")
    first_attempt = datetime.now(UTC)
    made = await fast.create("messages", channel, body, origin="outbox-9", idempotency_key="mirror:k-4")
    since = sim.log.last_seq

    again = await fast.create("messages", channel, body, origin="outbox-9", idempotency_key="mirror:k-4",
                              earlier_attempt_since=first_attempt)

    assert again.adopted and again.external_id == made.external_id
    assert len(_posted(sim, channel, "posted before the crash")) == 1
    assert "chat.postMessage" not in [e.path.rsplit("/", 1)[1] for e in sim.log.since(since)]


async def test_a_later_call_told_of_an_earlier_attempt_that_posted_nothing_posts_once(
    sim: SlackSimulator, fast: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    body = Message(channel=channel, text="never posted before", ts="0")
    since = sim.log.last_seq

    made = await fast.create("messages", channel, body, origin="outbox-10", idempotency_key="mirror:k-5",
                             earlier_attempt_since=datetime.now(UTC) - timedelta(minutes=1))

    (posted,) = _posted(sim, channel, "never posted before")
    assert not made.adopted and made.external_id == f"{channel}:{posted['ts']}"
    assert [e.path.rsplit("/", 1)[1] for e in sim.log.since(since)][-1] == "chat.postMessage"
