"""Slack message timestamps (``"1512085950.000216"``) as sortable integers (microseconds).

A ``ts`` is both a time and, within a channel, the message's unique id; the simulator
keeps every index keyed by the integer form so that range queries are a bisect.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal, InvalidOperation

__all__ = ["InvalidTs", "decode_cursor", "encode_cursor", "parse_ts", "ts_str"]


class InvalidTs(ValueError):
    """A ``ts``, ``oldest`` or ``latest`` argument that is not a Slack timestamp."""


def parse_ts(value: str | int | float) -> int:
    """``"1512085950.000216"`` (or ``"1512085950"``, ``0``) -> microseconds since the epoch."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidTs(str(value)) from exc
    if not number.is_finite() or number < 0:
        raise InvalidTs(str(value))
    return int(number * 1_000_000)


def ts_str(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    return f"{seconds}.{fraction:06d}"


def encode_cursor(kind: str, value: str) -> str:
    """Cursors shaped like Slack's: base64 of ``next_ts:<ts>``, ``user:<id>``, ``team:<id>``."""
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    """The value of a cursor made by :func:`encode_cursor`; raises ``ValueError`` if it is not one."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    prefix, sep, value = text.partition(":")
    if not sep or prefix != kind or not value:
        raise ValueError(cursor)
    return value
