"""Command line: `python -m bot [console|serve|manifest|runbooks|export|report]` (also the
`lifeline` script)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from bot.app import Core, build_lifeline
from bot.config.facility_file import load_facility
from bot.config.settings import Settings
from bot.config.tuning import Tuning
from bot.domain.facility import ConfigError, FacilityConfig
from bot.domain.runbook import schema_text
from bot.observability.logging_setup import configure_logging
from bot.records_cli import CommandLineError, add_parsers, run_export, run_report
from bot.serve import serve
from bot.services.runbook_library import default_directory, run_check
from bot.storage.embedded_redis import EmbeddedRedisError
from bot.transports.console import ConsoleTransport

log = structlog.get_logger(__name__)
ROLE_CHOICES = ("admin", "commander", "it")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lifeline", description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    console = sub.add_parser("console", help="type commands in this terminal (or pipe a script)")
    console.add_argument("--as", dest="user", default=None, help="your name (default: login name)")
    console.add_argument(
        "--role",
        action="append",
        choices=ROLE_CHOICES,
        default=[],
        help="grant a role (repeatable)",
    )
    sub.add_parser("serve", help="run the HTTP server and every configured chat transport")
    runbooks = sub.add_parser("runbooks", help="check runbook files, or print their JSON Schema")
    action = runbooks.add_subparsers(dest="runbooks_action", required=True)
    check = action.add_parser("check", help="validate runbook files; exits non-zero on a problem")
    check.add_argument("path", nargs="?", type=Path, help="a file or directory (default runbooks)")
    action.add_parser("schema", help="print the JSON Schema of a runbook file")
    manifest = sub.add_parser("manifest", help="print the Slack app manifest for this setup")
    manifest.add_argument(
        "--url", help="the bot's public base URL, https://... (required in HTTP mode)"
    )
    manifest.add_argument(
        "--socket-mode", action="store_true", help="Socket Mode (on when SLACK_APP_TOKEN is set)"
    )
    add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.mode == "runbooks":
        if args.runbooks_action == "schema":
            print(schema_text(), end="")
            return 0
        return run_check(args.path or default_directory(), sys.stdout)
    try:
        settings = Settings()
        facility = load_facility(settings.config_path)
    except ConfigError as error:
        print(f"lifeline: configuration error: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        print(
            f"lifeline: configuration error: environment {where}: {first['msg']}", file=sys.stderr
        )
        return 2
    if args.mode == "manifest":
        return _manifest(settings, args.url, args.socket_mode)
    if args.mode in ("export", "report"):
        configure_logging(settings.log_format, "warning", sys.stderr)
        command = run_export if args.mode == "export" else run_report
        try:
            return _run(command(args, settings, facility))
        except CommandLineError as error:
            print(f"lifeline {args.mode}: {error}", file=sys.stderr)
            return 2
    if settings.slack_enabled and args.mode != "console" and not _slack_prefix_ok(settings):
        return 2
    mode = args.mode or (
        "serve" if settings.slack_enabled or settings.matrix_enabled else "console"
    )
    if mode == "console":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / "lifeline.log", "a", encoding="utf-8") as log_file:
            configure_logging(settings.log_format, settings.log_level, log_file)
            user = getattr(args, "user", None) or _login_name()
            roles = frozenset(getattr(args, "role", []))
            return _run(_console(settings, facility, user, roles))
    configure_logging(settings.log_format, settings.log_level)
    return _run(_serve(settings, facility))


def _slack_prefix_ok(settings: Settings) -> bool:
    from bot.transports.slack.commands import PrefixError, check_prefix

    try:
        check_prefix(settings.slack_command_prefix)
    except PrefixError as error:
        print(f"lifeline: configuration error: {error}", file=sys.stderr)
        return False
    return True


def _manifest(settings: Settings, url: str | None, socket_mode: bool) -> int:
    from bot.transports.slack.commands import PrefixError
    from bot.transports.slack.manifest import ManifestError, manifest_yaml

    socket_mode = socket_mode or settings.slack_app_token is not None
    try:
        print(manifest_yaml(settings.slack_command_prefix, socket_mode=socket_mode, base_url=url))
    except PrefixError as error:
        print(f"lifeline: configuration error: {error}", file=sys.stderr)
        return 2
    except ManifestError as error:
        print(f"lifeline manifest: {error}", file=sys.stderr)
        return 2
    return 0


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(coroutine)
    except EmbeddedRedisError as error:
        print(f"lifeline: cannot start the embedded Redis: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"


async def _console(
    settings: Settings, facility: FacilityConfig, user: str, roles: frozenset[str]
) -> int:
    consoles: list[ConsoleTransport] = []

    def console_transport(core: Core) -> ConsoleTransport:
        console = ConsoleTransport(
            core.router, user, roles, history=settings.data_dir / "console_history"
        )
        consoles.append(console)
        return console

    # No live board here: a terminal can't edit it, and `status` shows it on demand.
    lifeline = await build_lifeline(
        settings, facility, [console_transport], tuning=Tuning(live_board=False)
    )
    [console] = consoles
    try:
        await lifeline.start()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, console.request_stop)
        await console.run()
    finally:
        await lifeline.close()
    return 0


async def _serve(settings: Settings, facility: FacilityConfig) -> int:
    lifeline = await build_lifeline(settings, facility)
    try:
        await serve(lifeline)
    finally:
        await lifeline.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
