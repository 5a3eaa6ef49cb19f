"""The per-message helpers of a full read keep their results: versions, ts order, the cursor's newest ts.

These run once per message of a full read, so they were made cheaper (one JSON encoder, integer
ts parsing, each ts parsed once); what they return must not move (stored versions and cursors
depend on it).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from app.connectors.slack.client import SlackAnswer
from app.connectors.slack.cursor import ChannelCursor, micros
from app.connectors.slack.mapping import message_version
from app.connectors.slack.reader import ChannelReader

_DIGESTED = ("text", "edited", "reply_count", "latest_reply", "reactions", "subtype")

RICH = {
    "ts": "1712345678.123456", "text": "x", "edited": {"user": "U1", "ts": "1712345679.000001"},
    "reply_count": 3, "latest_reply": "1712345690.000002",
    "reactions": [{"users": ["U2", "U1"], "name": "rocket", "count": 2}], "subtype": "thread_broadcast",
}
UNICODE = {"type": "message", "ts": "1712345678.123456", "text": "Who owns CHK-12? été \U0001f680"}


@pytest.mark.parametrize(("raw", "version"), [
    (UNICODE, "40ce75b6f7441d8c"),
    (RICH, "17b2b3f648be6aa6"),
    ({}, "f464e11121c31eaf"),
])
def test_message_versions_stay_the_ones_already_stored(raw: dict[str, Any], version: str) -> None:
    assert message_version(raw) == version


@pytest.mark.parametrize("raw", [UNICODE, RICH, {"text": None, "reactions": []}, {"edited": {"b": 1, "a": [2]}}])
def test_a_message_version_is_the_digest_of_its_sorted_compact_json(raw: dict[str, Any]) -> None:
    state = {k: raw.get(k) for k in _DIGESTED}
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    assert message_version(raw) == hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize("ts", [
    "1795647136.327834", "0.000001", "00012.000100", "1795647136.999999",  # Slack's shape
    "1.5", "1", "5.", ".000001", "1.1234567", "1e3", "-1.000000", "+1.000000", " 1.000000", "1_0.000000",
    "\u0661\u0662.\u0660\u0660\u0660\u0660\u0660\u0660", "12.\u0660\u0660\u0660\u0660\u0660\u0660",  # non-ASCII digits
])
def test_a_ts_reads_as_the_microseconds_decimal_gives(ts: str) -> None:
    assert micros(ts) == int(Decimal(ts) * 1_000_000)


@pytest.mark.parametrize("ts", ["", "abc", "1.00000x", "1..000000"])
def test_a_ts_that_is_no_number_is_refused(ts: str) -> None:
    with pytest.raises(ValueError, match="not a Slack ts"):
        micros(ts)


class HistoryPages:
    """A fake Slack client serving ``conversations.history`` pages in the order given (no threads)."""

    def __init__(self, pages: list[list[str]]) -> None:
        self._pages = pages
        self.calls = 0

    async def call(self, method: str, **params: Any) -> SlackAnswer:
        assert method == "conversations.history"
        index = int(params.get("cursor") or 0)
        self.calls += 1
        more = index + 1 < len(self._pages)
        data = {"ok": True, "messages": [{"type": "message", "ts": ts, "text": ts} for ts in self._pages[index]],
                "has_more": more, "response_metadata": {"next_cursor": str(index + 1) if more else ""}}
        return SlackAnswer(data, {})


async def test_a_full_read_cursor_names_the_newest_ts_across_pages_in_numeric_order() -> None:
    # Out of Slack's newest-first order on purpose, and across a digit count (string order breaks).
    pages = [["999999999.000003", "1000000000.000001", "999999999.000001"],
             ["1000000000.000002", "999999999.000002", "999000000.000000"], ["999999999.000004"]]
    reader = ChannelReader(HistoryPages(pages), 7 * 86_400, clock=lambda: 1_000_000_000.0)  # type: ignore[arg-type]
    read = [page async for page in reader.full("C1")]
    cursor = ChannelCursor.loads(read[-1].cursor_after or "")
    assert cursor.oldest == "1000000000.000002"
    # The look-back window (7 days before the clock) holds every message but the oldest ones.
    assert set(cursor.seen) == {ts for page in pages for ts in page if micros(ts) >= micros("999395200.000000")}
    assert [c.external_id for page in read for c in page.changes] == [f"C1:{ts}" for page in pages for ts in page]
