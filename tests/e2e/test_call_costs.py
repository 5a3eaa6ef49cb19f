"""From the simulators' request logs: what an incremental run costs when nothing changed.

Every pair must read each of its partitions with exactly one request and make no other:
the hub reuses its last listing of a stream's partitions (channels, calendars, boards)
between runs, so a quiet run lists nothing.
"""

from __future__ import annotations

import re

import pytest

from app.sandbox.common.requestlog import RequestLogEntry
from app.storage.protocol import RunStatus
from e2e.kit import Rig

pytestmark = pytest.mark.e2e

# pair -> (vendor, the partition read: "METHOD path-regex" whose group 1 names the partition, if it can)
READS: dict[str, tuple[str, str]] = {
    "jira-issues": ("jira", r"POST /rest/api/2/search/jql()"),
    "jira-sprints": ("jira", r"GET /rest/agile/1\.0/board/(\d+)/sprint"),
    "confluence-pages": ("confluence", r"GET /wiki/api/v2/spaces/(\d+)/pages"),
    "slack-messages": ("slack", r"POST /api/conversations\.history()"),
    "slack-people": ("slack", r"POST /api/users\.list()"),
    "google-events": ("google_calendar", r"GET /calendars/([^/]+)/events"),
    "outlook-events": ("graph", r"GET /v1\.0/me/calendars/([^/]+)/calendarView/delta"),
}


def _line(entry: RequestLogEntry) -> str:
    return f"{entry.method} {entry.path}"


async def test_an_incremental_run_without_changes_reads_each_partition_with_one_call(synced: Rig) -> None:
    for pair_id in synced.pair_ids:
        vendor, pattern = READS[pair_id]
        marks = synced.marks()

        run = await synced.sync(pair_id)

        calls = synced.requests_since(marks)
        partitions = [label.rsplit("/", 1)[1] for label in run.cursor_after]
        assert run.status is RunStatus.SUCCEEDED and run.flags == [], (pair_id, run.flags)
        assert (run.created, run.updated, run.deleted) == (0, 0, 0), pair_id
        reads = [e for e in calls[vendor] if re.fullmatch(pattern, _line(e))]
        others = sorted(_line(e) for e in calls[vendor] if e not in reads)
        assert len(reads) == len(partitions) >= 1, (pair_id, [_line(e) for e in calls[vendor]])
        assert run.api_calls == len(partitions), pair_id
        assert others == [], pair_id
        assert all(not calls[v] for v in calls if v != vendor), pair_id
        named = [m.group(1) for e in reads if (m := re.fullmatch(pattern, _line(e))) and m.group(1)]
        assert len(set(named)) == len(named), f"{pair_id}: a partition was read twice"


async def test_a_full_run_lists_the_partitions_afresh(synced: Rig) -> None:
    marks = synced.marks()
    run = await synced.sync("slack-messages", full=True)
    assert run.status is RunStatus.SUCCEEDED
    listings = [e for e in synced.requests_since(marks)["slack"] if _line(e) == "POST /api/conversations.list"]
    assert len(listings) == 1
