"""Each configured connector's webhook receiver, built from its settings (no open connector needed).

A receiver verifies a delivery on its raw bytes and parses it into hints
(:class:`~app.connectors.base.WebhookReceiver`); it lives in the vendor's
``app/connectors/<type>/webhooks.py``. The intake and the inbox processor both get
receivers from one :class:`ReceiverSet`, so the intake's clock (Slack's replay window)
is the one the tests inject.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from app.connectors.base import WebhookHint, WebhookReceiver
from app.errors import ConfigError
from app.settings import Settings
from app.storage.protocol import Store

__all__ = ["EpochClock", "ReceiverSet", "build_receiver"]

EpochClock = Callable[[], float]
"""Seconds since the epoch (``time.time``): what Slack's timestamp window is checked against."""


class _Functions:
    """A receiver made of a verify and a parse function (vendors whose module offers functions)."""

    def __init__(
        self,
        verify: Callable[[dict[str, str], bytes], None],
        parse: Callable[[dict[str, str], bytes], list[WebhookHint]],
    ) -> None:
        self.verify = verify
        self.parse = parse


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _jira(name: str, conf: Any, clock: EpochClock, store: Store) -> WebhookReceiver:
    from app.connectors.jira.webhooks import parse_delivery, verify_signature

    secret = _secret(conf.webhook_secret)
    return _Functions(lambda h, b: verify_signature(h, b, secret), lambda h, b: parse_delivery(name, h, b))


def _slack(name: str, conf: Any, clock: EpochClock, store: Store) -> WebhookReceiver:
    from app.connectors.slack.webhooks import SlackWebhooks

    return SlackWebhooks(name, _secret(conf.signing_secret), clock)


def _google(name: str, conf: Any, clock: EpochClock, store: Store) -> WebhookReceiver:
    from app.connectors.google_calendar.webhooks import ChannelWebhooks
    from app.webhooks.google_channels import StoredChannels

    return ChannelWebhooks(name, StoredChannels(store, name, _secret(conf.channel_token)))


def _outlook(name: str, conf: Any, clock: EpochClock, store: Store) -> WebhookReceiver:
    from app.connectors.outlook.webhooks import GraphWebhooks
    from app.webhooks.graph_registry import StoredSubscriptions

    return GraphWebhooks(name, "events", StoredSubscriptions(store, name, _secret(conf.client_state)))


_ADAPTERS: dict[str, Callable[[str, Any, EpochClock, Store], WebhookReceiver]] = {
    "jira": _jira,
    "slack": _slack,
    "google_calendar": _google,
    "outlook": _outlook,
}


def build_receiver(name: str, conf: Any, clock: EpochClock, store: Store) -> WebhookReceiver:
    """The receiver for the connector ``name`` configured as ``conf``.

    Raises ``ConfigError`` when the connector type has no webhook support (yet).
    """
    adapter = _ADAPTERS.get(conf.type)
    if adapter is not None:
        return adapter(name, conf, clock, store)
    module_name = f"app.connectors.{conf.type}.webhooks"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise ConfigError(f"connector type {conf.type!r} has no webhook receiver") from exc
        raise
    factory = getattr(module, "build_receiver", None)
    if factory is None:
        raise ConfigError(f"{module_name} offers no build_receiver(name, settings, clock, store)")
    receiver: WebhookReceiver = factory(name, conf, clock, store)
    return receiver


class ReceiverSet:
    """Receivers of the enabled connectors, built on first use and kept."""

    def __init__(self, settings: Settings, store: Store, clock: EpochClock = time.time) -> None:
        self._settings = settings
        self._store = store
        self.clock = clock
        self._built: dict[str, WebhookReceiver] = {}

    def names_of_type(self, connector_type: str) -> list[str]:
        """Enabled connectors of ``connector_type``, in configuration order."""
        return [
            name
            for name, conf in self._settings.connectors.items()
            if conf.enabled and conf.type == connector_type
        ]

    def get(self, name: str) -> WebhookReceiver:
        """Raises ``ConfigError`` for an unknown or disabled connector, or one without webhooks."""
        found = self._built.get(name)
        if found is not None:
            return found
        conf = self._settings.connectors.get(name)
        if conf is None or not conf.enabled:
            raise ConfigError(f"no enabled connector {name!r}")
        found = build_receiver(name, conf, self.clock, self._store)
        self._built[name] = found
        return found
