"""The mailboxes of the simulated tenant: users, calendars, events and the change journal.

Every mutation gives the event a new global sequence number and moves it to the end of
its calendar's journal (a list sorted by sequence), so a delta round reads "what changed
after sequence N" by bisection, at a cost proportional to the page it returns.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app.sandbox.graph.errors import GraphError
from app.sandbox.graph.model import Instance, StoredEvent, split_occurrence_id

__all__ = ["CalendarFolder", "ChangeListener", "GraphStore", "Mailbox"]

ChangeListener = Callable[[StoredEvent, str], None]
"""Called after a mutation with the event and ``created`` / ``updated`` / ``deleted``."""


@dataclass
class Mailbox:
    id: str
    upn: str
    display_name: str
    key: str


@dataclass
class CalendarFolder:
    id: str
    user_id: str
    name: str
    is_default: bool
    version: int = 1
    can_edit: bool = True


def stable_id(kind: str, *parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "graph-sandbox:" + kind + ":" + ":".join(map(str, parts))))


class GraphStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.users: dict[str, Mailbox] = {}
        self.calendars: dict[str, CalendarFolder] = {}
        self.events: dict[str, StoredEvent] = {}
        self.journals: dict[str, list[tuple[int, str]]] = {}
        self.transactions: dict[tuple[str, str], str] = {}
        self.seq = 0
        self.generation = 1
        """Delta tokens of an older generation are dead (410 syncStateNotFound)."""
        self.primary_user: str | None = None
        self.listeners: list[ChangeListener] = []
        self._counter = 0

    # --- directory ------------------------------------------------------------------------
    def add_user(self, key: str, upn: str, name: str) -> Mailbox:
        user = Mailbox(id=stable_id("user", self.tenant_id, upn), upn=upn, display_name=name, key=key)
        self.users[user.id] = user
        self.primary_user = self.primary_user or user.id
        self.add_calendar(user.id, "Calendar", is_default=True)
        return user

    def add_calendar(self, user_id: str, name: str, is_default: bool = False) -> CalendarFolder:
        folder = CalendarFolder(
            id="AAMkCal" + stable_id("calendar", user_id, name).replace("-", ""),
            user_id=user_id,
            name=name,
            is_default=is_default,
        )
        self.calendars[folder.id] = folder
        self.journals[folder.id] = []
        return folder

    def resolve_user(self, ref: str) -> Mailbox:
        """``me`` (the sandbox's signed-in mailbox), a user id or a userPrincipalName."""
        if ref == "me" and self.primary_user:
            return self.users[self.primary_user]
        if ref in self.users:
            return self.users[ref]
        for user in self.users.values():
            if user.upn.lower() == ref.lower():
                return user
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{ref}' is invalid.")

    def user_by_key(self, key: str) -> Mailbox:
        return next(u for u in self.users.values() if u.key == key)

    def default_calendar(self, user_id: str) -> CalendarFolder:
        return next(c for c in self.calendars.values() if c.user_id == user_id and c.is_default)

    def calendar(self, user_id: str, calendar_id: str) -> CalendarFolder:
        folder = self.calendars.get(calendar_id)
        if folder is None or folder.user_id != user_id:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return folder

    def user_calendars(self, user_id: str) -> list[CalendarFolder]:
        return [c for c in self.calendars.values() if c.user_id == user_id]

    # --- events ---------------------------------------------------------------------------
    def new_event_id(self, user_id: str) -> str:
        self._counter += 1
        return "AAMkAGI2" + stable_id("event", user_id, self._counter).replace("-", "")[:24] + "AAA="

    def insert(self, event: StoredEvent, notify: bool = True) -> StoredEvent:
        self.events[event.id] = event
        if event.transaction_id:
            self.transactions[(event.user_id, event.transaction_id)] = event.id
        self._journal(event)
        if notify:
            self._notify(event, "created")
        return event

    def by_transaction(self, user_id: str, transaction_id: str) -> StoredEvent | None:
        event_id = self.transactions.get((user_id, transaction_id))
        return self.events.get(event_id) if event_id else None

    def touch(self, event: StoredEvent, change_type: str = "updated") -> None:
        """Record a change of ``event``: new changeKey, new sequence, notifications."""
        event.version += 1
        event.modified = datetime.now(UTC)
        self._journal(event)
        self._notify(event, change_type)

    def delete(self, event: StoredEvent) -> None:
        event.deleted = True
        self.touch(event, "deleted")

    def cancel_occurrence(self, event: StoredEvent, day: date) -> None:
        event.cancelled_dates.add(day)
        event.exceptions.pop(day, None)
        self.touch(event)

    def edit_occurrence(self, event: StoredEvent, day: date, changes: dict[str, Any]) -> None:
        override = dict(event.exceptions.get(day, {}))
        override.update(changes)
        override["version"] = int(override.get("version", 0)) + 1
        override["modified"] = datetime.now(UTC)
        event.exceptions[day] = override
        self.touch(event)

    def find(self, user_id: str, event_id: str) -> Instance:
        """The live event or occurrence ``event_id`` of the mailbox; 404 otherwise."""
        master_id, day = split_occurrence_id(event_id)
        event = self.events.get(master_id)
        if event is None or event.deleted or event.user_id != user_id:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if day is None:
            return event.instance()
        if day in event.cancelled_dates or event.recurrence is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return event.occurrence(day)

    def live_events(self, calendar_id: str) -> list[StoredEvent]:
        return [self.events[eid] for _, eid in self.journals[calendar_id] if not self.events[eid].deleted]

    def expire_delta_tokens(self) -> None:
        self.generation += 1

    # --- internals ------------------------------------------------------------------------
    def _journal(self, event: StoredEvent) -> None:
        journal = self.journals[event.calendar_id]
        if event.seq:
            at = bisect.bisect_left(journal, (event.seq, ""))
            if at < len(journal) and journal[at][0] == event.seq:
                del journal[at]
        self.seq += 1
        event.seq = self.seq
        journal.append((event.seq, event.id))

    def _notify(self, event: StoredEvent, change_type: str) -> None:
        for listener in list(self.listeners):
            listener(event, change_type)
