"""Tiered rate limits answered as 429 + Retry-After, and the world the workspace is seeded with."""

from __future__ import annotations

import re
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from app.sandbox.common import ServedApp
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.slack.ratelimits import RateLimiter
from app.sandbox.slack.seed import CHANNELS
from app.sandbox.world import TeamWorld


def test_over_the_tier_limit_answers_429_with_retry_after(sim: SlackSimulator, web: WebClient) -> None:
    sim.limiter.limits.update({"enabled": True, "t3": 2, "window_s": 1.0})
    cid = sim.channel_id("dev")
    web.conversations_history(channel=cid, limit=1)
    web.conversations_history(channel=cid, limit=1)
    with pytest.raises(SlackApiError) as caught:
        web.conversations_history(channel=cid, limit=1)
    response = caught.value.response
    assert (response.status_code, response["error"]) == (429, "ratelimited")
    assert response.headers["retry-after"] == "1"
    # Other methods have their own budget.
    assert web.users_info(user=sim.world.members[0].slack_user_id)["ok"]


def test_slack_sdks_rate_limit_handler_waits_and_succeeds(sim: SlackSimulator, served: ServedApp) -> None:
    sim.limiter.limits.update({"enabled": True, "t2": 1, "window_s": 1.0})
    client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=served.url + "/api/",
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    client.conversations_list()
    started = time.monotonic()
    assert client.conversations_list()["ok"]
    assert time.monotonic() - started >= 0.9
    statuses = [e.status for e in sim.log.since(0) if e.path.endswith("conversations.list")]
    assert statuses == [200, 429, 200]


def test_post_message_is_limited_per_channel() -> None:
    clock = [0.0]
    limiter = RateLimiter(RateLimits(special_per_channel=1, special_window_s=1.0), clock=lambda: clock[0])
    assert limiter.check("chat.postMessage", "C1") is None
    assert limiter.check("chat.postMessage", "C2") is None
    assert limiter.check("chat.postMessage", "C1") == 1.0
    clock[0] = 1.01
    assert limiter.check("chat.postMessage", "C1") is None


def test_retry_after_is_never_shorter_than_the_window_left() -> None:
    clock = [100.0]
    limiter = RateLimiter(RateLimits(t3=1, window_s=60.0), clock=lambda: clock[0])
    limiter.check("conversations.history")
    clock[0] = 130.5
    assert limiter.check("conversations.history") == 30.0
    clock[0] = 160.0
    assert limiter.check("conversations.history") is None


def test_the_workspace_is_seeded_from_the_team_world(sim: SlackSimulator) -> None:
    ws = sim.workspace
    world = sim.world
    assert {c["name"] for c in ws.channels.values()} == {name for name, _, _ in CHANNELS}
    assert sum(len(m) for m in ws.messages.values()) == world.message_count
    cast = {m.slack_user_id: m.email for m in world.members}
    assert {uid: ws.users[uid]["profile"]["email"] for uid in cast} == cast
    keys = [int(k) for m in (msg for c in ws.messages.values() for msg in c.values())
            for k in re.findall(r"CHK-(\d+)", m["text"])]
    assert keys and max(keys) <= world.issue_count
    assert any(ws.threads[c] for c in ws.threads)
    assert any("reactions" in msg for c in ws.messages.values() for msg in c.values())


def test_seeding_is_deterministic_for_a_seed() -> None:
    one, two = SlackSimulator(TeamWorld(seed=3)), SlackSimulator(TeamWorld(seed=3))
    assert one.workspace.messages == two.workspace.messages


@pytest.mark.slow
def test_two_hundred_thousand_messages_seed_in_seconds_and_page_in_milliseconds() -> None:
    started = time.perf_counter()
    big = SlackSimulator(TeamWorld(scale=2500), rate_limits=RateLimits(enabled=False))
    seeded = time.perf_counter() - started
    assert sum(len(m) for m in big.workspace.messages.values()) == 200_000
    assert seeded < 30, f"seeding took {seeded:.1f}s"
    cid = max(big.workspace.top, key=lambda c: len(big.workspace.top[c]))
    started = time.perf_counter()
    page = big.workspace.history(cid, oldest=0, latest=None, inclusive=False, limit=999, cursor_ts=None)
    assert len(page.messages) == 999
    assert time.perf_counter() - started < 0.05
    print(f"\nseeded 200,000 messages in {seeded:.2f}s")


def test_sandbox_admin_posts_as_a_user(sim: SlackSimulator, served: ServedApp) -> None:
    import httpx

    cid = sim.channel_id("standup")
    posted = httpx.post(served.url + "/_sandbox/messages",
                        json={"channel": cid, "text": "Today: CHK-1", "user": "qa"}).json()["message"]
    assert posted["user"] == sim.world.member("qa").slack_user_id
    edited = httpx.patch(f"{served.url}/_sandbox/messages/{cid}/{posted['ts']}",
                         json={"text": "Today: CHK-2", "user": "qa"}).json()["message"]
    assert edited["edited"]["user"] == posted["user"]
    gone = httpx.delete(f"{served.url}/_sandbox/messages/{cid}/{posted['ts']}")
    assert gone.status_code == 200
    again = httpx.delete(f"{served.url}/_sandbox/messages/{cid}/{posted['ts']}")
    assert (again.status_code, again.json()["error"]) == (404, "message_not_found")
