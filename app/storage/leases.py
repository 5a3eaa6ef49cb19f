"""Leases: a named, expiring lock held in the database, so one runner per pair across processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, case, delete, or_
from sqlalchemy.dialects import postgresql, sqlite

from app.storage.sql import upsert_stmt
from app.storage.tables import leases

__all__ = ["acquire_lease", "release_lease"]


def acquire_lease(conn: Connection, name: str, owner: str, ttl_s: float, now: datetime) -> bool:
    """One statement: insert, or take over when expired, or renew when ``owner`` holds it.

    ``ON CONFLICT DO UPDATE ... WHERE`` locks the conflicting row on PostgreSQL, so two
    processes racing for the same lease cannot both win; on SQLite the write gate and
    ``BEGIN IMMEDIATE`` serialise them. ``RETURNING`` tells whether a row was written.
    """
    values = {"name": name, "owner": owner, "acquired_at": now, "expires_at": now + timedelta(seconds=ttl_s)}
    excluded = (
        postgresql.insert(leases) if conn.dialect.name == "postgresql" else sqlite.insert(leases)
    ).excluded
    stmt = upsert_stmt(
        conn,
        leases,
        values,
        ["name"],
        ["owner", "expires_at"],
        # A renewal keeps the time the owner first took the lease.
        overrides={
            "acquired_at": case(
                (leases.c.owner == excluded.owner, leases.c.acquired_at), else_=excluded.acquired_at
            )
        },
        where=or_(leases.c.owner == excluded.owner, leases.c.expires_at <= now),
    ).returning(leases.c.owner)
    return conn.execute(stmt).first() is not None


def release_lease(conn: Connection, name: str, owner: str) -> None:
    conn.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))
