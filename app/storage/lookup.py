"""Natural keys, key references and derived links: what link derivation reads and writes.

A record's *natural key* is the name other records use for it: a work item's issue key
(``CHK-12``), a calendar event's iCalUID. It is stored in an indexed column on every
upsert, so "which live work item is CHK-12" is one index probe, never a scan of bodies.

A *key reference* is a natural key a derivation rule found in a record (``CHK-12`` in a
Slack message), kept whether or not a record with that key exists yet: when the work item
arrives later, or an issue is moved to a new key, its links are found from this table by
key instead of by re-reading every message.

Concurrency: two pages committing at once (a Slack page naming CHK-12, the Jira page
bringing CHK-12) must not each miss the other's uncommitted rows, or the link is never
made. SQLite has a single writer; on PostgreSQL the first derivation read of a transaction
takes a transaction-scoped advisory lock, so derivations run one after the other, each
seeing what the previous one committed (READ COMMITTED reads a new snapshot per statement).

Key references and derived links are replaced as a set per (record, rule), for a whole
page of records in a few statements: links still wanted keep their ``created_at``, the
others are deleted, new ones inserted. Links written by other rules (a two-way pair's
``mirrors``) are never touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, delete, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from app.models import CalendarEvent, Record, RecordKind, WorkItem
from app.storage.protocol import DerivedLink, KeyMatch, LinkDirection
from app.storage.sql import upsert_many
from app.storage.tables import key_refs, links, records

__all__ = [
    "MAX_KEY_LENGTH",
    "bounded_key",
    "find_live",
    "key_refs_to",
    "natural_key",
    "occurrence_key",
    "replace_links",
    "serialise_derivation",
    "set_key_refs",
]

MAX_KEY_LENGTH = 512
"""Width of the natural key columns; longer keys are stored as a digest."""

_CHUNK = 400  # SQLite caps bound parameters per statement


def bounded_key(key: str) -> str:
    """``key`` itself, or a digest of it when it does not fit the column (iCalUIDs can be long)."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def occurrence_key(ical_uid: str, start: datetime) -> str:
    """The natural key of one occurrence of a series: its iCalUID and its start, in UTC."""
    return bounded_key(f"{ical_uid}#{start.astimezone(UTC):%Y%m%dT%H%M%SZ}")


def natural_key(record: Record) -> str | None:
    """The key other records name ``record`` by, or None.

    Calendar events: a single event or a series master is named by its iCalUID; an
    occurrence or exception of a series (``series_id`` set) shares the series' iCalUID, so
    it is named by iCalUID and start (:func:`occurrence_key`): the same occurrence in two
    tools has the same start.
    """
    body = record.body
    if isinstance(body, WorkItem):
        return bounded_key(body.key) if body.key else None
    if isinstance(body, CalendarEvent) and body.ical_uid:
        if body.series_id is not None:
            return occurrence_key(body.ical_uid, body.start)
        return bounded_key(body.ical_uid)
    return None


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    unique = sorted(set(values))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def serialise_derivation(conn: Connection) -> None:
    """Hold the derivation lock until this transaction ends (PostgreSQL; SQLite writers are serial)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('passerelle.derive'))"))


# The lookups a page's derivation runs, built once: each takes its list through one expanding
# parameter. Built per call, ``in_(list)`` coerced every value of the list into a literal of its
# own (about a tenth of a full sync's derivation time for a page of 100 records).
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
_KEYS: BindParameter[list[str]] = bindparam("keys", expanding=True)
_FIND_LIVE = (
    select(records.c.hub_id, records.c.connector, records.c.natural_key)
    .where(records.c.kind == bindparam("kind"), records.c.natural_key.in_(_KEYS), records.c.deleted_at.is_(None))
    .order_by(records.c.hub_id)
)
_KEY_REFS_TO = (
    select(key_refs.c.from_record, records.c.connector, key_refs.c.ref_key)
    .join(records, records.c.hub_id == key_refs.c.from_record)
    .where(key_refs.c.rule == bindparam("rule"), key_refs.c.ref_key.in_(_KEYS), records.c.deleted_at.is_(None))
    .order_by(key_refs.c.from_record)
)
_HELD_REFS = select(key_refs.c.from_record, key_refs.c.ref_key).where(
    key_refs.c.rule == bindparam("rule"), key_refs.c.from_record.in_(_IDS)
)
_LINK_ENDS: dict[LinkDirection, ColumnElement[bool]] = {
    "from": links.c.from_record.in_(_IDS),
    "to": links.c.to_record.in_(_IDS),
    "both": or_(links.c.from_record.in_(_IDS), links.c.to_record.in_(_IDS)),
}
_HELD_LINKS = {
    direction: select(links.c.from_record, links.c.to_record, links.c.kind).where(
        ends, links.c.derived_by == bindparam("derived_by")
    )
    for direction, ends in _LINK_ENDS.items()
}


def find_live(
    conn: Connection, kind: RecordKind, keys: Collection[str], *, deriving: bool = True
) -> list[KeyMatch]:
    """Live records of ``kind`` whose natural key is one of ``keys``; ``deriving`` (a write
    transaction deriving links) takes the derivation lock first, a plain read does not."""
    if deriving:
        serialise_derivation(conn)
    found: list[KeyMatch] = []
    for chunk in _chunks(bounded_key(k) for k in keys):
        rows = conn.execute(_FIND_LIVE, {"kind": kind.value, "keys": chunk})
        found.extend(KeyMatch(r.hub_id, r.connector, r.natural_key) for r in rows)
    return found


def key_refs_to(conn: Connection, rule: str, keys: Collection[str]) -> list[KeyMatch]:
    """Live records that ``rule`` found referring to one of ``keys`` (``KeyMatch.key`` is the key;
    under the derivation lock)."""
    serialise_derivation(conn)
    found: list[KeyMatch] = []
    for chunk in _chunks(bounded_key(k) for k in keys):
        rows = conn.execute(_KEY_REFS_TO, {"rule": rule, "keys": chunk})
        found.extend(KeyMatch(r.from_record, r.connector, r.ref_key) for r in rows)
    return found


def _held_refs(conn: Connection, rule: str, ids: list[str]) -> set[tuple[str, str]]:
    held: set[tuple[str, str]] = set()
    for chunk in _chunks(ids):
        held.update((r.from_record, r.ref_key) for r in conn.execute(_HELD_REFS, {"rule": rule, "ids": chunk}))
    return held


def set_key_refs(conn: Connection, rule: str, refs: Mapping[str, Collection[str]]) -> None:
    """For each record of ``refs``, make its keys exactly the references ``rule`` holds for it."""
    if not refs:
        return
    wanted = {(from_record, bounded_key(k)) for from_record, keys in refs.items() for k in keys}
    held = _held_refs(conn, rule, list(refs))
    gone = sorted(held - wanted)
    for start in range(0, len(gone), _CHUNK // 2):
        conn.execute(
            delete(key_refs).where(
                key_refs.c.rule == rule,
                tuple_(key_refs.c.from_record, key_refs.c.ref_key).in_(gone[start : start + _CHUNK // 2]),
            )
        )
    added = sorted(wanted - held)
    if added:
        # Through the driver (a message page adds thousands): every column is the key, so the
        # statement is an insert that skips a row already there.
        upsert_many(conn, key_refs, [{"rule": rule, "from_record": f, "ref_key": k} for f, k in added],
                    ["rule", "from_record", "ref_key"])


def _in_scope(link: DerivedLink, hub_id: str, direction: LinkDirection) -> bool:
    if direction == "from":
        return link.from_record == hub_id
    if direction == "to":
        return link.to_record == hub_id
    return hub_id in (link.from_record, link.to_record)


def _held_links(
    conn: Connection, derived_by: str, ids: list[str], direction: LinkDirection
) -> set[DerivedLink]:
    held: set[DerivedLink] = set()
    stmt = _HELD_LINKS[direction]
    for chunk in _chunks(ids):
        rows = conn.execute(stmt, {"derived_by": derived_by, "ids": chunk})
        held.update(DerivedLink(r.from_record, r.to_record, r.kind) for r in rows)
    return held


def replace_links(
    conn: Connection,
    derived_by: str,
    wanted: Mapping[str, Collection[DerivedLink]],
    *,
    direction: LinkDirection,
    now: datetime,
) -> None:
    """For each record of ``wanted``, make its links the ``derived_by`` links it has in ``direction``.

    ``from``: links from the record; ``to``: links to it; ``both``: either. A rule that
    replaces ``both`` directions must be symmetric (what one record wants of a link between
    two records of the batch, the other wants too).
    """
    if not wanted:
        return
    desired: set[DerivedLink] = set()
    for hub_id, mine in wanted.items():
        for link in mine:
            if not _in_scope(link, hub_id, direction):
                raise ValueError(f"link {link} is not a {direction!r} link of {hub_id}")
            desired.add(link)
    held = _held_links(conn, derived_by, list(wanted), direction)
    gone = [_order(x) for x in sorted(held - desired, key=_order)]
    for start in range(0, len(gone), _CHUNK // 3):
        conn.execute(
            delete(links).where(
                links.c.derived_by == derived_by,
                tuple_(links.c.from_record, links.c.to_record, links.c.kind).in_(gone[start : start + _CHUNK // 3]),
            )
        )
    new = sorted(desired - held, key=_order)
    if new:
        # Ignore, not fail: another rule may already hold the same (from, to, kind) row.
        insert = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(links)
        conn.execute(
            insert.on_conflict_do_nothing(index_elements=["from_record", "to_record", "kind"]),
            [
                {
                    "from_record": x.from_record,
                    "to_record": x.to_record,
                    "kind": x.kind,
                    "derived_by": derived_by,
                    "created_at": now,
                }
                for x in new
            ],
        )


def _order(link: DerivedLink) -> tuple[str, str, str]:
    return (link.from_record, link.to_record, link.kind)
