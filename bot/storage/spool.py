"""The local spool: while Redis is unreachable, the writes people make in the moment go to an
fsynced journal under the data dir, to be replayed into the store once it is back.

A journal is a directory of JSON-lines files. Each process appends to a file of its own and holds
an exclusive `flock` on every file it has written or adopted, so a file whose lock can be taken
belongs to a process that died: the next process on this data dir adopts and replays it. Entries
carry the command's idempotency key, so a file replayed twice (a crash between replaying and
deleting it) records each entry once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bot.config.tuning import SpoolLimits
from bot.domain.errors import SpoolFull

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SpooledEntry:
    ref: str  # what the person was told, e.g. S-3FA9C1
    op: str  # which write to replay, e.g. "checkin"
    command_id: str  # the idempotency key of the write
    at: datetime  # when the person sent it
    payload: dict[str, Any]

    def line(self) -> bytes:
        data = {**self.__dict__, "at": self.at.isoformat()}
        return (json.dumps(data, ensure_ascii=False) + "\n").encode()

    @classmethod
    def parse(cls, line: bytes) -> SpooledEntry:
        data = json.loads(line)
        return cls(
            data["ref"],
            data["op"],
            data["command_id"],
            datetime.fromisoformat(data["at"]),
            data["payload"],
        )


@dataclass
class JournalFile:
    """One locked file of the journal, and what is in it."""

    path: Path
    fd: int
    entries: int = 0
    size: int = 0
    oldest: datetime | None = None

    def note(self, entry: SpooledEntry, size: int) -> None:
        self.entries += 1
        self.size += size
        if self.oldest is None or entry.at < self.oldest:
            self.oldest = entry.at

    def read(self) -> list[SpooledEntry]:
        """Every complete entry; a line cut short by a crash (never answered) is skipped."""
        found = []
        for line in self.path.read_bytes().splitlines():
            try:
                found.append(SpooledEntry.parse(line))
            except (ValueError, KeyError, TypeError):
                log.warning("spool.unreadable_line", path=str(self.path), length=len(line))
        return found

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


@dataclass
class Spool:
    directory: Path
    limits: SpoolLimits
    clock: Callable[[], datetime]
    _current: JournalFile | None = None
    _sealed: list[JournalFile] = field(default_factory=list)  # oldest first, awaiting replay
    _queue: list[tuple[bytes, SpooledEntry, asyncio.Future[None]]] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def pending(self) -> bool:
        """Entries not yet replayed, or on their way in: new writes queue behind them."""
        return bool(self._sealed or self._queue or (self._current and self._current.entries))

    @property
    def entries(self) -> int:
        return sum(f.entries for f in self._files()) + len(self._queue)

    def _files(self) -> list[JournalFile]:
        return [*self._sealed, *([self._current] if self._current else [])]

    def adopt_orphans(self) -> int:
        """Take over the files of processes that died (their lock is free); returns entries."""
        self.directory.mkdir(parents=True, exist_ok=True)
        ours = {f.path for f in self._files()}
        adopted = 0
        for path in sorted(self.directory.glob("*.jsonl")):
            if path in ours:
                continue
            journal = _lock(path)
            if journal is None:
                continue  # a live process's file
            found = journal.read()
            if not found:
                _remove(journal)
                continue
            for entry in found:
                journal.note(entry, len(entry.line()))
            self._sealed.append(journal)
            adopted += journal.entries
            log.warning("spool.adopted", path=str(path), entries=journal.entries)
        self._sealed.sort(key=lambda f: f.path.name)
        return adopted

    async def append(self, op: str, command_id: str, at: datetime, payload: dict[str, Any]) -> str:
        """Journal one write (fsynced before this returns); returns its ref. Raises SpoolFull."""
        self._check_limits()
        entry = SpooledEntry("S-" + secrets.token_hex(3).upper(), op, command_id, at, payload)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((entry.line(), entry, done))
        if len(self._queue) == 1:
            asyncio.get_running_loop().call_soon(self._start_flush)
        await done
        return entry.ref

    def _check_limits(self) -> None:
        files = self._files()
        oldest = min((f.oldest for f in files if f.oldest is not None), default=None)
        if self.entries >= self.limits.max_entries:
            raise SpoolFull(f"{self.entries} entries")
        if sum(f.size for f in files) >= self.limits.max_bytes:
            raise SpoolFull("size limit")
        if oldest is not None and self.clock() - oldest > self.limits.max_age:
            raise SpoolFull("oldest entry past the age limit")

    def _start_flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.ensure_future(self._flush(batch))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _flush(self, batch: list[tuple[bytes, SpooledEntry, asyncio.Future[None]]]) -> None:
        """One write and one fsync for all the entries queued in the same loop turn."""
        async with self._lock:
            try:
                journal = self._current or self._new_file()
                self._current = journal
                data = b"".join(line for line, _, _ in batch)
                await asyncio.to_thread(_write_synced, journal.fd, data)
            except BaseException as error:  # a full disk, or shutdown: nothing was kept
                failure = SpoolFull(f"journal not written: {error!r}")
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                raise
            for line, entry, done in batch:
                journal.note(entry, len(line))
                if not done.done():
                    done.set_result(None)

    def _new_file(self) -> JournalFile:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(2)}.jsonl"
        journal = _lock(self.directory / name)
        if journal is None:  # pragma: no cover - a fresh, unique name
            raise SpoolFull("could not lock a new journal file")
        _sync_directory(self.directory)
        return journal

    async def seal(self) -> list[JournalFile]:
        """Close the current file to appends (new ones start a new file) and return every file
        awaiting replay, oldest first."""
        async with self._lock:
            if self._current is not None and self._current.entries:
                self._sealed.append(self._current)
                self._current = None
            return list(self._sealed)

    def discard(self, journal: JournalFile) -> None:
        """A replayed file: delete it (durably), then let go of its lock."""
        _remove(journal)
        self._sealed = [f for f in self._sealed if f is not journal]

    def close(self) -> None:
        for journal in self._files():
            journal.close()


def _lock(path: Path) -> JournalFile | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return JournalFile(path, fd)


def _remove(journal: JournalFile) -> None:
    journal.path.unlink(missing_ok=True)
    _sync_directory(journal.path.parent)
    journal.close()


def _write_synced(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
