"""Hypothesis strategies for outside input: command lines, JSON of any shape, Slack payloads."""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

T = TypeVar("T")

WORDS = (
    "status", "pharmacy", "lab", "blood", "bank", "down", "up", "partial", "na", "incident",
    "start", "close", "handoff", "period", "broadcast", "urgent", "info", "runbook", "teams",
    "done", "undo", "1", "2", "99", "ack", "B-1", "log", "since", "2h", "14:00", "by", "limit",
    "help", "rollcall", "sev", "drill", '"', "“", "<@U1>", "<@UBOT>", "@x", "@a:b", "not-phi",
    "MRN", "4417892", "Mr", "Jones", "bed", "12", "\n", "\u202e", "\u200b", "\x00", "export",
)  # fmt: skip

command_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=8).map(" ".join),
)

HEADS = (
    "status pharmacy down", "status lab", "status blood bank up", "incident start",
    "incident handoff", "incident close", "incident period", "broadcast", "broadcast urgent",
    "broadcast info", "runbook teams", "runbook teams done 1", "runbook ehr undo", "ack", "log",
    "log pharmacy since", "help", "rollcall", "/status", "!incident",
)  # fmt: skip
# Lines that reach a command's own parser, not only the router's "no such command".
command_lines = st.one_of(
    command_text,
    st.tuples(st.sampled_from(HEADS), command_text).map(" ".join),
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right shape or any shape at all."""
    return st.one_of(strategy, json_values)


user_ids = st.sampled_from(["U1", "U2", "ic1", "", "UBOT", "W9"])

block_actions = st.fixed_dictionaries(
    {"type": st.just("block_actions")},
    optional={
        "user": maybe(st.fixed_dictionaries({"id": maybe(user_ids)}, optional={"name": maybe(st.text(max_size=5))})),
        "actions": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"action_id": maybe(st.just("lifeline-action-0"))},
                    optional={"value": maybe(command_lines), "action_ts": maybe(st.just("1.2"))},
                ),
                max_size=2,
            )
        ),
        "channel": maybe(st.fixed_dictionaries({"id": maybe(st.just("C1"))})),
        "container": maybe(
            st.fixed_dictionaries(
                {},
                optional={"message_ts": maybe(st.just("1.1")), "channel_id": maybe(st.just("C1")),
                          "is_ephemeral": json_values},
            )
        ),
        "message": maybe(st.fixed_dictionaries({}, optional={"ts": maybe(st.just("1.1"))})),
        "trigger_id": maybe(st.text(max_size=8)),
        "authorizations": maybe(st.lists(st.dictionaries(st.text(max_size=5), json_values))),
    },
)  # fmt: skip

slash_forms = st.fixed_dictionaries(
    {"command": st.sampled_from(["/checkin", "/incident", "/lifeline", "/nope", "x", ""])},
    optional={
        "user_id": user_ids,
        "text": command_lines,
        "channel_id": st.sampled_from(["C1", ""]),
        "trigger_id": st.text(max_size=8),
        "user_name": st.text(max_size=8),
    },
)

mention_events = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited", ""])},
    optional={
        "event": maybe(
            st.fixed_dictionaries(
                {"type": maybe(st.sampled_from(["app_mention", "message"]))},
                optional={
                    "user": maybe(user_ids),
                    "text": maybe(command_lines.map(lambda text: "<@UBOT> " + text)),
                    "channel": maybe(st.just("C1")),
                    "ts": maybe(st.just("1700000100.000001")),
                    "bot_id": maybe(st.just("B1")),
                },
            )
        ),
        "event_id": maybe(st.text(max_size=8)),
        "challenge": maybe(st.text(max_size=8)),
        "authorizations": maybe(st.lists(st.dictionaries(st.text(max_size=5), json_values))),
    },
)


def examples(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` inputs drawn by hypothesis (derandomized: the same ones every run), to replay
    against a bot on the test's own event loop. Hypothesis runs synchronous tests; driving a
    running bot from them costs a thread hop per example, several times the request itself."""
    drawn: list[T] = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn


# Well-formed requests carrying random command lines: they reach the router and its writes.
good_clicks = st.builds(
    lambda user, value: {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "trigger_id": "1.2.click",
        "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
        "actions": [{"action_id": "lifeline-action-0", "value": value, "action_ts": "1.2"}],
    },
    st.sampled_from(["U1", "U2", "ic1"]),
    command_lines,
)
good_slash = st.fixed_dictionaries(
    {
        "command": st.just("/lifeline"),
        "user_id": st.sampled_from(["U1", "U2", "ic1"]),
        "text": command_lines,
        "channel_id": st.just("C1"),
        "trigger_id": st.text(alphabet="0123456789.", min_size=1, max_size=8),
    }
)
