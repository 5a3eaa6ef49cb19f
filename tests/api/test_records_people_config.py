"""Records search and detail (links, lineage), people and overrides, the redacted configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from webhooks.kit import (
    ADMIN_TOKEN,
    AUTH,
    GOOGLE_TOKEN,
    GRAPH_STATE,
    JIRA_SECRET,
    SLACK_SECRET,
    hub_settings,
    running_app,
)

from app.models import RecordKind
from app.models.messages import Message
from app.models.work import WorkItem
from app.sync.prepare import build_record

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _issue(external_id: str, title: str, updated: datetime) -> Any:
    return build_record(
        connector="jira",
        system="jira",
        stream="issues",
        kind=RecordKind.WORK_ITEM,
        partition="CHK",
        external_id=external_id,
        version="1",
        body=WorkItem(key=f"CHK-{external_id}", title=title),
        fetched_at=updated,
        updated_at=updated,
    )


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(hub_settings(tmp_path)) as running:
        db = running.hub.db
        issue_a = _issue("10001", "Checkout button is grey", T0)
        issue_b = _issue("10002", "Refund flow times out", T0 + timedelta(hours=2))
        message = build_record(
            connector="slack",
            system="slack",
            stream="messages",
            kind=RecordKind.MESSAGE,
            partition="C1",
            external_id="C1:1.0",
            version="v",
            body=Message(channel="C1", text="Who owns CHK-10001?", ts="1.0"),
            fetched_at=T0,
            updated_at=T0,
        )
        with db.transaction() as tx:
            tx.upsert_record(issue_a, "run-1")
            tx.upsert_record(issue_b, "webhook:jira:abc")
            tx.upsert_record(message, "run-2")
            tx.put_link(message.hub_id, issue_a.hub_id, "mentions", "issue-key")
        running.ids = {"a": issue_a.hub_id, "b": issue_b.hub_id, "m": message.hub_id}
        yield running


async def test_records_are_searched_by_text_kind_connector_and_time(run: Any) -> None:
    async def search(**params: Any) -> list[str]:
        answer = await run.client.get("/api/records", params=params, headers=AUTH)
        assert answer.status_code == 200, answer.text
        return [r["hub_id"] for r in answer.json()]

    assert await search() == [run.ids["b"], run.ids["a"], run.ids["m"]] or await search() == [
        run.ids["b"],
        run.ids["m"],
        run.ids["a"],
    ]
    assert await search(q="refund") == [run.ids["b"]]
    assert await search(kind="message") == [run.ids["m"]]
    assert sorted(await search(connector="jira")) == sorted([run.ids["a"], run.ids["b"]])
    assert await search(updated_since=(T0 + timedelta(hours=1)).isoformat()) == [run.ids["b"]]
    assert len(await search(limit=1, offset=1)) == 1
    bad = await run.client.get("/api/records", params={"updated_since": "yesterday"}, headers=AUTH)
    assert bad.status_code == 422


async def test_a_record_shows_its_links_and_lineage(run: Any) -> None:
    answer = await run.client.get(f"/api/records/{run.ids['a']}", headers=AUTH)
    assert answer.status_code == 200
    detail = answer.json()
    assert detail["body"]["title"] == "Checkout button is grey"
    assert detail["lineage"] == "run-1"
    assert [(link["from_record"], link["kind"]) for link in detail["links"]] == [(run.ids["m"], "mentions")]
    webhook = (await run.client.get(f"/api/records/{run.ids['b']}", headers=AUTH)).json()
    assert webhook["lineage"] == "webhook:jira:abc"
    missing = await run.client.get("/api/records/nope", headers=AUTH)
    assert (missing.status_code, missing.json()) == (404, {"detail": "no record 'nope'"})


async def test_people_are_listed_and_an_override_moves_an_account(run: Any) -> None:
    db = run.hub.db
    alice = db.upsert_account("jira", "acc-1", "alice@example.com", True, "Alice")
    same = db.upsert_account("slack", "U1", "alice@example.com", True, "alice")
    other = db.upsert_account("slack", "U2", "a.l@example.com", True, "Alice L.")
    assert alice == same != other
    people = (await run.client.get("/api/people", headers=AUTH)).json()
    by_id = {p["person_id"]: p for p in people}
    assert {a["account_id"] for a in by_id[alice]["accounts"]} == {"acc-1", "U1"}

    put = await run.client.put(
        "/api/people/overrides",
        headers=AUTH,
        json={"system": "slack", "account_id": "U2", "person_id": alice},
    )
    assert put.status_code == 200
    people = (await run.client.get("/api/people", headers=AUTH)).json()
    moved = {p["person_id"]: p for p in people}[alice]
    assert {a["account_id"] for a in moved["accounts"]} == {"acc-1", "U1", "U2"}
    invalid = await run.client.put("/api/people/overrides", headers=AUTH, json={"system": "slack"})
    assert invalid.status_code == 422


async def test_the_effective_config_shows_settings_and_no_secret(run: Any) -> None:
    answer = await run.client.get("/api/config", headers=AUTH)
    assert answer.status_code == 200
    config = answer.json()
    assert config["connectors"]["jira"]["projects"] == ["CHK"]
    assert config["webhooks"]["max_attempts"] == 3
    assert config["connectors"]["slack"]["signing_secret"] == "**********"
    for secret in (
        ADMIN_TOKEN,
        JIRA_SECRET,
        SLACK_SECRET,
        GOOGLE_TOKEN,
        GRAPH_STATE,
        "jira-api-token",
        "s3cr3t",
        "xoxb-test",
        "ya29.test",
    ):
        assert secret not in answer.text
