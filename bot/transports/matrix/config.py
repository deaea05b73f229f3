"""The Matrix transport's settings, taken once from `Settings` and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config.settings import Settings
from bot.config.tuning import MATRIX_RETRY, RetryPolicy, Tuning


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    password: str | None
    access_token: str | None
    allowed_users: tuple[str, ...]
    data_dir: Path
    device_name: str = "Lifeline"
    sync_timeout_ms: int = 30_000
    timeline_limit: int = 50
    gap_pages: int = 20  # at most this many /messages pages to fill a gap after downtime
    reconnect_min: float = 1.0
    reconnect_max: float = 30.0
    retry: RetryPolicy = MATRIX_RETRY

    @classmethod
    def from_settings(cls, settings: Settings, tuning: Tuning | None = None) -> MatrixConfig:
        if not settings.matrix_enabled:
            raise ValueError("Matrix is not configured")
        assert settings.matrix_homeserver is not None
        assert settings.matrix_user_id is not None
        tuning = tuning or Tuning()
        password = settings.matrix_password
        token = settings.matrix_access_token
        return cls(
            homeserver=settings.matrix_homeserver.rstrip("/"),
            user_id=settings.matrix_user_id,
            password=password.get_secret_value() if password else None,
            access_token=token.get_secret_value() if token else None,
            allowed_users=tuple(settings.allowed_matrix_users),
            data_dir=settings.data_dir / "matrix",
            sync_timeout_ms=tuning.matrix_sync_timeout_ms,
            timeline_limit=tuning.matrix_timeline_limit,
            reconnect_min=tuning.matrix_reconnect_min,
            reconnect_max=tuning.matrix_reconnect_max,
            retry=tuning.matrix_retry,
        )

    @property
    def server_name(self) -> str:
        return self.user_id.partition(":")[2]

    def __repr__(self) -> str:  # secrets never print
        return f"MatrixConfig(homeserver={self.homeserver!r}, user_id={self.user_id!r})"
