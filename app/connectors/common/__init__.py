"""Helpers every vendor connector shares: paced retries and bounded worker threads for blocking SDKs."""

from app.connectors.common.blocking import BlockingCalls
from app.connectors.common.lookback import EARLIER_ATTEMPT_MARGIN
from app.connectors.common.meter import CallMeter, count_call, metered
from app.connectors.common.retry import RetryPolicy, with_retries

__all__ = ["EARLIER_ATTEMPT_MARGIN", "BlockingCalls", "CallMeter", "RetryPolicy", "count_call", "metered",
           "with_retries"]
