"""A later create told of an earlier attempt takes the page that attempt made (a space holds one page
of a title) instead of failing on the title and leaving the page unknown to the hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.connectors.confluence import ConfluenceConnector
from app.errors import ConfigError, TransientError
from app.models import Document
from app.sandbox.confluence import ConfluenceSimulator


def _titled(sim: ConfluenceSimulator, title: str) -> list[str]:
    return [p.id for p in sim.wiki.pages.values() if p.title == title and p.status == "current"]


def _creates(sim: ConfluenceSimulator, since: int) -> list[str]:
    return [e.path for e in sim.log.since(since) if e.method == "POST" and e.path.endswith("/pages")]


async def test_a_create_whose_answer_was_lost_is_taken_by_the_retry(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    await connector.create("pages", "CHK", Document(title="Warm-up", body_text="the space's id is known"), origin="o")
    body = Document(title="Notes: sprint review", body_text="demo went well", labels=("notes",))
    first_attempt = datetime.now(UTC)
    sim.chaos.update({"lost_answers": 1})
    with pytest.raises(TransientError):  # never retried within the call: the page may exist
        await connector.create("pages", "CHK", body, origin="hub-1", idempotency_key="two_way:p-1")
    (page_id,) = _titled(sim, "Notes: sprint review")
    since = sim.log.last_seq

    again = await connector.create("pages", "CHK", body, origin="hub-1", idempotency_key="two_way:p-1",
                                   earlier_attempt_since=first_attempt)

    assert again.adopted and again.external_id == page_id
    assert _titled(sim, "Notes: sprint review") == [page_id]
    assert _creates(sim, since) == []
    assert sim.wiki.pages[page_id].labels == ["notes"], "the labels the lost call would have added"


async def test_an_older_page_of_the_title_is_not_taken(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    # A page of that title made before the earlier attempt is someone else's: the space refuses the
    # create, as before, rather than the hub claiming that page.
    body = Document(title="Team charter", body_text="ours")
    older = await connector.create("pages", "CHK", body, origin="hub-1")
    sim.wiki.pages[older.external_id].created_at -= timedelta(hours=1)

    with pytest.raises(ConfigError, match="title already exists"):
        await connector.create("pages", "CHK", body, origin="hub-1", idempotency_key="two_way:p-2",
                               earlier_attempt_since=datetime.now(UTC) - timedelta(minutes=1))


async def test_an_earlier_attempt_that_made_nothing_creates_once(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    since = sim.log.last_seq
    made = await connector.create("pages", "CHK", Document(title="Fresh page", body_text="x"), origin="hub-1",
                                  idempotency_key="two_way:p-3",
                                  earlier_attempt_since=datetime.now(UTC) - timedelta(minutes=1))
    assert not made.adopted and _titled(sim, "Fresh page") == [made.external_id]
    assert len(_creates(sim, since)) == 1
