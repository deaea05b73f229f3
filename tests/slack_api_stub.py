"""A small stand-in for the Slack Web API, response_url hooks and the Socket Mode websocket.

It records every call, validates Block Kit with slack_sdk's models (as Slack would refuse it),
answers 429 / 500 when told to, and keeps the messages it was sent so tests can read the
channel the way a person would. The only fake in the Slack tests: Slack itself cannot run here.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BOT_USER_ID = "UBOT"
MAX_BLOCKS = 50


@dataclass
class Call:
    method: str  # Web API method, or `response_url` for hook posts
    params: dict[str, Any]
    token: str | None = None
    hook: str | None = None
    answer: dict[str, Any] | None = None  # what the method answered (not set if refused first)
    at: float = field(default_factory=time.perf_counter)  # when it arrived (benchmarks read it)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    def visible_text(self) -> str:
        """Every text the blocks show, joined (what a reader sees, entities still escaped)."""
        return "\n".join(_texts(self.params.get("blocks") or []))


@dataclass
class Failure:
    status: int
    retry_after: int | None


@dataclass
class Message:
    channel: str
    ts: str
    params: dict[str, Any]
    edits: int = 0
    pinned: bool = False


@dataclass
class Upload:
    """A file through files_upload_v2: asked for (name, length), its bytes, then shared."""

    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str = ""
    channel: str = ""
    thread_ts: str | None = None
    shared: bool = False


@dataclass
class SlackApiStub:
    users: dict[str, str] = field(default_factory=dict)  # user id → display name
    bots: set[str] = field(default_factory=set)  # users.info says is_bot (Lifeline itself is one)
    deactivated: set[str] = field(default_factory=set)  # users.info says deleted
    outside: set[str] = field(default_factory=set)  # public channels the bot is not a member of
    delays: dict[str, float] = field(default_factory=dict)  # method → seconds before answering
    arrived: Counter[str] = field(
        default_factory=Counter
    )  # method → calls received, answered or not
    calls: list[Call] = field(default_factory=list)
    invalid: list[tuple[Call, str]] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # Socket Mode envelope acks
    connections: int = 0
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # view id → the view now shown
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # user → their Home tab
    triggers_expired: bool = False  # views.open answers expired_trigger_id, as after 3 s
    uploads: dict[str, Upload] = field(default_factory=dict)  # file id → the upload
    _failures: dict[str, list[Failure]] = field(default_factory=lambda: defaultdict(list))
    _periodic: dict[str, tuple[int, tuple[int, ...], int]] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    port: int = 0

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> SlackApiStub:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/hooks/{hook}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def hook_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    # Test controls ---------------------------------------------------------------------------

    def fail(
        self, method: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """The next `times` calls of `method` answer `status` (429 with Retry-After, or 5xx)."""
        self._failures[method] += [Failure(status, retry_after)] * times

    def fail_every(
        self, method: str, every: int, statuses: tuple[int, ...], *, retry_after: int = 1
    ) -> None:
        """Every `every`-th call of `method` fails, cycling through `statuses` (429s, 5xx)."""
        self._periodic[method] = (every, statuses, retry_after)

    def shared_files(self) -> list[Upload]:
        return [upload for upload in self.uploads.values() if upload.shared]

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def hooks(self, name: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "response_url" and name in (None, c.hook)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async def until() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    def _periodic_failure(self, method: str) -> Failure | None:
        rule = self._periodic.get(method)
        if rule is None:
            return None
        every, statuses, retry_after = rule
        self._counts[method] += 1
        count = self._counts[method]
        if count % every:
            return None
        return Failure(statuses[(count // every - 1) % len(statuses)], retry_after)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    # Web API ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        self.arrived[method] += 1  # before any delay: calls in flight are seen
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        auth = request.headers.get("Authorization", "")
        call = Call(method, params, auth.removeprefix("Bearer ") or None)
        failures = self._failures.get(method)
        periodic = self._periodic_failure(method)
        if failures or periodic:
            failure = periodic or failures.pop(0)  # type: ignore[union-attr]
            self._record(call)
            if failure.status == 429:
                headers = {"Retry-After": str(failure.retry_after or 1)}
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers=headers
                )
            return web.Response(
                status=failure.status, text="<html>Bad Gateway</html>", content_type="text/html"
            )
        if not call.token:
            self._record(call)
            return web.json_response({"ok": False, "error": "not_authed"})
        if method in _VIEWS:
            problem = _invalid_view(params.get("view"))
        elif "blocks" in params or method in _POSTS:
            problem = _invalid_message(params)
        else:
            problem = None
        self._record(call)
        if problem:
            self.invalid.append((call, problem))
            return web.json_response({"ok": False, "error": "invalid_blocks", "detail": problem})
        call.answer = self._answer(method, params)
        return web.json_response(call.answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if method == "auth.test":
            return {
                "ok": True, "team": "Test", "user": "lifeline", "team_id": "T1",
                "user_id": BOT_USER_ID, "bot_id": "B1", "url": "https://t.slack.com/",
            }  # fmt: skip
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}
        if method == "users.info":
            user = str(params.get("user", ""))
            if user == BOT_USER_ID:
                profile = {"display_name": "", "real_name": "Lifeline"}
                return {"ok": True, "user": {"id": user, "name": "lifeline", "is_bot": True,
                                             "deleted": False, "profile": profile}}  # fmt: skip
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            name = self.users[user]
            profile = {"display_name": name, "real_name": name + " (real)"}
            return {
                "ok": True,
                "user": {"id": user, "name": user.lower(), "profile": profile,
                         "is_bot": user in self.bots, "deleted": user in self.deactivated},
            }  # fmt: skip
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            self.messages[(channel, ts)] = Message(channel, ts, params)
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.update":
            message = self.messages.get((channel, str(params.get("ts"))))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.params = params
            message.edits += 1
            return {"ok": True, "channel": channel, "ts": message.ts}
        if method == "conversations.history":
            return self._history(channel, params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "views.open":
            if self.triggers_expired:
                return {"ok": False, "error": "expired_trigger_id"}
            view_id = f"V{next(self._ts):06d}"
            self.views[view_id] = {**params["view"], "id": view_id}
            return {"ok": True, "view": self.views[view_id]}
        if method == "views.update":
            view_id = str(params.get("view_id"))
            if view_id not in self.views:
                return {"ok": False, "error": "not_found"}
            self.views[view_id] = {**params["view"], "id": view_id}
            return {"ok": True, "view": self.views[view_id]}
        if method == "views.publish":
            user = str(params.get("user_id"))
            self.homes[user] = params["view"]
            return {"ok": True, "view": {**params["view"], "id": f"VH{user}"}}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://t.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "conversations.join":
            self.outside.discard(channel)
            return {"ok": True, "channel": {"id": channel}}
        if method == "pins.add":
            if channel in self.outside:
                return {"ok": False, "error": "not_in_channel"}
            message = self.messages.get((channel, str(params.get("timestamp"))))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.pinned:
                return {"ok": False, "error": "already_pinned"}
            message.pinned = True
            return {"ok": True}
        if method == "files.getUploadURLExternal":
            return self._upload_url(params)
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        return {"ok": False, "error": "unknown_method"}

    def _history(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, paged by cursor; metadata only with include_all_metadata (as Slack)."""
        if channel in self.outside:
            return {"ok": False, "error": "not_in_channel"}
        found = sorted(
            (m for m in self.messages.values() if m.channel == channel),
            key=lambda m: m.ts,
            reverse=True,
        )
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        metadata = params.get("include_all_metadata") in (True, "true", "1", 1)
        page = []
        for message in found[start : start + limit]:
            shown = {"type": "message", "ts": message.ts, "text": message.params.get("text", "")}
            if metadata and message.params.get("metadata"):
                shown["metadata"] = message.params["metadata"]
            page.append(shown)
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def copies_in(self, channel: str, marker: str) -> list[Message]:
        """Messages posted to `channel` whose fallback text contains `marker`."""
        return [
            m
            for m in self.messages.values()
            if m.channel == channel and marker in str(m.params.get("text", ""))
        ]

    def _upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = str(params.get("filename", "")), str(params.get("length", ""))
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + 1:06d}"
        self.uploads[file_id] = Upload(file_id, filename, int(length))
        return {"ok": True, "file_id": file_id, "upload_url": self._upload_link(file_id)}

    def _upload_link(self, file_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/upload/{file_id}"

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("files")
        files = json.loads(raw) if isinstance(raw, str) else raw or []
        shared = []
        for item in files:
            upload = self.uploads.get(str(item.get("id")))
            # Slack refuses to share a file whose bytes did not arrive, or arrived short.
            if upload is None or upload.data is None or len(upload.data) != upload.length:
                return {"ok": False, "error": "file_upload_incomplete"}
            upload.title = str(item.get("title") or "")
            upload.channel = str(params.get("channel_id", ""))
            upload.thread_ts = params.get("thread_ts")
            upload.shared = True
            shared.append({"id": upload.file_id, "name": upload.filename, "title": upload.title})
        return {"ok": True, "files": shared}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="no such upload")
        upload.data = await request.read()
        self._record(Call("upload", {"file_id": upload.file_id, "bytes": len(upload.data)}))
        return web.Response(text=f"OK - {len(upload.data)}")

    async def _hook(self, request: web.Request) -> web.Response:
        params = await request.json()
        call = Call("response_url", params, hook=request.match_info["hook"])
        problem = _invalid_message(params)
        self._record(call)
        if problem:
            self.invalid.append((call, problem))
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    # Socket Mode -----------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        self.connections += 1
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._changed.set()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    data = json.loads(message.data)
                    self.acks[str(data.get("envelope_id"))] = data.get("payload") or {}
                    self._changed.set()
        finally:
            self._sockets.remove(socket)
            self._changed.set()
        return socket

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        await self.wait_for(lambda: bool(self._sockets))
        await self._sockets[-1].send_json(envelope)

    async def drop_connection(self) -> None:
        """Close the websocket from Slack's side, as Slack does every few hours."""
        await self.wait_for(lambda: bool(self._sockets))
        await self._sockets[-1].close()

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        await self.wait_for(lambda: envelope_id in self.acks, timeout)
        return self.acks[envelope_id]


_POSTS = {"chat.postMessage", "chat.update", "chat.postEphemeral"}
_VIEWS = {"views.open", "views.update", "views.publish"}


def _invalid_view(raw: Any) -> str | None:
    """What Slack would refuse in a view: slack_sdk's View model, every block validated."""
    if isinstance(raw, str):
        raw = json.loads(raw)
    if not isinstance(raw, dict):
        return "no view"
    try:
        view = View(**raw)
        view.validate_json()
        view.to_dict()
    except (SlackObjectFormationError, TypeError) as error:
        return f"view: {error}"
    limit = 100
    if len(raw.get("blocks") or []) > limit:
        return f"{len(raw['blocks'])} blocks (limit {limit})"
    if len(str(raw.get("private_metadata") or "")) > 3000:
        return "private_metadata over 3000 characters"
    return None


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update(dict(await request.post()))
    for key in ("blocks",):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _invalid_message(params: dict[str, Any]) -> str | None:
    """What Slack would refuse: no fallback text, too many blocks, a block over its limits."""
    blocks = params.get("blocks") or []
    if not str(params.get("text", "")).strip():
        return "no fallback text"
    if len(blocks) > MAX_BLOCKS:
        return f"{len(blocks)} blocks (limit {MAX_BLOCKS})"
    for index, raw in enumerate(blocks):
        block = Block.parse(raw)
        if block is None:
            return f"block {index}: unknown type {raw.get('type')!r}"
        try:
            block.to_dict()  # validates the block and everything nested in it
        except SlackObjectFormationError as error:
            return f"block {index}: {error}"
        for field_text in _texts([raw]):
            if len(field_text) > 3000:
                return f"block {index}: text of {len(field_text)} characters"
    return None


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for block in blocks:
        for key in ("text",):
            value = block.get(key)
            if isinstance(value, dict):
                texts.append(str(value.get("text", "")))
        for item in block.get("fields") or []:
            texts.append(str(item.get("text", "")))
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), dict):
                texts.append(str(element["text"].get("text", "")))
            elif isinstance(element.get("text"), str):
                texts.append(str(element["text"]))
    return texts
