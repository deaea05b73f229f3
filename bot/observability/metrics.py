"""Prometheus metrics on the app's own registry (never the global one), for `GET /metrics`."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

__all__ = ["CONTENT_TYPE", "Metrics"]

# Command latency: a check-in is a few ms; a slow platform or a long log query tens to hundreds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self._commands = Counter(
            "lifeline_commands",
            "Commands handled, by transport, command and outcome.",
            ["transport", "command", "outcome"],
            registry=r,
        )
        self._latency = Histogram(
            "lifeline_command_seconds",
            "Time to handle a command, from the router's view.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._deliveries = Counter(
            "lifeline_deliveries",
            "Calls to chat platforms (posts, edits, pins), by transport and final result.",
            ["transport", "result"],
            registry=r,
        )
        self._retries = Counter(
            "lifeline_retries",
            "Calls to chat platforms retried, by transport and why (rate_limited or error).",
            ["transport", "reason"],
            registry=r,
        )
        self._rate_limit_wait = Counter(
            "lifeline_rate_limit_wait_seconds",
            "Seconds spent waiting out platforms' rate limits, by transport.",
            ["transport"],
            registry=r,
        )
        self._redis_up = Gauge(
            "lifeline_redis_reachable", "1 while the database answers, 0 while not.", registry=r
        )
        self._outbox_depth = Gauge(
            "lifeline_outbox_depth",
            "Messages owed to channels and not yet delivered (outbox entries).",
            registry=r,
        )
        self._outbox_age = Gauge(
            "lifeline_outbox_oldest_seconds",
            "Age of the oldest outbox entry not yet delivered; 0 when none.",
            registry=r,
        )
        self._outbox_takeovers = Counter(
            "lifeline_outbox_takeovers",
            "Outbox entries this process took over from one that stopped renewing them "
            "(reclaimed), gave up on (given_up), and copies found already sent (found_sent).",
            ["what"],
            registry=r,
        )
        self._throttled = Gauge(
            "lifeline_throttled",
            "1 while a chat platform is rate-limiting the bot (within the last minute), else 0.",
            ["transport"],
            registry=r,
        )
        self._send_queue = Gauge(
            "lifeline_send_queue",
            "Messages waiting for the transport's send budget, by transport.",
            ["transport"],
            registry=r,
        )
        self._redis_restarts = Counter(
            "lifeline_redis_restarts",
            "Times the embedded redis-server was found dead and restarted on its data.",
            registry=r,
        )
        self._redis_backoff = Gauge(
            "lifeline_redis_restart_backoff_seconds",
            "Pause before the next restart of a redis-server that keeps dying (0: none).",
            registry=r,
        )
        self._spool_depth = Gauge(
            "lifeline_spool_entries",
            "Writes kept in this server's spool, waiting for the database.",
            registry=r,
        )
        self._spool_replayed = Counter(
            "lifeline_spool_replayed",
            "Spooled writes replayed, by result (recorded, duplicate, rejected).",
            ["result"],
            registry=r,
        )
        ProcessCollector(registry=r)  # process_resident_memory_bytes, cpu seconds, open fds

    def command(self, transport: str, name: str, outcome: str, seconds: float) -> None:
        self._commands.labels(transport, name, outcome).inc()
        self._latency.labels(name).observe(seconds)

    def delivery(self, transport: str, result: str) -> None:
        self._deliveries.labels(transport, result).inc()

    def retry(self, transport: str, reason: str, wait: float) -> None:
        self._retries.labels(transport, reason).inc()
        if reason == "rate_limited":
            self._rate_limit_wait.labels(transport).inc(wait)

    def throttled(self, transport: str, throttled: bool) -> None:
        self._throttled.labels(transport).set(1 if throttled else 0)

    def send_queue(self, transport: str, waiting: int) -> None:
        self._send_queue.labels(transport).set(waiting)

    def redis_reachable(self, up: bool) -> None:
        self._redis_up.set(1 if up else 0)

    def outbox(self, depth: int, oldest_seconds: float) -> None:
        self._outbox_depth.set(depth)
        self._outbox_age.set(oldest_seconds)

    def outbox_takeover(self, what: str) -> None:
        self._outbox_takeovers.labels(what).inc()

    def redis_restarted(self) -> None:
        self._redis_restarts.inc()

    def redis_restart_backoff(self, seconds: float) -> None:
        self._redis_backoff.set(seconds)

    def spool_depth(self, entries: int) -> None:
        self._spool_depth.set(entries)

    def spool_replayed(self, result: str) -> None:
        self._spool_replayed.labels(result).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
