"""The Microsoft identity platform, as far as a daemon app needs it.

``GET /{tenant}/v2.0/.well-known/openid-configuration`` (what MSAL reads first when
instance discovery is off) and ``POST /{tenant}/oauth2/v2.0/token`` with the
client-credentials grant. Registered apps carry application permissions ("roles");
issued bearer tokens are checked on every ``/v1.0`` call.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.sandbox.graph.errors import GraphError

__all__ = [
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_TENANT_ID",
    "AppRegistration",
    "TokenIssuer",
]

SANDBOX_TENANT_ID = "8b4a5a7e-0c1d-4f4e-9a37-5b3c2f0d1e11"
SANDBOX_CLIENT_ID = "5f6c1c1e-7a3b-4a2e-9a7d-2f7c1b0e9d42"
SANDBOX_CLIENT_SECRET = "graph-sandbox-client-secret"
TOKEN_LIFETIME_S = 3599


@dataclass
class AppRegistration:
    client_id: str
    secret: str
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"Calendars.ReadWrite", "User.Read.All"}))


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    roles: frozenset[str]
    expires_at: float


class TokenIssuer:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.apps: dict[str, AppRegistration] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.issued = 0
        self.register(AppRegistration(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET))

    def register(self, app: AppRegistration) -> None:
        self.apps[app.client_id] = app

    def revoke_all(self) -> None:
        self.tokens.clear()

    def issue(self, client_id: str, secret: str) -> str:
        app = self.apps.get(client_id)
        if app is None or not hmac.compare_digest(app.secret, secret):
            raise ValueError("invalid_client")
        token = "eyJ0eXAiOiJKV1QiLCJzYW5kYm94Ijp0cnVlfQ." + secrets.token_urlsafe(32)
        self.tokens[token] = IssuedToken(client_id, app.roles, time.time() + TOKEN_LIFETIME_S)
        self.issued += 1
        return token

    def check(self, authorization: str | None) -> IssuedToken:
        """The token of a ``Bearer`` header; raises Graph's 401 otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        issued = self.tokens.get(token)
        if issued is None:
            raise GraphError(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
        if issued.expires_at < time.time():
            raise GraphError(
                401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
            )
        return issued

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/{tenant}/v2.0/.well-known/openid-configuration")
        def openid_configuration(tenant: str, request: Request) -> JSONResponse:
            if tenant not in (self.tenant_id, "organizations", "common"):
                return JSONResponse(
                    {
                        "error": "invalid_tenant",
                        "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                    },
                    status_code=400,
                )
            base = str(request.base_url).rstrip("/") + f"/{tenant}"
            return JSONResponse(
                {
                    "issuer": f"{base}/v2.0",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                        "client_secret_basic",
                    ],
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "tenant_region_scope": "EU",
                }
            )

        @router.post("/{tenant}/oauth2/v2.0/token")
        async def token(tenant: str, request: Request) -> JSONResponse:
            # Parsed by hand: form parsing in Starlette needs python-multipart, which the hub does not ship.
            form: dict[str, Any] = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            if form.get("grant_type") != "client_credentials":
                return _oauth_error(
                    400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
                )
            scope = str(form.get("scope") or "")
            if not scope.endswith("/.default"):
                return _oauth_error(
                    400,
                    "invalid_scope",
                    "AADSTS1002012: The provided value for scope "
                    f"{scope} is not valid. Client credential flows must have a scope value "
                    "with /.default suffixed to the resource identifier.",
                )
            try:
                access = self.issue(str(form.get("client_id") or ""), str(form.get("client_secret") or ""))
            except ValueError:
                return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
            return JSONResponse(
                {
                    "token_type": "Bearer",
                    "expires_in": TOKEN_LIFETIME_S,
                    "ext_expires_in": TOKEN_LIFETIME_S,
                    "access_token": access,
                }
            )

        return router


def _oauth_error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": code,
            "error_description": description,
            "error_codes": [],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        },
        status_code=status,
    )
