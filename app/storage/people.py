"""People across tools: accounts attached to persons by verified email or by an admin override.

An unverified email is only a claim (anyone can type one into a profile), so it never
merges two accounts; it still shows on the person.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, select, text, update

from app.storage.sql import upsert
from app.storage.tables import accounts, identity_overrides, people

__all__ = ["list_people", "set_identity_override", "upsert_account"]


def _serialise(conn: Connection) -> None:
    # Two instances matching the same new email at once would each create a person;
    # one advisory lock per transaction keeps identity resolution single-file on PostgreSQL.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('passerelle.people'))"))


def _ensure_person(conn: Connection, person_id: str, display_name: str, now: datetime) -> None:
    found = conn.execute(select(people.c.person_id).where(people.c.person_id == person_id)).first()
    if found is None:
        conn.execute(people.insert().values(person_id=person_id, display_name=display_name, created_at=now))


def _new_person(conn: Connection, display_name: str, now: datetime) -> str:
    person_id = str(uuid.uuid4())
    conn.execute(people.insert().values(person_id=person_id, display_name=display_name, created_at=now))
    return person_id


def _drop_if_orphan(conn: Connection, person_id: str | None) -> None:
    """A person left with no account and no override pinning it is noise in the people list."""
    if person_id is None:
        return
    conn.execute(
        delete(people).where(
            people.c.person_id == person_id,
            ~exists().where(accounts.c.person_id == person_id),
            ~exists().where(identity_overrides.c.person_id == person_id),
        )
    )


def _verified_match(conn: Connection, email: str, system: str, account_id: str) -> str | None:
    stmt = (
        select(accounts.c.person_id)
        .join(people, people.c.person_id == accounts.c.person_id)
        .where(
            func.lower(accounts.c.email) == email.lower(),
            accounts.c.email_verified.is_(True),
            ~((accounts.c.system == system) & (accounts.c.account_id == account_id)),
        )
        .order_by(people.c.created_at, people.c.person_id)
        .limit(1)
    )
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else str(value)


def upsert_account(
    conn: Connection,
    system: str,
    account_id: str,
    email: str | None,
    email_verified: bool,
    display_name: str | None,
    now: datetime,
) -> str:
    _serialise(conn)
    name = display_name or email or f"{system}:{account_id}"
    override = conn.execute(
        select(identity_overrides.c.person_id).where(
            identity_overrides.c.system == system, identity_overrides.c.account_id == account_id
        )
    ).scalar_one_or_none()
    current = conn.execute(
        select(accounts.c.person_id).where(accounts.c.system == system, accounts.c.account_id == account_id)
    ).scalar_one_or_none()

    person_id: str | None = None
    if override is not None:
        person_id = str(override)
        _ensure_person(conn, person_id, name, now)
    if person_id is None and email and email_verified:
        person_id = _verified_match(conn, email, system, account_id)
    if person_id is None and current is not None:
        person_id = str(current)
    if person_id is None:
        person_id = _new_person(conn, name, now)

    upsert(
        conn,
        accounts,
        {
            "system": system,
            "account_id": account_id,
            "person_id": person_id,
            "email": email,
            "email_verified": bool(email_verified),
            "display_name": display_name,
            "updated_at": now,
        },
        ["system", "account_id"],
    )
    if current is not None and str(current) != person_id:
        _drop_if_orphan(conn, str(current))
    return person_id


def set_identity_override(
    conn: Connection, system: str, account_id: str, person_id: str, now: datetime
) -> None:
    """Pin the account to ``person_id`` (created if new), now and for every later sighting."""
    _serialise(conn)
    row = conn.execute(
        select(accounts.c.person_id, accounts.c.display_name, accounts.c.email).where(
            accounts.c.system == system, accounts.c.account_id == account_id
        )
    ).first()
    name = (row.display_name or row.email) if row is not None else None
    _ensure_person(conn, person_id, name or f"{system}:{account_id}", now)
    upsert(
        conn,
        identity_overrides,
        {"system": system, "account_id": account_id, "person_id": person_id, "created_at": now},
        ["system", "account_id"],
    )
    if row is not None and row.person_id != person_id:
        conn.execute(
            update(accounts)
            .where(accounts.c.system == system, accounts.c.account_id == account_id)
            .values(person_id=person_id, updated_at=now)
        )
        _drop_if_orphan(conn, row.person_id)


def list_people(conn: Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    page = conn.execute(
        select(people)
        .order_by(func.lower(people.c.display_name), people.c.person_id)
        .limit(max(0, limit))
        .offset(max(0, offset))
    ).all()
    ids = [p.person_id for p in page]
    by_person: dict[str, list[dict[str, Any]]] = {pid: [] for pid in ids}
    if ids:
        rows = conn.execute(
            select(accounts)
            .where(accounts.c.person_id.in_(ids))
            .order_by(accounts.c.system, accounts.c.account_id)
        )
        for a in rows:
            by_person[a.person_id].append(
                {
                    "system": a.system,
                    "account_id": a.account_id,
                    "email": a.email,
                    "email_verified": bool(a.email_verified),
                    "display_name": a.display_name,
                }
            )
    result = []
    for p in page:
        accts = by_person[p.person_id]
        emails = sorted({str(a["email"]).lower() for a in accts if a["email"]})
        result.append(
            {"person_id": p.person_id, "display_name": p.display_name, "emails": emails, "accounts": accts}
        )
    return result
