"""Outlook calendars through Microsoft Graph v1.0 (client credentials, delta reads, subscriptions)."""

from app.connectors.outlook.connector import STREAM, OutlookConnector
from app.connectors.outlook.mapping import ORIGIN_PROPERTY
from app.connectors.outlook.webhooks import GraphSubscription

__all__ = ["ORIGIN_PROPERTY", "STREAM", "GraphSubscription", "OutlookConnector"]
