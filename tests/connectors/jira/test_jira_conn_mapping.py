"""Pure mapping: Jira issue and sprint JSON <-> unified WorkItem / Sprint."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.connectors.jira.cursor import IssueCursor
from app.connectors.jira.mapping import (
    FieldIds,
    changed_fields,
    epoch_ms,
    issue_to_change,
    parse_jira_time,
    sprint_to_change,
    status_category,
    work_item_from_issue,
    work_item_to_fields,
)
from app.errors import CursorInvalidated, SkippableRecord
from app.models import SprintState, StatusCategory, WorkItem
from app.sandbox.jira.model import FIELD_CATALOGUE

IDS = FieldIds(sprint="customfield_10020", story_points="customfield_10016", flagged="customfield_10021")


def issue(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "summary": "Shopper can apply a promo code",
        "description": "As a shopper...\n\nAcceptance criteria:\n- an invalid code shows an error",
        "issuetype": {"name": "Story"},
        "status": {"name": "In Review", "statusCategory": {"key": "indeterminate"}},
        "priority": {"name": "High"},
        "assignee": {"accountId": "acc-dev"},
        "reporter": {"accountId": "acc-po"},
        "labels": ["checkout", "ux"],
        "duedate": "2031-06-01",
        "parent": {"id": "10002", "key": "CHK-2"},
        "project": {"key": "CHK"},
        "created": "2031-05-01T09:00:00.000+0200",
        "updated": "2031-05-04T10:15:42.123+0200",
        "customfield_10020": [{"id": 1, "state": "closed"}, {"id": 3, "state": "active"}],
        "customfield_10016": 5,
        "customfield_10021": [{"value": "Impediment"}],
    }
    base.update(fields)
    return {"id": "10042", "key": "CHK-42", "fields": base}


def test_field_ids_are_found_by_custom_type_in_the_catalogue() -> None:
    assert FieldIds.from_catalogue(FIELD_CATALOGUE) == IDS


def test_an_issue_maps_to_a_work_item_with_sprint_epic_points_and_flag() -> None:
    item = work_item_from_issue(issue(), IDS)
    assert item == WorkItem(
        key="CHK-42",
        title="Shopper can apply a promo code",
        description="As a shopper...\n\nAcceptance criteria:\n- an invalid code shows an error",
        type="Story",
        status="In Review",
        status_category=StatusCategory.IN_PROGRESS,
        priority="High",
        assignee="acc-dev",
        reporter="acc-po",
        sprint="3",
        parent="10002",
        labels=("checkout", "ux"),
        due_date=date(2031, 6, 1),
        story_points=5.0,
        flagged=True,
        project="CHK",
    )


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("new", StatusCategory.TODO),
        ("indeterminate", StatusCategory.IN_PROGRESS),
        ("done", StatusCategory.DONE),
        (None, StatusCategory.TODO),
    ],
)
def test_status_categories_map_by_key(key: str | None, category: StatusCategory) -> None:
    assert status_category(key) == category


def test_empty_optional_fields_map_to_defaults() -> None:
    item = work_item_from_issue(
        issue(
            customfield_10020=None,
            customfield_10016=None,
            customfield_10021=None,
            parent=None,
            assignee=None,
            priority=None,
            description=None,
        ),
        IDS,
    )
    assert (item.sprint, item.story_points, item.flagged, item.parent, item.assignee) == (
        None,
        None,
        False,
        None,
        None,
    )
    assert item.description == ""


def test_a_closed_sprint_is_kept_when_there_is_no_open_one() -> None:
    item = work_item_from_issue(
        issue(customfield_10020=[{"id": 1, "state": "closed"}, {"id": 2, "state": "closed"}]), IDS
    )
    assert item.sprint == "2"


def test_an_issue_without_summary_is_skippable() -> None:
    raw = issue()
    del raw["fields"]["summary"]
    with pytest.raises(SkippableRecord):
        work_item_from_issue(raw, IDS)


def test_the_change_is_keyed_by_numeric_id_and_versioned_by_updated() -> None:
    change = issue_to_change(issue(), IDS, "https://orbit.atlassian.net/")
    assert change.external_id == "10042"
    assert change.version == "2031-05-04T10:15:42.123+0200"
    assert change.url == "https://orbit.atlassian.net/browse/CHK-42"
    assert change.updated_at == datetime(2031, 5, 4, 8, 15, 42, 123000, tzinfo=UTC)


def test_jira_times_convert_to_exact_epoch_milliseconds() -> None:
    assert epoch_ms(parse_jira_time("1970-01-01T01:00:00.001+0100")) == 1
    assert epoch_ms(parse_jira_time("2031-05-04T10:15:42.123+0200")) % 1000 == 123


def test_a_work_item_maps_to_create_fields_and_only_changes_to_edit_fields() -> None:
    item = work_item_from_issue(issue(), IDS)
    create = work_item_to_fields(item, IDS, creating=True)
    assert create["issuetype"] == {"name": "Story"}
    assert create["parent"] == {"id": "10002"}
    assert create["customfield_10020"] == 3
    assert create["customfield_10021"] == [{"value": "Impediment"}]
    edited = item.model_copy(update={"title": "New title", "labels": ("ux",), "story_points": 8.0})
    assert changed_fields(item, edited, IDS) == {
        "summary": "New title",
        "labels": ["ux"],
        "customfield_10016": 8.0,
    }
    assert changed_fields(item, item, IDS) == {}


def test_a_sprint_maps_with_state_dates_and_board() -> None:
    change = sprint_to_change(
        {
            "id": 3,
            "name": "CHK Sprint 7",
            "state": "active",
            "originBoardId": 1,
            "goal": "ship",
            "startDate": "2031-05-05T09:00:00.000+0200",
            "endDate": "2031-05-16T17:00:00.000+0200",
        },
        "1",
    )
    assert change.external_id == "3"
    assert change.body is not None and change.body.kind == "sprint"
    assert change.body.state == SprintState.ACTIVE
    assert change.body.board == "1"
    assert change.body.start == datetime(2031, 5, 5, 7, 0, tzinfo=UTC)


def test_the_incremental_query_uses_epoch_milliseconds_minus_the_overlap() -> None:
    cursor = IssueCursor(updated_ms=1_800_000_060_000)
    assert (
        cursor.jql("CHK", 60_000)
        == 'project = "CHK" AND updated >= 1800000000000 ORDER BY updated ASC, id ASC'
    )
    assert IssueCursor().jql("CHK", 60_000) == 'project = "CHK" ORDER BY updated ASC, id ASC'


def test_the_floor_follows_the_later_of_the_newest_change_and_the_last_complete_read() -> None:
    cursor = IssueCursor(updated_ms=1_800_000_060_000)
    assert cursor.floor(60_000) == 1_800_000_000_000
    cursor.completed(None)  # Jira sent no Date: the floor stays where it was
    assert cursor.floor(60_000) == 1_800_000_000_000
    cursor.completed(1_800_000_500_000)
    assert cursor.floor(60_000) == 1_800_000_440_000
    assert IssueCursor(read_ms=1_800_000_500_000).floor(60_000) == 1_800_000_440_000
    assert IssueCursor(updated_ms=1_800_000_900_000, read_ms=1_800_000_500_000).floor(60_000) == 1_800_000_840_000
    assert IssueCursor().floor(60_000) is None


def test_a_cursor_written_before_the_read_mark_still_loads() -> None:
    old = IssueCursor.load('{"updated_ms":1800000060000,"seen":{"7":1800000060000}}')
    assert old == IssueCursor(1_800_000_060_000, {"7": 1_800_000_060_000}, None)
    assert IssueCursor.load(IssueCursor(5, {"1": 5}, 9).dump()) == IssueCursor(5, {"1": 5}, 9)


def test_pruning_forgets_what_lies_below_the_floor_of_a_complete_read() -> None:
    cursor = IssueCursor()
    cursor.admit("1", 1_000)
    cursor.admit("2", 5_000)
    cursor.prune(overlap_ms=60_000)
    assert set(cursor.seen) == {"1", "2"}, "both inside the overlap before the newest change"
    cursor.completed(63_000)
    cursor.prune(overlap_ms=60_000)
    assert cursor.seen == {"2": 5_000}


def test_the_cursor_drops_what_it_saw_and_admits_new_versions() -> None:
    cursor = IssueCursor()
    assert cursor.admit("1", 1000) and cursor.admit("2", 1000)
    restored = IssueCursor.load(cursor.dump())
    assert not restored.admit("1", 1000)
    assert restored.admit("3", 1000), "a third issue at the boundary millisecond is not lost"
    assert restored.admit("1", 1001), "an edit after the boundary is a new version"
    restored.prune(overlap_ms=0)
    assert set(restored.seen) == {"1"}


def test_an_unreadable_cursor_is_invalidated() -> None:
    with pytest.raises(CursorInvalidated):
        IssueCursor.load("2031-05-04 10:15")
