"""atlassian-python-api 5.x against the simulator: what the SDK really calls, served as Confluence does.

``Confluence(url, ..., cloud=True)`` alone builds the legacy ``Cloud`` client (v1-shaped methods
joined straight onto ``url``); adding ``api_version=2`` builds ``ConfluenceCloud``, which calls
``/wiki/api/v2/...`` and pages by ``_links.next``. The connector uses the latter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from atlassian import Confluence

from app.sandbox.common import ServedApp
from app.sandbox.confluence import ConfluenceSimulator


@pytest.fixture
def v2_client(served: ServedApp, sim: ConfluenceSimulator) -> Iterator[Confluence]:
    with pytest.warns(DeprecationWarning):  # ConfluenceCloud warns about its v1 names on construction
        client = Confluence(
            url=served.url + "/wiki",
            username=sim.bot_email,
            password=sim.api_token,
            cloud=True,
            api_version=2,
        )
    yield client
    client.close()


def test_sdk_lists_pages_of_a_space_following_cursor_links(
    v2_client: Confluence, sim: ConfluenceSimulator
) -> None:
    space = v2_client.get_space_by_key("CHK")
    sim.log.clear()
    pages = v2_client.get_pages(space_id=space["id"], limit=5, body_format="storage")
    assert sorted(p["id"] for p in pages) == sorted(p.id for p in sim.pages_in("CHK"))
    calls = [e for e in sim.log.since(0) if e.path == "/wiki/api/v2/pages"]
    assert len(calls) == -(-len(pages) // 5)
    assert all("cursor=" in e.query for e in calls[1:])


def test_sdk_gets_a_page_by_id_with_its_storage_body(v2_client: Confluence, sim: ConfluenceSimulator) -> None:
    page = sim.pages_in("CHK")[2]
    got = v2_client.get_page_by_id(page.id, body_format="storage")
    assert got["title"] == page.title
    assert got["body"]["storage"]["value"] == page.body


def test_sdk_creates_then_updates_and_a_stale_version_is_a_409(
    v2_client: Confluence, sim: ConfluenceSimulator
) -> None:
    space = v2_client.get_space_by_key("CHK")
    created = v2_client.create_page(space_id=space["id"], title="Spec: Wallets", body="<p>CHK-4</p>")
    assert created["version"]["number"] == 1
    assert sim.wiki.pages[created["id"]].body == "<p>CHK-4</p>"
    # update_page sends version + 1 of what it is given; the v2 spec requires status.
    updated = v2_client.update_page(
        created["id"], title="Spec: Wallets", body="<p>CHK-4, CHK-5</p>", version=1, status="current"
    )
    assert updated["version"]["number"] == 2
    with pytest.raises(requests.HTTPError) as stale:
        v2_client.update_page(
            created["id"], title="Spec: Wallets", body="<p>lost</p>", version=1, status="current"
        )
    assert stale.value.response is not None and stale.value.response.status_code == 409
    assert sim.wiki.pages[created["id"]].body == "<p>CHK-4, CHK-5</p>"


def test_legacy_cloud_client_reads_and_writes_through_v1_content(
    served: ServedApp, sim: ConfluenceSimulator
) -> None:
    legacy = Confluence(
        url=served.url + "/wiki/rest/api", username=sim.bot_email, password=sim.api_token, cloud=True
    )
    page = sim.pages_in("CHK")[1]
    got = legacy.get_content(page.id, expand="body.storage,version")
    assert got["body"]["storage"]["value"] == page.body
    created = legacy.create_content(
        {
            "type": "page",
            "title": "Legacy page",
            "space": {"key": "CHK"},
            "body": {"storage": {"value": "<p>a</p>", "representation": "storage"}},
        }
    )
    updated = legacy.update_content(
        created["id"],
        {
            "type": "page",
            "title": "Legacy page",
            "version": {"number": 2},
            "body": {"storage": {"value": "<p>b</p>", "representation": "storage"}},
        },
    )
    assert updated["version"]["number"] == 2
    legacy.close()
