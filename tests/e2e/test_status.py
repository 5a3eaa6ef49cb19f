"""After a sync, ``passerelle status`` and ``GET /api/status`` show every connector and pair with counts."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from pydantic import SecretStr

from app.api import create_app
from app.cli.demo import run_demo
from app.cli.main import main
from app.settings import Settings
from e2e.kit import Rig

pytestmark = pytest.mark.e2e


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _write_config(settings: Settings, path: Path) -> Path:
    path.write_text(yaml.safe_dump(_plain(settings.model_dump(mode="python"))), encoding="utf-8")
    return path


def _expected_connectors(rig: Rig) -> dict[str, tuple[str, int, int]]:
    db = rig.hub.db
    return {
        name: (conf.type, db.count_records(connector=name), len(db.list_cursors(name)))
        for name, conf in rig.settings.connectors.items()
    }


async def test_status_command_prints_every_connector_and_pair_with_counts(
    synced: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    config = _write_config(synced.settings, tmp_path / "passerelle.yaml")
    capsys.readouterr()

    code = await asyncio.to_thread(main, ["--config", str(config), "status"])

    out = capsys.readouterr().out
    assert code == 0, out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    for name, (kind, records, partitions) in _expected_connectors(synced).items():
        assert records > 0 and rows[name][1:4] == [kind, str(records), str(partitions)], (name, out)
    for pair_id in synced.pair_ids:
        run = synced.hub.db.list_runs(pair_id=pair_id, limit=1)[0]
        row = rows[pair_id]
        assert row[1] == "ok", (pair_id, out)
        assert row[4:9] == [
            str(run.created),
            str(run.updated),
            str(run.deleted),
            str(run.unchanged),
            str(run.failed),
        ], (pair_id, out)


async def test_status_api_shows_every_connector_and_pair_with_counts(synced: Rig) -> None:
    app = create_app(synced.settings, start_scheduler=False, migrate=True)
    token = synced.settings.admin_token
    assert token is not None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            refused = await client.get("/api/status")
            answer = await client.get(
                "/api/status", headers={"Authorization": f"Bearer {token.get_secret_value()}"}
            )

    assert refused.status_code == 401
    assert answer.status_code == 200, answer.text
    body = answer.json()
    shown = {c["name"]: (c["type"], c["records"], c["partitions"]) for c in body["connectors"]}
    assert shown == _expected_connectors(synced)
    assert all(records > 0 for _, records, _ in shown.values())
    pairs = {p["id"]: p for p in body["pairs"]}
    assert set(pairs) == set(synced.pair_ids)
    db = synced.hub.db
    for pair in synced.settings.pairs:
        shown_pair = pairs[pair.id]
        assert shown_pair["state"] == "ok"
        assert shown_pair["records"] == db.count_records(
            connector=pair.source.connector, stream=pair.source.stream
        )
        assert shown_pair["records"] > 0
        assert shown_pair["last_run"]["created"] == db.list_runs(pair_id=pair.id, limit=1)[0].created > 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_demo_syncs_all_five_tools_and_its_status_shows_their_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    """What ``make demo`` runs (``passerelle demo``), on free ports, with its data under ``tmp_path``."""
    monkeypatch.chdir(tmp_path)  # the demo config keeps its database in ./data/demo
    servers: list[uvicorn.Server] = []

    class StoppableServer(uvicorn.Server):
        """Every uvicorn server, remembered so the test can stop the demo instead of waiting it out."""

        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            servers.append(self)

    monkeypatch.setattr(uvicorn, "Server", StoppableServer)
    port = _free_port()
    demo = threading.Thread(
        target=run_demo,
        kwargs={
            "config": None,
            "host": "127.0.0.1",
            "port": port,
            "sandbox_base_port": 0,
            "seed": 1,
            "activity": False,
            "exit_after": 30.0,
        },
        daemon=True,
    )
    demo.start()
    headers = {"Authorization": "Bearer demo-admin-token"}
    body: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
        for _ in range(100):
            await asyncio.sleep(0.2)
            try:
                answer = await client.get("/api/status")
            except httpx.TransportError:
                continue  # not serving yet
            body = answer.json()
            if all(p["last_run"] and p["last_run"]["status"] != "running" for p in body["pairs"]):
                break

    # (the sandbox's simulators are served by uvicorn too: stop the hub's own server)
    next(s for s in servers if s.config.port == port).should_exit = True
    demo.join(timeout=15)
    assert not demo.is_alive()

    types = {c["type"] for c in body["connectors"] if c["records"] > 0}
    assert types == {"jira", "confluence", "slack", "google_calendar", "outlook"}, body["connectors"]
    for pair in body["pairs"]:
        assert pair["state"] == "ok" and pair["records"] > 0, pair
        assert pair["last_run"]["status"] == "succeeded" and pair["last_run"]["created"] > 0, pair
