"""The FastAPI application: ``create_app(settings)`` builds it; nothing is created at import time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog
from fastapi import FastAPI

from app import __version__
from app.api import metrics, page
from app.api.intake_asgi import HubApp
from app.api.routes import config, deadletters, health, pairs, people, records, status, webhooks
from app.errors import ConfigError
from app.hub import Hub
from app.settings import Settings
from app.webhooks import WebhookService

__all__ = ["create_app"]

log = structlog.get_logger(__name__)


def create_app(settings: Settings, *, start_scheduler: bool = True, migrate: bool = False) -> FastAPI:
    """Build the service. Refuses a missing or well-known admin token outside demo mode."""
    problem = settings.admin_token_problem()
    if problem and not settings.demo:
        raise ConfigError(problem)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Hub(settings, migrate=migrate) as hub:
            app.state.hub = hub
            if start_scheduler:
                hub.start_scheduler()
            app.state.webhooks = WebhookService(hub)
            if start_scheduler:
                app.state.webhooks.start()
            log.info("hub started", connectors=sorted(hub.connectors), pairs=[p.id for p in settings.pairs])
            yield
            log.info("hub stopping")
            await app.state.webhooks.stop()

    app = HubApp(
        title="Passerelle",
        version=__version__,
        description="Admin API of the Passerelle integration hub. Every /api route needs the bearer token.",
        lifespan=lifespan,
    )
    # HubApp serves POSTs to the intake paths before FastAPI's stack (the ingest hot path);
    # the webhook routes document them in OpenAPI and answer the same if ever reached.
    app.include_router(webhooks.router)
    app.include_router(health.router)
    app.include_router(status.router)
    app.include_router(pairs.router)
    app.include_router(records.router)
    app.include_router(people.router)
    app.include_router(deadletters.router)
    app.include_router(config.router)
    app.include_router(metrics.router)
    app.include_router(page.router)
    return app
