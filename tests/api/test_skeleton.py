"""The service skeleton: health, readiness, status after real runs, triggering, and the token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.api import create_app
from app.errors import ConfigError
from app.settings import Settings, load_settings

TOKEN = "t0ken-for-the-api-tests-0123456789"


def memory_settings(tmp_path: Path, **overrides: object) -> Settings:
    data: dict[str, object] = {
        "data_dir": str(tmp_path),
        "admin_token": TOKEN,
        "connectors": {"mem": {"type": "memory", "items": 12}},
        "pairs": [{"id": "mem-items", "source": {"connector": "mem", "stream": "items"}, "interval_s": 3600}],
    }
    data.update(overrides)
    return load_settings(**data)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(memory_settings(tmp_path), migrate=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            c.headers["Authorization"] = f"Bearer {TOKEN}"
            c.app = app  # type: ignore[attr-defined]
            yield c


async def wait_for_run(client: httpx.AsyncClient, pair_id: str, count: int = 1) -> list[dict[str, object]]:
    for _ in range(200):
        runs = (await client.get("/api/runs", params={"pair": pair_id})).json()
        finished = [r for r in runs if r["status"] != "running"]
        if len(finished) >= count:
            return finished
        await asyncio.sleep(0.05)
    raise AssertionError(f"no finished run of {pair_id}")


async def test_liveness_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Authorization": ""})
    assert response.status_code == 200


async def test_ready_when_store_answers_and_scheduler_runs(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"store": True, "scheduler": True}


async def test_startup_run_then_triggered_run_show_in_status_with_counts(client: httpx.AsyncClient) -> None:
    startup = await wait_for_run(client, "mem-items")
    assert startup[0]["trigger"] == "startup"
    assert startup[0]["created"] == 12
    response = await client.post("/api/pairs/mem-items/sync")
    assert response.status_code == 202
    runs = await wait_for_run(client, "mem-items", count=2)
    assert runs[0]["trigger"] == "admin"
    assert (runs[0]["status"], runs[0]["created"], runs[0]["deleted"]) == ("succeeded", 0, 0)
    status = (await client.get("/api/status")).json()
    pair = status["pairs"][0]
    assert pair["id"] == "mem-items"
    assert pair["state"] == "ok"
    assert pair["last_run"]["run_id"] == runs[0]["run_id"]
    assert pair["records"] == 12
    assert pair["cursor_age_s"] is not None
    assert pair["next_run_at"] is not None
    assert status["connectors"][0]["records"] == 12


async def test_unknown_pair_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/pairs/nope/sync")).status_code == 404


async def test_a_disabled_pair_is_not_triggered(tmp_path: Path) -> None:
    pairs = [{"id": "mem-items", "source": {"connector": "mem", "stream": "items"}, "enabled": False}]
    app = create_app(memory_settings(tmp_path, pairs=pairs), migrate=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            answer = await c.post("/api/pairs/mem-items/sync", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 409 and "disabled" in answer.text


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", f"Bearer {TOKEN}x"])
async def test_api_refuses_missing_or_wrong_token(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    client.headers.pop("Authorization")
    for path in ("/api/status", "/api/runs"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, path
    assert (await client.post("/api/pairs/mem-items/sync", headers=headers)).status_code == 401


@pytest.mark.parametrize("token", [None, "changeme", "short"])
def test_service_refuses_to_start_with_a_missing_or_well_known_token(tmp_path: Path, token: str | None) -> None:
    with pytest.raises(ConfigError, match="admin_token"):
        create_app(memory_settings(tmp_path, admin_token=token))


def test_demo_mode_allows_a_well_known_token(tmp_path: Path) -> None:
    app = create_app(memory_settings(tmp_path, admin_token="demo", demo=True))
    assert isinstance(app, FastAPI)


async def test_start_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    app = create_app(memory_settings(tmp_path))
    with pytest.raises(ConfigError, match="passerelle db upgrade"):
        async with app.router.lifespan_context(app):
            pass
