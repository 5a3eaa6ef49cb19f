"""Link rules (pure): which Jira keys a record mentions, and how a meeting is named across tools.

``jira-key-mention``: a Message (text), a Document (title and plain text) or a
CalendarEvent (title and description) ``mentions`` every WorkItem whose issue key appears
in it. A key is ``[A-Z][A-Z0-9_]{1,9}-N`` between word boundaries, N without a leading
zero (Jira's default key pattern, widened to the digits and underscores an admin may
allow). Keys inside URLs count: a link to ``/browse/CHK-12`` is the clearest mention
there is. Words that look like keys (``UTF-8``, ``ISO-8601``) are harmless: a key only
links when a work item has it.

``ical-uid``: two calendar events ``mirror`` each other (both ways) when they are the same
meeting: the same iCalUID and either

* both a single event or a series master (e.g. one invitation in Google and in Outlook), or
* both one occurrence of a series at the same start (Outlook lists occurrences, Google an
  exception of the master), or
* one a series master and the other an occurrence of it from another connector (Google
  keeps the master, Outlook lists its occurrences). Within one connector an exception
  and its master are one series, not mirrors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.models import AnyBody, CalendarEvent, Document, Message, Record
from app.storage.lookup import bounded_key, natural_key

__all__ = [
    "MAX_MENTIONS",
    "MENTION_RULE",
    "MIRROR_RULE",
    "SERIES_RULE",
    "MeetingIdentity",
    "meeting_identity",
    "mentioned_keys",
]

MENTION_RULE = "jira-key-mention"
MIRROR_RULE = "ical-uid"
SERIES_RULE = "ical-uid-series"
"""Key references from an occurrence to its series' iCalUID, so a master finds its occurrences."""

MAX_MENTIONS = 200
"""Distinct keys kept per record: a page listing a whole backlog still links, a dump does not flood."""

_JIRA_KEY = re.compile(r"\b[A-Z][A-Z0-9_]{1,9}-[1-9][0-9]{0,8}\b")
_TEXT_KINDS = (Message, Document, CalendarEvent)
"""The kinds :func:`_text_of` reads."""


def _text_of(body: AnyBody) -> str | None:
    if isinstance(body, Message):
        return body.text
    if isinstance(body, Document):
        return f"{body.title}\n{body.body_text}"
    if isinstance(body, CalendarEvent):
        return f"{body.title}\n{body.description}"
    return None


def mentions_keys(body: AnyBody) -> bool:
    """True for the kinds the mention rule reads."""
    return isinstance(body, _TEXT_KINDS)


def mentioned_keys(body: AnyBody) -> frozenset[str]:
    """The distinct Jira-style keys in the body's text, first ones first up to :data:`MAX_MENTIONS`."""
    text = _text_of(body)
    # Every key has a hyphen: most texts (meeting titles) have none and skip the scan.
    if not text or "-" not in text:
        return frozenset()
    keys = dict.fromkeys(_JIRA_KEY.findall(text))
    return frozenset(list(keys)[:MAX_MENTIONS])


@dataclass(frozen=True)
class MeetingIdentity:
    """How a calendar event is found as the same meeting elsewhere.

    ``own_key`` is its natural key; ``series_uid`` the (bounded) iCalUID it shares with its
    series; ``occurrence`` tells an occurrence of a series from a single event or a master.
    """

    own_key: str
    series_uid: str
    occurrence: bool


def meeting_identity(record: Record) -> MeetingIdentity | None:
    body = record.body
    if not isinstance(body, CalendarEvent) or not body.ical_uid:
        return None
    own = natural_key(record)
    assert own is not None  # an event with an iCalUID always has one
    return MeetingIdentity(own, bounded_key(body.ical_uid), body.series_id is not None)
