"""Tunables: timings and bounds the assembly passes down (tests pass faster ones), never patched
onto a running object afterwards."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries per call, rate limits and errors together
    backoff: float = 0.5  # first wait after a server or network error; doubles each time
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After still waits, capped at this
    max_wait: float = math.inf  # seconds of waiting per call, in total


@dataclass(frozen=True)
class RestartPolicy:
    """How the embedded redis-server is restarted when it dies (bot/storage/supervisor.py)."""

    poll: float = 0.1  # seconds between looks at the server process
    backoff: float = 0.5  # pause before the second restart in a row; doubles per crash
    max_backoff: float = 30.0
    stable_after: float = 30.0  # up this long after a restart: the next crash is a first one


@dataclass(frozen=True)
class SpoolLimits:
    """Bounds of the local spool that keeps writes while Redis is unreachable (README: Spool)."""

    max_entries: int = 10_000
    max_bytes: int = 16 * 1024 * 1024
    max_age: timedelta = timedelta(hours=24)  # an outage longer than this: refuse, go to paper
    replay_poll: float = 0.25  # seconds between looks for Redis (and orphaned journals)


SLACK_RETRY = RetryPolicy()
# How long one Matrix message may wait for `M_LIMIT_EXCEEDED` or an unreachable homeserver.
MATRIX_RETRY = RetryPolicy(attempts=10, backoff=0.5, max_backoff=10.0, max_wait=120.0)


@dataclass(frozen=True)
class Tuning:
    edit_interval: float = 1.0  # least time between two edits of one message (board, ack counts)
    live_board: bool = True  # post and edit the board (the console has nothing to edit)
    scheduler_poll: float = 1.0  # seconds between looks for due jobs (roll-call reminders)
    scheduler_lease: timedelta = timedelta(minutes=2)  # a claimed job comes back after this
    outbox_lease: timedelta = timedelta(seconds=15)  # unrenewed this long, an entry is reclaimed
    outbox_poll: float = 1.0  # seconds between looks for entries another replica wrote
    outbox_attempts: int = 5  # claims of one entry before it is given up and reported
    slack_retry: RetryPolicy = SLACK_RETRY
    slack_ack_budget: float = 1.5  # answer in the ack if the command finishes this fast (≤ 3 s)
    slack_name_timeout: float = 1.0  # users.info lookups longer than this fall back
    slack_lookup_budget: float = 0.25  # the department a form pre-sets, looked up this fast or not
    slack_home_keep: timedelta = timedelta(minutes=30)  # who opened Home this recently sees it live
    slack_home_interval: float = 2.0  # least seconds between two Home re-publish rounds
    slack_home_audience: int = 200  # recent Home openers re-published per round, at most
    matrix_retry: RetryPolicy = MATRIX_RETRY
    matrix_sync_timeout_ms: int = 30_000
    matrix_timeline_limit: int = 50  # events per room per sync; more are paged in
    matrix_reconnect_min: float = 1.0  # first wait after losing the homeserver; doubles
    matrix_reconnect_max: float = 30.0
    board_min_interval: float = 0.5  # web board: least time between two renders (any viewers)
    board_refresh: float = 15.0  # web board: re-render this often even without a change
    redis_restart: RestartPolicy = RestartPolicy()
    spool: SpoolLimits = SpoolLimits()
    resend_window: int = 120  # seconds: the same check-in from the same person again is a resend
