"""The Confluence connector against the served simulator: reads, census, writes, errors, API cost."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from app.connectors.base import Change
from app.connectors.common import RetryPolicy
from app.connectors.confluence import ConfluenceConnector
from app.errors import ConfigError, CursorInvalidated, PreconditionFailed
from app.models import DeleteReason, Document
from app.sandbox.common import ServedApp
from app.sandbox.confluence import ConfluenceSimulator
from app.settings import ConfluenceSettings


async def read(
    connector: ConfluenceConnector, partition: str, cursor: str | None
) -> tuple[list[Change], str | None]:
    changes: list[Change] = []
    last = cursor
    async for page in connector.read_changes("pages", partition, cursor):
        changes.extend(page.changes)
        last = page.cursor_after or last
    return changes, last


async def census(connector: ConfluenceConnector, partition: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    async for batch in connector.list_refs("pages", partition):
        out.update({ref.external_id: ref.version for ref in batch})
    return out


def page_requests(sim: ConfluenceSimulator, since: int) -> list[str]:
    return [f"{e.path}?{e.query}" for e in sim.log.since(since) if "/pages" in e.path]


async def test_full_read_maps_pages_to_documents_of_their_space(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    changes, cursor = await read(connector, "CHK", None)
    assert cursor is not None
    by_id = {c.external_id: c for c in changes}
    assert set(by_id) == {p.id for p in sim.pages_in("CHK")}
    page = sim.pages_in("CHK")[4]
    doc = by_id[page.id].body
    assert isinstance(doc, Document)
    assert (doc.title, doc.space, doc.parent, doc.version) == (
        page.title,
        "CHK",
        page.parent_id,
        page.version.number,
    )
    assert doc.body_storage == page.body and "<" not in doc.body_text
    assert doc.labels == tuple(sorted(page.labels))
    assert by_id[page.id].version == str(page.version.number)
    assert f"/wiki/spaces/CHK/pages/{page.id}/" in str(by_id[page.id].url)


async def test_full_read_asks_for_250_pages_per_call(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    since = sim.log.last_seq
    await read(connector, "CHK", None)
    listing = [q for q in page_requests(sim, since) if q.startswith("/wiki/api/v2/spaces/")]
    assert listing and all("limit=250" in q for q in listing)
    assert all(
        "status=current%2Carchived%2Ctrashed" in q or "status=current,archived,trashed" in q for q in listing
    )


async def test_incremental_read_with_no_change_costs_one_call_per_space(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    cursors = {}
    for space in await connector.list_partitions("pages"):
        _, cursors[space] = await read(connector, space, None)
    since = sim.log.last_seq
    calls_before = connector.api_calls
    for space, cursor in cursors.items():
        changes, _ = await read(connector, space, cursor)
        assert changes == []
    requests = [f"{e.method} {e.path}" for e in sim.log.since(since)]
    assert sorted(requests) == sorted(
        f"GET /wiki/api/v2/spaces/{sim.wiki.space_by_key(k).id}/pages"  # type: ignore[union-attr]
        for k in cursors
    )
    assert connector.api_calls - calls_before == len(cursors) == 2


async def test_trashed_and_archived_pages_become_tombstones_with_their_reason(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    pages = sim.pages_in("CHK")
    trashed, archived = pages[-1].id, pages[-2].id
    sim.trash_page(trashed)
    sim.archive_page(archived)
    changes, _ = await read(connector, "CHK", None)
    reasons = {c.external_id: c.tombstone.reason for c in changes if c.tombstone is not None}
    assert reasons == {trashed: DeleteReason.TRASHED, archived: DeleteReason.ARCHIVED}
    fetched = {c.external_id: c for c in await connector.get_many("pages", [trashed, archived])}
    assert (
        fetched[trashed].tombstone is not None and fetched[trashed].tombstone.reason == DeleteReason.TRASHED
    )
    assert (
        fetched[archived].tombstone is not None
        and fetched[archived].tombstone.reason == DeleteReason.ARCHIVED
    )


async def test_an_edit_then_trash_shows_as_a_trashed_tombstone_incrementally(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    _, cursor = await read(connector, "CHK", None)
    page = sim.pages_in("CHK")[5]
    sim.edit_page(page.id, body="<p>last words</p>")
    sim.trash_page(page.id)
    changes, _ = await read(connector, "CHK", cursor)
    assert [(c.external_id, c.tombstone.reason if c.tombstone else None) for c in changes] == [
        (page.id, DeleteReason.TRASHED)
    ]


async def test_a_purged_page_vanishes_and_only_the_census_notices(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    _, cursor = await read(connector, "CHK", None)
    page = sim.pages_in("CHK")[-3]
    assert page.id in await census(connector, "CHK")
    sim.purge_page(page.id)
    changes, _ = await read(connector, "CHK", cursor)
    assert changes == []
    refs = await census(connector, "CHK")
    assert page.id not in refs
    assert refs == {p.id: str(p.version.number) for p in sim.pages_in("CHK")}
    [gone] = await connector.get_many("pages", [page.id])
    assert gone.tombstone is not None and gone.tombstone.reason == DeleteReason.DELETED


async def test_census_asks_for_250_ids_per_call_without_bodies(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    since = sim.log.last_seq
    await census(connector, "CHK")
    calls = [q for q in page_requests(sim, since) if "/pages" in q]
    assert calls and all("limit=250" in q and "body-format" not in q for q in calls)


async def test_edits_within_the_overlap_are_seen_once(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    _, cursor = await read(connector, "CHK", None)
    page = sim.pages_in("CHK")[2]
    sim.edit_page(page.id, body="<p>first</p>")
    first, cursor = await read(connector, "CHK", cursor)
    again, cursor = await read(connector, "CHK", cursor)
    sim.edit_page(page.id, body="<p>second</p>")
    second, _ = await read(connector, "CHK", cursor)
    assert [c.version for c in first] == [str(page.version.number - 1)]
    assert again == []
    assert [c.version for c in second] == [str(page.version.number)]


async def test_a_large_space_reads_in_resumable_pages(served: ServedApp) -> None:
    from app.sandbox.common import serve_in_thread
    from app.sandbox.world import TeamWorld

    big = ConfluenceSimulator(TeamWorld(scale=30))
    app = serve_in_thread(big.app)
    try:
        settings = ConfluenceSettings(
            base_url=app.url, email=big.bot_email, api_token=SecretStr(big.api_token)
        )
        async with ConfluenceConnector("confluence", settings) as conn:
            pages = [p async for p in conn.read_changes("pages", "CHK", None)]
            assert len(pages) == 2 and all(p.cursor_after for p in pages)
            assert sum(len(p.changes) for p in pages) == len(big.pages_in("CHK")) == 360
            # Resuming from the first page's cursor reads the rest, not everything again.
            rest, _ = await read(conn, "CHK", pages[0].cursor_after)
            assert {c.external_id for c in rest} == {c.external_id for c in pages[1].changes}
    finally:
        app.stop()


async def test_create_update_and_stale_update_is_precondition_failed(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    body = Document(title="Spec: Wallets", body_text="Apple Pay\nGoogle Pay & co", labels=("spec",))
    created = await connector.create("pages", "CHK", body, origin="hub-1")
    page = sim.wiki.pages[created.external_id]
    assert page.body == "<p>Apple Pay</p><p>Google Pay &amp; co</p>" and page.labels == ["spec"]
    assert created.version == "1"
    updated = await connector.update(
        "pages",
        created.external_id,
        body.model_copy(update={"title": "Spec: Wallet"}),
        if_version="1",
        origin="hub-1",
    )
    assert updated.version == "2" and page.title == "Spec: Wallet"
    assert page.version.message == "passerelle origin=hub-1"
    with pytest.raises(PreconditionFailed):
        await connector.update("pages", created.external_id, body, if_version="1", origin="hub-1")
    with pytest.raises(PreconditionFailed):
        await connector.delete("pages", created.external_id, if_version="1")
    await connector.delete("pages", created.external_id, if_version="2")
    assert page.status == "trashed"
    await connector.delete("pages", created.external_id, if_version=None)  # already gone: no error


async def test_a_revoked_token_is_a_config_error_and_check_reports_it(
    connector: ConfluenceConnector, sim: ConfluenceSimulator
) -> None:
    assert (await connector.check()).ok
    sim.revoke_token()
    with pytest.raises(ConfigError):
        await read(connector, "CHK", None)
    result = await connector.check()
    assert not result.ok and "401" in result.detail


async def test_check_names_a_space_the_account_cannot_see(settings: ConfluenceSettings) -> None:
    async with ConfluenceConnector("c", settings.model_copy(update={"spaces": ["CHK", "NOPE"]})) as conn:
        result = await conn.check()
    assert not result.ok and "NOPE" in result.detail


async def test_a_429_is_paced_by_retry_after(settings: ConfluenceSettings, sim: ConfluenceSimulator) -> None:
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        sim.chaos.update({"rate_limit_rate": 0.0})

    sim.chaos.update({"rate_limit_rate": 1.0, "retry_after_s": 7})
    async with ConfluenceConnector("c", settings, retry_policy=RetryPolicy(sleep=sleep)) as conn:
        refs = [r async for r in conn.list_refs("pages", "CHK")]
    assert refs and len(waits) == 1 and waits[0] >= 7


async def test_an_unreadable_cursor_asks_for_a_full_resync(connector: ConfluenceConnector) -> None:
    with pytest.raises(CursorInvalidated):
        await read(connector, "CHK", "not-a-cursor")
