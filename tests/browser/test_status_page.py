"""The status page in headless Chromium: asks for the token once, then shows and refreshes the status."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from webhooks.kit import ADMIN_TOKEN, AUTH, hub_settings, subscription

from app.api import create_app
from app.sandbox.common import serve_in_thread
from app.storage import create_store

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "status-page.png"


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("hub")
    connectors = {"mem": {"type": "memory", "items": 12}}
    pairs = [{"id": "mem-items", "source": {"connector": "mem", "stream": "items"}, "interval_s": 3600}]
    settings = hub_settings(data, connectors, pairs=pairs)
    served = serve_in_thread(create_app(settings, migrate=True))
    store = create_store(settings.effective_database_url)
    store.put_subscription(
        subscription(
            "google", "chan-4ba78bf0", "google-team", "team@orbit.example", expires_in=timedelta(hours=20)
        )
    )
    store.close()
    try:
        deadline = time.monotonic() + 20
        while not httpx.get(f"{served.url}/api/runs", headers=AUTH).json():
            assert time.monotonic() < deadline, "the start-up sync never ran"
            time.sleep(0.1)
        yield served.url
    finally:
        served.stop()


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        yield context.new_page()
        browser.close()


def test_a_wrong_token_is_refused_and_the_form_stays(page: Page, hub_url: str) -> None:
    page.goto(hub_url + "/")
    expect(page.locator("#login")).to_be_visible()
    page.fill("#token", ADMIN_TOKEN + "-wrong")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("That token was refused.")
    expect(page.locator("#status")).to_be_hidden()


def test_the_page_shows_connectors_pairs_and_subscriptions_and_refreshes(page: Page, hub_url: str) -> None:
    page.goto(hub_url + "/")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("body[data-loaded=true]")).to_be_attached()
    pairs = page.locator("#pairs tbody tr")
    expect(pairs).to_have_count(1)
    expect(pairs.first).to_contain_text("mem-items")
    expect(pairs.first).to_contain_text("mem/items")
    expect(pairs.first.locator(".state")).to_have_text("ok")
    expect(pairs.first).to_contain_text("+12")
    expect(page.locator("#connectors tbody tr").first).to_contain_text("memory")
    subscriptions = page.locator("#subscriptions tbody tr")
    expect(subscriptions.first).to_contain_text("chan-4ba78bf0")
    expect(subscriptions.first.locator(".soon")).to_contain_text("in 20.0 h")
    expect(page.locator("#inbox")).to_have_text("Inbox: 0 pending, 0 dead letters")
    assert page.evaluate("sessionStorage.getItem('passerelle.adminToken')") == ADMIN_TOKEN
    assert ADMIN_TOKEN not in page.url

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # A sync requested elsewhere shows up without reloading: the page polls every 5 s.
    httpx.post(f"{hub_url}/api/pairs/mem-items/sync", headers=AUTH).raise_for_status()
    expect(pairs.first).to_contain_text("admin", timeout=15_000)

    # The token is remembered for the tab: a reload goes straight to the status.
    page.reload()
    expect(page.locator("#status")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()


@pytest.fixture
def emptied_hub(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A hub whose memory source then lists nothing: a full resync holds every delete back."""
    connectors = {"mem": {"type": "memory", "items": 12}}
    source = {"connector": "mem", "stream": "items", "partitions": ["alpha"]}
    pairs = [{"id": "mem-items", "source": source, "interval_s": 3600}]
    app = create_app(hub_settings(tmp_path, connectors, pairs=pairs), migrate=True)
    served = serve_in_thread(app)
    try:
        _wait_for_runs(served.url, 1)
        app.state.hub.connectors["mem"].faults.list_nothing = True
        httpx.post(f"{served.url}/api/pairs/mem-items/sync", params={"full": True}, headers=AUTH).raise_for_status()
        _wait_for_runs(served.url, 2)
        yield served.url, app
    finally:
        served.stop()


def _wait_for_runs(url: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        runs = [r for r in httpx.get(f"{url}/api/runs", headers=AUTH).json() if r["status"] != "running"]
        if len(runs) >= count:
            return runs
        assert time.monotonic() < deadline, f"fewer than {count} finished runs"
        time.sleep(0.1)


def test_held_back_deletes_are_shown_and_approved_from_the_page(page: Page, emptied_hub: tuple[str, Any]) -> None:
    url, app = emptied_hub
    page.goto(url + "/")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("#pairs tbody tr").first.locator(".state")).to_have_text("suspicious")
    held = page.locator("#held tbody tr")
    expect(held).to_have_count(1)
    expect(held.first).to_contain_text("mem/items/alpha")
    expect(held.first).to_contain_text("the source lists nothing while the hub holds")

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    held.first.locator("button").click()

    # The approval queues a run; it deletes what vanished and nothing is held any more.
    expect(page.locator("#held tbody tr").first).to_have_text("none", timeout=15_000)
    expect(page.locator("#pairs tbody tr").first.locator(".state")).to_have_text("ok", timeout=15_000)
    assert asked and "Delete up to" in asked[0]
    assert app.state.hub.db.count_records("mem") == 0
    assert page.locator("#held-error").text_content() == ""
