"""How far back a create looks for what an earlier attempt of it may have made."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["EARLIER_ATTEMPT_MARGIN"]

EARLIER_ATTEMPT_MARGIN = timedelta(minutes=5)
"""Added before an earlier attempt's time when a retried create looks for the record that attempt
may have made (Slack's post by its key, Jira's issue by its property, Confluence's page by its
title): the hub's clock is not the vendor's."""
