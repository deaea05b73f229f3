"""Matrix events of any shape fed to the transport's event handler (as its sync would, without a
homeserver): no unhandled exception, and only allowed people's well-formed commands write."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from nio import Event, MatrixRoom
from structlog.testing import capture_logs

from bot.app import Lifeline
from bot.domain.delivery import DeliveryFailed
from bot.domain.log_query import LogQuery
from bot.transports.matrix import MatrixConfig, MatrixTransport
from tests.fuzz.strategies import command_lines, command_text, examples, json_values, maybe

CASES = 800
BOT = "@lifeline:localhost"
ALLOWED = ("@alice:localhost", "@bob.lee:localhost")
ROOM = "!incident:localhost"

relations = maybe(
    st.fixed_dictionaries(
        {},
        optional={
            "rel_type": maybe(st.sampled_from(["m.thread", "m.replace", "m.annotation"])),
            "event_id": maybe(st.just("$root")),
            "key": maybe(st.sampled_from(["✅", "👍"])),
        },
    )
)
commands = st.fixed_dictionaries(
    {"msgtype": st.just("m.text"), "body": command_lines.map(lambda line: "!" + line)},
    optional={"m.relates_to": relations},
)
anything = st.fixed_dictionaries(
    {},
    optional={
        "msgtype": maybe(st.sampled_from(["m.text", "m.notice", "m.emote"])),
        "body": maybe(st.one_of(command_lines.map(lambda line: "!" + line), command_text)),
        "format": maybe(st.just("org.matrix.custom.html")),
        "formatted_body": maybe(st.text(max_size=20)),
        "m.relates_to": relations,
    },
)
contents = st.one_of(commands, commands, anything, json_values)
# The homeserver sets type, sender and origin_server_ts (a client cannot forge their shape);
# the content is whatever a client sent.
events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["m.room.message", "m.reaction", "m.room.encrypted", "m.x"]),
        "sender": st.sampled_from([*ALLOWED, BOT, "@mallory:evil.example"]),
        "origin_server_ts": st.integers(0, 2**42),
        "content": contents,
    },
)


def transport(lifeline: Lifeline, data_dir: Path) -> MatrixTransport:
    config = MatrixConfig(
        homeserver="http://127.0.0.1:9", user_id=BOT, password="unused", access_token=None,
        allowed_users=ALLOWED, data_dir=data_dir,
    )  # fmt: skip
    return MatrixTransport(config, lifeline.router, lifeline.metrics, broadcasts=lifeline.store)


async def test_matrix_events_of_any_shape_are_handled_or_ignored(
    lifeline: Lifeline, tmp_path: Path
) -> None:
    matrix = transport(lifeline, tmp_path)
    room = MatrixRoom(ROOM, BOT)
    for member in (*ALLOWED, BOT):
        room.add_member(member, None, None)
    numbers = itertools.count()
    parsed: dict[str, int] = {}
    with capture_logs() as logs:
        for source in examples(events, CASES):
            source: dict[str, Any] = {**source, "event_id": f"$e{next(numbers)}"}
            event = Event.parse_event(source)
            parsed[type(event).__name__] = parsed.get(type(event).__name__, 0) + 1
            # A reply that could not be sent is all that may fail: there is no homeserver here.
            with contextlib.suppress(DeliveryFailed):
                answer = await matrix.receiver._on_event(room, ROOM, event)
                if answer is not None:
                    await answer

    assert not [
        entry for entry in logs if entry["event"] in ("command.failed", "matrix.event_failed")
    ]
    assert parsed.get("RoomMessageText", 0) > CASES // 10, parsed
    stored = await lifeline.store.query_log(LogQuery(limit=5000))
    assert stored, parsed  # some of the commands were well-formed and allowed
    assert {entry.actor.id for entry in stored} <= set(ALLOWED)
