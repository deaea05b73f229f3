"""The incident log: appends through units of work, and indexed newest-first queries that never
scan the whole stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from bot.domain.log_query import IndexDimension, LogQuery
from bot.domain.models import LogEntry
from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys
from bot.storage.unit_of_work import as_text, entry_id_of, index_member

_MAX_MEMBER = "+"


def _decode_entry(entry_id: Any, fields: Any) -> LogEntry:
    # The stored JSON has no id (the stream gives it): spliced in, one validation, no copy.
    ident = entry_id if isinstance(entry_id, bytes) else entry_id.encode()
    return LogEntry.model_validate_json(b'{"id":"' + ident + b'",' + fields[b"e"][1:])


def _record(entry_id: Any, fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(fields[b"e"])
    record["id"] = as_text(entry_id)
    return record


def _since_id(since: datetime | None) -> str:
    return "-" if since is None else f"{int(since.timestamp() * 1000)}-0"


def _until_id(until: datetime | None) -> str:
    """The last id before `until` (an exclusive bound written as an inclusive one)."""
    return "+" if until is None else f"{int(until.timestamp() * 1000) - 1}-{2**63 - 1}"


STREAM_PAGE = 1000


def _id_order(entry_id: str) -> tuple[int, int]:
    """Stream ids in time order; `-` and `+` are the open ends."""
    if entry_id in ("-", "+"):
        return (-1, -1) if entry_id == "-" else (2**63, 2**63)
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


@speaks_domain
class LogReader:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def get(self, entry_ids: Sequence[str]) -> list[LogEntry]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in entry_ids:
                pipe.xrange(self._keys.log, entry_id, entry_id, count=1)
            results = await pipe.execute()
        return [_decode_entry(*found[0]) for found in results if found]

    async def count(self) -> int:
        return int(await self._redis.xlen(self._keys.log))

    async def query(self, query: LogQuery) -> list[LogEntry]:
        """Newest first. Drives the walk from the smallest matching index; time bounds are
        index ranges, so neither the stream nor a large index is read past what is returned."""
        if not query.dimensions:
            rows = await self._redis.xrevrange(
                self._keys.log, "+", _since_id(query.since), count=query.limit
            )
            return [_decode_entry(entry_id, fields) for entry_id, fields in rows or []]
        driving = await self._smallest_dimension(query)
        index_keys = [self._keys.index(driving[0], value) for value in driving[1]]
        floor = "-" if query.since is None else "[" + index_member(_since_id(query.since))
        found: list[LogEntry] = []
        ceiling = _MAX_MEMBER
        # With one filter dimension every index hit matches; otherwise read ahead, some won't.
        exact = len(query.dimensions) == 1
        while len(found) < query.limit:
            needed = query.limit - len(found)
            batch = needed if exact else max(needed * 2, 64)
            members = await self._merged_page(index_keys, ceiling, floor, batch)
            if not members:
                break
            entries = await self.get([entry_id_of(member) for member in members])
            found.extend(entry for entry in entries if query.matches(entry))
            if len(members) < batch:
                break
            ceiling = "(" + members[-1]
        return found[: query.limit]

    async def stream(
        self, query: LogQuery, page: int = STREAM_PAGE
    ) -> AsyncIterator[list[LogEntry]]:
        """Every matching entry, oldest first, in pages of at most `page` (the limit is not
        applied): a report reads a log of any size in bounded memory."""
        async for records in self.stream_records(query, page):
            yield [LogEntry.model_validate(record) for record in records]

    async def stream_records(
        self, query: LogQuery, page: int = STREAM_PAGE
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """As `stream`, but each entry as its stored JSON decoded (with its id): an export of
        1,000,000 entries skips building and validating a model per entry. Without filters it
        walks the stream with XRANGE; for an incident, its span of the stream; otherwise the
        smallest index."""
        if not query.dimensions:
            async for records in self._stream_span(query, page):
                yield records
            return
        if query.incident_id:
            async for records in self._stream_incident(query, query.incident_id, page):
                yield records
            return
        driving = await self._smallest_dimension(query)
        index_keys = [self._keys.index(driving[0], value) for value in driving[1]]
        floor = "-" if query.since is None else "[" + index_member(_since_id(query.since))
        ceiling = "+" if query.until is None else "[" + index_member(_until_id(query.until))
        while True:
            members = await self._merged_page_forward(index_keys, floor, ceiling, page)
            if not members:
                return
            records = await self._records([entry_id_of(member) for member in members])
            found = [record for record in records if query.matches_record(record)]
            if found:
                yield found
            if len(members) < page:
                return
            floor = "(" + members[-1]

    async def _stream_incident(
        self, query: LogQuery, incident_id: str, page: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """One incident is open at a time, so its entries lie together in the stream: read the
        span from its first to its last entry in pages and keep what matches, rather than
        fetching the entries one by one through the index (16× slower over 100,000)."""
        key = self._keys.index("incident", incident_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrange(key, 0, 0)
            pipe.zrange(key, -1, -1)
            first, last = await pipe.execute()
        if not first:
            return
        low = max(entry_id_of(as_text(first[0])), _since_id(query.since), key=_id_order)
        high = min(entry_id_of(as_text(last[0])), _until_id(query.until), key=_id_order)
        async for records in self._stream_span(query, page, low, high):
            found = [record for record in records if query.matches_record(record)]
            if found:
                yield found

    async def _stream_span(
        self, query: LogQuery, page: int, low: str | None = None, high: str | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        low = low or _since_id(query.since)
        high = high or _until_id(query.until)
        while True:
            rows = await self._redis.xrange(self._keys.log, low, high, count=page)
            if not rows:
                return
            yield [_record(entry_id, fields) for entry_id, fields in rows]
            if len(rows) < page:
                return
            low = "(" + as_text(rows[-1][0] or b"")

    async def _records(self, entry_ids: Sequence[str]) -> list[dict[str, Any]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in entry_ids:
                pipe.xrange(self._keys.log, entry_id, entry_id, count=1)
            results = await pipe.execute()
        return [_record(*found[0]) for found in results if found]

    async def _merged_page_forward(
        self, index_keys: list[str], floor: str, ceiling: str, batch: int
    ) -> list[str]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in index_keys:
                pipe.zrangebylex(key, floor, ceiling, start=0, num=batch)
            pages = await pipe.execute()
        merged = sorted({m.decode() if isinstance(m, bytes) else m for p in pages for m in p})
        return merged[:batch]

    async def _smallest_dimension(self, query: LogQuery) -> tuple[IndexDimension, Sequence[str]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for dimension, values in query.dimensions:
                for value in values:
                    pipe.zcard(self._keys.index(dimension, value))
            sizes = iter(await pipe.execute())
        totals = [
            (sum(next(sizes) for _ in values), (dim, values)) for dim, values in query.dimensions
        ]
        return min(totals, key=lambda pair: pair[0])[1]

    async def _merged_page(
        self, index_keys: list[str], ceiling: str, floor: str, batch: int
    ) -> list[str]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in index_keys:
                pipe.zrevrangebylex(key, ceiling, floor, start=0, num=batch)
            pages = await pipe.execute()
        merged = sorted(
            {m.decode() if isinstance(m, bytes) else m for page in pages for m in page},
            reverse=True,
        )
        return merged[:batch]

    async def newest_id(self) -> str:
        """The id of the newest entry ("0-0" for an empty log)."""
        rows = await self._redis.xrevrange(self._keys.log, "+", "-", count=1)
        if not rows:
            return "0-0"
        newest = rows[0][0]
        return newest.decode() if isinstance(newest, bytes) else str(newest)

    async def wait_after(self, entry_id: str, seconds: float) -> str:
        """Wait until an entry newer than `entry_id` is appended, by any process, or `seconds`
        pass; returns the newest id. Every state change writes the log, so this is the change
        feed of the whole facility, and it costs the writers nothing (a blocking XREAD)."""
        await self._redis.xread({self._keys.log: entry_id}, count=1, block=int(seconds * 1000))
        return await self.newest_id()
