"""Pieces every simulator shares: request log, chaos, admin routes, webhook delivery, serving."""

from app.sandbox.common.chaos import Chaos
from app.sandbox.common.requestlog import RequestLog, RequestLogEntry
from app.sandbox.common.serving import ServedApp, serve_in_thread
from app.sandbox.common.simulator import Simulator
from app.sandbox.common.webhooks import Delivery, WebhookDispatcher

__all__ = [
    "Chaos",
    "Delivery",
    "RequestLog",
    "RequestLogEntry",
    "ServedApp",
    "Simulator",
    "WebhookDispatcher",
    "serve_in_thread",
]
