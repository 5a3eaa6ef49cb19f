"""A stateful Jira Cloud simulator (REST v2/v3 platform API, agile API, webhooks)."""

from app.sandbox.jira.simulator import DEFAULT_API_TOKEN, JiraSimulator

__all__ = ["DEFAULT_API_TOKEN", "JiraSimulator"]
