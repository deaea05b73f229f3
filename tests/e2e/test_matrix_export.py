"""`!log export` on a real Synapse: the file is in the media repository and the answer's
`m.file` points at it, in reply to the command."""

from __future__ import annotations

import csv
import io

import aiohttp
from nio.crypto.attachments import decrypt_attachment

from bot.domain.facility import FacilityConfig, Roles
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.e2e.matrix_harness import replied_to


async def download(matrix: MatrixWorld, mxc: str) -> tuple[bytes, str]:
    server, media_id = mxc.removeprefix("mxc://").split("/", 1)
    url = f"{matrix.synapse.url}/_matrix/client/v1/media/download/{server}/{media_id}"
    headers = {"Authorization": f"Bearer {matrix.alice.user.access_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.read(), response.headers["Content-Type"]


async def test_log_export_arrives_as_an_m_file_from_the_media_repository(
    matrix: MatrixWorld,
) -> None:
    matrix.facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        roles=Roles(it=(matrix.alice.user_id,)),
    )
    await matrix.started_bot()
    room = await matrix.room_with_bot()
    checkin = await matrix.alice.send(room, "!status pharmacy down @room =1+1")
    await matrix.alice.reply_to(room, checkin)

    command = await matrix.alice.send(room, "!log export csv")

    def is_file(event: dict[str, object]) -> bool:
        content = event.get("content")
        return isinstance(content, dict) and content.get("msgtype") == "m.file"

    answer = await matrix.alice.reply_to(room, command)
    file_event = await matrix.alice.wait_for(room, is_file)
    assert answer["content"]["body"].startswith("Exported 1 entry of the incident log as CSV.")
    content = file_event["content"]
    assert file_event["sender"] == matrix.bot.user_id
    assert replied_to(file_event) == command
    name = content["body"]
    assert name.startswith("lifeline-log-general-hospital-") and name.endswith(".csv")
    assert content["filename"] == name
    assert content["m.mentions"] == {}
    assert content["info"]["mimetype"] == "text/csv; charset=utf-8"
    data, content_type = await download(matrix, content["url"])
    assert content["info"]["size"] == len(data)
    assert content_type.startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    # Matrix ids and the note begin with @: a spreadsheet would read them as formulas.
    assert (row["department"], row["actor_id"], row["text"]) == (
        "pharmacy", "'" + matrix.alice.user_id, "'@room =1+1",
    )  # fmt: skip


async def test_on_close_the_report_is_posted_to_the_incident_room_as_files(
    matrix: MatrixWorld,
) -> None:
    matrix.facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        roles=Roles(commander=(matrix.alice.user_id,)),
    )
    await matrix.started_bot()
    room = await matrix.room_with_bot()
    started = await matrix.alice.send(room, '!incident start "Teams outage" sev 2')
    await matrix.alice.reply_to(room, started)

    closing = await matrix.alice.send(room, "!incident close Teams restored")
    answer = await matrix.alice.reply_to(room, closing)

    assert "get it again any time with: incident report INC-" in answer["content"]["body"]

    def files() -> list[dict[str, object]]:
        return [
            e for e in matrix.alice.events_from(room, matrix.bot.user_id)
            if e["content"].get("msgtype") == "m.file"
        ]  # fmt: skip

    await matrix.alice.wait_for(room, lambda _: len(files()) == 2)
    md, html = files()
    assert str(md["content"]["body"]).endswith(".md")  # type: ignore[index]
    assert str(html["content"]["body"]).endswith(".html")  # type: ignore[index]
    data, content_type = await download(matrix, str(html["content"]["url"]))  # type: ignore[index]
    assert content_type.startswith("text/html")
    assert data.startswith(b"<!DOCTYPE html>") and b"Teams outage" in data


async def test_in_an_encrypted_room_the_export_is_an_encrypted_attachment(
    matrix: MatrixWorld,
) -> None:
    bob = await matrix.e2e_staff()
    matrix.facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        roles=Roles(it=(bob.user_id,)),
    )
    await matrix.started_bot()
    bot = matrix.bot.user_id
    room = await bob.create_room(invite=[bot], encrypted=True)
    await bob.wait_for(room, lambda e: e.get("state_key") == bot
                       and e["content"].get("membership") == "join")  # fmt: skip
    checkin = await bob.send(room, "!status lab partial phoning criticals")
    await bob.reply_to(room, checkin)

    await bob.send(room, "!log export csv")
    file_event = await bob.wait_for(
        room, lambda e: e["sender"] == bot and e["content"].get("msgtype") == "m.file"
    )

    assert file_event["event_id"] in bob.decrypted  # the event itself arrived encrypted
    content = file_event["content"]
    assert "url" not in content  # only the encrypted file's address, with its key
    encrypted = content["file"]
    ciphertext, _ = await download(matrix, encrypted["url"])
    assert b"phoning criticals" not in ciphertext
    plain = decrypt_attachment(
        ciphertext, encrypted["key"]["k"], encrypted["hashes"]["sha256"], encrypted["iv"]
    )
    [row] = list(csv.DictReader(io.StringIO(plain.decode("utf-8-sig"), newline="")))
    assert (row["department"], row["text"]) == ("lab", "phoning criticals")
