"""Helpers every vendor connector shares: paced retries and bounded worker threads for blocking SDKs."""

from app.connectors.common.blocking import BlockingCalls
from app.connectors.common.meter import CallMeter, count_call, metered
from app.connectors.common.retry import RetryPolicy, with_retries

__all__ = ["BlockingCalls", "CallMeter", "RetryPolicy", "count_call", "metered", "with_retries"]
