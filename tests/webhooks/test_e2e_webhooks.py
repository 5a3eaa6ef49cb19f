"""End to end: a change made in a vendor sandbox reaches the hub's records through its webhook.

The hub is served over real HTTP (its real lifespan: connectors entered, scheduler, inbox
processor and subscription manager running); each sandbox is served too and posts its
signed webhooks to the hub. Every pair runs once at start-up and then once a day: the
tests wait for the start-up runs, so whatever arrives afterwards came by webhook.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.api import create_app
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.common.serving import free_port
from app.sandbox.google_calendar import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    GoogleCalendarSimulator,
)
from app.sandbox.graph import SANDBOX_CLIENT_ID as GRAPH_CLIENT_ID
from app.sandbox.graph import SANDBOX_CLIENT_SECRET as GRAPH_CLIENT_SECRET
from app.sandbox.graph import SANDBOX_TENANT_ID, GraphSimulator
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.world import TeamWorld
from webhooks.kit import ADMIN_TOKEN, AUTH, GOOGLE_TOKEN, GRAPH_STATE, JIRA_SECRET, SLACK_SECRET, hub_settings

pytestmark = pytest.mark.e2e

DAY = 86_400


@dataclass
class World:
    hub: str
    slack: SlackSimulator
    slack_url: str
    jira: JiraSimulator
    google: GoogleCalendarSimulator
    graph: GraphSimulator
    outlook_calendar: str


def _pair(pair_id: str, connector: str, stream: str) -> dict[str, Any]:
    return {"id": pair_id, "source": {"connector": connector, "stream": stream}, "interval_s": DAY}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    slack = SlackSimulator(rate_limits=RateLimits(enabled=False))
    jira = JiraSimulator(TeamWorld(seed=11))
    google = GoogleCalendarSimulator()
    graph = GraphSimulator()
    served: list[ServedApp] = [serve_in_thread(s.app) for s in (slack, jira, google, graph)]
    slack_url, jira_url, google_url, graph_url = (s.url for s in served)
    outlook_calendar = next(c.id for c in graph.calendars("po") if c.is_default)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    connectors = {
        "slack": {
            "type": "slack",
            "bot_token": DEFAULT_BOT_TOKEN,
            "base_url": slack_url,
            "signing_secret": SLACK_SECRET,
        },
        "jira": {
            "type": "jira",
            "email": jira.world.member("po").email,
            "api_token": DEFAULT_API_TOKEN,
            "base_url": jira_url,
            "projects": [jira.world.project_key],
            "webhook_secret": JIRA_SECRET,
        },
        "google": {
            "type": "google_calendar",
            "base_url": google_url,
            "token_uri": f"{google_url}/token",
            "access_token": SANDBOX_ACCESS_TOKEN,
            "refresh_token": SANDBOX_REFRESH_TOKEN,
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "calendars": [google.team_calendar],
            "channel_token": GOOGLE_TOKEN,
        },
        "outlook": {
            "type": "outlook",
            "tenant_id": SANDBOX_TENANT_ID,
            "client_id": GRAPH_CLIENT_ID,
            "client_secret": GRAPH_CLIENT_SECRET,
            "base_url": graph_url,
            "authority_url": graph_url,
            "calendars": [outlook_calendar],
            "client_state": GRAPH_STATE,
        },
    }
    pairs = [
        _pair("slack-messages", "slack", "messages"),
        _pair("jira-issues", "jira", "issues"),
        _pair("google-events", "google", "events"),
        _pair("outlook-events", "outlook", "events"),
    ]
    settings = hub_settings(
        tmp_path_factory.mktemp("hub"), connectors, pairs=pairs, server={"public_base_url": hub_url}
    )
    hub = serve_in_thread(create_app(settings, migrate=True), port=port)
    try:
        _eventually(lambda: all(_finished(hub_url, p["id"]) for p in pairs), timeout_s=60)
        yield World(hub_url, slack, slack_url, jira, google, graph, outlook_calendar)
    finally:
        hub.stop()
        for s in served:
            s.stop()


def _eventually(probe: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s} s")
        time.sleep(0.1)


def _finished(hub: str, pair: str) -> bool:
    runs = httpx.get(f"{hub}/api/runs", params={"pair": pair}, headers=AUTH).json()
    return bool(runs) and all(r["finished_at"] for r in runs)


def _record(world: World, connector: str, text: str) -> dict[str, Any] | None:
    answer = httpx.get(f"{world.hub}/api/records", params={"connector": connector, "q": text}, headers=AUTH)
    answer.raise_for_status()
    found = answer.json()
    return found[0] if found else None


def _runs(world: World, pair: str) -> list[dict[str, Any]]:
    """The pair's runs after its start-up run."""
    runs = httpx.get(f"{world.hub}/api/runs", params={"pair": pair}, headers=AUTH).json()
    return [r for r in runs if r["trigger"] != "startup"]


def _lineage(world: World, hub_id: str) -> str:
    return str(httpx.get(f"{world.hub}/api/records/{hub_id}", headers=AUTH).json()["lineage"])


def test_a_slack_message_reaches_the_hub_by_its_event(world: World) -> None:
    configured = httpx.put(
        f"{world.slack_url}/_sandbox/events",
        json={"url": f"{world.hub}/webhooks/slack/events", "signing_secret": SLACK_SECRET},
    )
    assert configured.json() == {"ok": True, "detail": "verified"}  # our url_verification answer
    text = f"e2e {uuid.uuid4().hex[:8]}"
    world.slack.post_message(world.slack.channel_id("team-checkout"), text, user="dev2")
    record = _eventually(lambda: _record(world, "slack", text))
    assert _lineage(world, record["hub_id"]).startswith("webhook:slack:Ev")
    assert _runs(world, "slack-messages") == []  # no run since start-up: it came by webhook


def test_a_jira_issue_reaches_the_hub_by_its_admin_webhook(world: World) -> None:
    world.jira.register_webhook(
        f"{world.hub}/webhooks/jira",
        ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
        secret=JIRA_SECRET,
    )
    summary = f"e2e issue {uuid.uuid4().hex[:8]}"
    world.jira.create_issue(world.jira.world.project_key, {"summary": summary, "issuetype": "Bug"})
    record = _eventually(lambda: _record(world, "jira", summary))
    assert _lineage(world, record["hub_id"]).startswith("webhook:jira:")
    assert _runs(world, "jira-issues") == []


def _subscriptions(world: World, vendor: str) -> list[dict[str, Any]]:
    status = httpx.get(f"{world.hub}/api/status", headers=AUTH).json()
    return [s for s in status["subscriptions"] if s["vendor"] == vendor and s["status"] == "active"]


def test_a_google_event_reaches_the_hub_through_its_push_channel(world: World) -> None:
    subs = _eventually(lambda: _subscriptions(world, "google"))
    assert [s["partition"] for s in subs] == [world.google.team_calendar]
    assert subs[0]["expires_in_s"] > DAY
    title = f"e2e meeting {uuid.uuid4().hex[:8]}"
    world.google.create_event(
        world.google.team_calendar,
        {
            "summary": title,
            "start": {"dateTime": "2026-12-09T10:00:00+01:00"},
            "end": {"dateTime": "2026-12-09T11:00:00+01:00"},
        },
    )
    record = _eventually(lambda: _record(world, "google", title))
    # Google names no event: the hint is a sync of the calendar from its cursor, run at once.
    writer = httpx.get(f"{world.hub}/api/runs/{_lineage(world, record['hub_id'])}", headers=AUTH).json()
    assert writer["trigger"] == "webhook"
    assert {r["trigger"] for r in _runs(world, "google-events")} == {"webhook"}


def test_an_outlook_event_reaches_the_hub_through_its_graph_subscription(world: World) -> None:
    subs = _eventually(lambda: _subscriptions(world, "graph"))
    assert [s["partition"] for s in subs] == [world.outlook_calendar]
    subject = f"e2e outlook {uuid.uuid4().hex[:8]}"
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * DAY))
    world.graph.create_event(
        "po",
        {
            "subject": subject,
            "start": {"dateTime": f"{day}T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"{day}T11:00:00", "timeZone": "UTC"},
        },
        world.outlook_calendar,
    )
    record = _eventually(lambda: _record(world, "outlook", subject))
    writer = httpx.get(f"{world.hub}/api/runs/{_lineage(world, record['hub_id'])}", headers=AUTH).json()
    assert writer["trigger"] == "webhook"
    assert {r["trigger"] for r in _runs(world, "outlook-events")} == {"webhook"}


def test_the_admin_token_guards_the_served_api(world: World) -> None:
    assert httpx.get(f"{world.hub}/api/status").status_code == 401
    assert (
        httpx.get(f"{world.hub}/api/status", headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"}).status_code
        == 401
    )


def test_graph_lifecycle_events_renew_and_recreate_the_subscription(world: World) -> None:
    [sub] = _eventually(lambda: _subscriptions(world, "graph"))
    world.graph.subscriptions.send_lifecycle(sub["id"], "reauthorizationRequired")
    renewed = _eventually(lambda: [s for s in _subscriptions(world, "graph") if s["renewed_at"]])
    assert [s["id"] for s in renewed] == [sub["id"]]

    world.graph.subscriptions.send_lifecycle(sub["id"], "subscriptionRemoved")
    replaced = _eventually(lambda: [s for s in _subscriptions(world, "graph") if s["id"] != sub["id"]])
    assert [s["partition"] for s in replaced] == [world.outlook_calendar]
    assert [s["id"] for s in _subscriptions(world, "graph")] == [replaced[0]["id"]]
    assert list(world.graph.subscriptions.subscriptions) == [replaced[0]["id"]]
