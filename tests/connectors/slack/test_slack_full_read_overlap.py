"""Full read and census with overlapping reads: thread reads side by side, the census right after a
full read reusing its thread listing, and 429 pauses that hold for every concurrent call."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import SecretStr

from app.connectors.base import Change
from app.connectors.common import RetryPolicy
from app.connectors.slack import SlackConnector
from app.connectors.slack.reader import LISTING_REUSE_S
from app.sandbox.common import ServedApp
from app.sandbox.slack import DEFAULT_BOT_TOKEN, SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.sandbox.slack.timestamps import ts_str
from app.settings import SlackSettings

CONCURRENCY = 4


async def full_read(connector: SlackConnector, channel: str) -> list[Change]:
    changes: list[Change] = []
    async for page in connector.read_changes("messages", channel, None):
        changes.extend(page.changes)
    return changes


async def census(connector: SlackConnector, channel: str) -> tuple[set[str], int]:
    """The ids the census lists, and the vendor calls its batches say they cost."""
    ids: set[str] = set()
    calls = 0
    batches: AsyncIterator[list[object]] = connector.list_refs("messages", channel)  # type: ignore[assignment]
    async for batch in batches:
        ids.update(ref.external_id for ref in batch)  # type: ignore[attr-defined]
        calls += batch.api_calls  # type: ignore[attr-defined]
    return ids, calls


def methods_since(sim: SlackSimulator, seq: int) -> list[str]:
    return [e.path.removeprefix("/api/") for e in sim.log.since(seq)]


def seed_threads(sim: SlackSimulator, driver: SlackSourceDriver, channel: str, count: int = 12) -> None:
    """Threads of one to three replies, so concurrent thread reads have something to overlap."""
    for n in range(count):
        parent = sim.post_message(channel, f"Question {n} about CHK-{n + 1}", user="po")
        for k in range(1 + n % 3):
            driver.reply(channel, parent["ts"], f"answer {k}")


def live_ids(sim: SlackSimulator, channel: str) -> set[str]:
    ws = sim.workspace
    top = {f"{channel}:{ts_str(ts)}" for ts in ws.messages[channel]}
    replies = {f"{channel}:{ts_str(r)}" for thread in ws.threads[channel].values() for r in thread}
    return top | replies


async def test_a_full_read_lists_each_parent_before_its_replies(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    seed_threads(sim, driver, channel)
    changes = await full_read(connector, channel)
    position = {c.external_id: i for i, c in enumerate(changes)}
    threads = sim.workspace.threads[channel]
    for parent, replies in threads.items():
        parent_at = position[f"{channel}:{ts_str(parent)}"]
        reply_at = sorted(position[f"{channel}:{ts_str(r)}"] for r in replies)
        # Each thread's replies come right after its parent, in the order Slack listed them.
        assert reply_at == list(range(parent_at + 1, parent_at + 1 + len(replies)))


async def test_the_census_after_a_full_read_reads_no_unchanged_thread_again(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    seed_threads(sim, driver, channel)
    await full_read(connector, channel)
    before = sim.log.last_seq
    ids, calls = await census(connector, channel)
    assert ids == live_ids(sim, channel)
    assert set(methods_since(sim, before)) == {"conversations.history"}
    assert calls == len(methods_since(sim, before))


async def test_the_census_after_a_full_read_rereads_a_thread_whose_reply_was_deleted(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    parent = sim.post_message(channel, "Thread about CHK-7", user="po")
    kept = driver.reply(channel, parent["ts"], "stays")
    gone = driver.reply(channel, parent["ts"], "goes")
    await full_read(connector, channel)
    sim.delete_message(channel, gone.split(":")[1])
    before = sim.log.last_seq
    ids, _ = await census(connector, channel)
    assert kept in ids and gone not in ids
    assert ids == live_ids(sim, channel)
    assert methods_since(sim, before).count("conversations.replies") == 1


async def test_a_later_census_reads_every_thread(
    sim: SlackSimulator, settings: SlackSettings, driver: SlackSourceDriver
) -> None:
    now = [1_800_000_000.0]
    async with SlackConnector("slack", settings, clock=lambda: now[0]) as connector:
        channel = driver.partition()
        seed_threads(sim, driver, channel, count=3)
        await full_read(connector, channel)
        now[0] += LISTING_REUSE_S + 1
        before = sim.log.last_seq
        ids, _ = await census(connector, channel)
        assert ids == live_ids(sim, channel)
        assert methods_since(sim, before).count("conversations.replies") == len(sim.workspace.threads[channel])
        # The listing is used once: a second census right away reads every thread as well.
        before = sim.log.last_seq
        await census(connector, channel)
        assert methods_since(sim, before).count("conversations.replies") == len(sim.workspace.threads[channel])


async def test_concurrent_thread_reads_wait_out_a_429_together(
    sim: SlackSimulator, served: ServedApp, driver: SlackSourceDriver
) -> None:
    """Once a conversations.replies call is refused, no conversations.replies at all goes out before
    that Retry-After elapsed (not only the retried one), and the read still completes."""
    settings = SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=served.url,
                             thread_lookback_days=7, max_concurrency=CONCURRENCY)
    channel = driver.partition()
    seed_threads(sim, driver, channel, count=24)
    sim.limiter.limits.update({"enabled": True, "t3": 6, "window_s": 1.0})
    before = sim.log.last_seq
    async with SlackConnector("slack", settings, retry_policy=RetryPolicy(jitter_s=0.0)) as connector:
        changes = await full_read(connector, channel)
    assert {c.external_id for c in changes} == live_ids(sim, channel)
    replies = [e for e in sim.log.since(before) if e.path.endswith("conversations.replies")]
    limited = [e for e in replies if e.status == 429]
    assert limited, "the tier limit was never hit: the test proves nothing"
    for hit in limited:
        assert hit.retry_after_s is not None
        answered = hit.time + hit.duration_ms / 1000
        # Calls already on the wire when the 429 came back cannot be recalled (at most the other
        # slots); anything more was sent during the pause.
        during_pause = [e for e in replies if answered <= e.time < answered + hit.retry_after_s - 0.01]
        assert len(during_pause) <= CONCURRENCY - 1, (hit, during_pause)


async def test_an_incremental_read_rereads_every_moved_thread_and_only_those(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    channel = driver.partition()
    parents = [sim.post_message(channel, f"Who reviews CHK-{n}?", user="po")["ts"] for n in range(5)]
    for parent in parents:
        driver.reply(channel, parent, "me")
    cursor: str | None = None
    async for page in connector.read_changes("messages", channel, None):
        cursor = page.cursor_after or cursor
    moved = parents[1:4]
    new_replies = {driver.reply(channel, parent, "me too") for parent in moved}
    before = sim.log.last_seq
    changes: list[Change] = []
    async for page in connector.read_changes("messages", channel, cursor):
        changes.extend(page.changes)
    assert {c.external_id for c in changes} == new_replies | {f"{channel}:{p}" for p in moved}
    calls = methods_since(sim, before)
    assert calls.count("conversations.history") == 1 and calls.count("conversations.replies") == len(moved)


async def test_reads_carry_their_arguments_in_the_query_string_and_never_the_token(
    sim: SlackSimulator, connector: SlackConnector, driver: SlackSourceDriver
) -> None:
    """Each logged request says what it asked for: concurrent thread reads are told apart (and
    from a retry) by their query alone."""
    channel = driver.partition()
    seed_threads(sim, driver, channel, count=3)
    before = sim.log.last_seq
    await full_read(connector, channel)
    replies = [e.query for e in sim.log.since(before) if e.path.endswith("conversations.replies")]
    assert len(replies) == len(set(replies)) == len(sim.workspace.threads[channel])
    assert all(f"channel={channel}" in q and "ts=" in q for q in replies)
    assert not any(DEFAULT_BOT_TOKEN in e.query for e in sim.log.since(before))
