"""One command's writes, applied atomically by a Lua script: guards, a log entry, its indexes, and
side writes — or nothing at all. A repeated idempotency key returns the first result instead."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from bot.domain.errors import StoreUnavailable
from bot.domain.models import LogEntry
from bot.storage.keys import Keys

# KEYS[1] log stream, KEYS[2] idempotency key, then index keys, then keys used by guards and writes.
# ARGV[1] entry JSON, ARGV[2] index key count, ARGV[3] guards JSON, ARGV[4] writes JSON,
# ARGV[5] idempotency TTL (s). "$ID" in a write argument is replaced by the new entry's id.
_SCRIPT = """
local done = redis.call('GET', KEYS[2])
if done then return {'dup', done} end
local guards = cjson.decode(ARGV[3])
for i, guard in ipairs(guards) do
  local value
  if guard[2] == 'not_recent' then
    value = redis.call('HGET', KEYS[guard[1]], guard[6])
  else
    value = redis.call('GET', KEYS[guard[1]])
  end
  if guard[2] == 'absent' and value then return {'guard', tostring(i)} end
  if guard[2] == 'equals' and value ~= guard[3] then return {'guard', tostring(i)} end
  if guard[2] == 'not_recent' and value then
    local mark, at = string.match(value, '^(%S+) (%S+)$')
    if mark == guard[3] and math.abs(tonumber(guard[4]) - tonumber(at)) < tonumber(guard[5]) then
      return {'guard', tostring(i)}
    end
  end
end
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
local ms, seq = string.match(id, '(%d+)-(%d+)')
local member = string.rep('0', 15 - #ms) .. ms .. '-' .. string.rep('0', 10 - #seq) .. seq
for i = 3, 2 + tonumber(ARGV[2]) do
  redis.call('ZADD', KEYS[i], 0, member)
end
for _, write in ipairs(cjson.decode(ARGV[4])) do
  local args = {}
  for j = 3, #write do
    if write[j] == '$ID' then args[#args + 1] = id else args[#args + 1] = write[j] end
  end
  redis.call(write[1], KEYS[write[2]], unpack(args))
end
redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[5]))
return {'ok', id}
"""

ENTRY_ID = "$ID"
IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 3600


class GuardFailed(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(f"guard {index} failed")
        self.index = index


@dataclass(frozen=True)
class Committed:
    entry_id: str
    duplicate: bool


def index_member(entry_id: str) -> str:
    """Zero-padded stream id, so lexical order in the index sorted sets is time order."""
    ms, seq = entry_id.split("-")
    return f"{int(ms):015d}-{int(seq):010d}"


def entry_id_of(member: str) -> str:
    ms, seq = member.split("-")
    return f"{int(ms)}-{int(seq)}"


@dataclass
class UnitOfWork:
    entry: LogEntry
    idempotency_key: str
    _keys: list[str] = field(default_factory=list)
    _guards: list[list[Any]] = field(default_factory=list)
    _writes: list[list[Any]] = field(default_factory=list)

    def _slot(self, key: str) -> int:
        if key not in self._keys:
            self._keys.append(key)
        return self._keys.index(key)

    def require_absent(self, key: str) -> int:
        """Abort with GuardFailed(n) if `key` exists; returns n (1-based)."""
        self._guards.append([self._slot(key), "absent"])
        return len(self._guards)

    def require_equals(self, key: str, value: str) -> int:
        self._guards.append([self._slot(key), "equals", value])
        return len(self._guards)

    def require_not_recent(self, key: str, field: str, mark: str, at: float, window: float) -> int:
        """Abort with GuardFailed(n) if hash `key`'s `field` holds "`mark` <time>" with a time
        less than `window` seconds from `at` (the commands' own times, in epoch seconds)."""
        self._guards.append([self._slot(key), "not_recent", mark, repr(at), repr(window), field])
        return len(self._guards)

    def hset(self, key: str, mapping: dict[str, str]) -> None:
        pairs = [item for pair in mapping.items() for item in pair]
        self._writes.append(["HSET", self._slot(key), *pairs])

    def set(self, key: str, value: str) -> None:
        self._writes.append(["SET", self._slot(key), value])

    def delete(self, key: str) -> None:
        self._writes.append(["DEL", self._slot(key)])

    def zadd(self, key: str, score: float, member: str) -> None:
        self._writes.append(["ZADD", self._slot(key), repr(score), member])

    def xadd(self, key: str, fields: dict[str, str]) -> None:
        """Append an entry to a stream (the delivery outbox) with the command's other writes."""
        pairs = [item for pair in fields.items() for item in pair]
        self._writes.append(["XADD", self._slot(key), "*", *pairs])


def index_keys(keys: Keys, entry: LogEntry) -> list[str]:
    found = [keys.index("kind", entry.kind.value), keys.index("actor", entry.actor.id)]
    if entry.department:
        found.append(keys.index("dept", entry.department))
    if entry.incident_id:
        found.append(keys.index("incident", entry.incident_id))
    return found


class Committer:
    """Runs units of work against Redis with one script.

    Units committed in the same event-loop turn (concurrent commands) go out as one pipeline:
    each script call is still atomic on its own, but the batch shares one connection checkout,
    one write and one read — most of a write's cost at 50 commands in flight was redis-py's
    per-call overhead, not Redis.
    """

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._script = redis.register_script(_SCRIPT)
        self._pending: list[tuple[list[str], list[str], asyncio.Future[Any]]] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def commit(self, work: UnitOfWork) -> Committed:
        indexes = index_keys(self._keys, work.entry)
        fixed = [self._keys.log, self._keys.idempotency(work.idempotency_key), *indexes]
        offset = len(fixed)

        def shift(rows: list[list[Any]], position: int) -> list[list[Any]]:
            return [
                [*row[:position], row[position] + offset + 1, *row[position + 1 :]] for row in rows
            ]

        entry_json = work.entry.model_dump_json(exclude={"id"})
        argv = [
            entry_json,
            str(len(indexes)),
            json.dumps(shift(work._guards, 0)),
            json.dumps(shift(work._writes, 1)),
            str(IDEMPOTENCY_TTL_SECONDS),
        ]
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(([*fixed, *work._keys], argv, result))
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._start_flush)
        status, value = await result
        status = as_text(status)
        value = as_text(value)
        if status == "guard":
            raise GuardFailed(int(value))
        return Committed(entry_id=value, duplicate=status == "dup")

    def _start_flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._flush(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush(self, batch: list[tuple[list[str], list[str], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._run(batch)
        except BaseException as error:  # the connection failed: every waiting command hears it
            failure = (
                error if isinstance(error, Exception) else StoreUnavailable("write interrupted")
            )
            for _, _, result in batch:
                if not result.done():
                    result.set_exception(failure)
            if not isinstance(error, Exception):
                raise  # cancelled (shutdown): the task itself still ends as cancelled
            return
        for (_, _, result), answer in zip(batch, results, strict=True):
            if result.done():
                continue
            if isinstance(answer, Exception):
                result.set_exception(answer)
            else:
                result.set_result(answer)

    async def _run(
        self, batch: list[tuple[list[str], list[str], asyncio.Future[Any]]]
    ) -> list[Any]:
        # The registered script loads itself into a fresh or restarted server (the pipeline
        # checks SCRIPT EXISTS before it runs).
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                await self._script(keys=keys, args=args, client=pipe)
            results: list[Any] = await pipe.execute(raise_on_error=False)
        return results


def as_text(value: bytes | str) -> str:
    """Redis answers in bytes (the client does not decode, the log stores raw JSON)."""
    return value.decode() if isinstance(value, bytes) else value
