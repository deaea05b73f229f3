"""`/checkin` with nothing after it, and the "Check in" shortcut: a form opened from the trigger,
submitted as the typed check-in, answered where it was opened."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis

from bot.domain.log_query import LogQuery
from bot.domain.models import State
from bot.storage.store import Store
from tests.slack_harness import SlackBot
from tests.slack_surfaces import (
    filled,
    global_shortcut,
    interactive,
    opened_view,
    submission,
    submit,
)


async def open_checkin(slack: SlackBot, **options: str) -> dict[str, object]:
    ack = await slack.slash("/checkin", "", **options)
    assert ack == {}  # nothing to show in the channel: the form opens
    await slack.stub.wait_for(lambda: bool(slack.stub.calls_to("views.open")))
    return opened_view(slack)


async def checkins(store: Store) -> list[tuple[str, str, str]]:
    entries = await store.query_log(LogQuery(kinds=["checkin"], limit=50))
    return [(e.department or "", str(e.data["state"]), e.text) for e in entries]


async def test_slash_checkin_alone_opens_the_form_with_its_trigger(slack: SlackBot) -> None:
    view = await open_checkin(slack)

    [call] = slack.stub.calls_to("views.open")
    assert call.params["trigger_id"].endswith(".trigger")
    assert slack.stub.invalid == []
    assert view["callback_id"] == "lifeline-checkin"
    assert [b["block_id"] for b in view["blocks"]] == ["department", "state", "note"]
    states = view["blocks"][1]["element"]["options"]
    assert [o["text"]["text"] for o in states] == ["Up", "Partial", "Down", "N/A"]
    assert view["blocks"][2]["element"]["max_length"] == 2000
    assert json.loads(view["private_metadata"])["c"] == "C1"


async def test_submitting_records_as_the_typed_command_and_answers_in_the_channel(
    slack: SlackBot, store: Store
) -> None:
    view = await open_checkin(slack, hook="form")

    ack = await submit(
        slack, view, department="pharmacy", state="down", note="cabinets on override"
    )
    await slack.settle()

    assert ack == {}  # the form closes
    assert await checkins(store) == [("pharmacy", "down", "cabinets on override")]
    latest = (await store.latest_checkins(["pharmacy"]))["pharmacy"]
    assert latest.state is State.DOWN and latest.actor.name == "Dr. Alice Rivera"
    [answer] = slack.stub.hooks("form")
    assert answer.params["response_type"] == "in_channel"
    assert "Recorded: Pharmacy is DOWN — Non-functional (no incident open)" in answer.visible_text()
    assert slack.stub.invalid == []


async def test_the_form_is_preset_to_the_department_last_checked_in_for(slack: SlackBot) -> None:
    await slack.slash("/checkin", "lab partial phones only")
    await slack.settle()

    view = await open_checkin(slack)

    assert view["blocks"][0]["element"]["initial_option"]["value"] == "lab"


async def test_a_note_over_the_limit_is_answered_under_the_field_and_nothing_is_recorded(
    slack: SlackBot, store: Store
) -> None:
    view = await open_checkin(slack)

    ack = await submit(slack, view, department="lab", state="down", note="x" * 2500)

    assert ack == {
        "response_action": "errors",
        "errors": {
            "note": "That note is 2,500 characters; the limit is 2,000. Shorten it and send it again."
        },
    }
    assert await checkins(store) == []


async def test_a_forged_department_or_a_missing_state_changes_nothing(
    slack: SlackBot, store: Store
) -> None:
    view = await open_checkin(slack)

    ack = await submit(slack, view, department="morgue-annex", state="")

    assert ack == {
        "response_action": "errors",
        "errors": {
            "department": "Choose your department from the list.",
            "state": "Choose Up, Partial, Down or N/A.",
        },
    }
    assert await checkins(store) == []


async def test_a_malformed_submission_changes_nothing(slack: SlackBot, store: Store) -> None:
    view = await open_checkin(slack)
    broken = submission({**view, "private_metadata": "{not json"}, {"department": "oops"})

    status, body = await interactive(slack, broken)

    assert status == 200
    assert json.loads(body)["response_action"] == "errors"
    assert await checkins(store) == []


async def test_an_unsigned_submission_is_refused_and_changes_nothing(
    slack: SlackBot, store: Store
) -> None:
    view = await open_checkin(slack)
    answers = filled(view, department="pharmacy", state="up")

    status, _ = await interactive(slack, submission(view, answers), secret="forged")
    await slack.settle()

    assert status == 401
    assert await checkins(store) == []


async def test_the_same_submission_delivered_twice_records_once(
    slack: SlackBot, store: Store
) -> None:
    view = await open_checkin(slack, hook="twice")
    answers = filled(view, department="icu", state="partial")

    for _ in range(2):
        status, _ = await interactive(slack, submission(view, answers))
        assert status == 200
    await slack.settle()

    assert await checkins(store) == [("icu", "partial", "")]
    second = slack.stub.hooks("twice")[-1]
    assert "Recorded (already recorded): Intensive Care is PARTIAL" in second.visible_text()


async def test_the_check_in_shortcut_opens_the_form_and_answers_in_the_apps_dm(
    slack: SlackBot, store: Store
) -> None:
    assert await global_shortcut(slack, "lifeline-checkin-anywhere") == 200
    await slack.stub.wait_for(lambda: bool(slack.stub.calls_to("views.open")))
    view = opened_view(slack)

    await submit(slack, view, department="radiology", state="up")
    await slack.settle()

    assert await checkins(store) == [("radiology", "up", "")]
    [dm] = slack.stub.calls_to("chat.postMessage")
    assert dm.params["channel"] == "U1"
    assert "Recorded: Radiology is UP" in dm.visible_text()


async def test_an_expired_trigger_is_answered_with_the_command_to_type(slack: SlackBot) -> None:
    slack.stub.triggers_expired = True

    await slack.slash("/checkin", "", hook="late")
    await slack.settle()

    [answer] = slack.stub.hooks("late")
    assert answer.params == {
        "response_type": "ephemeral",
        "text": "Slack did not open the form in time. Type the command instead, e.g. "
        "/checkin pharmacy down cabinets on override.",
    }


async def test_the_form_opens_without_waiting_on_a_stalled_store_or_a_queue_of_check_ins(
    slack: SlackBot, store: Store, redis: Redis
) -> None:
    await slack.slash("/checkin", "lab up")  # so there is a department to pre-set
    await slack.settle()
    # The store stops answering anyone for 3 s (it cannot be unpaused early: that is paused too).
    await redis.execute_command("CLIENT", "PAUSE", "3000", "ALL")
    typed = [
        asyncio.create_task(slack.slash("/checkin", f"icu partial queued {n}", user="U2"))
        for n in range(20)
    ]
    form = asyncio.create_task(slack.slash("/checkin", ""))
    await slack.stub.wait_for(lambda: bool(slack.stub.calls_to("views.open")), timeout=10)
    view = opened_view(slack)
    assert await form == {}
    await asyncio.gather(*typed)
    await slack.settle()

    assert "initial_option" not in view["blocks"][0]["element"]  # opened, not pre-set: no wait
    assert len([c for c in await checkins(store) if c[0] == "icu"]) == 20
