"""Lifeline: the incident bot hospitals fall back to when Teams / Microsoft 365 is down."""

from __future__ import annotations

__version__ = "0.1.0"
