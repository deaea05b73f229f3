from __future__ import annotations

from bot.domain.reply import Action, Reply, ReplyField, Row, Table
from bot.transports.text import render_text


def test_a_table_is_aligned_with_state_markers_and_a_legend() -> None:
    reply = Reply(
        title="Board",
        table=Table(
            columns=["Department", "State"],
            rows=[Row(cells=["Pharmacy", "DOWN"], marker="down"),
                  Row(cells=["Laboratory", "unknown"], marker="unknown")],
        ),
        fields=[ReplyField(label="Summary", value="Non-functional 1")],
    )  # fmt: skip
    assert render_text(reply) == "\n".join([
        "Board",
        "  DEPARTMENT  STATE",
        "X Pharmacy    DOWN",
        "? Laboratory  unknown",
        "+ up  ~ partial  X down  - n/a  ? no report  ! stale",
        "Summary: Non-functional 1",
    ])  # fmt: skip


def test_long_cells_are_clipped_and_newlines_flattened() -> None:
    reply = Reply(table=Table(columns=["Note"], rows=[Row(cells=["a\nb " + "x" * 80])]))
    line = render_text(reply).splitlines()[1]
    assert line.startswith("a b xxx") and line.endswith("…") and len(line) == 48


def test_actions_are_shown_as_the_commands_they_run() -> None:
    reply = Reply(lines=["Pick one"], actions=[Action(label="Up", command="status lab up")])
    assert render_text(reply) == "Pick one\nActions: status lab up"


def test_an_error_reply_shows_the_usage_line() -> None:
    assert render_text(
        Reply.error("Name the new incident commander.", usage="incident handoff @user")
    ) == ("Name the new incident commander.\nUsage: incident handoff @user")
