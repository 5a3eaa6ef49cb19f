"""Which tool accounts a record shows (pure), and when their email may match people across tools.

An account joins the person of another account with the same email only when the email is
*verified*: the tool vouches that the address belongs to the account.

========================  ===============================================  =========================
source                    account                                          email verified when
========================  ===============================================  =========================
Slack ``users`` stream    ``slack`` / user id (authoritative: the           the workspace member's
                          directory's own entry)                            profile email is confirmed
Jira assignee, reporter   ``atlassian`` / accountId                         ``accountType`` is
                                                                            ``atlassian`` (the Atlassian
                                                                            account's login address;
                                                                            absent when the user hides it)
Confluence page author    ``atlassian`` / accountId (no email in pages)     never (no email)
Google / Outlook          ``google_calendar`` / ``outlook`` + the address   always: the account *is*
organizer, attendees      itself, lower-cased                               the mailbox, it claims no
                                                                            other address
========================  ===============================================  =========================

Jira and Confluence share one account space (an Atlassian account id is the same person
in both products), so both map to the system ``atlassian``: a Confluence author and a
Jira assignee with the same id are one account without any email. Rooms and other
resources (Google ``resource: true``, Graph attendee ``type: resource``, the
``*.calendar.google.com`` group and resource calendars) are not people. Slack message
authors are not sighted: the ``users`` stream lists every member, bots excluded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from app.models import Account, CalendarEvent, Document, Person, Record, WorkItem

__all__ = ["ATLASSIAN", "account_sightings", "account_system", "is_authoritative"]

ATLASSIAN = "atlassian"
_ATLASSIAN_SOURCES = frozenset({"jira", "confluence"})
_NOT_PEOPLE_DOMAINS = ("calendar.google.com",)


def account_system(source_system: str) -> str:
    """The account namespace of a tool: ``atlassian`` for Jira and Confluence, else the tool itself.

    Resolve a WorkItem's assignee with
    ``store.person_for_account(account_system("jira"), item.assignee)``.
    """
    return ATLASSIAN if source_system in _ATLASSIAN_SOURCES else source_system


def is_authoritative(record: Record) -> bool:
    """A tool's own user directory entry replaces what sightings said."""
    return isinstance(record.body, Person)


def _atlassian_user(value: Any) -> Account | None:
    if not isinstance(value, Mapping) or not value.get("accountId"):
        return None
    email = value.get("emailAddress") or None
    return _account(
        ATLASSIAN,
        str(value["accountId"]),
        str(email) if email else None,
        bool(email) and value.get("accountType") == "atlassian",
        str(value["displayName"]) if value.get("displayName") else None,
    )


@functools.lru_cache(maxsize=4096)
def _account(system: str, account_id: str, email: str | None = None, email_verified: bool = False,
             display_name: str | None = None) -> Account:
    """An ``Account`` (frozen, so one instance can stand for every sighting of the same values):
    a page of issues names the same few people hundreds of times."""
    return Account(system=system, account_id=account_id, email=email, email_verified=email_verified,
                   display_name=display_name)


def _work_item_accounts(record: Record, item: WorkItem) -> Iterator[Account]:
    system = account_system(record.source.system)
    fields = record.raw.get("fields") if system == ATLASSIAN else None
    for role, account_id in (("assignee", item.assignee), ("reporter", item.reporter)):
        if not account_id:
            continue
        # The Jira issue JSON carries the user object (name, and the email unless hidden).
        seen = _atlassian_user(fields.get(role)) if isinstance(fields, Mapping) else None
        if seen is not None and seen.account_id == account_id:
            yield seen
        else:
            yield _account(system, account_id)


def _not_people(raw: Mapping[str, Any]) -> set[str]:
    """Addresses the raw event marks as rooms or resources (Google and Graph spellings)."""
    out: set[str] = set()
    for a in raw.get("attendees") or []:
        if not isinstance(a, Mapping):
            continue
        if a.get("resource") is True and a.get("email"):
            out.add(str(a["email"]).lower())
        mailbox = a.get("emailAddress")
        if a.get("type") == "resource" and isinstance(mailbox, Mapping) and mailbox.get("address"):
            out.add(str(mailbox["address"]).lower())
    return out


def _organizer_name(raw: Mapping[str, Any]) -> str | None:
    organizer = raw.get("organizer")
    if not isinstance(organizer, Mapping):
        return None
    name = organizer.get("displayName")
    if name is None and isinstance(organizer.get("emailAddress"), Mapping):
        name = organizer["emailAddress"].get("name")
    return str(name) if name else None


def _calendar_accounts(record: Record, event: CalendarEvent) -> Iterator[Account]:
    skip = _not_people(record.raw)
    people: list[tuple[str, str | None]] = []
    if event.organizer:
        people.append((event.organizer, _organizer_name(record.raw)))
    people.extend((a.email, a.name) for a in event.attendees)
    for email, name in people:
        address = email.strip().lower()
        if "@" not in address or address in skip or address.endswith(_NOT_PEOPLE_DOMAINS):
            continue
        yield _account(account_system(record.source.system), address, address, True, name or None)


def account_sightings(record: Record) -> list[Account]:
    """The accounts ``record`` shows, in order (duplicates are merged by the store)."""
    body = record.body
    if isinstance(body, Person):
        return list(body.accounts)
    if isinstance(body, WorkItem):
        return list(_work_item_accounts(record, body))
    if isinstance(body, Document):
        if body.author:
            return [Account(system=account_system(record.source.system), account_id=body.author)]
        return []
    if isinstance(body, CalendarEvent):
        return list(_calendar_accounts(record, body))
    return []
