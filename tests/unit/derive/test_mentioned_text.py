"""Which kinds the mention rule reads, and the keys it finds in their text."""

from __future__ import annotations

import pytest

from app.sync.derive.links import mentioned_keys, mentions_keys

from .support import document, event, issue, message, slack_user


def test_messages_documents_and_events_are_read_for_keys_and_other_kinds_are_not() -> None:
    read = [message("1.0", "hi"), document("p1", "Notes", ""), event("gcal", "team/e1", None, "")]
    unread = [issue("10012", "CHK-12"), slack_user("U1", "Amélie", "amelie@orbit.example")]

    assert all(mentions_keys(c.body) for c in read if c.body is not None)
    assert not any(mentions_keys(c.body) for c in unread if c.body is not None)


@pytest.mark.parametrize(
    ("title", "description", "keys"),
    [
        ("Daily scrum", "15 minutes, standing. Board: CHK sprint board.", set()),
        ("", "", set()),
        ("Demo of CHK-12", "", {"CHK-12"}),
        ("Review", "CHK-12 then OPS_2-7, again CHK-12", {"CHK-12", "OPS_2-7"}),
        ("CHK-1", "x", {"CHK-1"}),  # a key that ends the title
        ("Dates", "2026-11-26, UTF 8, CHK-012, chk-12, CHK\u201312", set()),  # hyphens (and an en dash), none a key
    ],
)
def test_the_keys_of_an_event_come_from_its_title_and_description(
    title: str, description: str, keys: set[str]
) -> None:
    body = event("gcal", "team/e1", None, title, description=description).body
    assert body is not None

    assert mentioned_keys(body) == keys
