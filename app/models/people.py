"""People: one human across every tool, with an account per tool."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.models._base import Body


class Account(BaseModel):
    """A person's identity in one tool."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str
    account_id: str
    email: str | None = None
    email_verified: bool = False
    display_name: str | None = None


class Person(Body):
    kind: Literal["person"] = "person"
    display_name: str
    emails: tuple[str, ...] = ()
    accounts: tuple[Account, ...] = ()
