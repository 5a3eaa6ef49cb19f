"""One person per human across tools, from the accounts synced records show."""

from __future__ import annotations

from typing import Any

from app.models import Account, RecordKind
from app.storage import SqlStore
from app.sync.derive import ATLASSIAN, account_system

from .support import document, event, issue, slack_user, write


def jira_user(
    account_id: str, name: str, email: str | None, account_type: str = "atlassian"
) -> dict[str, Any]:
    user: dict[str, Any] = {"accountId": account_id, "displayName": name, "accountType": account_type}
    if email:
        user["emailAddress"] = email
    return user


def person(store: SqlStore, system: str, account_id: str) -> dict[str, Any]:
    pid = store.person_for_account(system, account_id)
    assert pid is not None, f"no person for {system}/{account_id}"
    return next(p for p in store.list_people(limit=500) if p["person_id"] == pid)


def test_a_jira_user_and_a_slack_user_with_the_same_verified_email_are_one_person(store: SqlStore) -> None:
    amelie = jira_user("5f01", "Amélie Laurent", "amelie@orbit.example")
    write(store, "jira", issue("10012", "CHK-12", assignee=amelie, reporter=amelie))
    write(store, "slack-users", slack_user("U01", "Amélie", "Amelie@orbit.example"))

    [only] = store.list_people()
    assert only["display_name"] == "Amélie Laurent"
    assert {(a["system"], a["account_id"]) for a in only["accounts"]} == {
        (ATLASSIAN, "5f01"),
        ("slack", "U01"),
    }
    assert only["emails"] == ["amelie@orbit.example"]


def test_a_work_items_assignee_resolves_to_the_person(store: SqlStore) -> None:
    jonas = jira_user("5f02", "Jonas Becker", "jonas@orbit.example")
    write(store, "slack-users", slack_user("U02", "Jonas", "jonas@orbit.example"))
    write(store, "jira", issue("10013", "CHK-13", assignee=jonas))

    [item] = store.find_by_natural_key(RecordKind.WORK_ITEM, "CHK-13")
    assignee = getattr(item.body, "assignee", None)
    assert assignee == "5f02"
    assert store.person_for_account(account_system("jira"), assignee) == store.person_for_account(
        "slack", "U02"
    )


def test_an_unverified_email_does_not_merge(store: SqlStore) -> None:
    write(
        store, "jira", issue("1", "CHK-1", assignee=jira_user("5f03", "Priya", "priya@orbit.example", "app"))
    )
    write(store, "slack-users", slack_user("U03", "Priya R.", "priya@orbit.example", confirmed=False))
    write(store, "gcal", event("gcal", "team/e", None, attendees=["someone@orbit.example"]))

    assert store.person_for_account(ATLASSIAN, "5f03") != store.person_for_account("slack", "U03")
    assert len(store.list_people()) == 3


def test_meeting_attendees_join_people_by_address_and_rooms_are_not_people(store: SqlStore) -> None:
    write(store, "slack-users", slack_user("U04", "Mei Chen", "mei@orbit.example"))
    raw = {"attendees": [{"email": "room-1@orbit.example", "resource": True}]}
    write(
        store,
        "gcal",
        event(
            "gcal",
            "team/e",
            "uid",
            organizer="Mei@orbit.example",
            attendees=["mei@orbit.example", "room-1@orbit.example", "c_123@resource.calendar.google.com"],
            raw=raw,
        ),
    )
    outlook_raw = {"attendees": [{"type": "resource", "emailAddress": {"address": "board@orbit.example"}}]}
    write(
        store,
        "outlook",
        event("outlook", "A", "uid", attendees=["mei@orbit.example", "board@orbit.example"], raw=outlook_raw),
    )

    mei = person(store, "slack", "U04")
    assert {(a["system"], a["account_id"]) for a in mei["accounts"]} == {
        ("slack", "U04"),
        ("google_calendar", "mei@orbit.example"),
        ("outlook", "mei@orbit.example"),
    }
    assert len(store.list_people()) == 1


def test_a_confluence_author_is_the_same_atlassian_account_as_in_jira(store: SqlStore) -> None:
    write(store, "wiki", document("p1", "Notes", "text", author="5f05"))
    write(
        store, "jira", issue("1", "CHK-1", reporter=jira_user("5f05", "Noah Williams", "noah@orbit.example"))
    )

    [noah] = store.list_people()
    assert noah["display_name"] == "Noah Williams"  # the bare id it was first seen as is replaced
    assert [(a["system"], a["account_id"], a["email"]) for a in noah["accounts"]] == [
        (ATLASSIAN, "5f05", "noah@orbit.example")
    ]


def test_a_sighting_without_an_email_keeps_the_email_already_known(store: SqlStore) -> None:
    write(store, "jira", issue("1", "CHK-1", assignee=jira_user("5f06", "Tomás", "tomas@orbit.example")))
    write(store, "jira", issue("2", "CHK-2", assignee=jira_user("5f06", "Tomás", None)))  # email hidden
    write(store, "slack-users", slack_user("U06", "Tomás O.", "tomas@orbit.example"))

    assert person(store, ATLASSIAN, "5f06")["emails"] == ["tomas@orbit.example"]
    assert store.person_for_account(ATLASSIAN, "5f06") == store.person_for_account("slack", "U06")


def test_an_admin_override_moves_an_account_to_another_person(store: SqlStore) -> None:
    write(
        store, "jira", issue("1", "CHK-1", assignee=jira_user("5f07", "Sam (old laptop)", "sam@old.example"))
    )
    write(store, "slack-users", slack_user("U07", "Sam", "sam@orbit.example"))
    sam = store.person_for_account("slack", "U07")
    assert sam is not None
    assert store.person_for_account(ATLASSIAN, "5f07") != sam

    store.set_identity_override(ATLASSIAN, "5f07", sam)
    # Later syncs see the account again (even with a changed name) and leave it where the admin put it.
    write(
        store,
        "jira",
        issue("1", "CHK-1", title="Edited", assignee=jira_user("5f07", "Sam L.", "sam@old.example")),
    )

    assert store.person_for_account(ATLASSIAN, "5f07") == sam
    [only] = store.list_people()
    assert {a["account_id"] for a in only["accounts"]} == {"5f07", "U07"}


def test_the_slack_directory_is_authoritative_and_clears_a_removed_email(store: SqlStore) -> None:
    write(store, "slack-users", slack_user("U08", "Ana", "ana@orbit.example"))
    write(store, "slack-users", slack_user("U08", "Ana", None))

    assert person(store, "slack", "U08")["emails"] == []


def test_unchanged_accounts_are_not_written_again(store: SqlStore) -> None:
    amelie = jira_user("5f01", "Amélie Laurent", "amelie@orbit.example")
    write(store, "jira", issue("10012", "CHK-12", assignee=amelie))
    same = Account(
        system=ATLASSIAN,
        account_id="5f01",
        email="amelie@orbit.example",
        email_verified=True,
        display_name="Amélie Laurent",
    )
    with store.transaction() as tx:
        assert tx.note_accounts([same]) == 0
        assert tx.note_accounts([same.model_copy(update={"display_name": "Amélie L."})]) == 1
