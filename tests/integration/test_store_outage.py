from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from bot.domain.facility import FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.conftest import Bot, BuildLifeline
from tests.waiting import until


def refuses_connections(path: Path) -> bool:
    """Nothing listens on the unix socket: its server has exited (the kernel closed it)."""
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return True
        return False


async def test_with_redis_gone_a_command_needing_shared_state_is_not_called_recorded(
    doomed: EmbeddedRedis, facility: FacilityConfig, build_bot_lifeline: BuildLifeline
) -> None:
    bot = Bot(await build_bot_lifeline(redis_url=doomed.url))
    assert (await bot.send("status lab up")).outcome == "recorded"
    assert not refuses_connections(doomed.socket)
    os.kill(int(doomed.pidfile.read_text()), signal.SIGKILL)  # the server dies, as in an outage
    await until(lambda: refuses_connections(doomed.socket), timeout=5)
    # (A check-in is kept in the local spool instead: tests/integration/test_spool.py.)
    reply = await bot.send("incident start Teams outage")
    assert (reply.outcome, reply.ephemeral) == ("error", True)
    [line] = reply.lines
    assert line.startswith(
        "Lifeline cannot reach its database right now, so nothing was recorded. Try again in a "
        "minute; if it keeps happening, tell IT (error ref E-"
    )
    assert "Recorded" not in line
    await doomed.start()  # AOF: what was recorded before is still there, the failed one is not
    again = Store(doomed.client(), facility)
    latest = await again.latest_checkins(["lab"])
    assert latest["lab"].state.value == "up"
    assert await again.open_incident() is None
    await again.redis.aclose()
