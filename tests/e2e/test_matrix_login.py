"""Logging in: with an access token, or a password; refused credentials say so, never hang."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Reply
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.synapse import MatrixUser


async def _devices(matrix: MatrixWorld) -> list[str]:
    data = await matrix.synapse.request("GET", "/_matrix/client/v3/devices", matrix.bot)
    return sorted(device["device_id"] for device in data["devices"])


async def test_an_access_token_logs_in_as_its_own_device_without_adding_one(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot(login={"matrix_access_token": matrix.bot.access_token})
    assert runner.transport is not None
    room = await matrix.room_with_bot()

    command = await matrix.alice.send(room, "!status lab up")
    reply = await matrix.alice.reply_to(room, command)

    assert reply["content"]["body"].startswith("Recorded: Laboratory is UP")
    assert runner.transport.device_id == matrix.bot.device_id
    assert await _devices(matrix) == [matrix.bot.device_id]
    assert not (matrix.data_dir / "matrix" / "login.json").exists()  # the token stays in env


async def test_a_wrong_password_is_reported_and_posting_fails_at_once(
    matrix: MatrixWorld,
) -> None:
    runner = matrix.runner(login={"matrix_password": "not-the-password"})
    with capture_logs() as logs:
        transport = await runner.start(wait=False)
        with pytest.raises(DeliveryFailed) as failure:
            await transport.post("!nowhere:localhost", Reply(lines=["hello"]))

    assert failure.value.reason.startswith("not logged in to Matrix: M_FORBIDDEN")
    assert not await transport.ready()
    [refused] = [entry for entry in logs if entry["event"] == "matrix.login_failed"]
    assert refused["reason"].startswith("M_FORBIDDEN")
    assert "not-the-password" not in repr(logs)


async def test_a_revoked_saved_login_logs_in_again_on_the_same_device(
    matrix: MatrixWorld,
) -> None:
    first = await matrix.started_bot()
    assert first.transport is not None
    device = first.transport.device_id
    await first.stop()
    saved = json.loads((matrix.data_dir / "matrix" / "login.json").read_text())
    session = MatrixUser(matrix.bot.user_id, "", saved["access_token"], saved["device_id"])
    await matrix.synapse.request("POST", "/_matrix/client/v3/logout", session)  # revokes it

    with capture_logs() as logs:
        second = await matrix.started_bot()

    assert second.transport is not None
    assert second.transport.device_id == device
    assert [e["event"] for e in logs if e["event"].startswith("matrix.")][:3] == [
        "matrix.saved_login_rejected",
        "matrix.logged_in",
        "matrix.connected",
    ]
    assert await _devices(matrix) == sorted({matrix.bot.device_id, device or ""})
