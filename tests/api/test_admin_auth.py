"""Every admin route refuses a missing or wrong bearer token; the list comes from the app itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from webhooks.kit import ADMIN_TOKEN, hub_settings, running_app

PUBLIC = {"/health", "/ready"}
GUARDED_PREFIXES = ("/api/", "/metrics")


async def test_every_admin_route_refuses_a_missing_or_wrong_token(tmp_path: Path) -> None:
    async with running_app(hub_settings(tmp_path)) as run:
        schema = run.app.openapi()
        operations = [
            (method.upper(), path)
            for path, item in schema["paths"].items()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        ]
        guarded = [(m, p) for m, p in operations if p.startswith(GUARDED_PREFIXES)]
        # Everything in the schema is either public on purpose, a webhook (vendor-verified), or guarded.
        assert {p for _, p in operations} - {p for _, p in guarded} - PUBLIC == {
            p for _, p in operations if p.startswith("/webhooks/")
        }
        assert len(guarded) >= 11
        for method, path in guarded:
            url = re.sub(r"\{[^}]+\}", "1", path)
            for headers in (
                {},
                {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
                {"Authorization": ADMIN_TOKEN},
                {"Authorization": "Basic YWRtaW46YWRtaW4="},
            ):
                answer = await run.client.request(method, url, headers=headers, json={})
                assert answer.status_code == 401, (method, path, headers, answer.text)
                assert answer.headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize("path", ["/", "/static/status.js", "/static/status.css"])
async def test_the_status_page_shell_is_served_without_data(tmp_path: Path, path: str) -> None:
    async with running_app(hub_settings(tmp_path)) as run:
        answer = await run.client.get(path)
        assert answer.status_code == 200
        assert ADMIN_TOKEN not in answer.text
        assert "pair" not in answer.text.lower() or path != "/static/status.css"
