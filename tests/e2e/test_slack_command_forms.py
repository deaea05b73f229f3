"""`/broadcast` alone (compose, preview, send; urgent names the channels it pings) and
`/incident start` with no title, as forms run through the router as the typed commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.slack_api_stub import Call
from tests.slack_harness import STAFF_NAMES, SlackBot, running_bot
from tests.slack_surfaces import opened_view, submit


@pytest.fixture
def facility() -> FacilityConfig:
    return FacilityConfig.model_validate(
        {
            "roles": {"commander": ["ic1"], "admin": ["admin1"]},
            "channels": {
                "incident": {"slack": "CINC"},
                "broadcast": {"slack": ["CALL", "CNURSE"], "matrix": ["!all:h.org"]},
            },
        }
    )


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    async with running_bot(redis_server, facility, users=STAFF_NAMES) as bot:
        yield bot


async def open_form(
    slack: SlackBot, command: str, text: str = "", **options: str
) -> dict[str, Any]:
    before = len(slack.stub.calls_to("views.open"))
    assert await slack.slash(command, text, **options) == {}
    await slack.stub.wait_for(lambda: len(slack.stub.calls_to("views.open")) > before)
    return opened_view(slack)


def view_text(view: dict[str, Any]) -> str:
    return Call("view", view).visible_text()


async def test_broadcast_is_composed_previewed_then_sent(slack: SlackBot, store: Store) -> None:
    compose = await open_form(slack, "/broadcast", user="ic1", channel="CCMD", hook="bc")

    ack = await submit(
        slack, compose, user="ic1", priority="normal", text="Briefing at 14:00 <!here>"
    )

    assert ack["response_action"] == "update"
    preview = ack["view"]
    assert preview["submit"]["text"] == "Send"
    assert "Briefing at 14:00 &lt;!here&gt;" in view_text(preview)
    assert "<#CALL>, <#CNURSE>, <#CINC>, <#CCMD>" in view_text(preview)
    assert await store.broadcasts.recent() == []  # a preview sends nothing

    assert await submit(slack, {**compose, **preview}, user="ic1") == {}
    await slack.settle()

    [sent] = await store.broadcasts.recent()
    assert (sent.priority, sent.text) == ("normal", "Briefing at 14:00 <!here>")
    [answer] = slack.stub.hooks("bc")
    assert answer.params["response_type"] == "ephemeral"
    assert "Recorded B-1 (Non-urgent-Medium)" in answer.visible_text()


async def test_an_urgent_broadcast_names_the_channels_it_will_ping(slack: SlackBot) -> None:
    compose = await open_form(slack, "/broadcast", user="ic1", channel="CCMD")

    ack = await submit(
        slack, compose, user="ic1", priority="urgent", text="Do not log in to Windows PCs"
    )

    preview = ack["view"]
    assert preview["submit"]["text"] == "Send urgent"
    assert (
        ":rotating_light: *This pings everyone (@channel) in* <#CALL>, <#CNURSE>, <#CINC>, "
        "<#CCMD> and 1 room(s) on other transports."
    ) in view_text(preview)


async def test_a_broadcast_from_someone_who_may_not_send_one_is_refused_in_the_form(
    slack: SlackBot, store: Store
) -> None:
    compose = await open_form(slack, "/broadcast", user="U2")
    preview = (await submit(slack, compose, user="U2", priority="info", text="Lunch is served"))[
        "view"
    ]

    ack = await submit(slack, {**compose, **preview}, user="U2")
    await slack.settle()

    assert ack["response_action"] == "update"
    assert (
        ":x: Only the admin, commander or incident commander can send broadcasts. Ask the "
        "incident commander if this is needed."
    ) in view_text(ack["view"])
    assert await store.broadcasts.recent() == []
    [refused] = await store.query_log(LogQuery(kinds=["denied"]))
    assert refused.text == "broadcast info Lunch is served"


async def test_an_empty_broadcast_is_answered_under_the_message_field(slack: SlackBot) -> None:
    compose = await open_form(slack, "/broadcast", user="ic1")

    ack = await submit(slack, compose, user="ic1", priority="normal", text="   ")

    assert ack == {"response_action": "errors", "errors": {"text": "Write the message to send."}}


async def test_incident_start_alone_opens_a_form_that_starts_the_incident(
    slack: SlackBot, store: Store
) -> None:
    form = await open_form(slack, "/incident", "start", channel="CINC", hook="inc")

    ack = await submit(slack, form, title="Fire drill, east wing", severity="1", drill=["drill"])
    await slack.settle()

    assert ack == {}
    incident = await store.open_incident()
    assert incident is not None
    assert (incident.title, incident.severity, incident.drill) == ("Fire drill, east wing", 1, True)
    assert incident.commander.name == "Dr. Alice Rivera"
    [answer] = slack.stub.hooks("inc")
    assert "Opened " in answer.visible_text()


async def test_a_second_incident_from_the_form_is_refused_under_the_title(
    slack: SlackBot, store: Store
) -> None:
    await slack.slash("/incident", "start Teams outage")
    await slack.settle()
    form = await open_form(slack, "/incident", "start")

    ack = await submit(slack, form, title="Another one", severity="2")

    assert ack["response_action"] == "errors"
    incident = await store.open_incident()
    assert incident is not None and incident.title == "Teams outage"
    assert ack["errors"] == {
        "title": f"{incident.id} “Teams outage” is already open (commander Dr. Alice Rivera). "
        "Close it first with: incident close [summary]"
    }


async def test_a_title_with_double_quotes_is_answered_under_the_field(slack: SlackBot) -> None:
    form = await open_form(slack, "/incident", "start")

    ack = await submit(slack, form, title='The "Teams" outage', severity="2")

    assert ack == {
        "response_action": "errors",
        "errors": {"title": "Leave double quotes out of the title."},
    }
