"""`python -m bot manifest`, run as a newcomer runs it: a separate process, settings from the env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.transports.slack.commands import RESERVED

ROOT = Path(__file__).resolve().parents[2]


def manifest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATRIX_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "manifest", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def parsed(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert isinstance(data, dict)
    return data


def test_http_mode_sends_commands_events_and_buttons_to_one_url() -> None:
    data = parsed(manifest("--url", "https://lifeline.hospital.org/"))

    url = "https://lifeline.hospital.org/slack/events"
    commands = data["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [
        "/incident", "/checkin", "/runbook", "/broadcast", "/rollcall", "/inclog", "/lifeline",
    ]  # fmt: skip
    assert all(c["url"] == url and c["description"] and c["should_escape"] for c in commands)
    settings = data["settings"]
    assert settings["event_subscriptions"] == {
        "bot_events": ["app_mention", "app_home_opened"],
        "request_url": url,
    }
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    assert set(data["oauth_config"]["scopes"]["bot"]) >= {
        "commands", "chat:write", "app_mentions:read", "pins:write", "users:read",
    }  # fmt: skip
    assert 175 <= len(data["display_information"]["long_description"]) <= 4000


def test_inclog_advertises_export_now_that_it_works_and_asks_for_files_write() -> None:
    data = parsed(manifest("--socket-mode"))

    [inclog] = [c for c in data["features"]["slash_commands"] if c["command"] == "/inclog"]
    assert inclog["description"] == (
        "Query the incident log, or export it as a file (CSV, JSON Lines, Markdown)"
    )
    assert inclog["usage_hint"] == (
        "[dept...] [kind...] [by @user] [since 2h|14:00] [limit N] | export [csv|jsonl|md] [...]"
    )
    assert "files:write" in data["oauth_config"]["scopes"]["bot"]


def test_http_mode_without_a_url_is_refused_rather_than_sent_to_a_made_up_host() -> None:
    result = manifest()

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "lifeline manifest: HTTP mode needs the bot's public URL: add --url https://<your host> "
        "(or --socket-mode)\n"
    )


def test_a_url_slack_cannot_post_to_is_refused() -> None:
    for url in ("http://lifeline.hospital.org", "lifeline.hospital.org"):
        result = manifest("--url", url)

        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr == (
            f"lifeline manifest: --url '{url}' must be the bot's public https:// address, "
            "like https://lifeline.hospital.org\n"
        )


def test_an_app_token_turns_socket_mode_on_and_no_urls_are_needed() -> None:
    data = parsed(manifest(SLACK_APP_TOKEN="xapp-1-test"))

    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert all("url" not in c for c in data["features"]["slash_commands"])
    assert "xapp" not in yaml.safe_dump(data)


def test_the_prefix_renames_every_command_and_none_is_reserved_by_slack() -> None:
    data = parsed(manifest("--socket-mode", SLACK_COMMAND_PREFIX="ll-"))

    names = [c["command"] for c in data["features"]["slash_commands"]]
    assert names[:2] == ["/ll-incident", "/ll-checkin"]
    assert all(name.startswith("/ll-") and len(name) <= 32 for name in names)
    assert not {name.lstrip("/") for name in names} & RESERVED


def test_a_prefix_slack_would_refuse_is_a_configuration_error() -> None:
    result = manifest(SLACK_COMMAND_PREFIX="LL ")

    assert result.returncode == 2
    assert result.stderr.startswith("lifeline: configuration error: SLACK_COMMAND_PREFIX 'LL '")


def test_the_manifest_in_the_repository_is_current() -> None:
    shipped = (ROOT / "slack-manifest.yaml").read_text(encoding="utf-8")

    assert shipped == manifest("--socket-mode").stdout, (
        "regenerate: .venv/bin/lifeline manifest --socket-mode > slack-manifest.yaml"
    )


def test_serve_refuses_a_prefix_slack_would_refuse_before_starting(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATRIX_"))}
    env = {
        **clean,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_COMMAND_PREFIX": "Bad Prefix",
        "LIFELINE_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr == (
        "lifeline: configuration error: SLACK_COMMAND_PREFIX 'Bad Prefix' must be at most 16 "
        "lower-case letters, digits, dashes or underscores, like ll-\n"
    )
    assert not (tmp_path / "redis").exists()  # nothing was started


def test_the_home_tab_and_both_shortcuts_are_declared_with_no_new_scope() -> None:
    data = parsed(manifest("--socket-mode"))

    features = data["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    assert [(s["type"], s["name"], s["callback_id"]) for s in features["shortcuts"]] == [
        ("global", "Check in", "lifeline-checkin-anywhere"),
        ("message", "Add to incident log", "lifeline-add-to-log"),
    ]
    assert all(0 < len(s["description"]) <= 80 for s in features["shortcuts"])
    assert data["settings"]["event_subscriptions"]["bot_events"] == [
        "app_mention", "app_home_opened",
    ]  # fmt: skip
    # The two history scopes are the outbox's (finding a half-sent copy) and files:write is for
    # log exports and reports: none is these features'.
    assert data["oauth_config"]["scopes"]["bot"] == [
        "app_mentions:read", "channels:history", "channels:join", "chat:write",
        "chat:write.public", "commands", "files:write", "groups:history", "pins:write",
        "users:read",
    ]  # fmt: skip
