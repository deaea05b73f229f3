"""`POST /slack/events` under random input: unsigned anything gets 401, signed anything gets an
answer below 500, a refused request writes nothing, and nothing fails unhandled."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import strategies as st
from redis.asyncio import Redis
from slack_sdk.signature import SignatureVerifier
from structlog.testing import capture_logs

from bot.domain.facility import FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from tests.fuzz.strategies import (
    block_actions,
    examples,
    good_clicks,
    good_slash,
    json_values,
    mention_events,
    slash_forms,
)
from tests.slack_harness import SIGNING_SECRET, STAFF_NAMES, SlackBot, running_bot

UNHANDLED = {"slack.background_failed", "command.failed", "slack.request_failed"}
FORM = "application/x-www-form-urlencoded"
UNSIGNED_CASES = 600
SIGNED_CASES = 1000


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    # Board edits and Home re-publishes at once: each example waits for what it started, and
    # otherwise the wait is their interval.
    async with running_bot(
        redis_server, facility, users=STAFF_NAMES, board_interval=0, slack_home_interval=0
    ) as bot:
        yield bot


async def send(bot: SlackBot, body: bytes, headers: dict[str, str]) -> tuple[int, int, int]:
    """Status, and log entries before and after (once everything it started has finished)."""
    before = await bot.lifeline.store.log.count()
    async with bot.http.post(bot.base_url + "/slack/events", data=body, headers=headers) as r:
        await r.read()
    await bot.settle()
    return r.status, before, await bot.lifeline.store.log.count()


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


HEADERS = st.dictionaries(
    st.sampled_from(
        ["X-Slack-Request-Timestamp", "X-Slack-Signature", "Content-Type", "X-Slack-Retry-Num"]
    ),
    st.one_of(
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
        st.integers(0, 2**40).map(str),
        st.just(str(int(time.time()))),
    ),
    max_size=4,
)
SIGNED_BODIES = st.one_of(
    st.tuples(st.binary(max_size=200), st.sampled_from(["application/json", FORM])),
    st.tuples(json_values.map(lambda v: json.dumps(v).encode()), st.just("application/json")),
    st.tuples(json_values.map(form), st.just(FORM)),
    st.tuples(block_actions.map(form), st.just(FORM)),
    st.tuples(block_actions.map(lambda p: json.dumps(p).encode()), st.just("application/json")),
    st.tuples(slash_forms.map(lambda f: urlencode(f).encode()), st.just(FORM)),
    st.tuples(mention_events.map(lambda e: json.dumps(e).encode()), st.just("application/json")),
    st.tuples(good_clicks.map(form), st.just(FORM)),
    st.tuples(good_slash.map(lambda f: urlencode(f).encode()), st.just(FORM)),
)


async def test_unsigned_requests_get_401_and_write_nothing(slack: SlackBot) -> None:
    drawn = examples(st.tuples(st.binary(max_size=300), HEADERS), UNSIGNED_CASES)
    started = time.monotonic()
    with capture_logs() as logs:
        for body, headers in drawn:
            status, before, after = await send(slack, body, headers)
            assert (status, after) == (401, before), (body, headers)
    seconds = time.monotonic() - started

    assert not any(entry["event"] in UNHANDLED or "exc_info" in entry for entry in logs)
    lines = sum(entry["event"] == "slack.request_unsigned" for entry in logs)
    assert 1 <= lines <= 1 + seconds // 10  # one line per 10 s, however many requests


async def test_signed_requests_of_any_shape_never_fail_and_refusals_write_nothing(
    slack: SlackBot,
) -> None:
    statuses: dict[int, int] = {}
    with capture_logs() as logs:
        for body, content_type in examples(SIGNED_BODIES, SIGNED_CASES):
            headers = {"Content-Type": content_type}
            try:
                headers |= signed(body)
            except UnicodeDecodeError:  # Slack signs text: these bytes cannot carry a signature
                headers |= {"X-Slack-Request-Timestamp": str(int(time.time()))}
            status, before, after = await send(slack, body, headers)
            statuses[status] = statuses.get(status, 0) + 1
            assert status in (200, 400, 401, 404), (status, body)
            if status != 200:
                assert after == before, body

    assert not [entry for entry in logs if entry["event"] in UNHANDLED]
    # Both sides of the door are reached: answered requests, and refused ones.
    assert statuses.get(200, 0) > SIGNED_CASES // 20, statuses
    assert statuses.get(400, 0) > SIGNED_CASES // 4, statuses
    entries = await slack.lifeline.store.log.count()
    assert entries > 0  # some random commands were well-formed enough to be recorded
