"""Webhook intake (verify, dedupe, persist, acknowledge), inbox processing and vendor subscriptions."""

from app.webhooks.intake import IntakeAnswer, IntakeRequest, WebhookIntake
from app.webhooks.processor import InboxProcessor
from app.webhooks.service import WebhookService
from app.webhooks.sources import Source
from app.webhooks.subscriptions import SubscriptionManager

__all__ = [
    "InboxProcessor",
    "IntakeAnswer",
    "IntakeRequest",
    "Source",
    "SubscriptionManager",
    "WebhookIntake",
    "WebhookService",
]
