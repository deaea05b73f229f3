"""The answer to a write kept in this server's spool while the database is unreachable."""

from __future__ import annotations

from bot.domain.reply import Reply


def spooled_reply(ref: str, what: str, then: str, note: str = "") -> Reply:
    """`what` was saved under `ref`; `then` says what happens to it when the database is back."""
    lines = [
        f"Saved on this server (ref {ref}), not yet in the shared log: {what}.",
        f"Lifeline cannot reach its database right now. {then}, with the time you sent it, when "
        "the database is back. No need to send it again.",
    ]
    if note:
        lines.append(f"Note: {note}")
    return Reply(lines=lines, ephemeral=True, outcome="spooled")
