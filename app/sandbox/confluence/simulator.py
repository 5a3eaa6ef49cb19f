"""The Confluence Cloud simulator: REST v2 and the v1 calls clients still make, under ``/wiki``.

Auth is basic ``email:api_token``; a wrong or revoked token is a 401. Errors take the v2
shape (``{"errors": [...]}``) under ``/wiki/api/v2`` and the v1 shape under ``/wiki/rest/api``.
Confluence Cloud has no webhooks a self-hosted hub can register (only Connect/Forge apps get
events), so this simulator sends none: the hub polls.

Tests and the admin surface change the wiki as a user would, through :meth:`create_page`,
:meth:`edit_page`, :meth:`trash_page`, :meth:`archive_page`, :meth:`purge_page` and
:meth:`restore_page` (also ``POST /_sandbox/pages...``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.sandbox.common.simulator import Simulator
from app.sandbox.confluence.admin import admin_router
from app.sandbox.confluence.http import API_FAMILY, error_response
from app.sandbox.confluence.model import Page, WikiError
from app.sandbox.confluence.routes_v1 import v1_router
from app.sandbox.confluence.routes_v2 import parse_json, v2_router
from app.sandbox.confluence.seed import BOT_ACCOUNT_ID, seed_wiki
from app.sandbox.confluence.wiki import Wiki
from app.sandbox.world import TeamWorld

__all__ = ["DEFAULT_API_TOKEN", "ConfluenceSimulator"]

DEFAULT_API_TOKEN = "confluence-sandbox-api-token"


class ConfluenceSimulator(Simulator):
    vendor = "confluence"

    def __init__(
        self,
        world: TeamWorld | None = None,
        api_token: str = DEFAULT_API_TOKEN,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._clock = clock
        self.api_token = api_token
        world = world or TeamWorld()
        self.bot_email = f"passerelle-bot@{world.domain}"
        self.credentials: dict[str, str] = {}
        self.wiki = Wiki(clock)
        super().__init__(world)
        self.user_tz = ZoneInfo(self.world.timezone)
        """CQL dates are read in the calling user's profile time zone."""
        auth = [Depends(self._authenticate)]
        self.app.include_router(v2_router(self), dependencies=auth)
        self.app.include_router(v1_router(self), dependencies=auth)
        self.app.include_router(admin_router(self))
        self.app.add_exception_handler(WikiError, self._wiki_error)  # type: ignore[arg-type]
        self.app.add_exception_handler(405, self._method_not_allowed)
        # Added last, so it runs first: the error family must be known before chaos answers.
        self.app.add_middleware(_ErrorFamily)

    # --- Simulator hooks --------------------------------------------------------------------
    def reset(self) -> None:
        self.wiki = Wiki(self._clock)
        seed_wiki(self.world, self.wiki)
        self.credentials = {self.bot_email: self.api_token}

    def error_body(self, status: int, message: str) -> Response:
        return error_response(status, message)

    def unauthenticated(self) -> Response:
        return error_response(401, "Unauthorized; the API token is invalid, expired or revoked")

    # --- people -----------------------------------------------------------------------------
    def account_of(self, email: str) -> str:
        if email == self.bot_email:
            return BOT_ACCOUNT_ID
        member = next((m for m in self.world.members if m.email == email), None)
        return member.jira_account_id if member else f"557058:{email}"

    def person(self, account_id: str) -> tuple[str, str]:
        """(display name, email) of an account id."""
        if account_id == BOT_ACCOUNT_ID:
            return "Passerelle", self.bot_email
        member = next((m for m in self.world.members if m.jira_account_id == account_id), None)
        return (member.name, member.email) if member else (account_id, "")

    def member_account(self, member_key: str | None) -> str:
        return self.world.member(member_key or "po").jira_account_id

    @staticmethod
    def account_id(request: Request) -> str:
        return str(request.state.account_id)

    # --- auth -------------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise WikiError(401, "Unauthorized; basic authentication with an API token is required")
        try:
            email, _, token = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise WikiError(401, "Unauthorized; malformed basic credentials") from None
        if not email or self.credentials.get(email) != token:
            raise WikiError(401, "Unauthorized; the API token is invalid, expired or revoked")
        request.state.account_id = self.account_of(email)

    def revoke_token(self, email: str | None = None) -> None:
        """Revoke the API token of ``email`` (the hub's account by default)."""
        self.credentials.pop(email or self.bot_email, None)

    def issue_token(self, email: str, token: str) -> None:
        self.credentials[email] = token

    # --- request bodies ---------------------------------------------------------------------
    @staticmethod
    async def json_body(request: Request) -> dict[str, Any]:
        return parse_json(await request.body())

    @staticmethod
    def parse_any_json(raw: bytes) -> Any:
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise WikiError(400, "The request body is not valid JSON") from None

    async def _wiki_error(self, request: Request, exc: WikiError) -> Response:
        return error_response(exc.status, exc.message, exc.code)

    async def _method_not_allowed(self, request: Request, exc: Exception) -> Response:
        return error_response(405, f"{request.method} is not supported on {request.url.path}")

    # --- user actions (tests and /_sandbox) -------------------------------------------------
    def create_page(
        self,
        title: str,
        body: str = "<p></p>",
        space_key: str | None = None,
        parent_id: str | None = None,
        as_member: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> Page:
        with self.lock:
            space = self.wiki.space_by_key(space_key or self.world.space_key)
            if space is None:
                raise WikiError(404, f"No space with key {space_key}")
            return self.wiki.create_page(
                space.id, title, body, self.member_account(as_member), parent_id, labels=labels
            )

    def edit_page(
        self, page_id: str, body: str | None = None, title: str | None = None, as_member: str | None = None
    ) -> Page:
        with self.lock:
            page = self.wiki.page(page_id)
            return self.wiki.update_page(
                page_id,
                version_number=page.version.number + 1,
                author_id=self.member_account(as_member),
                title=title,
                body=body,
                status=page.status,
            )

    def trash_page(self, page_id: str) -> Page:
        with self.lock:
            return self.wiki.trash_page(page_id)

    def archive_page(self, page_id: str) -> Page:
        with self.lock:
            return self.wiki.archive_page(page_id)

    def purge_page(self, page_id: str) -> None:
        """Trash (if needed) then purge: the page vanishes without a trace in any listing."""
        with self.lock:
            page = self.wiki.pages.get(page_id)
            if page is not None and page.status != "trashed":
                self.wiki.trash_page(page_id)
            self.wiki.purge_page(page_id)

    def restore_page(self, page_id: str) -> Page:
        with self.lock:
            return self.wiki.restore_page(page_id)

    def pages_in(self, space_key: str | None = None, status: str = "current") -> list[Page]:
        with self.lock:
            space = self.wiki.space_by_key(space_key or self.world.space_key)
            return [
                p
                for p in self.wiki.pages.values()
                if space is not None and p.space_id == space.id and p.status == status
            ]


class _ErrorFamily:
    """Marks each request as v1 or v2 so every error (chaos, 401, 404) takes the right shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.inner = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = API_FAMILY.set("v1" if scope["path"].startswith("/wiki/rest/") else "v2")
            try:
                await self.inner(scope, receive, send)
            finally:
                API_FAMILY.reset(token)
        else:
            await self.inner(scope, receive, send)
