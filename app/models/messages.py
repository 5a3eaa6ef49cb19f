"""Messages: Slack messages and thread replies."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from app.models._base import Body


class Reaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    count: int
    users: tuple[str, ...] = ()


class Message(Body):
    kind: Literal["message"] = "message"
    channel: str
    author: str | None = None
    text: str = ""
    ts: str
    thread_ts: str | None = None
    reply_count: int = 0
    reactions: tuple[Reaction, ...] = ()
    edited: bool = False
    permalink: str | None = None

    # A permalink can carry a per-request token; it says nothing about the content.
    volatile_fields: ClassVar[frozenset[str]] = frozenset({"permalink"})
