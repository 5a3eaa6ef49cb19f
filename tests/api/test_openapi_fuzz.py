"""Schemathesis over the app's own OpenAPI schema, in-process: no server error, no schema violation."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from webhooks.kit import AUTH, hub_settings

from app.api import create_app
from app.hub import Hub
from app.webhooks import WebhookService


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    import asyncio

    settings = hub_settings(tmp_path_factory.mktemp("fuzz"))
    application = create_app(settings, start_scheduler=False, migrate=True)
    hub = Hub(settings, migrate=True, connect=False)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(hub.__aenter__())
    application.state.hub = hub
    application.state.webhooks = WebhookService(hub)

    @contextlib.asynccontextmanager
    async def opened_outside(_: object) -> AsyncIterator[None]:
        yield  # the hub is opened above, without vendor connections (none is reachable here)

    application.router.lifespan_context = opened_outside
    try:
        yield application
    finally:
        loop.run_until_complete(hub.__aexit__(None, None, None))
        loop.close()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz(operation: Any, checks: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=AUTH, checks=checks)

    check()


def test_no_operation_errs_or_breaks_its_schema(app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(operation.label)
        # /ready answers a documented 503 here: no scheduler runs in this in-process app.
        _fuzz(operation, CHECKS[1:] if operation.path == "/ready" else CHECKS)
    assert len(tested) >= 15, tested
