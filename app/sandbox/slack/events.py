"""The Events API side of the simulator: request URL verification and signed ``event_callback`` delivery.

Configured through ``PUT /_sandbox/events`` with ``{url, signing_secret}``. As Slack does
when an app's Request URL is saved, a signed ``url_verification`` is sent first and the
URL is accepted only if the receiver echoes the ``challenge``. Every change is then
posted as an ``event_callback`` envelope, signed per attempt (fresh timestamp), and
retried up to 3 times with ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` when the
receiver errs or takes longer than 3 seconds.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app.sandbox.common.webhooks import Delivery, WebhookDispatcher
from app.sandbox.slack.signing import signed_headers

__all__ = ["EventsApi", "EventsConfig"]

# Slack retries nearly at once, then after 1 minute, then after 5 minutes.
SLACK_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 60.0, 300.0)
RESPONSE_TIMEOUT_S = 3.0


@dataclass
class EventsConfig:
    url: str
    signing_secret: str
    retry_delays_s: tuple[float, ...] = SLACK_RETRY_DELAYS_S
    verification_token: str = ""


class EventsApi:
    def __init__(self, dispatcher: WebhookDispatcher, team_id: str, app_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._dispatcher = dispatcher
        self._team_id = team_id
        self._app_id = app_id
        self._clock = clock
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.config: EventsConfig | None = None

    # --- configuration ----------------------------------------------------------------------
    async def configure(self, url: str, signing_secret: str,
                        retry_delays_s: Sequence[float] | None = None) -> tuple[bool, str]:
        """Send ``url_verification``; keep the URL only if the challenge comes back. Returns (ok, detail)."""
        config = EventsConfig(url, signing_secret, tuple(retry_delays_s or SLACK_RETRY_DELAYS_S),
                              verification_token=secrets.token_urlsafe(18))
        challenge = secrets.token_urlsafe(36)
        body = json.dumps({"token": config.verification_token, "challenge": challenge,
                           "type": "url_verification"}).encode()
        headers = signed_headers(signing_secret, int(self._clock()), body)
        try:
            async with httpx.AsyncClient(timeout=RESPONSE_TIMEOUT_S) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"request URL unreachable: {exc.__class__.__name__}"
        if response.status_code != 200 or _echoed(response) != challenge:
            return False, f"request URL did not echo the challenge (HTTP {response.status_code})"
        with self._lock:
            self.config = config
        return True, "verified"

    def clear(self) -> None:
        with self._lock:
            self.config = None

    # --- delivery ---------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> str | None:
        """Queue one ``event_callback``; returns its ``event_id`` (``None`` when no URL is set)."""
        with self._lock:
            config = self.config
            if config is None:
                return None
            event_id = f"Ev{next(self._ids):08X}{secrets.token_hex(2).upper()}"
        now = self._clock()
        event.setdefault("event_ts", f"{now:.6f}")
        envelope = {
            "token": config.verification_token,
            "team_id": self._team_id,
            "context_team_id": self._team_id,
            "context_enterprise_id": None,
            "api_app_id": self._app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(now),
            "authorizations": [{"enterprise_id": None, "team_id": self._team_id, "user_id": "",
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        body = json.dumps(envelope).encode()

        def build(attempt: int) -> tuple[dict[str, str], bytes]:
            headers = signed_headers(config.signing_secret, int(self._clock()), body)
            if attempt > 0:
                headers["X-Slack-Retry-Num"] = str(attempt)
                headers["X-Slack-Retry-Reason"] = self._retry_reason(event_id, attempt - 1)
            return headers, body

        self._dispatcher.send(Delivery(url=config.url, build=build, event=event_id,
                                       retry_delays_s=config.retry_delays_s, timeout_s=RESPONSE_TIMEOUT_S))
        return event_id

    def _retry_reason(self, event_id: str, previous_attempt: int) -> str:
        """Why the previous attempt failed, read from the dispatcher's record of it."""
        for entry in reversed(self._dispatcher.history()):
            if entry["event"] == event_id and entry["attempt"] == previous_attempt:
                if entry["status"] is not None:
                    return "http_error"
                return "http_timeout" if entry["note"] == "timeout" else "connection_failed"
        return "unknown_error"


def _echoed(response: httpx.Response) -> str | None:
    """The challenge in the receiver's answer: JSON ``{"challenge": ...}``, plain text, or a form."""
    text = response.text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        value = data.get("challenge")
        return value if isinstance(value, str) else None
    if text.startswith("challenge="):
        return text.removeprefix("challenge=")
    return text or None
