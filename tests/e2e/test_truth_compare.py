"""The comparison helper itself: each kind of difference is reported, with the field and both values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.models import Tombstone
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.truth import Difference, DifferenceKind, format_differences
from e2e.burst import newest_message
from e2e.kit import Rig

pytestmark = pytest.mark.e2e


async def test_compare_reports_every_difference_with_its_field_and_both_values(synced: Rig) -> None:
    jira, slack = synced.sandbox.simulators["jira"], synced.sandbox.simulators["slack"]
    assert isinstance(jira, JiraSimulator) and isinstance(slack, SlackSimulator)
    issue = jira.issue("CHK-2")
    old_title, old_version = (
        issue.fields["summary"],
        synced.hub.db.live_refs("jira", "issues", "CHK")[str(issue.id)],
    )
    jira.edit_issue("CHK-2", summary="Renamed at the source")
    channel = slack.channel_id("random")
    gone = newest_message(slack, channel, with_replies=False)
    slack.delete_message(channel, gone)
    event = next(r for r in synced.hub.db.iter_records("google", "events", include_deleted=False))
    with synced.hub.db.transaction() as tx:
        tx.tombstone_record(event.hub_id, Tombstone(deleted_at=datetime.now(UTC)))

    differences = synced.differences()

    by_kind = {(d.kind, d.connector, d.external_id, d.field) for d in differences}
    assert by_kind == {
        (DifferenceKind.VERSION, "jira", str(issue.id), None),
        (DifferenceKind.ENVELOPE, "jira", str(issue.id), "updated_at_source"),
        (DifferenceKind.FIELD, "jira", str(issue.id), "title"),
        (DifferenceKind.EXTRA_IN_HUB, "slack", f"{channel}:{gone}", None),
        (DifferenceKind.MISSING_IN_HUB, "google", event.source.external_id, None),
    }, format_differences(differences)
    title = next(d for d in differences if d.field == "title")
    assert (title.hub, title.truth) == (old_title, "Renamed at the source")
    version = next(d for d in differences if d.kind is DifferenceKind.VERSION)
    assert version.hub == old_version and version.truth != old_version
    text = format_differences(differences)
    assert text.startswith("5 difference(s)") and "body.title" in text and "Renamed at the source" in text


def test_format_differences_says_when_there_are_none_and_cuts_long_lists() -> None:
    many = [Difference(DifferenceKind.MISSING_IN_HUB, "jira", "issues", str(n)) for n in range(60)]

    assert format_differences([]) == "no differences"
    text = format_differences(many, limit=5)
    assert "60 difference(s)" in text and "jira/issues/4: missing in the hub" in text
    assert "jira/issues/5:" not in text and "... and 55 more" in text
