"""Derive links and people for the records a page writes, inside the page's own transaction.

Called by the engine's commit step (:func:`app.sync.apply.commit_page`) with the page's
prepared writes, so a scheduled pull and a webhook-targeted write derive alike, and a
page's records, its links, its people and the cursor after it commit or roll back together.

Only records the page writes are looked at (an unchanged record is not re-derived), and
each rule replaces exactly its own links of those records, so re-deriving is idempotent.
Order does not matter: a mention stored before its work item exists is linked when the
work item is written (through the key references), and the reverse. Every step works on
the whole page at once: a page costs a handful of statements per rule, not per record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from app.models import Account, LinkKind, Record, RecordKind, WorkItem
from app.storage.lookup import natural_key
from app.storage.protocol import DerivedLink, KeyMatch, Transaction
from app.sync.derive.links import (
    MENTION_RULE,
    MIRROR_RULE,
    SERIES_RULE,
    MeetingIdentity,
    meeting_identity,
    mentioned_keys,
    mentions_keys,
)
from app.sync.derive.people import account_sightings, is_authoritative
from app.sync.prepare import Prepared

__all__ = ["derive_page", "derive_records", "forget_records"]

_MENTIONS = LinkKind.MENTIONS.value
_MIRRORS = LinkKind.MIRRORS.value


def derive_page(tx: Transaction, prepared: Sequence[Prepared]) -> None:
    """Derive for every record ``prepared`` upserts or tombstones (the engine's hook)."""
    derive_records(
        tx,
        [p.record for p in prepared if p.record is not None],
        [p.hub_id for p in prepared if p.record is None and p.tombstone is not None],
    )


def derive_records(tx: Transaction, upserted: Sequence[Record], tombstoned: Iterable[str] = ()) -> None:
    """Bring the derived links and accounts of these records up to date in ``tx``."""
    latest = {r.hub_id: r for r in upserted}  # a page may name a record twice: the last write counts
    gone = set(tombstoned) | {h for h, r in latest.items() if r.deleted}
    live = [r for h, r in latest.items() if h not in gone]
    forget_records(tx, sorted(gone))
    _link_mentions(tx, live)
    _link_mentioned(tx, live)
    _link_mirrors(tx, live)
    directory: list[Account] = []
    seen: list[Account] = []
    for record in live:
        (directory if is_authoritative(record) else seen).extend(account_sightings(record))
    if directory:
        tx.note_accounts(directory, authoritative=True)
    if seen:
        tx.note_accounts(seen)


def forget_records(tx: Transaction, hub_ids: Sequence[str]) -> None:
    """Deleted records link to nothing and are linked from nothing; their accounts stay (people history).

    Mentions *of* a deleted work item stay as key references: if it comes back, it is linked again.
    """
    if not hub_ids:
        return
    nothing: dict[str, tuple[DerivedLink, ...]] = {h: () for h in hub_ids}
    tx.replace_links(MENTION_RULE, nothing, direction="both")
    tx.replace_links(MIRROR_RULE, nothing, direction="both")
    no_keys: dict[str, tuple[str, ...]] = {h: () for h in hub_ids}
    tx.set_key_refs(MENTION_RULE, no_keys)
    tx.set_key_refs(SERIES_RULE, no_keys)


def _by_key(matches: Iterable[KeyMatch]) -> dict[str, list[KeyMatch]]:
    out: dict[str, list[KeyMatch]] = defaultdict(list)
    for m in matches:
        out[m.key].append(m)
    return out


def _link_mentions(tx: Transaction, live: Sequence[Record]) -> None:
    """Links from text records to the work items their keys name; the keys are kept for later."""
    texts = {r.hub_id: mentioned_keys(r.body) for r in live if mentions_keys(r.body)}
    if not texts:
        return
    tx.set_key_refs(MENTION_RULE, texts)
    keys = set().union(*texts.values())
    items = _by_key(tx.find_live(RecordKind.WORK_ITEM, keys)) if keys else {}
    tx.replace_links(
        MENTION_RULE,
        {
            hub: {
                DerivedLink(hub, m.hub_id, _MENTIONS)
                for k in found
                for m in items.get(k, ())
                if m.hub_id != hub
            }
            for hub, found in texts.items()
        },
        direction="from",
    )


def _link_mentioned(tx: Transaction, live: Sequence[Record]) -> None:
    """Links to work items from every record that mentioned their (current) keys."""
    keys = {r.hub_id: natural_key(r) for r in live if isinstance(r.body, WorkItem)}
    if not keys:
        return
    wanted = {k for k in keys.values() if k}
    sources = _by_key(tx.key_refs_to(MENTION_RULE, wanted)) if wanted else {}
    tx.replace_links(
        MENTION_RULE,
        {
            hub: {
                DerivedLink(m.hub_id, hub, _MENTIONS) for m in sources.get(key or "", ()) if m.hub_id != hub
            }
            for hub, key in keys.items()
        },
        direction="to",
    )


def _partners(
    record: Record,
    ident: MeetingIdentity,
    found: dict[str, list[KeyMatch]],
    series: dict[str, list[KeyMatch]],
) -> list[KeyMatch]:
    connector = record.source.connector
    if ident.occurrence:
        # The same occurrence anywhere; the series master only from another connector.
        return found.get(ident.own_key, []) + [
            m for m in found.get(ident.series_uid, []) if m.connector != connector
        ]
    # Other single events or masters anywhere; occurrences of this series from another connector.
    return found.get(ident.own_key, []) + [
        m for m in series.get(ident.series_uid, []) if m.connector != connector
    ]


def _link_mirrors(tx: Transaction, live: Sequence[Record]) -> None:
    """``mirrors`` both ways between the copies of one meeting (see :mod:`app.sync.derive.links`)."""
    events = [r for r in live if r.kind is RecordKind.CALENDAR_EVENT]
    if not events:
        return
    idents = {r.hub_id: meeting_identity(r) for r in events}
    tx.set_key_refs(
        SERIES_RULE, {h: [i.series_uid] if i is not None and i.occurrence else [] for h, i in idents.items()}
    )
    named = [i for i in idents.values() if i is not None]
    lookup = {i.own_key for i in named} | {i.series_uid for i in named if i.occurrence}
    found = _by_key(tx.find_live(RecordKind.CALENDAR_EVENT, lookup)) if lookup else {}
    masters = {i.series_uid for i in named if not i.occurrence}
    series = _by_key(tx.key_refs_to(SERIES_RULE, masters)) if masters else {}
    wanted: dict[str, set[DerivedLink]] = {}
    for record in events:
        me, ident = record.hub_id, idents[record.hub_id]
        mine = wanted[me] = set()
        for partner in _partners(record, ident, found, series) if ident is not None else ():
            if partner.hub_id != me:
                mine.add(DerivedLink(me, partner.hub_id, _MIRRORS))
                mine.add(DerivedLink(partner.hub_id, me, _MIRRORS))
    tx.replace_links(MIRROR_RULE, wanted, direction="both")
