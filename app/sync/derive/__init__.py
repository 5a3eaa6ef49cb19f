"""Derived data: links between records (Jira keys mentioned, the same meeting in two tools) and
people across tools, written in the same transaction as the records they come from."""

from app.sync.derive.backfill import RederiveCounts, rederive
from app.sync.derive.links import MENTION_RULE, MIRROR_RULE, SERIES_RULE, mentioned_keys
from app.sync.derive.page import derive_page, derive_records, forget_records
from app.sync.derive.people import ATLASSIAN, account_sightings, account_system

__all__ = [
    "ATLASSIAN",
    "MENTION_RULE",
    "MIRROR_RULE",
    "SERIES_RULE",
    "RederiveCounts",
    "account_sightings",
    "account_system",
    "derive_page",
    "derive_records",
    "forget_records",
    "mentioned_keys",
    "rederive",
]
