"""The console transport: an interactive prompt with history, or a script piped on stdin."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import termios
import threading
import uuid
from pathlib import Path
from typing import Any, TextIO

from bot.dispatch.router import Router
from bot.domain.clock import utc_now
from bot.domain.command import Command
from bot.domain.delivery import MessageRef
from bot.domain.models import Actor
from bot.domain.reply import Reply
from bot.transports.text import render_text

PROMPT = "lifeline> "


class ConsoleTransport:
    """Also a Transport: broadcasts and roll-call reminders addressed to it print here."""

    name = "console"

    def __init__(
        self,
        router: Router,
        user: str,
        roles: frozenset[str],
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        history: Path | None = None,
    ) -> None:
        self._router = router
        self._actor = Actor(id=user, name=user, transport="console")
        self._roles = roles
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._history = history
        self.interactive = self._stdin.isatty()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        # Set once a line's answer is printed: only then does the reader show the next prompt.
        self._answered = threading.Event()
        self._stopping = False

    def request_stop(self) -> None:
        """SIGTERM / Ctrl-C: finish the command in hand (its write and answer), then leave."""
        self._stopping = True
        self._lines.put_nowait(None)

    async def run(self) -> None:
        lines = self._lines
        loop = asyncio.get_running_loop()
        if self.interactive:
            self._load_history()
            self._write(
                f"Lifeline console — you are {self._actor.name}. Type help, or Ctrl-D to leave.\n"
            )
        terminal = self._hold_keys() if self.interactive else None
        # A daemon thread, so a pending read never holds up shutdown on Ctrl-C or SIGTERM.
        reader = threading.Thread(target=self._read_lines, args=(loop, lines), daemon=True)
        reader.start()
        try:
            while (line := await lines.get()) is not None and not self._stopping:
                if not await self._answer(line):  # the reader of our output went away (`| head`)
                    break
                if not self._stopping:  # leaving: no prompt to come back to
                    self._answered.set()
        finally:
            if terminal is not None:
                termios.tcsetattr(self._stdin, termios.TCSANOW, terminal)
        self._save_history()

    async def _answer(self, line: str) -> bool:
        text = line.strip().removeprefix("/")
        if not text or text.startswith("#"):
            return True
        if not self.interactive:
            self._echo(line)
        reply = await self._router.handle(self._command(text))
        try:
            self._write(render_text(reply) + _saved(reply) + "\n\n")
        except BrokenPipeError:
            return False
        return True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> bool:
        return True

    async def post(
        self, channel: str, reply: Reply, *, notify: bool = False, key: str | None = None
    ) -> MessageRef:
        heading = f"-- to {channel}{' (notifying everyone)' if notify else ''} --"
        with contextlib.suppress(BrokenPipeError):
            self._write(f"{heading}\n{render_text(reply)}{_saved(reply)}\n\n")
        return MessageRef(self.name, channel, uuid.uuid4().hex)

    async def update(self, ref: MessageRef, reply: Reply, *, notify: bool = False) -> None:
        """A terminal cannot edit what it printed; `broadcast B-<n>` shows current counts."""

    async def find(self, channel: str, key: str) -> MessageRef | None:
        """A terminal keeps no history to look in."""
        return None

    async def canonical(self, channel: str) -> str:
        """Channel ids are already canonical here."""
        return channel

    async def pin(self, ref: MessageRef) -> None:
        """Nothing to pin in a terminal."""

    def _command(self, text: str) -> Command:
        return Command(
            id=f"console-{uuid.uuid4().hex}",
            actor=self._actor,
            text=text,
            channel="console",
            granted_roles=self._roles,
            received_at=utc_now(),
        )

    def _read_lines(
        self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]
    ) -> None:
        try:
            while True:
                if self.interactive:
                    self._echo_keys(True)
                    try:
                        line = input(PROMPT)
                    except EOFError:
                        break
                else:
                    line = self._stdin.readline()
                    if not line:
                        break
                self._answered.clear()
                loop.call_soon_threadsafe(lines.put_nowait, line)
                if self.interactive:
                    self._echo_keys(False)
                    self._answered.wait()  # the next prompt goes after this line's answer
        finally:
            loop.call_soon_threadsafe(lines.put_nowait, None)

    def _hold_keys(self) -> list[Any]:
        """Uncook the terminal, so keys typed while an answer is on its way (Ctrl-D too) wait
        as they are for readline at the next prompt. Returns the mode to restore on leaving."""
        terminal = termios.tcgetattr(self._stdin)
        mode = termios.tcgetattr(self._stdin)
        mode[3] &= ~(termios.ICANON | termios.ECHO)
        mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
        termios.tcsetattr(self._stdin, termios.TCSANOW, mode)
        return terminal

    def _echo_keys(self, on: bool) -> None:
        """Off between prompts, so typed-ahead keys show once, after the prompt; readline
        echoes only on a terminal that echoes."""
        mode = termios.tcgetattr(self._stdin)
        mode[3] = mode[3] | termios.ECHO if on else mode[3] & ~termios.ECHO
        termios.tcsetattr(self._stdin, termios.TCSANOW, mode)

    def _echo(self, line: str) -> None:
        """In script mode the command is echoed, so the output reads as a transcript."""
        with contextlib.suppress(BrokenPipeError):
            self._write(f"{PROMPT}{line.strip()}\n")

    def _write(self, text: str) -> None:
        self._stdout.write(text)
        self._stdout.flush()

    def _load_history(self) -> None:
        try:
            import readline
        except ImportError:  # pragma: no cover - readline is missing on some platforms
            return
        if self._history and self._history.exists():
            readline.read_history_file(self._history)

    def _save_history(self) -> None:
        if not (self.interactive and self._history):
            return
        try:
            import readline

            readline.write_history_file(self._history)
        except (ImportError, OSError):
            pass


def _saved(reply: Reply) -> str:
    """Exports and reports are files already (under LIFELINE_DATA_DIR/exports): say where."""
    lines = []
    for attachment in reply.attachments:
        if attachment.path is None:  # nothing on disk to point at; a terminal shows text as is
            lines.append(attachment.read().decode(errors="replace"))
        else:
            lines.append(f"Saved to {attachment.path.resolve()}")
    return "".join("\n" + line for line in lines)
