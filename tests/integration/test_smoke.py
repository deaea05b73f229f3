from __future__ import annotations

from tests.conftest import Bot


async def test_checkin_is_recorded_and_shown_on_the_board(bot: Bot) -> None:
    reply = await bot.send("status pharmacy down cabinets on override")
    assert reply.outcome == "recorded"
    board = await bot.send("status")
    assert board.table is not None
    assert board.table.rows[0].cells[:3] == ["Pharmacy", "DOWN", "cabinets on override"]
