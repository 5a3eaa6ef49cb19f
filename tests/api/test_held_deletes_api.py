"""The admin API over deletes the mass-delete guard held back: list them per pair, approve them."""

from __future__ import annotations

from pathlib import Path

import pytest
from webhooks.kit import ADMIN_TOKEN, hub_settings, running_app

from app.cli.status import status_command
from app.hub import Hub
from app.settings import Settings
from app.storage import CursorKey

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ALPHA = CursorKey("mem", "items", "alpha")


def _settings(tmp_path: Path) -> Settings:
    return hub_settings(
        tmp_path,
        connectors={"mem": {"type": "memory", "items": 10}, "other": {"type": "memory", "items": 2}},
        pairs=[{"id": "mem-items", "source": {"connector": "mem", "stream": "items"}}],
    )


async def test_held_deletes_are_listed_with_the_pair_and_in_its_status(tmp_path: Path) -> None:
    async with running_app(_settings(tmp_path)) as run:
        run.hub.db.hold_deletes(ALPHA, 8, "8 of 10 records (80%) would vanish; the limit is 50%")
        run.hub.db.hold_deletes(CursorKey("other", "items", "alpha"), 2, "not this pair's")

        listed = (await run.client.get("/api/pairs/mem-items/held-deletes", headers=AUTH)).json()
        assert [(h["label"], h["missing"], h["approved_up_to"]) for h in listed] == [("mem/items/alpha", 8, None)]
        assert listed[0]["reason"].startswith("8 of 10 records")

        status = (await run.client.get("/api/status", headers=AUTH)).json()
        (pair,) = status["pairs"]
        assert [h["label"] for h in pair["held_deletes"]] == ["mem/items/alpha"]
        assert (await run.client.get("/api/pairs/nope/held-deletes", headers=AUTH)).status_code == 404


async def test_an_approval_defaults_to_the_number_held_and_is_stored(tmp_path: Path) -> None:
    async with running_app(_settings(tmp_path)) as run:
        run.hub.db.hold_deletes(ALPHA, 8, "8 of 10 records (80%) would vanish")
        body = {"connector": "mem", "stream": "items", "partition": "alpha"}

        answer = await run.client.post("/api/pairs/mem-items/held-deletes/approve", headers=AUTH, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["held"]["approved_up_to"] == 8
        assert answer.json()["scheduled"] is False, "no scheduler runs in this app: nothing was queued"
        stored = run.hub.db.held_deletes(ALPHA)
        assert stored is not None and stored.approved_up_to == 8 and stored.approved_at is not None

        answer = await run.client.post(
            "/api/pairs/mem-items/held-deletes/approve", headers=AUTH, json={**body, "up_to": 5}
        )
        assert answer.json()["held"]["approved_up_to"] == 5


async def test_an_approval_of_nothing_held_or_of_another_stream_is_refused(tmp_path: Path) -> None:
    async with running_app(_settings(tmp_path)) as run:
        run.hub.db.hold_deletes(CursorKey("other", "items", "alpha"), 2, "held elsewhere")
        url = "/api/pairs/mem-items/held-deletes/approve"
        body = {"connector": "mem", "stream": "items", "partition": "alpha"}

        nothing = await run.client.post(url, headers=AUTH, json=body)
        assert nothing.status_code == 404 and "nothing is held back" in nothing.text
        other = await run.client.post(url, headers=AUTH, json={**body, "connector": "other"})
        assert other.status_code == 404 and "does not pull other/items" in other.text
        assert (await run.client.post(url, headers=AUTH, json={**body, "up_to": 0})).status_code == 422
        assert (await run.client.post(url, headers=AUTH, json={**body, "extra": 1})).status_code == 422
        untouched = run.hub.db.held_deletes(CursorKey("other", "items", "alpha"))
        assert untouched is not None and untouched.approved_up_to is None


async def test_the_status_command_lists_held_deletes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(tmp_path)
    async with Hub(settings, migrate=True, connect=False) as hub:
        hub.db.hold_deletes(ALPHA, 8, "8 of 10 records (80%) would vanish")
        hub.db.hold_deletes(CursorKey("mem", "items", "beta"), 7, "7 of 10 records (70%) would vanish")
        hub.db.approve_held_deletes(CursorKey("mem", "items", "beta"), 7)
    capsys.readouterr()

    assert await status_command(settings) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("HELD-BACK DELETES"))
    assert [line.split()[:3] for line in lines[start + 1 :]] == [
        ["mem-items", "mem/items/alpha", "8"],
        ["mem-items", "mem/items/beta", "7"],
    ]
    assert "not approved: 8 of 10" in lines[start + 1] and "approved up to 7: 7 of 10" in lines[start + 2]
