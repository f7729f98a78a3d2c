"""Text that is text: ZWJ and ZWNJ carry meaning and reach every post.

👩‍💻 is woman + ZWJ + laptop, 👨‍👩‍👧 a family joined by two ZWJs, 🏴󠁧󠁢󠁳󠁣󠁴󠁿 a flag spelt with
emoji tags, and the Persian "می‌خواهم" (I want) needs its ZWNJ. A file full of them is a
release, not "a binary file"; none of them may be stripped on the way to Mastodon,
Bluesky, Facebook or the newsletter (both parts, as an SMTP server on 127.0.0.1 receives
them), and the platforms' counts take each emoji as one grapheme. Only invisible
characters that mean nothing go: a zero-width space inside a word, a BOM.
"""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from bot import subscribers as subs
from bot.config import load_config
from bot.fit import count
from bot.sources.extract import normalise
from bot.sources.files import read_release_file
from bot.store import Store
from channels.registry import DEFAULT_LIMITS
from tests.fakes.smtp import FakeSMTP
from tests.helpers import make_workspace

CODER = "👩\u200d💻"
FAMILY = "👨\u200d👩\u200d👧"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
PERSIAN = "می\u200cخواهم"
JOINED = (CODER, FAMILY, SCOTLAND, PERSIAN)

TXT = (f"\ufeffCoding club {CODER} for families {FAMILY}\n\n"
       f"The co\u200boperation opens a coding club {CODER}{CODER} for families {FAMILY}{FAMILY}"
       f" with friends from Scotland {SCOTLAND}{SCOTLAND}. Persian speakers say {PERSIAN}.\n\n"
       "Read more: https://www.example.org/news/coding-club\n")
MD = (f"---\ntitle: Family day {FAMILY} at the library\ndate: 2026-03-12\n"
      "url: https://www.example.org/news/family-day\n---\n\n"
      f"Families {FAMILY}{FAMILY} and coders {CODER}{CODER} meet in the library, and the"
      f" Scottish {SCOTLAND} guests too. Persian: {PERSIAN}.\n")


def channels(port: int) -> str:
    outboxes = "".join(f'\n[channels.{name}]\ntype = "outbox"\nlike = "{name}"\n'
                       for name in ("mastodon", "bluesky", "facebook"))
    return outboxes + (f'\n[channels.newsletter]\ntype = "email"\nsmtp_host = "127.0.0.1"\n'
                       f'smtp_port = {port}\nsecurity = "none"\n'
                       'from = "News <news@example.org>"\napproval = "auto"\n')


@pytest.mark.parametrize(("name", "data"), [("club.txt", TXT), ("day.md", MD)])
def test_a_file_with_joined_characters_is_read_as_text(tmp_path: Path, name: str,
                                                       data: str) -> None:
    path = tmp_path / name
    path.write_text(data, encoding="utf-8")
    release = read_release_file(path, source="press", key=name)
    for joined in (FAMILY, PERSIAN):
        assert joined in release.title + release.body
    for joined in JOINED:
        assert joined in release.body
    assert "\ufeff" not in release.title + release.body
    if name.endswith(".txt"):
        assert "cooperation" in release.body  # the zero-width space inside a word went


@pytest.mark.parametrize(("text", "kept"), [
    (f"{CODER} and {FAMILY}", f"{CODER} and {FAMILY}"),
    (PERSIAN, PERSIAN),
    (f"❤\ufe0f {SCOTLAND}", f"❤\ufe0f {SCOTLAND}"),
    ("co\u200boperation", "cooperation"),
    ("word\u2060joiner", "wordjoiner"),
    ("\ufeffTitle", "Title"),
])
def test_normalise_keeps_what_means_something(text: str, kept: str) -> None:
    assert normalise(text) == kept


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_the_platforms_count_a_joined_emoji_as_one(platform: str) -> None:
    limits = DEFAULT_LIMITS[platform]
    assert count(f"{CODER}{FAMILY}{SCOTLAND}", limits) == 3
    assert count(PERSIAN, limits) == 7  # seven letters; the ZWNJ joins none of them


def test_joined_characters_reach_every_channel_and_the_wire(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-03-16T10:00:00+00:00")
    fake = FakeSMTP()
    with fake.running():
        ws = make_workspace(tmp_path, channels=channels(fake.port))
        (ws.content / "club.txt").write_text(TXT, encoding="utf-8")
        (ws.content / "day.md").write_text(MD, encoding="utf-8")
        out = ws.run("preview", str(ws.content), "--json")
        assert out.exit_code == 0, out.output
        items = json.loads(out.stdout)
        assert {i["channel"] for i in items} == {"mastodon", "bluesky", "facebook",
                                                 "newsletter"}
        assert len(items) == 8
        for item in items:
            for joined in JOINED:  # the posts are short: nothing is cut
                assert joined in item["text"], (item["channel"], joined, item["text"])
                assert joined in (item["html"] or joined), (item["channel"], joined)
            if item["channel"] in ("mastodon", "bluesky"):
                assert item["length"] == count(item["text"], DEFAULT_LIMITS[item["channel"]])

        config = load_config(ws.config)
        store = Store(config.bot.database_url)
        subs.add(store, "ana@example.net")
        store.dispose()
        assert ws.run("fetch").exit_code == 0
        assert ws.run("publish").exit_code == 0
    assert len(fake.messages) == 2
    for message in fake.messages:
        parsed: EmailMessage = BytesParser(policy=policy.default).parsebytes(  # type: ignore[assignment]
            message.data)
        text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
        assert text is not None and html is not None
        assert FAMILY in str(parsed["Subject"]) or CODER in str(parsed["Subject"])
        for joined in JOINED:
            assert joined in text.get_content(), joined
            assert joined in html.get_content(), joined
