"""The unified model: one envelope (``Record``) around a body of one of seven kinds."""

from app.models._base import Body
from app.models.calendar import Attendee, CalendarEvent, EventStatus, ResponseStatus
from app.models.documents import Document
from app.models.envelope import (
    AnyBody,
    DeleteReason,
    Record,
    RecordKind,
    SourceRef,
    Tombstone,
    content_hash,
    hub_id_for,
)
from app.models.links import Link, LinkKind
from app.models.messages import Message, Reaction
from app.models.people import Account, Person
from app.models.work import Sprint, SprintState, StatusCategory, WorkItem

__all__ = [
    "Account",
    "AnyBody",
    "Attendee",
    "Body",
    "CalendarEvent",
    "DeleteReason",
    "Document",
    "EventStatus",
    "Link",
    "LinkKind",
    "Message",
    "Person",
    "Reaction",
    "Record",
    "RecordKind",
    "ResponseStatus",
    "SourceRef",
    "Sprint",
    "SprintState",
    "StatusCategory",
    "Tombstone",
    "WorkItem",
    "content_hash",
    "hub_id_for",
]
