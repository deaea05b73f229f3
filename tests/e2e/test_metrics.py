"""`GET /metrics`: prometheus_client's exposition of the app's own registry, as Prometheus reads it."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.slack_harness import SlackBot


async def scrape(slack: SlackBot) -> dict[str, list[Sample]]:
    async with slack.http.get(slack.base_url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    [found] = [s.value for s in samples if s.name == name and s.labels == labels]
    return found


async def test_commands_are_counted_and_timed_by_transport_command_and_outcome(
    slack: SlackBot,
) -> None:
    await slack.slash("/checkin", "pharmacy down cabinets on override")
    await slack.slash("/checkin", "lab up")
    await slack.slash("/checkin", "cardiology down")
    await slack.settle()

    families = await scrape(slack)

    commands = families["lifeline_commands"]
    assert value(commands, "lifeline_commands_total", transport="slack", command="status",
                 outcome="recorded") == 2  # fmt: skip
    assert value(commands, "lifeline_commands_total", transport="slack", command="status",
                 outcome="error") == 1  # fmt: skip
    latency = families["lifeline_command_seconds"]
    assert value(latency, "lifeline_command_seconds_count", command="status") == 3
    buckets = [s for s in latency if s.name == "lifeline_command_seconds_bucket"]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "0.1", "+Inf"}  # p50/p99 derivable
    assert value(latency, "lifeline_command_seconds_bucket", command="status", le="+Inf") == 3


async def test_deliveries_retries_and_rate_limit_waits_are_counted(slack: SlackBot) -> None:
    slack.stub.fail("chat.postMessage", 429, retry_after=1)
    slack.stub.fail("chat.postMessage", 503)

    await slack.slash("/incident", "start Teams outage", channel="C1")  # posts the board
    await slack.settle()

    families = await scrape(slack)
    retries = families["lifeline_retries"]
    assert value(retries, "lifeline_retries_total", transport="slack", reason="rate_limited") == 1
    assert value(retries, "lifeline_retries_total", transport="slack", reason="error") == 1
    waits = families["lifeline_rate_limit_wait_seconds"]
    assert value(waits, "lifeline_rate_limit_wait_seconds_total", transport="slack") == 1.0
    deliveries = families["lifeline_deliveries"]
    assert value(deliveries, "lifeline_deliveries_total", transport="slack", result="ok") >= 2


async def test_redis_reachability_and_process_metrics_are_exposed(slack: SlackBot) -> None:
    families = await scrape(slack)

    assert value(families["lifeline_redis_reachable"], "lifeline_redis_reachable") == 1
    assert value(families["process_resident_memory_bytes"], "process_resident_memory_bytes") > 0
    assert value(families["process_open_fds"], "process_open_fds") > 0
    assert "process_cpu_seconds" in families
