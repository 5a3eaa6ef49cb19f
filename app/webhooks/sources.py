"""The webhook sources the hub accepts and the connector type behind each."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CONNECTOR_TYPE", "GRAPH_LIFECYCLE_ROUTE", "ROUTES", "Source"]


class Source(StrEnum):
    """The ``source`` of an inbox row; one intake route each."""

    JIRA = "jira"
    SLACK = "slack"
    GOOGLE = "google"
    GRAPH = "graph"
    GRAPH_LIFECYCLE = "graph-lifecycle"


CONNECTOR_TYPE: dict[Source, str] = {
    Source.JIRA: "jira",
    Source.SLACK: "slack",
    Source.GOOGLE: "google_calendar",
    Source.GRAPH: "outlook",
    Source.GRAPH_LIFECYCLE: "outlook",
}

ROUTES: dict[str, str] = {
    "jira": "/webhooks/jira",
    "slack": "/webhooks/slack/events",
    "google_calendar": "/webhooks/google/calendar",
    "outlook": "/webhooks/microsoft/graph",
}
"""The intake route of each connector type (relative to ``server.public_base_url``)."""
GRAPH_LIFECYCLE_ROUTE = "/webhooks/microsoft/graph/lifecycle"
