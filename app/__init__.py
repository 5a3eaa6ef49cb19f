"""Passerelle: a self-hosted integration hub that keeps a product team's tools in step."""

__version__ = "0.1.0"
