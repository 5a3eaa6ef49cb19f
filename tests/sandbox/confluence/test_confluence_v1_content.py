"""REST v1 calls clients still make: content CRUD, CQL search, spaces, labels, archive (2021 v1 spec)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from confluence_spec import exchange

from app.sandbox.confluence import ConfluenceSimulator

V1 = "/wiki/rest/api"


def test_get_content_with_expansions_validates(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    page = sim.pages_in("CHK")[4]
    r = exchange(
        http,
        "v1",
        "get",
        f"{V1}/content/{{id}}",
        f"{V1}/content/{page.id}",
        params={"expand": "body.storage,version,space,ancestors,metadata.labels"},
    )
    body = r.json()
    assert body["body"]["storage"]["value"] == page.body
    assert body["version"]["number"] == page.version.number
    assert body["space"]["key"] == "CHK"
    assert [a["id"] for a in body["ancestors"]][-1] == page.parent_id
    assert [label["name"] for label in body["metadata"]["labels"]["results"]] == page.labels


def test_v1_create_and_update_follow_the_version_rule(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    parent = sim.pages_in("CHK")[1]
    create = {
        "type": "page",
        "title": "Retro 42",
        "space": {"key": "CHK"},
        "ancestors": [{"id": parent.id}],
        "body": {"storage": {"value": "<p>Went well: CHK-2</p>", "representation": "storage"}},
    }
    created = exchange(http, "v1", "post", f"{V1}/content", f"{V1}/content", json_body=create)
    assert created.status_code == 200
    page_id = created.json()["id"]
    assert sim.wiki.pages[page_id].parent_id == parent.id
    update = {
        "type": "page",
        "title": "Retro 42",
        "version": {"number": 2},
        "body": {"storage": {"value": "<p>Went well: CHK-2, CHK-5</p>", "representation": "storage"}},
    }
    updated = exchange(http, "v1", "put", f"{V1}/content/{{id}}", f"{V1}/content/{page_id}", json_body=update)
    assert updated.status_code == 200 and updated.json()["version"]["number"] == 2
    stale = exchange(http, "v1", "put", f"{V1}/content/{{id}}", f"{V1}/content/{page_id}", json_body=update)
    assert stale.status_code == 409
    assert stale.json()["statusCode"] == 409 and "Current version is: 2" in stale.json()["message"]


def test_v1_delete_trashes_then_status_trashed_purges(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    page = sim.pages_in("CHK")[-1]
    assert (
        exchange(http, "v1", "delete", f"{V1}/content/{{id}}", f"{V1}/content/{page.id}").status_code == 204
    )
    assert sim.wiki.pages[page.id].status == "trashed"
    r = exchange(
        http, "v1", "delete", f"{V1}/content/{{id}}", f"{V1}/content/{page.id}", params={"status": "trashed"}
    )
    assert r.status_code == 204 and page.id not in sim.wiki.pages
    missing = http.get(f"{V1}/content/{page.id}")
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404


def test_cql_lastmodified_is_read_in_the_users_time_zone_at_minute_precision(
    http: httpx.Client, sim: ConfluenceSimulator, clock: Any
) -> None:
    sim.user_tz = ZoneInfo("America/New_York")
    clock.now = datetime(2026, 11, 20, 13, 30, 30, tzinfo=UTC)  # 08:30:30 in New York
    page = sim.create_page("Saved at 13:30:30 UTC")

    def found(cql: str) -> bool:
        r = exchange(
            http,
            "v1",
            "get",
            f"{V1}/content/search",
            f"{V1}/content/search",
            params={"cql": f"space = CHK and {cql}", "limit": "250"},
        )
        assert r.status_code == 200
        return page.id in {c["id"] for c in r.json()["results"]}

    assert found('lastmodified >= "2026/11/20 08:30"')
    assert not found('lastmodified > "2026/11/20 08:30"')  # the whole minute is "08:30"
    assert not found('lastmodified >= "2026/11/20 08:31"')
    # A caller formatting its UTC cursor loses the page: the string is read as New York time.
    assert not found('lastmodified >= "2026/11/20 13:30"')


def test_cql_search_pages_by_cursor_in_lastmodified_order(
    http: httpx.Client, sim: ConfluenceSimulator
) -> None:
    ids: list[str] = []
    url: str | None = f"{V1}/content/search"
    params: dict[str, str] | None = {
        "cql": 'space = CHK and lastmodified >= "2020/01/01" order by lastmodified',
        "limit": "4",
        "expand": "version",
    }
    while url:
        r = exchange(http, "v1", "get", f"{V1}/content/search", url, params=params)
        ids += [c["id"] for c in r.json()["results"]]
        nxt = r.json()["_links"].get("next")
        url, params = (f"/wiki{nxt}" if nxt else None), None
    assert sorted(ids) == sorted(p.id for p in sim.pages_in("CHK"))
    assert len(ids) == len(set(ids))


def test_site_search_validates_and_reports_last_modified(
    http: httpx.Client, sim: ConfluenceSimulator
) -> None:
    r = exchange(
        http,
        "v1",
        "get",
        f"{V1}/search",
        f"{V1}/search",
        params={"cql": "space = TEAM and type = page", "limit": "10"},
    )
    assert {x["title"] for x in r.json()["results"]} == {p.title for p in sim.pages_in("TEAM")}


def test_v1_spaces_and_labels_validate(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    spaces = exchange(http, "v1", "get", f"{V1}/space", f"{V1}/space")
    assert {s["key"] for s in spaces.json()["results"]} == {"CHK", "TEAM"}
    page = sim.pages_in("CHK")[5]
    added = exchange(
        http,
        "v1",
        "post",
        f"{V1}/content/{{id}}/label",
        f"{V1}/content/{page.id}/label",
        json_body=[{"prefix": "global", "name": "needs-review"}],
    )
    assert "needs-review" in {label["name"] for label in added.json()["results"]}
    listed = exchange(http, "v1", "get", f"{V1}/content/{{id}}/label", f"{V1}/content/{page.id}/label")
    assert "needs-review" in {label["name"] for label in listed.json()["results"]}


def test_archive_endpoint_archives_pages(http: httpx.Client, sim: ConfluenceSimulator) -> None:
    page = sim.pages_in("CHK")[6]
    body = {"pages": [{"id": int(page.id)}]}
    r = exchange(http, "v1", "post", f"{V1}/content/archive", f"{V1}/content/archive", json_body=body)
    assert r.status_code == 202
    assert sim.wiki.pages[page.id].status == "archived"
    again = http.post(f"{V1}/content/archive", json=body)
    assert again.status_code == 400 and again.json()["statusCode"] == 400


def test_admin_surface_changes_the_wiki_as_a_user(served: object, sim: ConfluenceSimulator) -> None:
    url = served.url
    created = httpx.post(
        f"{url}/_sandbox/pages", json={"title": "Admin page", "body": "<p>CHK-1</p>", "as": "qa"}
    )
    assert created.status_code == 201
    page_id = created.json()["id"]
    assert sim.wiki.pages[page_id].author_id == sim.world.member("qa").jira_account_id
    edited = httpx.post(f"{url}/_sandbox/pages/{page_id}/edit", json={"body": "<p>CHK-2</p>"})
    assert edited.json()["version"] == 2
    for action, status in (("archive", "archived"), ("restore", "current"), ("trash", "trashed")):
        assert httpx.post(f"{url}/_sandbox/pages/{page_id}/{action}").json()["status"] == status
    assert httpx.post(f"{url}/_sandbox/pages/{page_id}/purge").json()["purged"] is True
    assert page_id not in sim.wiki.pages
    assert not [e for e in sim.log.since(0) if e.path.startswith("/_sandbox")]
