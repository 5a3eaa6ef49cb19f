"""The frame every vendor simulator is built on.

A vendor subclass adds its API routes to ``self.app`` (a FastAPI app) and its own
``/_sandbox/...`` mutation routes, and overrides :meth:`error_body` so errors look like
the vendor's. This base adds, for every simulator:

- a request log of every API call (``GET /_sandbox/requests?since=<seq>``, ``DELETE`` clears it);
- chaos (``GET|PATCH /_sandbox/chaos``): 5xx, 429 + ``Retry-After``, latency, an expired token,
  answers lost after the work was done;
- ``GET /_sandbox/health`` and ``POST /_sandbox/reset`` (calls :meth:`reset`);
- a 404 for any unimplemented path, whose body names the path.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.sandbox.common.chaos import Chaos
from app.sandbox.common.requestlog import RequestLog
from app.sandbox.common.webhooks import WebhookDispatcher
from app.sandbox.world import TeamWorld

ADMIN_PREFIX = "/_sandbox"


class Simulator:
    """Base of one vendor's simulator. Subclasses set ``vendor`` and implement ``reset``."""

    vendor: str = "vendor"

    def __init__(self, world: TeamWorld | None = None) -> None:
        self.world = world or TeamWorld()
        self.lock = threading.RLock()
        self.log = RequestLog()
        self.chaos = Chaos()
        self.webhooks = WebhookDispatcher(self.chaos, name=self.vendor)
        self.app = FastAPI(
            title=f"{self.vendor} sandbox", docs_url=None, redoc_url=None, openapi_url=None,
            lifespan=self._lifespan,
        )
        self._install_admin_routes()
        self.app.add_middleware(_ChaosAndLog, simulator=self)
        self.app.add_exception_handler(404, self._not_found)  # type: ignore[arg-type]
        self.reset()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self.webhooks.stop()

    # --- hooks for subclasses ---------------------------------------------------------------
    def reset(self) -> None:
        """Rebuild the seeded world state."""

    def error_body(self, status: int, message: str) -> Response:
        """An error response in the vendor's shape."""
        return JSONResponse({"error": message, "status": status}, status_code=status)

    def unauthenticated(self) -> Response:
        return self.error_body(401, "token expired or revoked")

    def is_api_path(self, path: str) -> bool:
        return not path.startswith(ADMIN_PREFIX)

    # --- shared behaviour -------------------------------------------------------------------
    async def _not_found(self, request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != "Not Found" else None
        if detail:
            return self.error_body(404, detail)
        return self.error_body(404, f"not implemented in the {self.vendor} sandbox: {request.method} "
                                    f"{request.url.path}")

    def _install_admin_routes(self) -> None:
        app = self.app

        @app.get(f"{ADMIN_PREFIX}/health")
        def health() -> dict[str, Any]:
            return {"ok": True, "vendor": self.vendor, "seed": self.world.seed, "scale": self.world.scale}

        @app.get(f"{ADMIN_PREFIX}/requests")
        def requests_since(since: int = 0) -> dict[str, Any]:
            return {"last_seq": self.log.last_seq, "requests": [e.to_dict() for e in self.log.since(since)]}

        @app.delete(f"{ADMIN_PREFIX}/requests")
        def clear_requests() -> dict[str, Any]:
            self.log.clear()
            return {"ok": True}

        @app.get(f"{ADMIN_PREFIX}/chaos")
        def get_chaos() -> dict[str, Any]:
            return self.chaos.to_dict()

        @app.patch(f"{ADMIN_PREFIX}/chaos")
        async def patch_chaos(request: Request) -> Response:
            changes = await request.json()
            try:
                self.chaos.update(changes)
            except (KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": f"bad chaos setting: {exc}"}, status_code=400)
            return JSONResponse(self.chaos.to_dict())

        @app.post(f"{ADMIN_PREFIX}/reset")
        def reset() -> dict[str, Any]:
            with self.lock:
                self.reset()
            self.log.clear()
            self.chaos.update(Chaos().to_dict())
            return {"ok": True}

        @app.get(f"{ADMIN_PREFIX}/webhooks")
        def webhook_log() -> dict[str, Any]:
            return {"deliveries": self.webhooks.history()}


class _ChaosAndLog:
    """ASGI middleware: logs API requests and injects the configured faults before the route runs."""

    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self.inner = app
        self.sim = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.sim.is_api_path(scope["path"]):
            await self.inner(scope, receive, send)
            return
        started = time.time()
        t0 = time.perf_counter()
        chaos = self.sim.chaos
        status_holder: dict[str, Any] = {"status": 500, "retry_after": None}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"retry-after":
                        status_holder["retry_after"] = float(value)
            await send(message)

        delay = chaos.latency_ms
        if chaos.roll(chaos.latency_spike_rate):
            delay += chaos.latency_spike_ms
        if delay > 0:
            await asyncio.sleep(delay / 1000)

        injected: Response | None = None
        if chaos.token_expired:
            injected = self.sim.unauthenticated()
        elif chaos.roll(chaos.rate_limit_rate):
            injected = self.sim.error_body(429, "rate limited")
            injected.headers["Retry-After"] = f"{chaos.retry_after_s:g}"
        elif chaos.roll(chaos.error_rate):
            status = chaos.choice([500, 502, 503])
            injected = self.sim.error_body(status, "injected server error")
        lose_answer = injected is None and chaos.lost_answers > 0
        if lose_answer:
            chaos.lost_answers -= 1
        try:
            if injected is not None:
                await injected(scope, receive, send_wrapper)
            elif lose_answer:
                await self.inner(scope, receive, _discard)  # the route runs: its effect stays
                await self.sim.error_body(502, "injected: the answer was lost")(scope, receive, send_wrapper)
            else:
                await self.inner(scope, receive, send_wrapper)
        finally:
            self.sim.log.add(
                scope["method"],
                scope["path"],
                scope.get("query_string", b"").decode("latin-1"),
                status_holder["status"],
                started,
                (time.perf_counter() - t0) * 1000,
                status_holder["retry_after"],
            )


async def _discard(message: Any) -> None:
    """An ASGI ``send`` that drops what the route answered."""
