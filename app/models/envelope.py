"""The envelope every unified record carries, whatever its kind."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.models.calendar import CalendarEvent
from app.models.documents import Document
from app.models.links import Link
from app.models.messages import Message
from app.models.people import Person
from app.models.work import Sprint, WorkItem

__all__ = [
    "AnyBody",
    "DeleteReason",
    "Record",
    "RecordKind",
    "SourceRef",
    "Tombstone",
    "content_hash",
    "hub_id_for",
]

AnyBody = Annotated[
    WorkItem | Sprint | Document | Message | CalendarEvent | Person | Link,
    Field(discriminator="kind"),
]


class RecordKind(StrEnum):
    WORK_ITEM = "work_item"
    SPRINT = "sprint"
    DOCUMENT = "document"
    MESSAGE = "message"
    CALENDAR_EVENT = "calendar_event"
    PERSON = "person"
    LINK = "link"


class DeleteReason(StrEnum):
    DELETED = "deleted"
    TRASHED = "trashed"
    ARCHIVED = "archived"
    ACCESS_LOST = "access_lost"


class SourceRef(BaseModel):
    """Where a record comes from. ``connector`` is the configured instance name, ``system`` the vendor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str
    connector: str
    stream: str
    external_id: str
    partition: str = ""
    url: str | None = None


class Tombstone(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    deleted_at: AwareDatetime
    reason: DeleteReason = DeleteReason.DELETED


_HUB_NAMESPACE = uuid.UUID("5d1e0c39-3b0e-4f55-9d6c-7a8f2c1e9b42")


_HUB_NAMESPACE_BYTES = _HUB_NAMESPACE.bytes


@functools.lru_cache(maxsize=4096)
def hub_id_for(connector: str, stream: str, external_id: str) -> str:
    """A stable hub id: the same source record always gets the same id, on every instance.

    ``uuid.uuid5(_HUB_NAMESPACE, name)`` spelt out (a sync computes it several times per
    record: cached, and without building a ``UUID`` object on the way).
    """
    digest = hashlib.sha1(
        _HUB_NAMESPACE_BYTES + f"{connector}\x1f{stream}\x1f{external_id}".encode(), usedforsecurity=False
    ).digest()
    # RFC 4122 version 5: the version nibble, then the variant bits.
    raw = (digest[:6] + bytes([(digest[6] & 0x0F) | 0x50, digest[7], (digest[8] & 0x3F) | 0x80])
           + digest[9:16]).hex()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def content_hash(body: BaseModel) -> str:
    """SHA-256 of the body's canonical JSON, ignoring the fields the body declares volatile."""
    volatile: frozenset[str] = getattr(body, "volatile_fields", frozenset())
    data = body.model_dump(mode="json", exclude=set(volatile))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Record(BaseModel):
    """One unified record: the envelope plus the normalised body and the raw vendor payload.

    ``source_version`` is the vendor's own version (etag, changeKey, version number or
    updated time); ``content_hash`` is computed from ``body``. A tombstoned record keeps
    its last body.
    """

    model_config = ConfigDict(extra="forbid")

    hub_id: str
    kind: RecordKind
    source: SourceRef
    source_version: str | None = None
    content_hash: str
    created_at: AwareDatetime | None = None
    updated_at_source: AwareDatetime | None = None
    fetched_at: AwareDatetime
    tombstone: Tombstone | None = None
    body: AnyBody
    raw: dict[str, Any] = Field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        return self.tombstone is not None
