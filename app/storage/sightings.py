"""Accounts seen in synced records, batched per page and written only when something changed.

Two kinds of source:

* authoritative: a tool's own user directory (Slack ``users.list``): what it says replaces
  what the hub knew, a removed email included;
* a sighting: an account named inside another record (a Jira assignee, a Confluence
  author, a meeting attendee): it adds what it knows (an email, a name) and never erases
  what an authoritative source or an earlier sighting said.

Matching across tools (verified email, admin override) is :func:`app.storage.people.upsert_account`'s.
A person created from a bare id or an email is renamed once a display name is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from app.models import Account
from app.storage import people as people_rows
from app.storage.tables import accounts, people

__all__ = ["note_accounts", "person_for_account"]

_CHUNK = 400


@dataclass(frozen=True)
class _Known:
    email: str | None
    email_verified: bool
    display_name: str | None


def _merged(batch: Iterable[Account]) -> dict[tuple[str, str], Account]:
    """One account per (system, id); a later sighting fills in what an earlier one lacked."""
    out: dict[tuple[str, str], Account] = {}
    for acct in batch:
        key = (acct.system, acct.account_id)
        prev = out.get(key)
        if prev is not None and prev is not acct and (
            (not acct.email and (prev.email, prev.email_verified) != (acct.email, acct.email_verified))
            or (not acct.display_name and prev.display_name != acct.display_name)
        ):
            # Built only when the merge changes something: a page of issues names the same few
            # (cached, identical) accounts hundreds of times.
            acct = Account(
                system=acct.system,
                account_id=acct.account_id,
                email=acct.email or prev.email,
                email_verified=acct.email_verified if acct.email else prev.email_verified,
                display_name=acct.display_name or prev.display_name,
            )
        out[key] = acct
    return out


_KNOWN = select(
    accounts.c.system,
    accounts.c.account_id,
    accounts.c.email,
    accounts.c.email_verified,
    accounts.c.display_name,
).where(accounts.c.account_id.in_(bindparam("ids", expanding=True)))
"""Built once (see :mod:`app.storage.lookup`): the ids go through one expanding parameter."""


def _known(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], _Known]:
    wanted = set(keys)
    ids = sorted({account_id for _, account_id in keys})
    found: dict[tuple[str, str], _Known] = {}
    for start in range(0, len(ids), _CHUNK):
        for r in conn.execute(_KNOWN, {"ids": ids[start : start + _CHUNK]}):
            if (r.system, r.account_id) in wanted:
                found[(r.system, r.account_id)] = _Known(r.email, bool(r.email_verified), r.display_name)
    return found


def _rename_placeholder(conn: Connection, person_id: str, acct: Account) -> None:
    """A person named after an id or an address (all that was known then) takes the real name."""
    if not acct.display_name:
        return
    placeholders = [f"{acct.system}:{acct.account_id}"] + ([acct.email] if acct.email else [])
    conn.execute(
        update(people)
        .where(people.c.person_id == person_id, people.c.display_name.in_(placeholders))
        .values(display_name=acct.display_name)
    )


def note_accounts(conn: Connection, batch: Sequence[Account], *, authoritative: bool, now: datetime) -> int:
    """Record the accounts of ``batch``; returns how many were written (new or changed)."""
    merged = _merged(batch)
    known = _known(conn, list(merged))
    written = 0
    for key, acct in merged.items():
        before = known.get(key)
        email, verified, name = acct.email, acct.email_verified and bool(acct.email), acct.display_name
        if before is not None and not authoritative:
            email = email or before.email
            verified = verified if acct.email else before.email_verified
            name = name or before.display_name
        if before is not None and (email, verified, name) == (
            before.email,
            before.email_verified,
            before.display_name,
        ):
            continue
        person_id = people_rows.upsert_account(conn, acct.system, acct.account_id, email, verified, name, now)
        _rename_placeholder(
            conn,
            person_id,
            Account(system=acct.system, account_id=acct.account_id, email=email, display_name=name),
        )
        written += 1
    return written


def person_for_account(conn: Connection, system: str, account_id: str) -> str | None:
    value = conn.execute(
        select(accounts.c.person_id).where(accounts.c.system == system, accounts.c.account_id == account_id)
    ).scalar_one_or_none()
    return None if value is None else str(value)
