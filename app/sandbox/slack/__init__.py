"""A stateful local simulator of Slack's Web API and Events API."""

from app.sandbox.slack.ratelimits import METHOD_TIERS, RateLimits
from app.sandbox.slack.signing import sign
from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.slack.tokens import BOT_SCOPES, DEFAULT_BOT_TOKEN

__all__ = ["BOT_SCOPES", "DEFAULT_BOT_TOKEN", "METHOD_TIERS", "RateLimits", "SlackSimulator", "sign"]
