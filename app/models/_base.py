"""Shared base for unified model bodies."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """The normalised content of one record of a given kind.

    ``volatile_fields`` name fields that change without the content changing (view
    counts, signed URLs, ...); the content hash ignores them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    volatile_fields: ClassVar[frozenset[str]] = frozenset()
