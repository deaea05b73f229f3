"""Lifeline on Slack: slack-bolt's AsyncApp over HTTP or Socket Mode (see app.py)."""

from __future__ import annotations

from bot.transports.slack.app import EVENTS_PATH, SlackConfig, SlackTransport

__all__ = ["EVENTS_PATH", "SlackConfig", "SlackTransport"]
