"""Jira Cloud connector: issues and sprints through the ``jira`` SDK."""

from app.connectors.jira.connector import ORIGIN_PROPERTY, JiraConnector

__all__ = ["ORIGIN_PROPERTY", "JiraConnector"]
