"""Which class serves each connector ``type`` in the configuration.

Imports are lazy so that the hub starts without importing every vendor SDK. Every
connector class is built as ``cls(name, settings)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from app.connectors.base import Connector
from app.errors import ConfigError

_CLASSES: dict[str, str] = {
    "memory": "app.connectors.memory:MemoryConnector",
    "jira": "app.connectors.jira:JiraConnector",
    "confluence": "app.connectors.confluence:ConfluenceConnector",
    "slack": "app.connectors.slack:SlackConnector",
    "google_calendar": "app.connectors.google_calendar:GoogleCalendarConnector",
    "outlook": "app.connectors.outlook:OutlookConnector",
}


def connector_types() -> list[str]:
    return sorted(_CLASSES)


def build_connector(name: str, settings: Any) -> Connector:
    """Instantiate the connector for ``settings.type``; raises ``ConfigError`` for an unknown type."""
    target = _CLASSES.get(settings.type)
    if target is None:
        raise ConfigError(f"connectors.{name}.type: unknown connector type {settings.type!r}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"connectors.{name}.type: connector {settings.type!r} is not available: {exc}") from exc
    cls = getattr(module, class_name)
    connector: Connector = cls(name, settings)
    return connector
