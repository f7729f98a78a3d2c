"""A release dated by its day alone is that day wherever it is shown; a timed one is shown in
the bot's zone.

`date: 2026-03-12` (or a dateline "12 March 2026") names a calendar day, not an instant: a
newsletter read in Bogotá (UTC−5) or Dhaka (UTC+6) must say 12 March, whichever zone the
source and the bot are in. End to end: folder sources → fetch → an email channel per
release and a digest → the bytes a real SMTP server (aiosmtpd on 127.0.0.1) received, the
preview's JSON and the public archive.
"""

from __future__ import annotations

import json
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from bot import subscribers as subs
from bot.config import load_config
from bot.store import Store
from bot.workflow import queue_digest
from tests.fakes.smtp import FakeSMTP
from tests.helpers import make_workspace

DAY_MD = ("---\ntitle: Third call for projects opens\ndate: 2026-03-12\n"
          "url: https://www.example.org/news/third-call\n---\n\n"
          "The programme opens its third call for projects on Thursday.\n")
TIMED_MD = ("---\ntitle: Ministers meet at the border\ndate: 2026-03-12T20:30:00+00:00\n"
            "url: https://www.example.org/news/ministers\n---\n\n"
            "The ministers of both countries met at the border crossing in the evening.\n")
DATELINE_TXT = ("Bridges reopen along the river\n\n12 March 2026\n\nThe two towns reopened the"
                " footbridge that joins them on Thursday, a year after the flood.\n\n"
                "Read more: https://www.example.org/news/bridges\n")

# bot zone, the other source's zone, and the day 20:30 UTC on 12 March is in the bot's zone
ZONES = [("America/Bogota", "Asia/Dhaka", "12 March 2026"),
         ("Asia/Dhaka", "America/Bogota", "13 March 2026")]

DAY_TITLES = ("Third call for projects opens", "Bridges reopen along the river")
TIMED_TITLE = "Ministers meet at the border"


def channels(port: int) -> str:
    common = (f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
              'from = "News <news@example.org>"\napproval = "auto"\n')
    return (f'\n[channels.newsletter]\ntype = "email"\n{common}'
            f'\n[channels.weekly]\ntype = "email"\nmode = "digest"\n{common}')


def parts(data: bytes) -> tuple[str, str]:
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[assignment]
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return (text.get_content().replace("\r\n", "\n"),
            html.get_content().replace("\r\n", "\n"))


def html_date(title: str, html: str) -> str | None:
    """The HTML part's `.date` under a title (a heading), if the title is there."""
    found = re.search(re.escape(title) + r"(?:</a>)?</h[12]>\s*<p class=\"date\"[^>]*>"
                      r"([^<]+)</p>", html)
    return found.group(1) if found else None


def dates_under(titles: tuple[str, ...], text: str, html: str) -> dict[str, tuple[str, str]]:
    """The date line under each title: in the text part, and the HTML part's `.date`."""
    found = {}
    for title in titles:
        in_text = re.search(re.escape(title) + r"\n(.+)\n", text)
        in_html = html_date(title, html)
        assert in_text and in_html, (title, text, html)
        found[title] = (in_text.group(1), in_html)
    return found


@pytest.mark.parametrize(("bot_zone", "other_zone", "timed_day"), ZONES)
def test_a_day_is_shown_as_written_and_a_time_in_the_bots_zone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bot_zone: str, other_zone: str,
        timed_day: str) -> None:
    # Monday 16 March, 03:00 UTC: still Sunday the 15th in Bogotá
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-03-16T03:00:00+00:00")
    fake = FakeSMTP()
    with fake.running():
        far = tmp_path / "far"
        far.mkdir()
        ws = make_workspace(tmp_path, channels=channels(fake.port), extra=(
            f'\n[sources.far]\ntype = "folder"\npath = "{far}"\nbacklog = "all"\n'
            f'timezone = "{other_zone}"\n'))
        ws.config.write_text(ws.config.read_text().replace(
            'timezone = "Europe/Brussels"', f'timezone = "{bot_zone}"', 1))
        (ws.content / "day.md").write_text(DAY_MD, encoding="utf-8")
        (ws.content / "timed.md").write_text(TIMED_MD, encoding="utf-8")
        (far / "bridges.txt").write_text(DATELINE_TXT, encoding="utf-8")
        config = load_config(ws.config)
        store = Store(config.bot.database_url)
        subs.add(store, "ana@example.net")
        assert ws.run("fetch").exit_code == 0
        with store.begin() as conn:
            assert queue_digest(conn, config, "weekly") is not None
        result = ws.run("publish")
        assert result.exit_code == 0, result.output

        previewed = {}
        for folder in (ws.content, far):
            out = ws.run("preview", str(folder), "--json", "--channel", "newsletter")
            previewed |= {i["release"]["title"]: i["release"]["published"]
                          for i in json.loads(out.stdout)}
        assert previewed == {DAY_TITLES[0]: "2026-03-12", DAY_TITLES[1]: "2026-03-12",
                             TIMED_TITLE: "2026-03-12T20:30:00+00:00"}

        from tests.web.conftest import client_for

        with client_for(config, store) as client:
            index = client.get("/newsletter").text
            issues = re.findall(r'href="/newsletter/(\d+)"', index)
            archived = [client.get(f"/newsletter/{n}").text for n in issues]
        store.dispose()

    received = {m.parse()["Subject"]: parts(m.data) for m in fake.messages}
    assert len(received) == 4, list(received)  # three releases and one digest
    for title in (*DAY_TITLES, TIMED_TITLE):
        text, html = received[title]
        expected = timed_day if title == TIMED_TITLE else "12 March 2026"
        assert dates_under((title,), text, html) == {title: (expected, expected)}
    [digest] = [parts for subject, parts in received.items()
                if subject not in (*DAY_TITLES, TIMED_TITLE)]
    assert dates_under((*DAY_TITLES, TIMED_TITLE), *digest) == {
        DAY_TITLES[0]: ("12 March 2026", "12 March 2026"),
        DAY_TITLES[1]: ("12 March 2026", "12 March 2026"),
        TIMED_TITLE: (timed_day, timed_day)}

    # the public archive: each issue as sent, listed under the day it went out, there
    assert len(archived) == 4
    shown = [(title, html_date(title, page)) for page in archived
             for title in (*DAY_TITLES, TIMED_TITLE) if html_date(title, page)]
    assert sorted(shown) == sorted([(DAY_TITLES[0], "12 March 2026")] * 2
                                   + [(DAY_TITLES[1], "12 March 2026")] * 2
                                   + [(TIMED_TITLE, timed_day)] * 2)
    sent_on = "15 March 2026" if bot_zone == "America/Bogota" else "16 March 2026"
    assert re.findall(r'class="date">([^<]+)<', index) == [sent_on] * 4
