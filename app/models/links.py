"""Links between records, derived by the hub."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from app.models._base import Body


class LinkKind(StrEnum):
    MENTIONS = "mentions"
    DISCUSSES = "discusses"
    SCHEDULED_IN = "scheduled_in"
    MIRRORS = "mirrors"


class Link(Body):
    """A derived link between two hub ids; ``derived_by`` names the rule (``jira-key-mention``, ``ical-uid``)."""

    kind: Literal["link"] = "link"
    from_record: str
    to_record: str
    link_kind: LinkKind
    derived_by: str
