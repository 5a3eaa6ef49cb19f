"""OAuth tokens the simulated workspace knows, with their scopes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BOT_SCOPES", "DEFAULT_BOT_TOKEN", "METHOD_SCOPES", "TokenGrant"]

DEFAULT_BOT_TOKEN = "xoxb-passerelle-sandbox-0001"

BOT_SCOPES: frozenset[str] = frozenset({
    "channels:read", "channels:history", "groups:read", "groups:history", "users:read", "users:read.email",
    "chat:write", "reactions:read", "reactions:write",
})

# Any one of these scopes grants the method (public channels only in this sandbox).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "conversations.list": ("channels:read", "groups:read"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "users.list": ("users:read",),
    "users.info": ("users:read",),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "reactions.add": ("reactions:write",),
    "reactions.remove": ("reactions:write",),
    "reactions.get": ("reactions:read",),
}


@dataclass
class TokenGrant:
    """Who a token acts as: a bot (``bot_id`` set) or a user; ``revoked`` answers ``token_revoked``."""

    user_id: str
    scopes: frozenset[str]
    bot_id: str | None = None
    revoked: bool = False
    inactive: bool = False
