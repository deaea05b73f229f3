"""What survives a restart: the login (device id, access token) and the sync position.

Kept as JSON files under `LIFELINE_DATA_DIR/matrix`, written atomically and readable only by the
bot's user, because the access token is a credential.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SavedLogin:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    def __repr__(self) -> str:
        return f"SavedLogin(user_id={self.user_id!r}, device_id={self.device_id!r})"


@dataclass
class SyncPosition:
    """`next_batch` is saved only after every event before it was handled."""

    next_batch: str | None = None


class SessionFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.login_path = directory / "login.json"
        self.sync_path = directory / "sync.json"

    def load_login(self, homeserver: str, user_id: str) -> SavedLogin | None:
        """The saved login, if it is for this homeserver and user."""
        data = _read(self.login_path)
        if data is None:
            return None
        try:
            saved = SavedLogin(**data)
        except TypeError:
            log.warning("matrix.login_file_unreadable", path=str(self.login_path))
            return None
        if saved.homeserver != homeserver or saved.user_id != user_id:
            return None
        return saved

    def save_login(self, login: SavedLogin) -> None:
        _write(self.login_path, asdict(login))

    def forget_login(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.login_path.unlink()

    def load_position(self) -> SyncPosition:
        data = _read(self.sync_path) or {}
        batch = data.get("next_batch")
        return SyncPosition(next_batch=batch if isinstance(batch, str) else None)

    def save_position(self, position: SyncPosition) -> None:
        _write(self.sync_path, asdict(position))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("matrix.state_file_unreadable", path=str(path))
        return None
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
