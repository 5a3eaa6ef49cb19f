"""Pure mapping (page JSON <-> Document) and the error table, without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from app.connectors.confluence.client import next_cursor
from app.connectors.confluence.cursor import SyncCursor
from app.connectors.confluence.errors import error_for_status
from app.connectors.confluence.mapping import (
    page_to_change,
    page_to_document,
    storage_for,
    storage_to_text,
    update_payload,
)
from app.errors import (
    ConfigError,
    CursorInvalidated,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    RecordNotFound,
    SkippableRecord,
    TransientError,
)
from app.models import DeleteReason, Document

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def v2_page(**over: Any) -> dict[str, Any]:
    page: dict[str, Any] = {
        "id": "98310",
        "status": "current",
        "title": "Spec: Payment form",
        "spaceId": "65537",
        "parentId": "98307",
        "parentType": "page",
        "authorId": "5f01",
        "createdAt": "2026-09-27T12:00:00.000Z",
        "version": {"number": 3, "createdAt": "2026-10-02T08:15:30.250Z", "authorId": "5f02", "message": ""},
        "body": {
            "storage": {
                "representation": "storage",
                "value": '<h2>Goal</h2><p>Pay &amp; go</p><ul><li><ac:structured-macro ac:name="jira">'
                '<ac:parameter ac:name="key">CHK-12</ac:parameter></ac:structured-macro></li></ul>',
            }
        },
        "_links": {"webui": "/spaces/CHK/pages/98310/Spec+Payment+form"},
    }
    page.update(over)
    return page


def test_a_page_maps_to_a_document_with_plain_text_that_keeps_jira_keys() -> None:
    doc = page_to_document(v2_page(), "CHK", ["spec", "checkout", "spec"])
    assert doc == Document(
        title="Spec: Payment form",
        space="CHK",
        parent="98307",
        body_storage=v2_page()["body"]["storage"]["value"],
        body_text="Goal\nPay & go\nCHK-12",
        version=3,
        author="5f01",
        labels=("checkout", "spec"),
        status="current",
    )


def test_storage_to_text_separates_blocks_and_cells() -> None:
    text = storage_to_text("<table><tr><td>CHK-1</td><td>3 points</td></tr></table><p>a<br/>b</p>")
    assert text.split("\n") == ["CHK-1 3 points", "a", "b"]


def test_a_current_page_is_an_upsert_with_version_times_and_url() -> None:
    change = page_to_change(v2_page(), "CHK", ["spec"], "https://orbit.atlassian.net/wiki", NOW)
    assert change.body is not None and change.tombstone is None
    assert change.version == "3"
    assert change.updated_at == datetime(2026, 10, 2, 8, 15, 30, 250_000, tzinfo=UTC)
    assert change.created_at == datetime(2026, 9, 27, 12, 0, tzinfo=UTC)
    assert change.url == "https://orbit.atlassian.net/wiki/spaces/CHK/pages/98310/Spec+Payment+form"
    assert change.raw["id"] == "98310"


@pytest.mark.parametrize(
    ("status", "reason"), [("trashed", DeleteReason.TRASHED), ("archived", DeleteReason.ARCHIVED)]
)
def test_trashed_and_archived_pages_are_tombstones_with_that_reason(
    status: str, reason: DeleteReason
) -> None:
    change = page_to_change(v2_page(status=status), "CHK", [], "https://x/wiki", NOW)
    assert change.body is None and change.tombstone is not None
    assert change.tombstone.reason == reason and change.tombstone.deleted_at == NOW
    assert change.version == "3"


def test_a_page_without_a_title_is_skippable() -> None:
    broken = v2_page()
    del broken["title"]
    with pytest.raises(SkippableRecord):
        page_to_document(broken, "CHK")


def test_a_document_without_storage_is_written_from_its_text_in_the_template() -> None:
    assert storage_for(Document(title="t", body_text="a < b\n\nc")) == "<p>a &lt; b</p><p>c</p>"
    assert storage_for(Document(title="t")) == "<p></p>"
    assert storage_for(Document(title="t", body_storage="<p>x</p>", body_text="ignored")) == "<p>x</p>"


def test_update_payload_carries_every_field_the_v2_spec_requires() -> None:
    payload = update_payload(
        "98310", Document(title="T", body_storage="<p>x</p>", parent="98307"), 4, "origin=hub"
    )
    assert payload == {
        "id": "98310",
        "status": "current",
        "title": "T",
        "body": {"representation": "storage", "value": "<p>x</p>"},
        "version": {"number": 4, "message": "origin=hub"},
        "parentId": "98307",
    }


def test_next_cursor_prefers_the_link_header_and_falls_back_to_links_next() -> None:
    header = '</wiki/api/v2/pages?limit=5&cursor=abc%3D>; rel="next", <https://x/wiki>; rel="base"'
    assert next_cursor(header, None) == "abc="
    assert next_cursor(None, {"next": "/wiki/api/v2/pages?cursor=def"}) == "def"
    assert next_cursor('<https://x/wiki>; rel="base"', {"base": "https://x/wiki"}) is None


def _response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body or {}).encode()
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ConfigError),
        (401, ConfigError),
        (403, PermissionDenied),
        (404, RecordNotFound),
        (409, PreconditionFailed),
        (413, SkippableRecord),
        (500, TransientError),
        (503, TransientError),
        (418, ConfigError),
    ],
)
def test_error_table(status: int, error: type[Exception]) -> None:
    body = {"errors": [{"status": status, "code": "X", "title": "t", "detail": "why it failed"}]}
    mapped = error_for_status(_response(status, body), "list pages")
    assert type(mapped) is error
    assert "why it failed" in str(mapped) and str(status) in str(mapped)


def test_a_429_carries_retry_after_or_a_default() -> None:
    paced = error_for_status(_response(429, headers={"Retry-After": "12"}), "x")
    assert isinstance(paced, RateLimited) and paced.retry_after == 12
    default = error_for_status(_response(429), "x")
    assert isinstance(default, RateLimited) and default.retry_after == 5.0


def test_sync_cursor_round_trips_and_forgets_what_left_the_overlap() -> None:
    cursor = SyncCursor().advanced(
        [("1", 1_000, "1:current"), ("2", 100_000, "4:current")], overlap_ms=60_000
    )
    again = SyncCursor.parse(cursor.dump())
    assert again == cursor and again is not None
    assert again.since_ms == 100_000 and set(again.seen) == {"2"}
    assert again.already_seen("2", "4:current") and not again.already_seen("2", "4:trashed")
    with pytest.raises(CursorInvalidated):
        SyncCursor.parse('{"v": 99}')
