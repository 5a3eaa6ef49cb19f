"""Bearer tokens and the OAuth token endpoint (``POST /token``) of the sandbox.

The well-known sandbox access token always works until revoked; the token endpoint
trades the sandbox refresh token (grant ``refresh_token``) or a service-account JWT
(grant ``jwt-bearer``; the signature is not checked) for short-lived access tokens,
as ``https://oauth2.googleapis.com/token`` does for google-auth.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from app.sandbox.google_calendar.errors import GoogleApiError

__all__ = [
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "TokenAuthority",
]

SANDBOX_ACCESS_TOKEN = "ya29.sandbox-google-calendar"
SANDBOX_REFRESH_TOKEN = "1//sandbox-google-calendar-refresh"
SANDBOX_CLIENT_ID = "sandbox.apps.googleusercontent.com"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
ACCESS_TOKEN_LIFETIME_S = 3599
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"


class TokenAuthority:
    """Which access tokens are valid now; what the token endpoint grants."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.static_token_valid = True
        self.issued: dict[str, float] = {}
        self.grants = 0
        """How many access tokens the endpoint granted (tests count refreshes)."""
        self.scopes = _CALENDAR_SCOPE

    def check(self, authorization: str | None) -> None:
        """Raise 401 ``authError`` unless ``Authorization: Bearer <valid token>``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise GoogleApiError(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
                "required",
                location="Authorization",
                location_type="header",
            )
        if token == SANDBOX_ACCESS_TOKEN and self.static_token_valid:
            return
        expiry = self.issued.get(token)
        if expiry is None or expiry <= self._clock():
            raise GoogleApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "authError",
                location="Authorization",
                location_type="header",
            )

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far (and the static one) stops working; refresh still works."""
        self.static_token_valid = False
        self.issued.clear()

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint's answer (status, JSON body) to a form-encoded grant request."""
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            if (
                form.get("client_id") != SANDBOX_CLIENT_ID
                or form.get("client_secret") != SANDBOX_CLIENT_SECRET
            ):
                return 401, {
                    "error": "invalid_client",
                    "error_description": "The OAuth client was not found.",
                }
            if form.get("refresh_token") != SANDBOX_REFRESH_TOKEN:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
        elif grant_type == _JWT_GRANT:
            claims = _jwt_claims(form.get("assertion", ""))
            if claims is None or not claims.get("iss"):
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        else:
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": f"Invalid grant_type: {grant_type}",
            }
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        self.issued[token] = self._clock() + ACCESS_TOKEN_LIFETIME_S
        self.grants += 1
        return 200, {
            "access_token": token,
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "token_type": "Bearer",
            "scope": form.get("scope") or self.scopes,
        }


def _jwt_claims(assertion: str) -> dict[str, Any] | None:
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None
