"""The App Home tab: published on opening, one-tap check-ins and acks from it, re-published for
recent openers when the board changes; and the "Add to incident log" message shortcut."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.slack_api_stub import Call
from tests.slack_harness import STAFF_NAMES, SlackBot, running_bot
from tests.slack_surfaces import (
    home_button,
    home_opened,
    home_tap,
    message_shortcut,
    opened_view,
    submit,
)
from tests.waiting import until


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    async with running_bot(
        redis_server, facility, users=STAFF_NAMES, slack_home_interval=0.05
    ) as bot:
        yield bot


def home_text(slack: SlackBot, user: str = "U1") -> str:
    return Call("views.publish", slack.stub.homes[user]).visible_text()


async def open_home(slack: SlackBot, user: str = "U1") -> dict[str, Any]:
    before = len(slack.stub.calls_to("views.publish"))
    assert await home_opened(slack, user=user) == 200
    await slack.stub.wait_for(lambda: len(slack.stub.calls_to("views.publish")) > before)
    await slack.settle()
    return slack.stub.homes[user]


async def test_opening_home_publishes_the_board_and_the_incident(slack: SlackBot) -> None:
    await slack.slash("/incident", "start Teams outage sev 2", user="ic1")
    await slack.settle()

    home = await open_home(slack)

    assert home["type"] == "home"
    text = home_text(slack)
    assert "Teams outage (sev 2), period 1" in text
    assert "Your department:* not chosen yet" in text
    assert "Pharmacy" in text and "Status board" in text
    assert slack.stub.invalid == []


async def test_one_tap_on_home_checks_the_department_in(slack: SlackBot, store: Store) -> None:
    await slack.slash("/checkin", "pharmacy partial one cabinet down")
    await slack.settle()
    home = await open_home(slack)

    assert await home_tap(slack, home_button(home, "lifeline-action-home-2")) == 200  # Down
    await slack.settle()

    latest = (await store.latest_checkins(["pharmacy"]))["pharmacy"]
    assert latest.state.value == "down" and latest.note == ""
    assert "Recorded: Pharmacy is DOWN — Non-functional" in home_text(slack)
    assert slack.stub.calls_to("chat.postMessage") == []  # the answer is on the tab


async def test_choosing_a_department_on_home_sets_the_forms_preset(slack: SlackBot) -> None:
    home = await open_home(slack)

    await home_tap(slack, home_button(home, "lifeline-home-department"), option="blood-bank")
    await slack.settle()

    assert "Your department:* Blood Bank" in home_text(slack)
    await slack.slash("/checkin", "")
    await slack.stub.wait_for(lambda: bool(slack.stub.calls_to("views.open")))
    preset = opened_view(slack)["blocks"][0]["element"]["initial_option"]["value"]
    assert preset == "blood-bank"


async def test_a_forged_department_choice_is_not_stored(slack: SlackBot, store: Store) -> None:
    home = await open_home(slack)

    await home_tap(slack, home_button(home, "lifeline-home-department"), option="../../etc")
    await slack.settle()

    assert await store.people.department_of("U1") is None


async def test_add_a_note_opens_the_form_and_the_answer_lands_on_home(
    slack: SlackBot, store: Store
) -> None:
    await slack.slash("/checkin", "lab up")
    await slack.settle()
    home = await open_home(slack)

    await home_tap(slack, home_button(home, "lifeline-home-note"))
    await slack.stub.wait_for(lambda: bool(slack.stub.calls_to("views.open")))
    view = opened_view(slack)
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "lab"
    await submit(slack, view, department="lab", state="partial", note="analyser 2 down")
    await slack.settle()

    assert (await store.latest_checkins(["lab"]))["lab"].note == "analyser 2 down"
    assert "Recorded: Laboratory is PARTIAL" in home_text(slack)


async def test_acknowledge_on_home_records_the_ack(slack: SlackBot, store: Store) -> None:
    await slack.slash("/broadcast", "normal Briefing at 14:00", user="ic1")
    await slack.settle()
    home = await open_home(slack, user="U2")

    assert await home_tap(slack, home_button(home, "lifeline-action-ack-B-1"), user="U2") == 200
    await slack.settle()

    assert await store.broadcasts.ack_count("B-1") == 1
    assert "Acknowledged B-1 (1 so far). Thank you." in home_text(slack, "U2")


async def test_a_board_change_republishes_home_for_recent_openers_only(
    slack: SlackBot, store: Store
) -> None:
    await open_home(slack, user="U1")
    await store.people.saw(
        "slack-home",
        "U2",
        slack.lifeline.router.context.now() - timedelta(hours=2),
        timedelta(hours=3),
    )
    before = {
        user: len([c for c in slack.stub.calls_to("views.publish") if c.params["user_id"] == user])
        for user in ("U1", "U2")
    }

    for state in ("down", "partial", "up"):
        await slack.slash("/checkin", f"surgery {state}", user="ic1")
    await slack.settle()

    def published(user: str) -> int:
        calls = slack.stub.calls_to("views.publish")
        return len([c for c in calls if c.params["user_id"] == user]) - before[user]

    await until(lambda: published("U1") >= 1)
    assert 1 <= published("U1") <= 3  # coalesced: never more rounds than changes
    assert published("U2") == 0  # opened two hours ago: no longer watching
    assert "*Surgery / OR* · UP" in home_text(slack), home_text(slack)


async def test_a_message_becomes_a_log_note_with_a_link_to_it(
    slack: SlackBot, store: Store
) -> None:
    text = "Generator 2 refuelled at 14:10, &lt;6h&gt; of fuel on site"

    assert await message_shortcut(slack, text, channel="CFAC", ts="1700000300.000100") == 200
    await slack.settle()

    [note] = await store.query_log(LogQuery(kinds=["note"]))
    assert note.text == "Generator 2 refuelled at 14:10, <6h> of fuel on site"
    assert note.data == {"link": "https://t.slack.com/archives/CFAC/p1700000300000100"}
    assert note.actor.name == "Dr. Alice Rivera"
    [answer] = slack.stub.hooks("shortcut")
    assert answer.params["response_type"] == "ephemeral"
    assert (
        "Recorded in the log (no incident open): note by Dr. Alice Rivera." in answer.visible_text()
    )


async def test_a_message_without_text_is_refused_and_nothing_is_logged(
    slack: SlackBot, store: Store
) -> None:
    await message_shortcut(slack, "", hook="empty")
    await slack.settle()

    assert await store.query_log(LogQuery(kinds=["note"])) == []
    [answer] = slack.stub.hooks("empty")
    assert "That message has no text to add to the log." in answer.visible_text()


async def test_a_rate_limited_publish_is_waited_out_not_dropped(slack: SlackBot) -> None:
    slack.stub.fail("views.publish", 429, retry_after=0)

    home = await open_home(slack)

    calls = slack.stub.calls_to("views.publish")
    assert len(calls) == 2 and calls[0].answer is None  # refused once, then sent
    assert home["type"] == "home"
