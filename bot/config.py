"""The configuration: TOML, `${VAR}` expansion, `.env`, `PRESSBOT_…` variables, one model per type.

Loading order (later wins): the TOML file, then `PRESSBOT_…` environment variables
(`PRESSBOT_CHANNELS__MASTODON__ACCESS_TOKEN=…`). `${VAR}` in any string is expanded after the
TOML is parsed, from the environment first and then from a `.env` file beside the config.
Every problem becomes one `ConfigError` whose lines read `file: key.path: what was expected`.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot import paths, redact
from bot.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def parse_duration(value: Any) -> timedelta:
    """`"10m"`, `"30s"`, `"1.5h"`, `"2d"`, or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration like '30s', '10m', '2h': got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError(f"expected a positive duration: got {value!r}")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _check_backlog(value: str) -> str:
    if value in ("skip", "all") or re.fullmatch(r"latest:[1-9]\d*", value):
        return value
    raise ValueError(f"expected 'skip', 'all' or 'latest:N' (N ≥ 1): got {value!r}")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"not a time zone: {value!r} (expected e.g. 'Europe/Brussels')") from None
    return value


def _check_listen(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected HOST:PORT like '127.0.0.1:8080': got {value!r}")
    return value


def _check_window(value: str) -> str:
    from bot.schedule import parse_window

    parse_window(value)
    return value


def _check_cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"not a cron expression ({exc}): {value!r}") from None
    return value


def _present(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("empty: set the credential (is its environment variable set?)")
    return value


Credential = Annotated[SecretStr, AfterValidator(_present)]
"""A secret the channel cannot work without: empty or blank is a config error, not a
network error later."""


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("expected a duration above zero, like '5s'")
    return value


def _share(value: timedelta) -> timedelta:
    if not timedelta(0) < value <= timedelta(minutes=1):
        raise ValueError(f"expected a duration above zero and at most a minute, like '3s': "
                         f"got {value.total_seconds():g} s (a slot held longer than that is "
                         "no share: each source's `timeout` already bounds its fetch)")
    return value


def _check_address(value: str) -> str:
    from email.utils import parseaddr

    _, addr = parseaddr(value)
    if "@" not in addr or any(c in value for c in "\r\n"):
        raise ValueError(f"expected an address like 'News <news@example.org>': got {value!r}")
    return value


Backlog = Annotated[str, AfterValidator(_check_backlog)]
Window = Annotated[str, AfterValidator(_check_window)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BotConfig(Strict):
    database_url: str = "sqlite:///var/pressbot.db"
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    public_url: HttpUrl = HttpUrl("http://127.0.0.1:8080")
    outbox: Path = Path("var/outbox")
    secret_key: SecretStr | None = None
    log_format: Literal["kv", "json"] = "kv"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    publish_every: Annotated[timedelta, BeforeValidator(parse_duration),
                             AfterValidator(lambda v: _positive(v))] = timedelta(seconds=5)
    lease: Annotated[timedelta, BeforeValidator(parse_duration),
                     AfterValidator(lambda v: _positive(v))] = timedelta(seconds=30)
    max_attempts: int = Field(default=8, ge=1, le=100)
    retry_base: Duration = timedelta(seconds=30)
    retry_max: Duration = timedelta(hours=1)
    stale_after: Duration = timedelta(hours=6)
    """An approved post whose slot passed longer ago than this (the bot was down) is held
    for a person instead of going out late; 0 turns the guard off."""
    poll_concurrency: int = Field(default=32, ge=1, le=1000)
    poll_per_host: int = Field(default=4, ge=1, le=100)
    poll_share: Annotated[timedelta, BeforeValidator(parse_duration),
                          AfterValidator(lambda v: _share(v))] = timedelta(seconds=3)
    """The longest a feed holds its fetch slot while other sources wait for one and its
    answer trickles (three times this when no answer came at all; `bot.ingest._Slot.shared`):
    far under a poll cycle, so that a few slow feeds on a host of a thousand cannot keep the
    others waiting for their whole `timeout`. A feed alone keeps its whole `timeout`."""

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            shown = value.split("@")[-1]  # never echo a password in the URL
            raise ValueError(
                f"expected 'sqlite:///PATH' or 'postgresql+psycopg://…': got {shown!r}")
        return value


class WebConfig(Strict):
    listen: Annotated[str, AfterValidator(_check_listen)] = "127.0.0.1:8080"
    enabled: bool = True
    four_eyes: bool = False
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses of reverse proxies whose X-Forwarded-For is believed (none by default: a
    client could otherwise pick the address the sign-in limit counts)."""
    health_token: SecretStr | None = None
    """`Authorization: Bearer …` that shows /healthz's details to a monitor; anonymous
    callers get the status only, signed-in staff everything."""


class NewsletterConfig(Strict):
    """Consent evidence the subscribe form records (issue 27): what a data-protection
    officer asks to see, and no more than that by default."""

    consent_wording_version: str = Field(default="1", min_length=1, max_length=50)
    """Recorded with each form subscription: change it whenever the form's wording (what
    people agree to) changes, so each consent says which text it was given to."""
    record_client: bool = False
    """Also record the IP address and user agent that sent the form and clicked the
    confirmation. Off by default: personal data kept only when you need it as evidence."""
    client_retention_days: int = Field(default=90, ge=1, le=3650)
    """Recorded IP addresses and user agents are erased this many days after they were
    recorded (by `pressbot run` every minute, and before `subscribers show`/`export`)."""


class NotifyConfig(Strict):
    """Where 'posts are waiting' mails go; SMTP settings default to the first email channel's."""

    to: list[Annotated[str, AfterValidator(_check_address)]] = Field(default_factory=list)
    channel: str | None = None
    every: Duration = timedelta(hours=1)
    weekly: bool = True
    """The weekly summary mail (Mondays from 09:00 in the bot's zone): what was published
    and what it earned (`bot.summary`)."""
    webhook: SecretStr | None = None
    """An incoming-webhook address (Slack, Matrix hookshot, Teams) that gets a JSON
    `{"text": …}` for each comment mentioning a reviewer. A secret: such an address is
    all it takes to post into the team's room."""

    @field_validator("webhook")
    @classmethod
    def _webhook_is_http(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value.get_secret_value()):
            raise ValueError("expected the webhook's http(s) address, e.g. "
                             "https://hooks.slack.com/services/…")
        return value


class SourceBase(Strict):
    backlog: Backlog = "skip"
    poll_every: Duration = timedelta(minutes=10)
    language: str | None = None
    channels: list[str] | None = None
    # hold posts of releases without a link found in them (none, or one derived from a name)
    require_link: bool = False
    # the zone of dates the source writes without one (default: bot.timezone)
    timezone: Annotated[str, AfterValidator(_check_timezone)] | None = None

    def zone(self, default: tzinfo) -> tzinfo:
        """Where this source's zone-less dates are read: its own zone, else the bot's."""
        return ZoneInfo(self.timezone) if self.timezone else default


class FolderSourceConfig(SourceBase):
    type: Literal["folder"]
    path: Path
    base_url: HttpUrl | None = None
    watch: bool = True
    poll_every: Duration = timedelta(minutes=1)
    # ask a link derived from base_url and the file name whether it answers 200
    check_link: bool = False


class FeedSourceConfig(SourceBase):
    type: Literal["feed"]
    url: HttpUrl
    timeout: Duration = timedelta(seconds=20)
    max_bytes: int = Field(default=10_000_000, ge=1_000)
    max_redirects: int = Field(default=5, ge=0, le=20)
    allow_private: bool = False
    """The feed itself lives on this machine or the local network: its own host may be a
    private address. Redirects still may go only to that host or to public addresses."""
    allow_private_images: bool = False
    # WebSub: subscribe when the feed names a hub (in `run`); ask for this lease (the longest
    # pressbot accepts); poll again this long after the hub's last signed push
    # None: only when bot.public_url is a public address a hub can reach
    websub: bool | None = None
    websub_lease: Duration = timedelta(days=1)
    websub_silence: Duration = timedelta(hours=6)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme not in ("http", "https"):
            raise ValueError(f"expected an http(s) URL: got {str(value)!r}")
        return value


class Utm(Strict):
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None


class ChannelBase(Strict):
    approval: Literal["manual", "auto"] = "manual"
    dry_run: bool = False
    template: str | None = None
    templates_dir: Path | None = None
    hashtags: bool = True
    utm: Utm = Field(default_factory=Utm)
    windows: list[Window] = Field(default_factory=list)
    min_gap: Duration = timedelta(0)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    language: str | None = None
    timeout: Duration = timedelta(seconds=20)


class MastodonConfig(ChannelBase):
    type: Literal["mastodon"]
    base_url: HttpUrl
    access_token: Credential
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    spoiler_text: str | None = None
    max_characters: int | None = Field(default=None, ge=50)
    counting: Literal["mastodon", "takahe", "pleroma"] | None = None
    """How the server counts a status: "mastodon" (grapheme clusters, a URL as 23,
    @user@domain as @user), "takahe" (every code point, links and mentions in full), or
    "pleroma" (Pleroma/Akkoma: grapheme clusters, links and mentions in full). Unset: as
    the server the instance's version names. "raw" is the old name of "takahe"."""
    thread: bool = False
    allow_private_images: bool = False

    @field_validator("counting", mode="before")
    @classmethod
    def _old_name(cls, value: Any) -> Any:
        return "takahe" if value == "raw" else value


SelfLabel = Literal["graphic-media", "nudity", "sexual", "porn", "!no-unauthenticated"]
"""The values Bluesky's apps honour as self-labels (`com.atproto.label.defs#selfLabels`)."""
ReplyRule = Literal["mentioned", "following", "followers"]


class BlueskyConfig(ChannelBase):
    type: Literal["bluesky"]
    pds_url: HttpUrl = HttpUrl("https://bsky.social")
    handle: Annotated[str, Field(min_length=3, pattern=r"^\S+$")]
    app_password: Credential
    app_url: HttpUrl = HttpUrl("https://bsky.app")
    embed: Literal["auto", "card", "images"] = "auto"
    max_characters: int | None = Field(default=None, ge=50, le=300)
    thread: bool = False
    """Long text as a thread of replies (as for Mastodon), each part at most 300 graphemes."""
    labels: list[SelfLabel] = Field(default_factory=list, max_length=10)
    """Self-labels on every post (a content warning Bluesky's apps blur behind)."""
    replies: Literal["everybody", "nobody"] | list[ReplyRule] = "everybody"
    """Who may reply: everybody, nobody, or any of "mentioned", "following", "followers"
    (a threadgate record beside the post)."""
    quotes: bool = True
    """False: nobody may quote the post (a postgate record beside each post)."""
    allow_private_images: bool = False

    @field_validator("handle")
    @classmethod
    def _no_at(cls, value: str) -> str:
        return value.removeprefix("@")

    @field_validator("replies", mode="before")
    @classmethod
    def _reply_rule(cls, value: Any) -> Any:
        rules = get_args(ReplyRule)
        if value in ("everybody", "nobody") or (
                isinstance(value, list) and all(rule in rules for rule in value)):
            return value
        raise ValueError('expected "everybody", "nobody" or a list of any of "mentioned", '
                         f'"following", "followers" (who may reply): got {value!r}')


class FacebookConfig(ChannelBase):
    type: Literal["facebook"]
    page_id: Annotated[str, Field(pattern=r"^\d+$")]
    page_access_token: Credential
    app_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    graph_url: HttpUrl = HttpUrl("https://graph.facebook.com")
    api_version: Annotated[str, Field(pattern=r"^v\d+\.\d+$")] = "v21.0"
    post_as: Literal["link", "photo"] = "link"
    warm_up: bool = False
    expiry_warning_days: int = Field(default=14, ge=0)


class LinkedInConfig(ChannelBase):
    type: Literal["linkedin"]
    organization_id: Annotated[str, Field(pattern=r"^\d+$")]
    """The Page's organisation id: the number in `urn:li:organization:…`."""
    access_token: Credential
    """A 3-legged OAuth access token of a Page administrator (w_organization_social and
    r_organization_social)."""
    refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    """With all three, an expired access token is refreshed and `check` asks LinkedIn when
    the token expires (token introspection)."""
    token_expires: date | None = None
    """The day LinkedIn said the access token expires, for the warning when pressbot cannot
    ask (no client_id/client_secret)."""
    refresh_token_expires: date | None = None
    """The day the refresh token expires (a year after authorisation): re-authorise before."""
    api_url: HttpUrl = HttpUrl("https://api.linkedin.com")
    oauth_url: HttpUrl = HttpUrl("https://www.linkedin.com")
    api_version: Annotated[str, Field(pattern=r"^\d{6}(\.\d{2})?$")] = "202608"
    """LinkedIn-Version (YYYYMM): each is served for at least a year, then answers 426."""
    post_as: Literal["auto", "article", "images"] = "auto"
    expiry_warning_days: int = Field(default=7, ge=0)
    allow_private_images: bool = False


class EmailConfig(ChannelBase):
    type: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    reply_to: str | None = None
    mode: Literal["per-release", "digest"] = "per-release"
    schedule: Annotated[str, AfterValidator(_check_cron)] = "0 9 * * MON"
    list_id: str | None = None
    list_name: str | None = None
    unsubscribe_mailto: str | None = None
    feedback_id: str | None = None
    organisation: str | None = None
    postal_address: str | None = None
    logo: HttpUrl | None = None
    """A picture drawn for a light background, shown on a white plate in both palettes."""
    archive: bool = True
    connections: int = Field(default=2, ge=1, le=20)
    per_connection: int = Field(default=100, ge=1)
    rate_per_second: float | None = Field(default=None, gt=0)
    rate_per_hour: int | None = Field(default=None, gt=0)
    bounce_after: int = Field(default=1, ge=1)
    uncertain: Literal["skip", "resend"] = "skip"
    """A message whose server answer never came (or was never recorded): not sent again
    (at most once), or sent again (at least once)."""
    bounce_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
    soft_bounce_after: int = Field(default=3, ge=1)
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_every: Duration = timedelta(minutes=5)
    imap_authserv_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+$")
    """The authserv-id of the server that receives the bounce mailbox's mail, as it writes
    it in Authentication-Results: an unsubscribe mail without its token is honoured when
    that header says the sender's domain passed DMARC (unset: never)."""
    approval: Literal["manual", "auto"] = "manual"

    @field_validator("from_", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _check_address(value)


class OutboxConfig(ChannelBase):
    """A dry-run destination: writes each post as a file in the outbox folder."""

    type: Literal["outbox"]
    like: Literal["mastodon", "bluesky", "facebook", "linkedin", "email"] | None = None
    max_characters: int | None = Field(default=None, ge=10)
    approval: Literal["manual", "auto"] = "auto"


SourceConfig = Annotated[FolderSourceConfig | FeedSourceConfig, Field(discriminator="type")]
ChannelConfig = Annotated[
    MastodonConfig | BlueskyConfig | FacebookConfig | LinkedInConfig | EmailConfig
    | OutboxConfig,
    Field(discriminator="type"),
]


class Config(BaseSettings):
    """The whole configuration. `source_file` and `base_dir` say where it came from."""

    model_config = SettingsConfigDict(
        env_prefix="PRESSBOT_", env_nested_delimiter="__", extra="forbid", populate_by_name=True
    )

    bot: BotConfig = Field(default_factory=BotConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    notify: NotifyConfig | None = None
    newsletter: NewsletterConfig = Field(default_factory=NewsletterConfig)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    source_file: Path | None = Field(default=None, exclude=True)
    base_dir: Path = Field(default=Path("."), exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _names_exist(self) -> Config:
        """Channel names used elsewhere must be configured channels."""
        problems = []
        for name, source in self.sources.items():
            for channel in source.channels or []:
                if channel not in self.channels:
                    problems.append(f"sources.{name}.channels: no channel named {channel!r}")
        if self.notify and self.notify.channel and self.notify.channel not in self.channels:
            problems.append(f"notify.channel: no channel named {self.notify.channel!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def resolve(self, path: Path) -> Path:
        """A path from the config: relative ones are read against `base_dir`."""
        return path if path.is_absolute() else self.base_dir / path

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)


def _expand(value: Any, env: dict[str, str], key: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{key}.{k}" if key else k, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{key}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{key}: environment variable {name} is not set (nor in .env)")
        return ""

    return _VAR.sub(sub, value)


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(arg) for arg in get_args(annotation))


@functools.cache
def _secret_keys() -> frozenset[str]:
    """Every key typed as a secret in any table, so that an error about a wrong value never
    echoes it, whatever the key is called (a webhook address is as secret as a token)."""
    models: list[type[BaseModel]] = [Strict]
    keys: set[str] = set()
    while models:
        model = models.pop()
        models.extend(model.__subclasses__())
        keys.update(field.alias or name for name, field in model.model_fields.items()
                    if _is_secret(field.annotation))
    return frozenset(keys)


def _friendly(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    if len(loc) >= 3 and loc[0] in ("sources", "channels") and loc[2] in (
        "folder", "feed", "mastodon", "bluesky", "facebook", "linkedin", "email", "outbox"):
        del loc[2]
    if loc and loc[-1] == "from_":
        loc[-1] = "from"
    key = ".".join(loc)
    kind, got = error["type"], error.get("input")
    secret = any(s in key for s in ("token", "password", "secret")) or \
        any(part in _secret_keys() for part in loc)
    shown = "…" if secret else repr(got)
    if kind == "missing":
        return f"{key}: required key is missing"
    if kind == "extra_forbidden":
        return f"{key}: unknown key (check the spelling against config/example.toml)"
    if kind == "url_parsing" or kind.startswith("url_"):
        return f"{key}: not a URL: {shown}"
    if kind == "union_tag_invalid":
        # the input is the whole table: show only the tag, never the table's tokens
        return (f"{key}.type: expected one of {error['ctx']['expected_tags']}: "
                f"got {error['ctx']['tag']!r}")
    if kind == "union_tag_not_found":
        return f"{key}.type: required key is missing"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{key}: {message}" if key else message
    if kind == "path_type":
        return f"{key}: expected a path (a string): got {shown}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{key}: expected a table: got {shown}"
    msg = str(error["msg"])  # only the first letter: choices like 'DEBUG' keep their case
    return f"{key}: {msg[:1].lower() + msg[1:]}: got {shown}"


def find_config_file(path: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    """The config file to read and the folder its relative paths are resolved against."""
    if path is None:
        path = os.environ.get("PRESSBOT_CONFIG") or None
    if path is not None:
        chosen = Path(path)
        if not chosen.is_file():
            raise ConfigError(f"{chosen}: config file not found")
        return chosen, Path.cwd()
    local = Path("config/pressbot.toml")
    if local.is_file():
        return local, Path.cwd()
    bundled = paths.data_dir() / "config" / "pressbot.toml"
    return bundled, paths.data_dir()


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read, expand and validate the config; raise one ConfigError listing every problem."""
    file, base = find_config_file(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    env = _dotenv(file.parent) | dict(os.environ)
    problems: list[str] = []
    expanded = _expand(raw, env, "", problems)
    if problems:
        raise ConfigError("\n".join(f"{file}: {p}" for p in problems))
    try:
        config = Config(**expanded, source_file=file, base_dir=base)
    except ValidationError as exc:
        lines = [f"{file}: {_friendly(dict(e))}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    _register_secrets(config)
    return config


def _dotenv(folder: Path) -> dict[str, str]:
    file = folder / ".env"
    if not file.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(file).items() if v is not None}


def _register_secrets(config: Config) -> None:
    values: list[str | None] = []
    if config.bot.secret_key:
        values.append(config.bot.secret_key.get_secret_value())
    if config.web.health_token:
        values.append(config.web.health_token.get_secret_value())
    for channel in config.channels.values():
        for name in ("access_token", "page_access_token", "app_secret", "app_token", "password",
                     "app_password", "refresh_token", "client_secret"):
            secret = getattr(channel, name, None)
            if isinstance(secret, SecretStr):
                values.append(secret.get_secret_value())
    for source in config.sources.values():
        url = getattr(source, "url", None)
        if url is not None:  # a feed's credentials: a password in it, a key in its query
            values += [url.password, url.query]
            values += [v for part in (url.query or "").split("&")
                       for v in [part.partition("=")[2]] if v]
    redact.register(*values)
