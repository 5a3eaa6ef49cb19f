"""Confluence Cloud simulator (REST v2 plus the v1 calls clients still make)."""

from app.sandbox.confluence.simulator import DEFAULT_API_TOKEN, ConfluenceSimulator

__all__ = ["DEFAULT_API_TOKEN", "ConfluenceSimulator"]
