"""The sync baselines: bare httpx loops fetching the pages the hub fetched, and discarding them.

Jira: the same enhanced search (``POST /rest/api/2/search/jql``, same JQL, same field
list, 100 a page, ``nextPageToken`` paging) the connector sends. Other vendors: the
exact requests of the hub's run, replayed from the sandbox's request log (method, path,
query string), one after another on one keep-alive connection.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from app.connectors.jira.client import PAGE_SIZE
from app.connectors.jira.mapping import FieldIds, issue_fields
from bench.payloads import SLACK_BOT_TOKEN

__all__ = ["JIRA_AUTH", "bare_jira_full", "replay"]

JIRA_AUTH = ("amelie@orbit.example", "sandbox-jira-api-token")


def bare_jira_full(jira_url: str, project: str = "CHK") -> dict[str, Any]:
    """Read every issue of ``project`` as the connector's full read does; returns items, calls, seconds."""
    with httpx.Client(base_url=jira_url, auth=JIRA_AUTH, timeout=60) as client:
        catalogue = client.get("/rest/api/2/field").json()
        clause_ids = {name: f["id"] for f in catalogue for name in f.get("clauseNames", [])}
        fields = [clause_ids.get(f, f) for f in issue_fields(FieldIds.from_catalogue(catalogue))]
        jql = f'project = "{project}" ORDER BY updated ASC, id ASC'
        started = time.perf_counter()
        token: str | None = None
        items = calls = 0
        while True:
            body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": PAGE_SIZE}
            if token:
                body["nextPageToken"] = token
            answer = client.post("/rest/api/2/search/jql", json=body)
            answer.raise_for_status()
            data = answer.json()
            calls += 1
            items += len(data.get("issues", []))
            token = data.get("nextPageToken")
            if not token:
                break
        return {"items": items, "calls": calls, "seconds": time.perf_counter() - started}


def replay(base_url: str, requests: Sequence[dict[str, Any]], headers: dict[str, str] | None = None
           ) -> dict[str, Any]:
    """Send ``requests`` (sandbox request-log entries) again, reading and discarding each answer."""
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, headers=headers or {}, timeout=60) as client:
        for entry in requests:
            url = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
            client.request(entry["method"], url).read()
    return {"calls": len(requests), "seconds": time.perf_counter() - started}


def slack_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SLACK_BOT_TOKEN}"}


def google_headers() -> dict[str, str]:
    return {"Authorization": "Bearer ya29.sandbox-google-calendar"}
