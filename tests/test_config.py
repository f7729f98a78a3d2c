"""Config: TOML, ${VAR} expansion, .env, PRESSBOT_ variables, clear errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import (
    BlueskyConfig,
    EmailConfig,
    LinkedInConfig,
    MastodonConfig,
    load_config,
    parse_duration,
)
from bot.errors import ConfigError

MASTODON = """
[channels.mastodon]
type = "mastodon"
base_url = "{url}"
access_token = "${{MASTODON_TOKEN}}"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pressbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_and_the_example_configs_load(monkeypatch: pytest.MonkeyPatch) -> None:
    demo = load_config("config/pressbot.toml")
    assert set(demo.channels) == {"mastodon", "facebook", "newsletter"}
    for var in ("MASTODON_TOKEN", "BLUESKY_APP_PASSWORD", "FACEBOOK_PAGE_TOKEN", "SMTP_PASSWORD",
                "LINKEDIN_ACCESS_TOKEN"):
        monkeypatch.setenv(var, "a-secret-value-123")
    example = load_config("config/example.toml")
    assert isinstance(example.channels["linkedin"], LinkedInConfig)
    assert example.channels["linkedin"].api_version == "202608"
    assert isinstance(example.channels["newsletter"], EmailConfig)
    assert example.channels["newsletter"].from_ == "Example News <news@example.org>"
    assert isinstance(example.channels["bluesky"], BlueskyConfig)
    assert example.channels["bluesky"].handle == "newsroom.bsky.social"


def test_variables_expand_from_env_then_dotenv(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, MASTODON.format(url="https://mastodon.example"))
    (tmp_path / ".env").write_text("MASTODON_TOKEN=from-dotenv-0123\n", encoding="utf-8")
    cfg = load_config(path).channels["mastodon"]
    assert isinstance(cfg, MastodonConfig)
    assert cfg.access_token.get_secret_value() == "from-dotenv-0123"
    monkeypatch.setenv("MASTODON_TOKEN", "from-environment-0123")
    cfg = load_config(path).channels["mastodon"]
    assert cfg.access_token.get_secret_value() == "from-environment-0123"  # type: ignore[union-attr]


def test_a_missing_variable_names_the_variable_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, MASTODON.format(url="https://mastodon.example"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "channels.mastodon.access_token: environment variable MASTODON_TOKEN is not set" \
        in str(err.value)
    assert str(path) in str(err.value)


def test_pressbot_env_vars_override_the_file(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[bot]\ntimezone = "Europe/Vienna"\n')
    monkeypatch.setenv("PRESSBOT_BOT__TIMEZONE", "Europe/Lisbon")
    assert load_config(path).bot.timezone == "Europe/Lisbon"


def test_numbers_and_booleans_may_come_from_strings(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PORT", "2525")
    path = write(tmp_path, """
[channels.newsletter]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = "${SMTP_PORT}"
dry_run = "true"
from = "News <news@example.org>"
""")
    cfg = load_config(path).channels["newsletter"]
    assert isinstance(cfg, EmailConfig) and cfg.smtp_port == 2525 and cfg.dry_run is True


@pytest.mark.parametrize(("text", "message"), [
    (MASTODON.format(url="mastodon.example"),
     "channels.mastodon.base_url: not a URL: 'mastodon.example'"),
    ('[sources.x]\ntype = "rss"\nurl = "https://a.example/feed"\n',
     "sources.x.type: expected one of 'folder', 'feed'"),
    ('[sources.x]\ntype = "feed"\nurl = "https://a.example/feed"\nbacklog = "latest:0"\n',
     "sources.x.backlog: expected 'skip', 'all' or 'latest:N'"),
    ('[sources.x]\ntype = "feed"\nurl = "https://a.example/feed"\npoll_every = "soon"\n',
     "sources.x.poll_every: expected a duration"),
    ('[bot]\ntimezone = "Mars/Olympus"\n', "bot.timezone: not a time zone: 'Mars/Olympus'"),
    ('[bot]\ntimezon = "UTC"\n', "bot.timezon: unknown key"),
    ('[bot]\npoll_share = "0s"\n', "bot.poll_share: expected a duration above zero and at "
     "most a minute, like '3s': got 0 s"),
    ('[bot]\npoll_share = "2m"\n', "bot.poll_share: expected a duration above zero and at "
     "most a minute, like '3s': got 120 s"),
    ('[bot]\npoll_share = "a while"\n', "bot.poll_share: expected a duration"),
    ('[web]\nlisten = "8080"\n', "web.listen: expected HOST:PORT"),
    ('[channels.n]\ntype = "email"\nsmtp_host = "h"\nfrom = "nobody"\n',
     "channels.n.from: expected an address"),
    ('[channels.n]\ntype = "email"\nsmtp_host = "h"\nfrom = "a@b.example"\n'
     'schedule = "every monday"\n', "channels.n.schedule: not a cron expression"),
    ('[channels.m]\ntype = "outbox"\nwindows = ["weekdays 9-5"]\n',
     "channels.m.windows.0: expected a window like 'mon-fri 09:00-18:00'"),
    ('[channels.f]\ntype = "facebook"\npage_id = "my-page"\npage_access_token = "t"\n',
     "channels.f.page_id: string should match pattern"),
    ("[bot\n", "not valid TOML"),
])
def test_errors_name_file_key_and_expectation(tmp_path: Path, text: str, message: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "a-token-value-123")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(err.value).startswith(str(path))


def test_secrets_never_show_in_reprs_or_errors(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "super-secret-token-987")
    config = load_config(write(tmp_path, MASTODON.format(url="https://m.example")))
    assert "super-secret-token-987" not in repr(config) + str(config)
    bad = write(tmp_path, MASTODON.format(url="https://m.example") +
                'visibility = "everyone"\n')
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "super-secret-token-987" not in str(err.value)
    from bot.redact import redact

    assert redact("Bearer super-secret-token-987") == "Bearer [redacted]"


def test_a_feed_shares_its_fetch_slot_after_3_s_unless_told_otherwise(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).bot.poll_share.total_seconds() == 3
    shared = load_config(write(tmp_path, '[bot]\npoll_share = "500ms"\n')).bot.poll_share
    assert shared.total_seconds() == 0.5


def test_durations() -> None:
    assert parse_duration("90s").total_seconds() == 90
    assert parse_duration("1.5h").total_seconds() == 5400
    assert parse_duration(30).total_seconds() == 30
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("ten minutes")


def test_the_cli_exits_2_on_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, MASTODON.format(url="mastodon.example"))
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "queue"],
                            capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "MASTODON_TOKEN": "x" * 12})
    assert result.returncode == 2
    assert "channels.mastodon.base_url: not a URL: 'mastodon.example'" in result.stderr
    missing = subprocess.run([sys.executable, "-m", "bot", "--config", "nope.toml", "queue"],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "config file not found" in missing.stderr


@pytest.mark.parametrize(("table", "key"), [
    ('type = "mastodon"\nbase_url = "https://m.example"', "access_token"),
    ('type = "facebook"\npage_id = "123"', "page_access_token"),
    ('type = "bluesky"\nhandle = "news.example.org"', "app_password"),
])
@pytest.mark.parametrize("value", ["", "   ", "${TOKEN_FROM_ENV:-}"])
def test_an_empty_credential_is_a_config_error_naming_the_key(
        tmp_path: Path, table: str, key: str, value: str) -> None:
    path = write(tmp_path, f'[channels.c]\n{table}\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"channels.c.{key}: empty" in str(caught.value)


def test_init_writes_a_linkedin_table_and_template_that_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from bot.config import LinkedInConfig
    from tests.helpers import cli as pressbot

    result = CliRunner().invoke(pressbot, ["init", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for var in ("MASTODON_TOKEN", "BLUESKY_APP_PASSWORD", "FACEBOOK_PAGE_TOKEN",
                "SMTP_PASSWORD", "LINKEDIN_ACCESS_TOKEN"):
        monkeypatch.setenv(var, "a-secret-value-123")
    config = load_config(tmp_path / "config" / "pressbot.toml")
    table = config.channels["linkedin"]
    assert isinstance(table, LinkedInConfig)
    assert (table.organization_id, table.post_as, table.expiry_warning_days) == \
        ("2414183", "auto", 7)
    assert (tmp_path / "templates" / "linkedin.txt.j2").is_file()
