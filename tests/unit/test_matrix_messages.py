"""Matrix message text → command line, Reply → event content, and who may talk to the bot."""

from __future__ import annotations

import json

import pytest
from nio import RoomSendError, RoomSendResponse

from bot.config.tuning import RetryPolicy
from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Action, Reply, ReplyField, Row, Table
from bot.observability.metrics import Metrics
from bot.transports.matrix.inbound import command_text
from bot.transports.matrix.rate import send_patiently
from bot.transports.matrix.render import MAX_CONTENT_BYTES, as_edit, mentioning, render_content
from bot.transports.matrix.rooms import RoomPolicy


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!status pharmacy down cabinets", "status pharmacy down cabinets"),
        ("/status lab partial", "status lab partial"),
        ("  !help  ", "help"),
        ("! status", "status"),
        ("> <@bob:hospital.org> is pharmacy ok?\n\n!status pharmacy", "status pharmacy"),
        ("status pharmacy down", None),
        ("!", None),
        ("!!status", None),
        ("//comment", None),
        ("see /status later", None),
        ("", None),
    ],
)
def test_command_text_takes_prefixed_lines_only(body: str, expected: str | None) -> None:
    assert command_text(body) == expected


def test_a_full_reply_renders_as_a_notice_with_escaped_html() -> None:
    reply = Reply(
        title="Pharmacy <main>",
        fields=[ReplyField(label="State", value="DOWN & out")],
        lines=["line one", "two\nlines"],
        actions=[Action(label="Up", command="status pharmacy up")],
        footer="Updated 10:00",
    )

    content = render_content(reply)

    assert content["msgtype"] == "m.notice"
    assert content["m.mentions"] == {}
    assert content["formatted_body"] == (
        "<strong>Pharmacy &lt;main&gt;</strong><br>"
        "<b>State:</b> DOWN &amp; out<br>"
        "line one<br>two<br>lines<br>"
        "Reply with: <code>!status pharmacy up</code><br>"
        "<em>Updated 10:00</em>"
    )
    assert content["body"] == (
        "Pharmacy <main>\nState: DOWN & out\nline one\ntwo\nlines\n"
        "Reply with: !status pharmacy up\nUpdated 10:00"
    )


def test_table_rows_carry_their_state_marker() -> None:
    table = Table(
        columns=["Department", "State"],
        rows=[Row(cells=["Lab", "DOWN"], marker="down"), Row(cells=["ICU", "?"], marker="stale")],
    )

    html = render_content(Reply(table=table))["formatted_body"]

    assert html.startswith(
        "<table><thead><tr><th>Department</th><th>State</th></tr></thead><tbody>"
        "<tr><td>🔴 Lab</td><td>DOWN</td></tr><tr><td>⏳ ICU</td><td>?</td></tr></tbody></table>"
    )


def test_an_edit_replaces_the_original_and_mentions_no_one() -> None:
    new = render_content(Reply(lines=["v2"]))

    assert as_edit(new, "$board") == {
        "msgtype": "m.notice",
        "body": "* v2",
        "format": "org.matrix.custom.html",
        "formatted_body": "* v2",
        "m.mentions": {},
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$board"},
    }


def test_a_reply_too_big_for_one_event_is_cut_to_plain_text() -> None:
    content = render_content(Reply(lines=["x" * 200] * 1000))

    assert "formatted_body" not in content
    assert len(json.dumps(content).encode()) < MAX_CONTENT_BYTES
    assert content["body"].endswith("… (cut: too long for one Matrix message)")


def test_allowed_users_are_globs_and_default_to_the_bots_own_homeserver() -> None:
    explicit = RoomPolicy(["@*:hospital.org", "@ic:partner.org"], "@lifeline:hospital.org")
    default = RoomPolicy([], "@lifeline:hospital.org")

    assert explicit.allows("@alice:hospital.org")
    assert explicit.allows("@ic:partner.org")
    assert not explicit.allows("@eve:partner.org")
    assert not explicit.allows("@alice:hospital.org.evil.example")
    assert not explicit.allows("@lifeline:hospital.org")  # never itself
    assert default.allows("@bob:hospital.org")
    assert not default.allows("@bob:elsewhere.org")


async def test_rate_limits_are_waited_out_as_the_server_asks() -> None:
    answers = [
        RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", 20),
        RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", 30),
        RoomSendResponse("$sent", "!room"),
    ]

    async def send() -> object:
        return answers.pop(0)

    response = await send_patiently(
        send, RetryPolicy(max_wait=1.0), Metrics(), room="!room", action="post"
    )

    assert response.event_id == "$sent"
    assert answers == []


async def test_an_error_waiting_cannot_fix_fails_at_once() -> None:
    calls = 0

    async def send() -> object:
        nonlocal calls
        calls += 1
        return RoomSendError("You are not in this room", "M_FORBIDDEN")

    with pytest.raises(DeliveryFailed) as failure:
        await send_patiently(send, RetryPolicy(), Metrics(), room="!room", action="post")

    assert calls == 1
    assert failure.value.reason == "post: M_FORBIDDEN You are not in this room"


def test_an_urgent_copys_edit_keeps_room_mention_in_its_new_content_but_pings_nobody_again() -> (
    None
):
    copy = Reply(title="B-1 · URGENT", lines=["Go to paper"], footer="Acknowledged by 3",
                 footer_command="ack B-1")  # fmt: skip

    edit = as_edit(render_content(copy, notify=True), "$copy")

    new = edit["m.new_content"]
    assert new["msgtype"] == "m.text"
    assert new["m.mentions"] == {"room": True}
    assert new["body"] == "@room B-1 · URGENT\nGo to paper\nAcknowledged by 3 · reply !ack B-1"
    assert new["formatted_body"].endswith("<em>Acknowledged by 3 · reply !ack B-1</em>")
    assert (edit["msgtype"], edit["m.mentions"]) == ("m.text", {})  # the edit notifies nobody
    assert edit["body"].startswith("* @room B-1")


def test_a_footer_command_is_shown_as_typed_on_each_transport() -> None:
    reply = Reply(lines=["x"], footer="Acknowledged by 0", footer_command="ack B-2")

    assert reply.footer_line() == "Acknowledged by 0 · reply ack B-2"  # console, Slack: as before
    assert reply.footer_line("!") == "Acknowledged by 0 · reply !ack B-2"
    assert render_content(reply)["body"].endswith("reply !ack B-2")


def test_a_notice_to_the_commander_mentions_only_them_and_escapes_their_name() -> None:
    content = mentioning(render_content(Reply(lines=["Throttled"])), "@ic:h.org", "<b>Ann</b>")

    assert content["msgtype"] == "m.text"  # a notice never notifies; this must
    assert content["m.mentions"] == {"user_ids": ["@ic:h.org"]}
    assert content["body"] == "<b>Ann</b>: Throttled"
    assert content["formatted_body"] == (
        '<a href="https://matrix.to/#/@ic:h.org">&lt;b&gt;Ann&lt;/b&gt;</a>: Throttled'
    )
