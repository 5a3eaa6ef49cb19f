"""Confluence Cloud connector (pages as documents, one partition per space)."""

from app.connectors.confluence.connector import ConfluenceConnector

__all__ = ["ConfluenceConnector"]
