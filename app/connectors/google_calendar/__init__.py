"""Google Calendar v3 connector (googleapiclient, static discovery, sync tokens, push channels)."""

from app.connectors.google_calendar.connector import GoogleCalendarConnector
from app.connectors.google_calendar.webhooks import Channel

__all__ = ["Channel", "GoogleCalendarConnector"]
