"""Replies rendered as Block Kit: Slack's limits hold however long the reply, and user text is inert."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ButtonElement, ConfirmObject

from bot.domain.reply import Action, Reply, ReplyField, Row, Table
from bot.transports.slack.blocks import SlackMessage, as_json, render, render_one
from tests.slack_api_stub import Call, _invalid_message


def valid(messages: list[SlackMessage]) -> None:
    for message in messages:
        assert _invalid_message(message.payload()) is None, message.blocks


def shown(messages: list[SlackMessage]) -> str:
    return "\n".join(Call("m", message.payload()).visible_text() for message in messages)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def buttons(messages: list[SlackMessage]) -> list[dict[str, Any]]:
    return [
        element
        for message in messages
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_short_reply_is_one_message_with_a_header_and_a_fallback() -> None:
    [message] = render(Reply(title="Pharmacy", lines=["Recorded."], footer="Updated 10:02"))

    assert [block["type"] for block in message.blocks] == ["header", "section", "context"]
    assert message.text == "Pharmacy\nRecorded.\nUpdated 10:02"


def test_a_120_row_table_is_split_over_messages_and_every_row_survives() -> None:
    rows = [
        Row(cells=[f"Unit {n:03d}", "DOWN", "generator fuel low " * 8, "Dr. Rivera"], marker="down")
        for n in range(120)
    ]
    reply = Reply(title="Board", table=Table(columns=["Dept", "State", "Note", "By"], rows=rows))

    messages = render(reply)

    assert len(messages) > 1
    valid(messages)
    text = shown(messages)
    assert all(f"*Unit {n:03d}*" in text for n in range(120))
    assert all(len(message.blocks) <= 50 for message in messages)


def test_hundreds_of_lines_never_exceed_fifty_blocks_a_message() -> None:
    messages = render(Reply(lines=[f"line {n} " + "x" * 2900 for n in range(80)]))

    valid(messages)
    assert len(messages) >= 20  # 12,000 visible characters at most per message
    assert sum(shown([m]).count("line ") for m in messages) == 80


def test_one_very_long_line_is_cut_into_sections_without_breaking_an_entity() -> None:
    line = "a&b<c>" * 2000  # 12,000 characters, 28,000 escaped

    messages = render(Reply(lines=[line]))

    valid(messages)
    sections = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    assert unescape("".join(sections)) == line


def test_user_text_cannot_mention_anyone() -> None:
    reply = Reply(
        title="<!channel> title",
        lines=["<!here> & <@U123> <https://evil.example|click>"],
        fields=[ReplyField(label="<!everyone>", value="<!channel>")],
        table=Table(columns=["<!here>"], rows=[Row(cells=["<@U9>"])]),
        footer="<!channel>",
    )

    [message] = render(reply)

    everything = str(message.blocks) + message.text
    mrkdwn = [b for b in message.blocks if b["type"] != "header"]
    assert "<!" not in str(mrkdwn) and "<@" not in str(mrkdwn) and "<http" not in str(mrkdwn)
    assert "<!" not in message.text
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "<!channel> title"},  # plain_text is never parsed
    }
    assert "&lt;!here&gt; &amp; &lt;@U123&gt;" in everything


def test_notify_adds_the_bots_own_channel_mention_first() -> None:
    [message] = render(Reply(lines=["Evacuate wing B"]), notify=True)

    assert message.blocks[0]["text"]["text"] == "<!channel>"
    assert message.text.startswith("<!channel> Evacuate wing B")


def test_a_long_title_becomes_a_bold_section_instead_of_a_clipped_header() -> None:
    title = "Incident " + "very long title " * 15

    [message] = render(Reply(title=title))

    assert message.blocks[0]["type"] == "section"
    assert " ".join(title.split()) in message.blocks[0]["text"]["text"]


def test_actions_become_buttons_carrying_their_command_within_button_limits() -> None:
    actions = [
        Action(label=f"Step {n} " + "done " * 30, command=f"runbook ehr done {n}")
        for n in range(30)
    ]
    actions[0] = Action(label="Up", command="status pharmacy up", style="primary")

    messages = render(Reply(title="Checklist", actions=actions))

    valid(messages)
    found = buttons(messages)
    assert [b["value"] for b in found] == [a.command for a in actions]
    assert len({b["action_id"] for b in found}) == 30
    assert all(len(b["text"]["text"]) <= 75 for b in found)
    assert found[0]["style"] == "primary" and "style" not in found[1]


def test_an_edit_is_always_one_message_and_says_what_it_left_out() -> None:
    rows = [Row(cells=[f"Unit {n:03d}", "UP", "note " * 40]) for n in range(400)]
    reply = Reply(title="Board", table=Table(columns=["Dept", "State", "Note"], rows=rows))
    assert len(render(reply)) > 1

    message = render_one(reply)

    valid([message])
    text = shown([message])
    kept = sum(f"*Unit {n:03d}*" in text for n in range(400))
    assert 0 < kept < 400
    assert f"{400 - kept} more rows are not shown here" in text


def test_an_empty_reply_still_has_a_fallback_text() -> None:
    [message] = render(Reply())

    assert message.text == "Lifeline"
    valid([message])


def test_every_block_is_exactly_what_slack_sdks_models_serialize_and_validate() -> None:
    """render serializes its slack_sdk models without to_dict's per-call validation (see
    `as_json`); each block parsed back into slack_sdk's models must give the same dict, valid."""
    rows = [Row(cells=["Pharmacy", "DOWN", "cabinets & <override>", "Dr. Rivera"], marker="down")]
    replies = [
        Reply(title="Pharmacy", lines=["Recorded: <!here> & <@U1>", ""], footer="Updated 10:02"),
        Reply(title="Incident " + "very long title " * 15),
        Reply(title="Board", table=Table(columns=["Dept", "State", "Note", "By"], rows=rows * 3)),
        Reply(fields=[ReplyField(label=f"F{n}", value="x" * 2500) for n in range(12)]),
        Reply(lines=["y" * 7000]),
        Reply(
            actions=[
                Action(label="Up", command="status pharmacy up", style="primary"),
                Action(label="Partial", command="status pharmacy partial"),
                Action(label="Down", command="status pharmacy down", style="danger"),
            ]
        ),
    ]
    rendered = [m for reply in replies for m in render(reply)] + render(replies[0], notify=True)
    blocks = [block for message in rendered for block in message.blocks]

    assert {block["type"] for block in blocks} == {"header", "section", "context", "actions"}
    for block in blocks:
        model = Block.parse(block)
        assert model is not None
        assert model.to_dict() == block


def test_a_model_with_its_own_serialization_keeps_it() -> None:
    confirm = ConfirmObject(title="Close the incident?", text="Everyone stops reporting.")

    assert as_json(confirm) == confirm.to_dict()
    assert (
        as_json(ButtonElement(text="Up", action_id="a", confirm=confirm))
        == ButtonElement(text="Up", action_id="a", confirm=confirm).to_dict()
    )
