"""The seeded wiki, v1 offset listing, and the shared chaos/admin behaviour in Confluence's shapes."""

from __future__ import annotations

import re

import httpx
from confluence_spec import exchange

from app.sandbox.common import ServedApp
from app.sandbox.confluence import ConfluenceSimulator
from app.sandbox.world import TeamWorld


def test_the_seed_is_deterministic_and_sized_by_the_world() -> None:
    world = TeamWorld(seed=7, scale=2)
    first, second = ConfluenceSimulator(world), ConfluenceSimulator(world)
    assert [(p.id, p.title, p.body, p.version.number) for p in first.wiki.pages.values()] == [
        (p.id, p.title, p.body, p.version.number) for p in second.wiki.pages.values()
    ]
    assert len(first.pages_in("CHK")) == world.page_count


def test_seeded_pages_form_a_tree_by_real_authors_mentioning_existing_issues() -> None:
    world = TeamWorld()
    sim = ConfluenceSimulator(world)
    pages = sim.pages_in("CHK")
    home = sim.wiki.space_by_key("CHK").homepage_id  # type: ignore[union-attr]
    assert [p.id for p in pages if p.parent_id is None] == [home]
    assert all(p.parent_id in sim.wiki.pages for p in pages if p.id != home)
    titles = " | ".join(p.title for p in pages)
    for kind in ("Spec:", "Daily stand-up", "Backlog refinement", "Sprint review", "Decision log"):
        assert kind in titles
    cast = {m.jira_account_id for m in world.members}
    assert {p.author_id for p in pages} <= cast
    keys = {int(n) for p in pages for n in re.findall(r"CHK-(\d+)", p.body)}
    assert keys and max(keys) <= world.issue_count and min(keys) >= 1
    assert any(len(p.versions) > 1 for p in pages)


def test_v1_content_listing_pages_by_offset(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    seen: list[str] = []
    url: str | None = "/wiki/rest/api/content"
    params: dict[str, str] | None = {"spaceKey": "CHK", "type": "page", "limit": "5", "expand": "version"}
    while url:
        r = exchange(http, "v1", "get", "/wiki/rest/api/content", url, params=params)
        seen += [c["id"] for c in r.json()["results"]]
        nxt = r.json()["_links"].get("next")
        url, params = (f"/wiki{nxt}" if nxt else None), None
    assert sorted(seen) == sorted(p.id for p in sim.pages_in("CHK"))


def test_chaos_answers_in_the_family_shape_with_retry_after(
    http: httpx.Client, sim: ConfluenceSimulator
) -> None:
    sim.chaos.update({"rate_limit_rate": 1.0, "retry_after_s": 3})
    v2 = http.get("/wiki/api/v2/spaces")
    v1 = http.get("/wiki/rest/api/space")
    assert (v2.status_code, v2.headers["Retry-After"], v2.json()["errors"][0]["status"]) == (429, "3", 429)
    assert (v1.status_code, v1.json()["statusCode"]) == (429, 429)
    sim.chaos.update({"rate_limit_rate": 0.0, "token_expired": True})
    assert http.get("/wiki/api/v2/spaces").json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_reset_restores_the_seed_and_the_token(served: ServedApp, sim: ConfluenceSimulator) -> None:
    before = {p.id: p.version.number for p in sim.pages_in("CHK")}
    sim.purge_page(next(iter(before)))
    sim.revoke_token()
    assert httpx.post(f"{served.url}/_sandbox/reset").status_code == 200
    assert {p.id: p.version.number for p in sim.pages_in("CHK")} == before
    auth = (sim.bot_email, sim.api_token)
    assert httpx.get(f"{served.url}/wiki/api/v2/spaces", auth=auth).status_code == 200
