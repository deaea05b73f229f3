"""Process settings read from the environment (and `.env`), built once in `__main__`."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """DESIGN.md's environment variables. Secrets are `SecretStr`, so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_command_prefix: str = ""

    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_allowed_users: str = ""

    redis_url: SecretStr | None = None
    data_dir: Path = Field(default=Path("var"), alias="LIFELINE_DATA_DIR")
    config_path: Path | None = Field(default=None, alias="LIFELINE_CONFIG")
    # An outbox entry a process holds without renewing this long is taken over by another.
    outbox_lease_seconds: float = Field(default=15.0, gt=0, alias="LIFELINE_OUTBOX_LEASE")

    public_url: str | None = Field(default=None, alias="LIFELINE_PUBLIC_URL")
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=0, le=65535)
    log_format: Literal["json", "console"] | None = None  # None: console on a terminal, else json
    log_level: str = "info"

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def base_url(self) -> str:
        """Where people reach this bot's HTTP server (web board links): LIFELINE_PUBLIC_URL, or
        http://HOST:PORT with this machine's name for a wildcard HOST."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver and self.matrix_user_id) and (
            self.matrix_password is not None or self.matrix_access_token is not None
        )

    @property
    def allowed_matrix_users(self) -> list[str]:
        return [glob.strip() for glob in self.matrix_allowed_users.split(",") if glob.strip()]
