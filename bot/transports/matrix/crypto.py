"""End-to-end encryption upkeep (matrix-nio's `e2e` extra, on vodozemac): after every sync, upload
the bot's keys, learn other devices' keys, claim one-time keys and send queued to-device
messages; and the trust policy — trust on first use.

Trust on first use: every device of a user the bot shares a room with is trusted the first time
the bot sees it, with one `matrix.device_trusted` log line naming user and device. Nobody in a
hospital's incident will verify emoji with a bot at 3 a.m.; refusing unverified devices would
make encrypted rooms silent again. The log line per new device is the audit trail IT can review,
and a device whose keys change under the same id is refused by the crypto store, not trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from aiohttp import ClientConnectionError
from nio import ErrorResponse

log = structlog.get_logger(__name__)
STORE_DIRECTORY = "crypto"


def crypto_store(data_dir: Path) -> Path:
    """Where the crypto store lives (the device's private keys: readable by the bot only)."""
    path = data_dir / STORE_DIRECTORY
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


async def keep_keys(client: Any) -> None:
    """One round of key upkeep; a failure is logged and retried after the next sync."""
    if client.olm is None:
        return
    try:
        await _upkeep(client)
    except (ClientConnectionError, TimeoutError) as error:
        log.warning("matrix.keys_not_updated", reason=str(error) or type(error).__name__)
    trust_new_devices(client)


async def _upkeep(client: Any) -> None:
    calls = []
    if client.should_upload_keys:
        calls.append(("upload", client.keys_upload()))
    if client.should_query_keys:
        calls.append(("query", client.keys_query()))
    if client.should_claim_keys:
        calls.append(("claim", client.keys_claim(client.get_users_for_key_claiming())))
    calls.append(("to-device", client.send_to_device_messages()))
    for step, call in calls:
        response = await call
        for answer in response if isinstance(response, list) else [response]:
            if isinstance(answer, ErrorResponse):
                log.warning("matrix.keys_failed", step=step, reason=str(answer))


def trust_new_devices(client: Any) -> None:
    """Trust on first use: each device not yet trusted or blacklisted is trusted, and logged."""
    if client.olm is None:
        return
    own = client.user_id
    for user_id in client.device_store.users:
        for device in client.device_store.active_user_devices(user_id):
            if user_id == own and device.id == client.device_id:
                continue
            if device.verified or device.blacklisted or device.ignored:
                continue
            client.verify_device(device)
            log.info(
                "matrix.device_trusted",
                user_id=user_id,
                device_id=device.id,
                display_name=device.display_name,
                ed25519=device.ed25519,
            )
