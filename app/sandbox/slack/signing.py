"""Slack's request signing: ``v0=`` + hex HMAC-SHA256(signing secret, ``v0:{timestamp}:{body}``)."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign", "signed_headers"]


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(signing_secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(signing_secret, str(timestamp), body),
    }
