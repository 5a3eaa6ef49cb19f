"""REST v2 pages and spaces, each exchange checked against its operation in Atlassian's v2 spec."""

from __future__ import annotations

import re

import httpx
from confluence_spec import exchange

from app.sandbox.confluence import ConfluenceSimulator
from app.sandbox.world import TeamWorld

V2 = "/wiki/api/v2"


def _next_from_link(header: str | None) -> str | None:
    if not header:
        return None
    match = re.search(r'<([^>]+)>;\s*rel="next"', header)
    return match.group(1) if match else None


def test_spaces_list_validates_and_finds_chk_by_key(http: httpx.Client) -> None:
    r = exchange(http, "v2", "get", "/spaces", f"{V2}/spaces", params={"keys": "CHK"})
    assert r.status_code == 200
    assert [s["key"] for s in r.json()["results"]] == ["CHK"]
    space_id = r.json()["results"][0]["id"]
    single = exchange(http, "v2", "get", "/spaces/{id}", f"{V2}/spaces/{space_id}")
    assert single.json()["homepageId"]


def test_cursor_paging_through_link_headers_visits_every_page_once(
    http: httpx.Client, sim: ConfluenceSimulator, chk_id: str
) -> None:
    url: str | None = f"{V2}/spaces/{chk_id}/pages"
    params: dict[str, str] = {"limit": "5", "body-format": "storage", "sort": "-modified-date"}
    seen: list[str] = []
    calls = 0
    while url is not None:
        r = exchange(http, "v2", "get", "/spaces/{id}/pages", url, params=params)
        assert r.status_code == 200
        calls += 1
        body = r.json()
        seen += [p["id"] for p in body["results"]]
        assert all(p["body"]["storage"]["representation"] == "storage" for p in body["results"])
        link_next = _next_from_link(r.headers.get("link"))
        assert link_next == body["_links"].get("next"), "Link header and _links.next disagree"
        if link_next is not None:
            assert "cursor=" in link_next and link_next.startswith(f"{V2}/spaces/{chk_id}/pages?")
        url, params = link_next, {}
    expected = sim.pages_in("CHK")
    assert sorted(seen) == sorted(p.id for p in expected)
    assert len(seen) == len(set(seen))
    assert calls == -(-len(expected) // 5)


def test_sort_by_modified_date_descending_puts_the_latest_edit_first(
    http: httpx.Client, sim: ConfluenceSimulator, chk_id: str
) -> None:
    oldest = min(sim.pages_in("CHK"), key=lambda p: p.modified_at)
    sim.edit_page(oldest.id, body="<p>fresh</p>")
    r = exchange(
        http,
        "v2",
        "get",
        "/spaces/{id}/pages",
        f"{V2}/spaces/{chk_id}/pages",
        params={"sort": "-modified-date", "limit": "250"},
    )
    stamps = [p["version"]["createdAt"] for p in r.json()["results"]]
    assert r.json()["results"][0]["id"] == oldest.id
    assert stamps == sorted(stamps, reverse=True)


def test_limit_defaults_to_25_and_refuses_more_than_250() -> None:
    world_sim = ConfluenceSimulator(TeamWorld(scale=3))
    assert len(world_sim.pages_in("CHK")) > 25
    from app.sandbox.common import serve_in_thread

    served = serve_in_thread(world_sim.app)
    try:
        with httpx.Client(base_url=served.url, auth=(world_sim.bot_email, world_sim.api_token)) as client:
            r = exchange(client, "v2", "get", "/pages", f"{V2}/pages")
            assert len(r.json()["results"]) == 25
            too_many = client.get(f"{V2}/pages", params={"limit": 251})
            assert too_many.status_code == 400
            assert too_many.json()["errors"][0]["status"] == 400
    finally:
        served.stop()


def test_status_filter_defaults_to_current_and_archived_and_can_ask_for_trashed(
    http: httpx.Client, sim: ConfluenceSimulator, chk_id: str
) -> None:
    pages = sim.pages_in("CHK")
    trashed, archived = pages[-1].id, pages[-2].id
    sim.trash_page(trashed)
    sim.archive_page(archived)
    default = exchange(
        http, "v2", "get", "/pages", f"{V2}/pages", params={"space-id": chk_id, "limit": "250"}
    )
    by_id = {p["id"]: p["status"] for p in default.json()["results"]}
    assert by_id[archived] == "archived" and trashed not in by_id
    only_trash = exchange(
        http, "v2", "get", "/pages", f"{V2}/pages", params={"space-id": chk_id, "status": "trashed"}
    )
    assert [(p["id"], p["status"]) for p in only_trash.json()["results"]] == [(trashed, "trashed")]


def test_get_page_by_id_returns_the_storage_body_and_version(
    http: httpx.Client, sim: ConfluenceSimulator
) -> None:
    page = sim.pages_in("CHK")[3]
    r = exchange(
        http,
        "v2",
        "get",
        "/pages/{id}",
        f"{V2}/pages/{page.id}",
        params={"body-format": "storage", "include-labels": "true"},
    )
    body = r.json()
    assert body["body"]["storage"]["value"] == page.body
    assert body["version"]["number"] == page.version.number
    assert [label["name"] for label in body["labels"]["results"]] == page.labels


def test_create_then_update_with_next_version_then_stale_version_conflicts(
    http: httpx.Client, sim: ConfluenceSimulator, chk_id: str
) -> None:
    create = {
        "spaceId": chk_id,
        "status": "current",
        "title": "Spec: Wallets",
        "body": {"representation": "storage", "value": "<p>Apple Pay, CHK-3</p>"},
    }
    created = exchange(http, "v2", "post", "/pages", f"{V2}/pages", json_body=create)
    assert created.status_code == 200
    page = created.json()
    assert page["version"]["number"] == 1
    assert page["parentId"] == sim.wiki.spaces[chk_id].homepage_id
    update = {
        "id": page["id"],
        "status": "current",
        "title": "Spec: Wallets",
        "body": {"representation": "storage", "value": "<p>Apple Pay and Google Pay</p>"},
        "version": {"number": 2, "message": "add Google Pay"},
    }
    updated = exchange(http, "v2", "put", "/pages/{id}", f"{V2}/pages/{page['id']}", json_body=update)
    assert updated.status_code == 200
    assert updated.json()["version"]["number"] == 2
    stale = http.put(f"{V2}/pages/{page['id']}", json=update)
    assert stale.status_code == 409
    error = stale.json()["errors"][0]
    assert error["status"] == 409 and error["code"] == "CONFLICT"
    assert "Current version is: 2" in error["title"]


def test_update_without_required_fields_is_a_400(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    page = sim.pages_in("CHK")[2]
    r = http.put(
        f"{V2}/pages/{page.id}",
        json={"id": page.id, "version": {"number": page.version.number + 1}, "title": page.title},
    )
    assert r.status_code == 400
    assert "status" in r.json()["errors"][0]["detail"]


def test_delete_trashes_and_purge_of_a_trashed_page_removes_it(
    http: httpx.Client, sim: ConfluenceSimulator
) -> None:
    page = sim.pages_in("CHK")[-1]
    refused = http.delete(f"{V2}/pages/{page.id}", params={"purge": "true"})
    assert refused.status_code == 400
    r = exchange(http, "v2", "delete", "/pages/{id}", f"{V2}/pages/{page.id}")
    assert r.status_code == 204
    assert http.get(f"{V2}/pages/{page.id}").status_code == 404
    trashed = exchange(
        http, "v2", "get", "/pages/{id}", f"{V2}/pages/{page.id}", params={"status": "trashed"}
    )
    assert trashed.json()["status"] == "trashed"
    purged = exchange(http, "v2", "delete", "/pages/{id}", f"{V2}/pages/{page.id}", params={"purge": "true"})
    assert purged.status_code == 204
    gone = http.get(f"{V2}/pages", params={"id": page.id, "status": "current,archived,trashed,deleted"})
    assert gone.json()["results"] == []


def test_labels_and_versions_of_a_page(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    page = sim.pages_in("CHK")[0]
    sim.edit_page(page.id, body="<p>v2</p>")
    labels = exchange(http, "v2", "get", "/pages/{id}/labels", f"{V2}/pages/{page.id}/labels")
    assert [label["name"] for label in labels.json()["results"]] == page.labels
    versions = exchange(
        http,
        "v2",
        "get",
        "/pages/{id}/versions",
        f"{V2}/pages/{page.id}/versions",
        params={"body-format": "storage"},
    )
    numbers = [v["number"] for v in versions.json()["results"]]
    assert numbers == sorted(range(1, page.version.number + 1), reverse=True)
    first = exchange(
        http, "v2", "get", "/pages/{page-id}/versions/{version-number}", f"{V2}/pages/{page.id}/versions/1"
    )
    assert (
        first.json()["number"] == 1 and first.json()["nextVersion"] == 2 and "prevVersion" not in first.json()
    )


def test_a_bad_token_is_a_401_in_the_v2_error_shape(served: object, sim: ConfluenceSimulator) -> None:
    url = served.url
    r = httpx.get(f"{url}{V2}/pages", auth=(sim.bot_email, "wrong"))
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    sim.revoke_token()
    assert httpx.get(f"{url}{V2}/spaces", auth=(sim.bot_email, sim.api_token)).status_code == 401


def test_a_404_names_the_unimplemented_path(http: httpx.Client) -> None:
    r = http.post(f"{V2}/pages/1/labels", json={"name": "x"})
    assert r.status_code == 405  # v2 labels are read-only (atlassian-python-api's add_page_label posts here)
    assert "/wiki/api/v2/pages/1/labels" in r.json()["errors"][0]["detail"]
    r = http.get(f"{V2}/whiteboards/7")
    assert r.status_code == 404
    assert "/wiki/api/v2/whiteboards/7" in r.json()["errors"][0]["detail"]


class _CountingPages(dict[str, object]):
    reads = 0

    def __getitem__(self, key: str) -> object:
        type(self).reads += 1
        return super().__getitem__(key)


def test_listing_one_page_costs_the_page_size_not_the_wiki_size() -> None:
    big = ConfluenceSimulator(TeamWorld(scale=100))
    assert len(big.wiki.pages) > 1000
    counting = _CountingPages(big.wiki.pages)
    big.wiki.pages = counting  # type: ignore[assignment]
    from app.sandbox.common import serve_in_thread

    served = serve_in_thread(big.app)
    try:
        with httpx.Client(base_url=served.url, auth=(big.bot_email, big.api_token)) as client:
            first = client.get(f"{V2}/pages", params={"limit": 10, "sort": "-modified-date"})
            _CountingPages.reads = 0
            nxt = client.get(first.json()["_links"]["next"])
    finally:
        served.stop()
    assert len(nxt.json()["results"]) == 10
    assert _CountingPages.reads <= 11
