"""``kill -9`` of ``passerelle serve`` while a client sends hundreds of signed Slack and Jira
deliveries: every delivery that was answered 2xx is in the inbox, and after a restart every
one of them is processed (``done``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import sqlite3
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sandbox.common.serving import free_port
from app.sandbox.runner import Sandbox
from app.sandbox.slack.signing import signed_headers
from app.storage import create_store
from app.storage.protocol import Store

from .hubproc import HubProcess, wait_for
from .support import demo_settings, write_config

pytestmark = pytest.mark.faults

TRIALS = 3
DELIVERIES = 200
SENDERS = 8
PROCESS_WITHIN_S = 45.0


def _slack_delivery(
    secret: str, channel: str, message: dict[str, Any], event_id: str
) -> tuple[dict[str, str], bytes]:
    event = {"type": "message", "channel": channel, "user": message.get("user"), "text": message.get("text"),
             "ts": message["ts"], "event_ts": message["ts"], "channel_type": "channel"}
    body = json.dumps({"token": "x", "team_id": "T0007000001", "api_app_id": "A0007000000",
                       "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
                       "event": event}).encode()
    return signed_headers(secret, int(time.time()), body), body


def _jira_delivery(secret: str, issue: Any, identifier: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"timestamp": int(time.time() * 1000), "webhookEvent": "jira:issue_updated",
                       "issue": {"id": str(issue.id), "key": issue.key,
                                 "fields": {"project": {"key": issue.project_key}}}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": identifier,
            "X-Hub-Signature": signature}, body


class _Load:
    """Sends the deliveries from ``SENDERS`` concurrent workers; records which ones were acknowledged."""

    def __init__(self, url: str, deliveries: list[tuple[str, str, str, dict[str, str], bytes]]) -> None:
        self.url = url
        self.deliveries = deliveries
        self.acked: set[tuple[str, str]] = set()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._send()), daemon=True)

    async def _send(self) -> None:
        queue = list(reversed(self.deliveries))
        async with httpx.AsyncClient(timeout=5.0) as client:
            async def worker() -> None:
                while queue:
                    source, delivery_id, path, headers, body = queue.pop()
                    try:
                        answer = await client.post(f"{self.url}{path}", headers=headers, content=body)
                    except httpx.HTTPError:
                        continue  # not acknowledged: the vendor would retry it
                    if 200 <= answer.status_code < 300:
                        self.acked.add((source, delivery_id))

            await asyncio.gather(*(worker() for _ in range(SENDERS)))


def _inbox(store: Store) -> dict[tuple[str, str], str]:
    return {(i.source, i.delivery_id): i.status for i in store.inbox_list(limit=100_000)}


def test_kill_9_under_webhook_load_loses_no_acknowledged_delivery(sandbox: Sandbox, tmp_path: Path) -> None:
    rng = random.Random(77)
    slack: Any = sandbox.simulators["slack"]
    jira: Any = sandbox.simulators["jira"]
    with slack.lock:
        messages = [(cid, m) for cid, by_ts in slack.workspace.messages.items() for m in by_ts.values()
                    if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
    with jira.lock:
        issues = list(jira.store.issues.values())
    # Durability is under test here, not pacing: every Slack event is re-read with
    # conversations.history (Tier 3, 50 a minute), so hundreds of events would wait out
    # Slack's limit for minutes. The webhook-to-record benchmark measures that cost.
    slack.limiter.limits.update({"enabled": False})
    for trial in range(TRIALS):
        data_dir = tmp_path / f"trial-{trial}"
        data_dir.mkdir()
        # Short partition leases: a lease the killed process held over a webhook write runs out fast.
        base = demo_settings(sandbox, data_dir, lease_ttl_s=2.0)
        # Only the webhook path is under test: no pairs, so no scheduled sync competes for leases.
        settings = base.model_copy(update={
            "connectors": {k: v for k, v in base.connectors.items() if k in ("jira", "slack")}, "pairs": [],
        })
        port = free_port()
        settings = settings.model_copy(update={"server": settings.server.model_copy(update={"port": port})})
        create_store(settings.effective_database_url, migrate=True).close()
        config = write_config(settings, data_dir / "passerelle.yaml")
        slack_secret = settings.connectors["slack"].signing_secret.get_secret_value()  # type: ignore[union-attr]
        jira_secret = settings.connectors["jira"].webhook_secret.get_secret_value()  # type: ignore[union-attr]

        deliveries = []
        for i in range(DELIVERIES):
            if rng.random() < 0.6:
                channel, message = rng.choice(messages)
                event_id = f"Ev{trial:02d}{i:06d}"
                deliveries.append(("slack", event_id, "/webhooks/slack/events",
                                   *_slack_delivery(slack_secret, channel, message, event_id)))
            else:
                identifier = str(uuid.UUID(int=rng.getrandbits(128)))
                deliveries.append(("jira", identifier, "/webhooks/jira",
                                   *_jira_delivery(jira_secret, rng.choice(issues), identifier)))

        url = f"http://127.0.0.1:{port}"
        hub = HubProcess(config, ["serve"], data_dir / "serve-1.log")
        try:
            wait_for(partial(_up_or_dead, url, hub), 30, "the hub to serve")
            assert hub.alive(), hub.output()
            load = _Load(url, deliveries)
            load.thread.start()
            # Kill at a random point of the load, measured in acknowledged deliveries (a delay could
            # outlast the whole load on a fast machine).
            kill_after = rng.randint(DELIVERIES // 10, DELIVERIES * 6 // 10)
            wait_for(partial(_acked_at_least, load, kill_after), 30, f"{kill_after} acknowledged deliveries")
            assert hub.kill9(), "the hub exited on its own"
            load.thread.join(60)  # the rest of the load meets a dead server: refused, not acknowledged
            acked = set(load.acked)
        finally:
            hub.stop()
        assert 0 < len(acked) < DELIVERIES, f"trial {trial}: the kill missed the load ({len(acked)} acked)"

        store = create_store(settings.effective_database_url)
        try:
            stored = _inbox(store)
            lost = acked - set(stored)
            assert not lost, f"trial {trial}: {len(lost)} acknowledged deliveries lost: {sorted(lost)[:5]}"

            hub = HubProcess(config, ["serve"], data_dir / "serve-2.log")
            try:
                def all_done(store: Store = store, acked: set[tuple[str, str]] = acked) -> bool:
                    statuses = _inbox(store)
                    return all(statuses.get(key) == "done" for key in acked)

                try:
                    wait_for(all_done, PROCESS_WITHIN_S, "every acknowledged delivery processed", poll_s=0.25)
                except AssertionError:
                    raise AssertionError(
                        f"trial {trial}: acknowledged deliveries not processed {PROCESS_WITHIN_S}s after the "
                        f"restart:\n  " + "\n  ".join(_stuck(data_dir, acked, _inbox(store)))) from None
            finally:
                hub.stop()
            statuses = _inbox(store)
            assert not [k for k, s in statuses.items() if s == "dead"], f"trial {trial}: dead letters"
        finally:
            store.close()


def _stuck(data_dir: Path, acked: set[tuple[str, str]], statuses: dict[tuple[str, str], str]) -> list[str]:
    """Why each acknowledged delivery is not done: its inbox row, claim included (read raw for the report)."""
    waiting = {key for key in acked if statuses.get(key) != "done"}
    with sqlite3.connect(data_dir / "passerelle.db") as conn:
        rows = conn.execute("SELECT source, delivery_id, status, attempts, claimed_by, claimed_until, "
                            "next_attempt_at, last_error FROM inbox").fetchall()
    stuck = [row for row in rows if (row[0], row[1]) in waiting]
    claimed = sum(1 for row in stuck if row[4])
    busy = sum(1 for row in stuck if row[7] and "PartitionBusy" in row[7])
    summary = (f"{len(stuck)} waiting: {claimed} still claimed by the killed process (claimed_until), "
               f"{busy} backing off after PartitionBusy")
    lines = [f"{row[0]}:{row[1]} status={row[2]} attempts={row[3]} claimed_by={row[4]} "
             f"claimed_until={row[5]} next_attempt_at={row[6]} last_error={row[7]}" for row in stuck]
    return [summary, *lines[:20]]


def _acked_at_least(load: _Load, count: int) -> bool:
    return len(load.acked) >= count or not load.thread.is_alive()


def _up_or_dead(url: str, hub: HubProcess) -> bool:
    return _healthy(url) or not hub.alive()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
