"""Status with lag, webhook coverage and subscriptions; Prometheus metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from webhooks.kit import AUTH, hub_settings, jira_headers, running_app, subscription

from app.models import RecordKind
from app.models.work import WorkItem
from app.storage.protocol import RunRecord, RunStatus
from app.sync.prepare import build_record


def _issue(external_id: str, changed: datetime, seen: datetime) -> Any:
    return build_record(
        connector="jira",
        system="jira",
        stream="issues",
        kind=RecordKind.WORK_ITEM,
        partition="CHK",
        external_id=external_id,
        version="1",
        body=WorkItem(key=f"CHK-{external_id}", title="t"),
        fetched_at=seen,
        updated_at=changed,
    )


async def test_status_shows_lag_webhook_coverage_subscriptions_and_inbox(tmp_path: Path) -> None:
    pairs = [{"id": "jira-issues", "source": {"connector": "jira", "stream": "issues"}}]
    now = datetime.now(UTC)
    async with running_app(
        hub_settings(tmp_path, pairs=pairs, server={"public_base_url": "https://hub.example"})
    ) as run:
        db = run.hub.db
        with db.transaction() as tx:
            # Three changes seen 2 s, 4 s and 60 s after they happened; two by a webhook.
            tx.upsert_record(
                _issue("1", now - timedelta(minutes=5), now - timedelta(minutes=5, seconds=-2)),
                "webhook:jira:a",
            )
            tx.upsert_record(
                _issue("2", now - timedelta(minutes=4), now - timedelta(minutes=4, seconds=-4)),
                "webhook:jira:b",
            )
            tx.upsert_record(_issue("3", now - timedelta(minutes=3), now - timedelta(minutes=2)), "run-1")
            # Changed two days ago: outside the window.
            tx.upsert_record(_issue("4", now - timedelta(days=2), now - timedelta(days=2)), "run-0")
        db.put_subscription(
            subscription("google", "chan-1", "google", "team", expires_in=timedelta(hours=30))
        )
        db.inbox_put("jira", "x1", {}, b"{}")
        db.save_run(
            RunRecord(
                run_id="r1",
                pair_id="jira-issues",
                trigger="schedule",
                started_at=now,
                status=RunStatus.FAILED,
                finished_at=now,
                error_class="config",
                error="ConfigError: 401 from Jira",
            )
        )

        status = (await run.client.get("/api/status", headers=AUTH)).json()
        pair = status["pairs"][0]
        assert pair["changes_24h"] == 3
        assert abs(pair["webhook_coverage"] - 2 / 3) < 1e-9
        assert (pair["lag_p50_s"], pair["lag_max_s"]) == (4.0, 60.0)
        [sub] = status["subscriptions"]
        assert (sub["vendor"], sub["id"], sub["partition"]) == ("google", "chan-1", "team")
        assert 29 * 3600 < sub["expires_in_s"] <= 30 * 3600
        assert status["inbox"] == {"pending": 1, "dead": 0, "capped": False}
        connectors = {c["name"]: c for c in status["connectors"]}
        assert connectors["jira"]["health"] == "failing"
        assert "401 from Jira" in connectors["jira"]["health_detail"]
        assert connectors["jira"]["webhook_mode"] == "admin_configured"
        assert connectors["jira"]["webhook_url"] == "https://hub.example/webhooks/jira"
        assert connectors["slack"]["webhook_mode"] == "app_configured"
        assert connectors["google"]["webhook_url"] == "https://hub.example/webhooks/google/calendar"


async def test_metrics_count_deliveries_records_inbox_and_runs(tmp_path: Path) -> None:
    async with running_app(hub_settings(tmp_path)) as run:
        body = b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}'
        await run.client.post("/webhooks/jira", content=body, headers=jira_headers(body, "m-1"))
        await run.client.post("/webhooks/jira", content=body, headers=jira_headers(body, "m-1"))
        await run.client.post("/webhooks/jira", content=body, headers=jira_headers(body, "m-2", secret="bad"))
        now = datetime.now(UTC)
        run.hub.db.save_run(
            RunRecord(
                run_id="r1",
                pair_id="p",
                trigger="schedule",
                started_at=now,
                status=RunStatus.SUCCEEDED,
                finished_at=now + timedelta(seconds=3),
            )
        )
        answer = await run.client.get("/metrics", headers=AUTH)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        text = answer.text
        assert 'passerelle_webhook_deliveries_total{result="accepted",vendor="jira"} 1.0' in text
        assert 'passerelle_webhook_deliveries_total{result="duplicate",vendor="jira"} 1.0' in text
        assert 'passerelle_webhook_deliveries_total{result="rejected",vendor="jira"} 1.0' in text
        assert 'passerelle_inbox_items{status="pending"} 1.0' in text
        assert 'passerelle_records{connector="jira"} 0.0' in text
        assert 'passerelle_runs_total{pair="p",status="succeeded"} 1.0' in text
        assert 'passerelle_sync_duration_seconds_bucket{le="5.0",pair="p"} 1.0' in text
        # A second scrape does not count the same run twice.
        again = (await run.client.get("/metrics", headers=AUTH)).text
        assert 'passerelle_runs_total{pair="p",status="succeeded"} 1.0' in again
