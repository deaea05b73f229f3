"""Lifeline on Matrix (matrix-nio): commands in rooms, replies as notices, the live board."""

from __future__ import annotations

from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.receiver import BroadcastDirectory
from bot.transports.matrix.transport import MatrixTransport

__all__ = ["BroadcastDirectory", "MatrixConfig", "MatrixTransport"]
