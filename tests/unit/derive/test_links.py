"""Links derived as pages are committed: Jira keys mentioned elsewhere, one meeting in two tools."""

from __future__ import annotations

import threading
from datetime import timedelta

from app.models import RecordKind
from app.storage import SqlStore, create_store
from app.sync.derive import MENTION_RULE, MIRROR_RULE

from .support import (
    MONDAY,
    delete,
    document,
    event,
    hub_id,
    issue,
    linked,
    message,
    write,
    write_in,
)

CHK12 = hub_id("jira", "10012")


def mention(source: str) -> tuple[str, str, str, str]:
    return (source, CHK12, "mentions", MENTION_RULE)


def test_a_slack_message_mentioning_chk_12_links_to_that_work_item(store: SqlStore) -> None:
    write(store, "jira", issue("10012", "CHK-12"), issue("10013", "CHK-13"))
    [msg] = write(
        store, "slack", message("1.0", "Is CHK-12 blocked? see <https://x.atlassian.net/browse/CHK-12>")
    )

    assert linked(store, msg) == {mention(msg)}
    assert linked(store, CHK12) == {mention(msg)}
    assert linked(store, hub_id("jira", "10013")) == set()


def test_a_mention_that_arrives_before_its_work_item_is_linked_once_the_item_syncs(store: SqlStore) -> None:
    [msg] = write(store, "slack", message("1.0", "Picking up CHK-12 today"))
    [page] = write(store, "wiki", document("p1", "Refinement notes", "We split CHK-12 into two stories."))
    [meeting] = write(store, "gcal", event("gcal", "team/e1", "uid-1", "Demo of CHK-12"))
    assert linked(store, msg) == set()

    write(store, "jira", issue("10012", "CHK-12"))

    assert linked(store, CHK12) == {mention(msg), mention(page), mention(meeting)}


def test_editing_the_message_to_drop_the_key_removes_the_link(store: SqlStore) -> None:
    write(store, "jira", issue("10012", "CHK-12"), issue("10013", "CHK-13"))
    [msg] = write(store, "slack", message("1.0", "CHK-12 and CHK-13 are ready"))
    assert len(linked(store, msg)) == 2

    write(store, "slack", message("1.0", "only CHK-13 is ready, sorry"))

    assert linked(store, CHK12) == set()
    assert linked(store, msg) == {(msg, hub_id("jira", "10013"), "mentions", MENTION_RULE)}


def test_a_key_that_matches_no_work_item_makes_no_link(store: SqlStore) -> None:
    write(store, "jira", issue("10012", "CHK-12"))
    [msg] = write(
        store, "slack", message("1.0", "UTF-8 and ISO-8601 and NOPE-4 and CHK-120 and chk-12 and CHK-012")
    )

    assert linked(store, msg) == set()
    assert linked(store, CHK12) == set()


def test_rewriting_a_page_keeps_links_once_with_their_first_creation_time(store: SqlStore) -> None:
    write(store, "jira", issue("10012", "CHK-12"))
    [msg] = write(store, "slack", message("1.0", "CHK-12 CHK-12"))
    first = store.links_for(msg)

    write(store, "slack", message("1.0", "CHK-12, again CHK-12!"))
    write(store, "jira", issue("10012", "CHK-12", title="Renamed"))

    assert store.links_for(msg) == first
    assert len(first) == 1


def test_a_moved_issue_is_linked_from_mentions_of_its_new_key_only(store: SqlStore) -> None:
    [old_msg] = write(store, "slack", message("1.0", "CHK-12 first"))
    [new_msg] = write(store, "slack", message("2.0", "now called PAY-3"))
    write(store, "jira", issue("10012", "CHK-12"))
    assert linked(store, CHK12) == {mention(old_msg)}

    write(store, "jira", issue("10012", "PAY-3"))

    assert linked(store, CHK12) == {mention(new_msg)}


def test_deleting_a_message_or_the_work_item_drops_their_links_and_a_return_restores_them(
    store: SqlStore,
) -> None:
    write(store, "jira", issue("10012", "CHK-12"))
    [msg, other] = write(store, "slack", message("1.0", "CHK-12"), message("2.0", "also CHK-12"))

    write(store, "slack", delete("slack", "C1:1.0"))
    assert linked(store, CHK12) == {mention(other)}

    write(store, "jira", delete("jira", "10012"))
    assert linked(store, other) == set()
    assert store.find_by_natural_key(RecordKind.WORK_ITEM, "CHK-12") == []

    write(store, "jira", issue("10012", "CHK-12"))
    assert linked(store, CHK12) == {mention(other)}
    assert msg not in {f for f, *_ in linked(store, CHK12)}


def test_the_same_meeting_in_google_and_outlook_mirrors_by_ical_uid(store: SqlStore) -> None:
    [google] = write(store, "gcal", event("gcal", "team/g1", "uid-review@orbit.example"))
    write(store, "gcal", event("gcal", "team/g2", "uid-other@orbit.example"))
    [outlook] = write(store, "outlook", event("outlook", "AAMk1", "uid-review@orbit.example"))

    both_ways = {
        (google, outlook, "mirrors", MIRROR_RULE),
        (outlook, google, "mirrors", MIRROR_RULE),
    }
    assert linked(store, google) == both_ways
    assert linked(store, outlook) == both_ways

    write(store, "outlook", event("outlook", "AAMk1", "uid-review@orbit.example", "Review (moved room)"))
    assert linked(store, google) == both_ways


def test_a_google_series_mirrors_the_outlook_occurrences_and_occurrences_match_by_start(
    store: SqlStore,
) -> None:
    uid = "uid-planning@orbit.example"
    week = timedelta(days=14)
    # Outlook lists occurrences (series_id set, the master's iCalUID) before Google is read.
    occ1, occ2 = write(
        store,
        "outlook",
        event("outlook", "occ1", uid, start=MONDAY, series_id="master"),
        event("outlook", "occ2", uid, start=MONDAY + week, series_id="master"),
    )
    [master] = write(store, "gcal", event("gcal", "team/m", uid, start=MONDAY))
    # Google keeps a moved or edited occurrence as an exception of its master.
    [exception] = write(
        store,
        "gcal",
        event("gcal", "team/m_x", uid, "Planning (long)", start=MONDAY + week, series_id="team/m"),
    )

    mirrors = {(f, t) for f, t, *_ in linked(store, master, "mirrors")}
    assert mirrors == {(master, occ1), (occ1, master), (master, occ2), (occ2, master)}
    # The exception is the same occurrence as occ2, and not a mirror of its own master.
    assert {(f, t) for f, t, *_ in linked(store, exception, "mirrors")} == {
        (exception, occ2),
        (occ2, exception),
    }


def test_changing_an_events_ical_uid_moves_its_mirror(store: SqlStore) -> None:
    [google] = write(store, "gcal", event("gcal", "team/g1", "uid-a"))
    [out_a] = write(store, "outlook", event("outlook", "A", "uid-a"))
    [out_b] = write(store, "outlook", event("outlook", "B", "uid-b"))

    write(store, "gcal", event("gcal", "team/g1", "uid-b"))

    assert linked(store, out_a) == set()
    assert {t for _, t, *_ in linked(store, google) if t != google} == {out_b}


def test_a_cancelled_copy_stops_mirroring(store: SqlStore) -> None:
    [google] = write(store, "gcal", event("gcal", "team/g1", "uid-a"))
    write(store, "outlook", event("outlook", "A", "uid-a"))

    write(store, "outlook", delete("outlook", "A"))

    assert linked(store, google) == set()


def test_links_of_another_rule_are_left_alone(store: SqlStore) -> None:
    [google] = write(store, "gcal", event("gcal", "team/g1", "uid-a"))
    [out] = write(store, "outlook", event("outlook", "A", "uid-a"))
    with store.transaction() as tx:
        tx.put_link(google, "elsewhere", "mirrors", "two_way:pair")

    write(store, "outlook", delete("outlook", "A"))

    assert linked(store, google) == {(google, "elsewhere", "mirrors", "two_way:pair")}
    assert out not in {t for _, t, *_ in linked(store, google)}


def test_a_work_item_is_found_by_its_key(store: SqlStore) -> None:
    write(store, "jira", issue("10012", "CHK-12"))

    [found] = store.find_by_natural_key(RecordKind.WORK_ITEM, "CHK-12")

    assert found.hub_id == CHK12
    assert store.find_by_natural_key(RecordKind.CALENDAR_EVENT, "CHK-12") == []


def test_pages_committing_at_the_same_time_still_link_each_other(store: SqlStore) -> None:
    """The Slack page and the Jira page derive one after the other, never both blind to the other."""
    other = create_store(store.engine.url.render_as_string(hide_password=False))
    try:
        msg = message("1.0", "CHK-12 is in review")
        with store.transaction() as tx:
            [hub] = write_in(tx, store, "slack", msg)
            jira = threading.Thread(target=write, args=(other, "jira", issue("10012", "CHK-12")))
            jira.start()
            jira.join(0.3)
            # PostgreSQL: the derivation lock; SQLite: the single writer.
            assert jira.is_alive(), "the Jira page waits for the Slack page's derivation to commit"
        jira.join(10)
        assert not jira.is_alive()
    finally:
        other.close()

    assert linked(store, CHK12) == {mention(hub)}
