"""Microsoft Graph v1.0 simulator (Outlook calendars, subscriptions, client-credentials tokens)."""

from app.sandbox.graph.auth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID
from app.sandbox.graph.simulator import GraphSimulator

__all__ = ["SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET", "SANDBOX_TENANT_ID", "GraphSimulator"]
