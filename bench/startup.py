"""Time from launching `python -m bot serve` to `GET /readyz` answering 200 (embedded Redis
included), and the process's resident memory then. Target: ready within 2 s.

    .venv/bin/python -m bench.startup [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.processes import free_port


def rss_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) // 1024


def one_run(data_dir: Path) -> tuple[float, int]:
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATRIX_", "REDIS_URL"))
    }
    env.update(LIFELINE_DATA_DIR=str(data_dir), PORT=str(port), HOST="127.0.0.1")
    began = time.perf_counter()
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - began < 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=0.5) as r:
                    if r.status == 200:
                        return time.perf_counter() - began, rss_mb(bot.pid)
            except OSError:
                time.sleep(0.01)
        raise SystemExit("the bot did not become ready within 30 s")
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(15)


def main(runs: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="ll-start-", dir="/tmp"))
    try:
        results = [one_run(data_dir) for _ in range(runs)]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    times = sorted(t for t, _ in results)
    print(f"{runs} starts of `python -m bot serve` (embedded redis-server, no chat platform)")
    print(f"ready: median {times[len(times) // 2]:.2f} s, worst {times[-1]:.2f} s (target <= 2 s)")
    print(f"resident memory when ready: {max(r for _, r in results)} MB (target <= 150 MB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
