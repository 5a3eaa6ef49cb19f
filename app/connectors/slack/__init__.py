"""Slack: channel messages and thread replies, users as people, Events API webhooks."""

from app.connectors.slack.connector import REQUIRED_SCOPES, SlackConnector
from app.connectors.slack.webhooks import SlackWebhooks

__all__ = ["REQUIRED_SCOPES", "SlackConnector", "SlackWebhooks"]
