"""The inbox processor on a real Slack connector against the Slack sandbox (real HTTP on loopback)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.connectors.slack import SlackConnector
from app.errors import RateLimited
from app.models import hub_id_for
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.storage.protocol import RunStatus
from app.webhooks.processor import retry_delay
from app.webhooks.targeted import PartitionBusy
from webhooks.kit import AUTH, SLACK_SECRET, Running, hub_settings, running_app, slack_headers

SLACK = "/webhooks/slack/events"


@pytest.fixture
def slack_sim() -> Iterator[tuple[SlackSimulator, ServedApp]]:
    sim = SlackSimulator(rate_limits=RateLimits(enabled=False))
    served = serve_in_thread(sim.app)
    try:
        yield sim, served
    finally:
        served.stop()


@pytest.fixture
async def run(tmp_path: Path, slack_sim: tuple[SlackSimulator, ServedApp]) -> AsyncIterator[Running]:
    conf = {
        "slack": {
            "type": "slack",
            "bot_token": DEFAULT_BOT_TOKEN,
            "base_url": slack_sim[1].url,
            "signing_secret": SLACK_SECRET,
        }
    }
    pairs = [
        {"id": "slack-messages", "source": {"connector": "slack", "stream": "messages"}, "interval_s": 3600}
    ]
    async with running_app(hub_settings(tmp_path, conf, pairs=pairs)) as running:
        yield running


@contextlib.asynccontextmanager
async def slack_open(run: Running) -> AsyncIterator[SlackConnector]:
    settings = run.hub.settings.connectors["slack"]
    async with SlackConnector("slack", settings) as connector:  # type: ignore[arg-type]
        run.hub.connectors["slack"] = connector
        try:
            yield connector
        finally:
            run.hub.connectors.pop("slack", None)


def _event(event_id: str, event: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
        }
    ).encode()


async def _post(run: Running, body: bytes) -> None:
    answer = await run.client.post(SLACK, content=body, headers=slack_headers(body, int(time.time())))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("copies", [1, 2, 3, 4])
async def test_a_message_event_replayed_writes_the_message_once(
    run: Running, slack_sim: tuple[SlackSimulator, ServedApp], copies: int
) -> None:
    driver = SlackSourceDriver(slack_sim[0])
    external = driver.add(driver.partition())
    channel, ts = external.split(":")
    body = _event("EvREPLAY1", {"type": "message", "channel": channel, "ts": ts, "user": "U1", "text": "x"})
    async with slack_open(run):
        for _ in range(copies):
            await _post(run, body)
            await run.webhooks.processor.drain()
        hub_id = hub_id_for("slack", "messages", external)
        record = run.hub.db.get_record(hub_id)
        assert record is not None and record.body.text == "New question about CHK-2"  # type: ignore[union-attr]
        assert run.hub.db.record_lineage(hub_id) == "webhook:slack:EvREPLAY1"
        assert run.hub.db.count_records(connector="slack") == 1
        assert [(i.status, i.attempts) for i in run.hub.db.inbox_list()] == [("done", 0)]
        assert run.hub.db.list_runs() == []  # no poll happened


async def test_a_message_deleted_event_tombstones_the_record(
    run: Running, slack_sim: tuple[SlackSimulator, ServedApp]
) -> None:
    driver = SlackSourceDriver(slack_sim[0])
    external = driver.add(driver.partition())
    channel, ts = external.split(":")
    async with slack_open(run):
        await _post(run, _event("EvADD", {"type": "message", "channel": channel, "ts": ts, "text": "x"}))
        await run.webhooks.processor.drain()
        slack_sim[0].delete_message(channel, ts)
        await _post(
            run,
            _event(
                "EvDEL",
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "channel": channel,
                    "deleted_ts": ts,
                    "ts": f"{time.time():.6f}",
                },
            ),
        )
        await run.webhooks.processor.drain()
    record = run.hub.db.get_record(hub_id_for("slack", "messages", external))
    assert record is not None and record.deleted
    assert run.hub.db.record_lineage(record.hub_id) == "webhook:slack:EvDEL"


async def test_a_failing_delivery_becomes_a_dead_letter_and_an_admin_retry_processes_it(
    run: Running, slack_sim: tuple[SlackSimulator, ServedApp]
) -> None:
    driver = SlackSourceDriver(slack_sim[0])
    external = driver.add(driver.partition())
    channel, ts = external.split(":")
    await _post(run, _event("EvDEAD", {"type": "message", "channel": channel, "ts": ts, "text": "x"}))
    # The connector is not open: every attempt fails (backoff is 0 in tests, so each is due at once).
    await run.webhooks.processor.drain()
    dead = run.hub.db.inbox_list(status="dead")
    assert [(d.delivery_id, d.attempts) for d in dead] == [("EvDEAD", 3)]
    listed = (await run.client.get("/api/deadletters", headers=AUTH)).json()
    assert [(d["delivery_id"], d["connector"], d["attempts"]) for d in listed] == [("EvDEAD", "slack", 3)]
    assert "not open" in listed[0]["last_error"]

    retried = await run.client.post(f"/api/deadletters/{dead[0].id}/retry", headers=AUTH)
    assert retried.status_code == 202
    assert (await run.client.post(f"/api/deadletters/{dead[0].id}/retry", headers=AUTH)).status_code == 404
    async with slack_open(run):
        await run.webhooks.processor.drain()
    assert run.hub.db.inbox_list(status="dead") == []
    assert run.hub.db.get_record(hub_id_for("slack", "messages", external)) is not None


async def test_a_failing_delivery_does_not_hold_up_the_others(
    run: Running, slack_sim: tuple[SlackSimulator, ServedApp]
) -> None:
    driver = SlackSourceDriver(slack_sim[0])
    external = driver.add(driver.partition())
    channel, ts = external.split(":")
    # Stored as if verified for a connector that is gone from the configuration.
    run.hub.db.inbox_put("slack", "EvGHOST", {"x-passerelle-connector": "ghost"}, b"{}")
    await _post(run, _event("EvGOOD", {"type": "message", "channel": channel, "ts": ts, "text": "x"}))
    async with slack_open(run):
        await run.webhooks.processor.run_once()
    statuses = {i.delivery_id: i.status for i in run.hub.db.inbox_list()}
    assert statuses == {"EvGHOST": "pending", "EvGOOD": "done"}


async def test_an_event_naming_no_message_asks_the_scheduler_for_a_webhook_run(
    run: Running, slack_sim: tuple[SlackSimulator, ServedApp]
) -> None:
    channel = SlackSourceDriver(slack_sim[0]).partition()
    async with slack_open(run):
        scheduler = run.hub.start_scheduler(sync_on_start=False)
        try:
            await _post(
                run,
                _event(
                    "EvJOIN",
                    {
                        "type": "message",
                        "subtype": "channel_purpose",
                        "channel": channel,
                        "ts": f"{time.time():.6f}",
                    },
                ),
            )
            await run.webhooks.processor.drain()
            await scheduler.wait_idle(timeout_s=30)
        finally:
            await scheduler.shutdown()
    runs = run.hub.db.list_runs(pair_id="slack-messages")
    assert [(r.trigger, r.status) for r in runs] == [("webhook", RunStatus.SUCCEEDED)]


def test_retries_back_off_exponentially_then_give_up() -> None:
    boom = RuntimeError("x")
    assert [retry_delay(boom, n, 5, 2.0, 900.0) for n in range(1, 6)] == [2.0, 4.0, 8.0, 16.0, None]
    assert retry_delay(boom, 3, 10, 2.0, 5.0) == 5.0


def test_a_rate_limited_retry_waits_at_least_retry_after() -> None:
    assert retry_delay(RateLimited("slow down", retry_after=60.0), 1, 5, 2.0, 900.0) == 60.0


def test_a_busy_partition_is_retried_soon_and_never_dead_lettered() -> None:
    busy = PartitionBusy("sync running")
    assert retry_delay(busy, 50, 5, 2.0, 900.0) == 16.0
