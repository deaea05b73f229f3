"""Runbook checklists on Slack: Done/Undo buttons as signed block_actions, edited in place."""

from __future__ import annotations

from typing import Any

from bot.domain.log_query import LogQuery
from bot.storage.store import Store
from tests.slack_api_stub import Call
from tests.slack_harness import SlackBot

DONE_1 = "runbook teams-outage done 1"


def buttons(params: dict[str, Any]) -> dict[str, str]:
    """Button value (the command it runs) → its label."""
    return {
        element["value"]: element["text"]["text"]
        for block in params["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


async def posted_checklist(slack: SlackBot) -> str:
    """Open an incident and post the Teams runbook by mention; the checklist message's ts."""
    await slack.slash("/incident", "start Teams outage sev 2", user="ic1")
    await slack.mention("<@UBOT> runbook teams", event_id="EvRunbook", user="U1")
    await slack.settle()
    [message] = [
        m for m in slack.stub.messages.values() if "Started this runbook" in text_of(m.params)
    ]
    assert message.channel == "C1"
    assert buttons(message.params)[DONE_1] == "Done 1"
    return message.ts


def text_of(params: dict[str, Any]) -> str:
    return Call("m", params).visible_text()


def posts_of_the_checklist(slack: SlackBot) -> list[Call]:
    return [
        call
        for call in slack.stub.calls_to("chat.postMessage")
        if "Runbook: Teams" in call.visible_text()
    ]


async def steps(store: Store) -> list[tuple[str, str, str]]:
    entries = await store.query_log(LogQuery(kinds=["runbook.step"], limit=50))
    return [(e.actor.name, e.actor.transport, str(e.data["action"])) for e in entries]


async def test_a_done_button_ticks_the_step_and_edits_the_checklist_in_place(
    slack: SlackBot, store: Store
) -> None:
    ts = await posted_checklist(slack)

    status = await slack.click(DONE_1, user="U2", message_ts=ts)
    await slack.settle()

    assert status == 200
    [update] = slack.stub.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("C1", ts)
    shown = text_of(slack.stub.messages[("C1", ts)].params)
    assert "Step 1 done by Sam Okafor (Pharmacy) at " in shown
    assert "[x] 1. Decide which failure it is — done by Sam Okafor (Pharmacy) at " in shown
    assert "1/12 steps done" in shown
    labels = buttons(update.params)
    assert labels["runbook teams-outage undo 1"] == "Undo 1"
    assert DONE_1 not in labels
    assert len(posts_of_the_checklist(slack)) == 1  # edited in place, not posted again
    assert slack.stub.invalid == []
    assert await steps(store) == [("Sam Okafor (Pharmacy)", "slack", "done")]


async def test_a_second_press_of_a_stale_done_button_changes_nothing_and_says_who(
    slack: SlackBot, store: Store
) -> None:
    ts = await posted_checklist(slack)
    await slack.click(DONE_1, user="U2", message_ts=ts)
    await slack.settle()

    await slack.click(DONE_1, user="U1", message_ts=ts)
    await slack.settle()

    assert len(slack.stub.calls_to("chat.update")) == 2
    shown = text_of(slack.stub.messages[("C1", ts)].params)
    assert "Step 1 was already done by Sam Okafor (Pharmacy) at " in shown
    assert await steps(store) == [("Sam Okafor (Pharmacy)", "slack", "done")]


async def test_an_undo_button_reopens_the_step_in_place(slack: SlackBot, store: Store) -> None:
    ts = await posted_checklist(slack)
    await slack.click(DONE_1, user="U2", message_ts=ts)
    await slack.settle()

    await slack.click("runbook teams-outage undo 1", user="U1", message_ts=ts)
    await slack.settle()

    last = slack.stub.calls_to("chat.update")[-1]
    shown = last.visible_text()
    assert "Step 1 is open again (Dr. Alice Rivera undid it; it was done by Sam Okafor" in shown
    assert "[ ] 1. Decide which failure it is (IT Unit Leader, ~10 min)" in shown
    assert buttons(last.params)[DONE_1] == "Done 1"
    assert await steps(store) == [
        ("Dr. Alice Rivera", "slack", "undo"),
        ("Sam Okafor (Pharmacy)", "slack", "done"),
    ]
