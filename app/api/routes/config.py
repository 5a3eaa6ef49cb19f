"""The effective configuration (file + environment + secret files), with every secret redacted."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.api.deps import AdminDep, HubDep
from app.settings import Settings

__all__ = ["REDACTED", "redacted_config", "router"]

router = APIRouter(prefix="/api", tags=["config"], dependencies=[AdminDep])

REDACTED = "**********"
# Belt and braces: secrets are SecretStr (dumped as the mask already), but any key that
# looks like one is masked too, so a future plain-str secret field does not leak.
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api_key|apikey|client_state|credential)", re.I)


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if value is not None and _SECRET_KEY.search(key):
        return REDACTED
    return value


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return REDACTED


def redacted_config(settings: Settings) -> dict[str, Any]:
    data = settings.model_dump(mode="json")
    data["database_url"] = _safe_url(settings.effective_database_url)
    masked: dict[str, Any] = _mask(data)
    return masked


@router.get("/config")
def config(hub: HubDep) -> dict[str, Any]:
    """Every setting in effect; secrets and database passwords are replaced by ``**********``."""
    return redacted_config(hub.settings)
