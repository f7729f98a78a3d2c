"""What was approved is what is sent: an edit reaches every part of an email, in the review
page, in the outbox and in the bytes an SMTP server on 127.0.0.1 receives; front matter
subjects, uncut subjects, Markdown bodies and the digest's plain text."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from bot import i18n, workflow
from bot.config import Config, load_config
from bot.render import render, render_digest, targets
from bot.sources.files import read_release_file
from bot.store import Store
from bot.store import posts as post_store
from tests.channels.test_email import add_people, make_channel, make_post
from tests.fakes.smtp import FakeSMTP
from tests.helpers import EXAMPLES

EDIT = "Edited: the café opens on Tuesday.\n\nMore: <https://www.example.org/x?a=1&b=2>"


def parts(data: bytes) -> tuple[str, str]:
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[assignment]
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content()


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


def test_an_edit_reaches_both_parts_on_the_wire(tmp_path: Path, fake: FakeSMTP) -> None:
    db = Store(f"sqlite:///{tmp_path}/edit.db")
    try:
        add_people(db, 1)
        channel = make_channel(db, fake.port)
        post = make_post(db)
        with db.begin() as conn:
            edited = workflow.edit(conn, channel.config, post.id, "ed", EDIT)
        asyncio.run(channel.publish(edited))
    finally:
        db.dispose()
    [received] = fake.messages
    text, html = parts(received.data)
    assert "Edited: the café opens on Tuesday." in text
    assert "Edited: the café opens on Tuesday." in html
    assert "Spring report" not in text + html.split("<title>")[0]
    assert "Hello Reader 0," in html and "Hello Reader 0," in text
    assert re.search(r'href="https://news\.example\.org/u/[^"]+"', html)


MARKDOWN_EDIT = """# Spring report

10 June 2026

## Who to ask

- [Write to the press office](mailto:press@example.org)
- [Call us](tel:+43463123456)
- [Our site](https://www.example.org/contact)

The office is open on weekdays.

A [trap](javascript:alert(1)) and an [archive](ftp://files.example.org/a.zip).
"""


def test_a_markdown_edit_keeps_the_design_and_the_layout_on_the_wire(
        tmp_path: Path, fake: FakeSMTP) -> None:
    """Edited as Markdown with no footer at all: the HTML keeps its h1/h2 and list, both
    parts carry every list item and the paragraph after it apart, a link that is not
    http(s) is its text in both, and the layout adds greeting, footer and unsubscribe."""
    db = Store(f"sqlite:///{tmp_path}/md.db")
    try:
        add_people(db, 1)
        channel = make_channel(db, fake.port, organisation="Joint Secretariat",
                               postal_address="Seeweg 14, 9020 Klagenfurt")
        post = make_post(db)
        with db.begin() as conn:
            edited = workflow.edit(conn, channel.config, post.id, "ed", MARKDOWN_EDIT)
        assert workflow.editable_text(edited) == MARKDOWN_EDIT.strip()
        asyncio.run(channel.publish(edited))
    finally:
        db.dispose()
    [received] = fake.messages
    text, html = parts(received.data)
    assert re.search(r"<h1[^>]*>Spring report</h1>", html)
    assert re.search(r"<h2[^>]*>Who to ask</h2>", html)
    assert re.findall(r"<li[^>]*>(.*?)</li>", html) == [
        "Write to the press office", "Call us",
        re.findall(r"<li[^>]*>(<a [^>]*>Our site</a>)</li>", html)[0]]
    assert "- Write to the press office\n- Call us\n- Our site " \
           "(https://www.example.org/contact)\n\nThe office is open on weekdays." in text
    assert "A trap and an archive." in text and "A trap and an archive." in html
    shown = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # not Outlook's [if mso] comments
    for part in (text, shown):
        assert "tel:" not in part and "javascript" not in part and "ftp:" not in part
        assert "mailto:press" not in part and "## " not in part and "[" not in part
        assert "Hello Reader 0," in part
        assert "Seeweg 14, 9020 Klagenfurt" in part
        assert re.search(r"https://news\.example\.org/u/\S+", part)
    assert not re.search(r"<a(?![^>]*href)[^>]*>", html)  # no dead link styled as one
    assert "\n-- \n" in text and "Unsubscribe: https://news.example.org/u/" in text


def test_a_rendered_markdown_release_is_edited_as_the_markdown_it_came_from(
        demo: Config) -> None:
    """What the editor opens with renders back to the same content: headings, lists and
    links survive an edit saved unchanged."""
    from bot.emailbody import content_html, html_to_text, markdown_to_html

    target = next(t for t in targets(demo) if t.name == "newsletter")
    release = dict(_examples())[EXAMPLES / "2026-03-12-third-call-green-mobility.md"]
    rendered = render(release, target, demo)  # type: ignore[arg-type]
    html = rendered.html or ""
    from bot.models import Post

    post = Post(id=1, uid="x", channel="newsletter", status="pending", text=rendered.text,
                html=html, created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z")
    source = workflow.editable_text(post)
    assert source.startswith("# Third call for projects")
    assert "\n## What the call supports\n" in source
    assert "%%" not in source and "Unsubscribe" not in source
    again = markdown_to_html(source)
    assert re.search(r"<h2>What the call supports</h2>", again)
    assert re.search(r"<li>shared timetables", again)
    assert 'href="https://apply.drava-karawanken.example/calls/3"' in again
    filled = i18n.fill(content_html(html), None, escape=True)  # the per-reader words
    assert html_to_text(again) == html_to_text(filled.replace(' class="date"', ""))


@pytest.fixture
def demo() -> Config:
    return load_config("config/pressbot.toml")


def _examples() -> list[tuple[Path, object]]:
    return [(p, read_release_file(p, source="press", key=p.name,
                                  base_url="https://www.example.org/news/"))
            for p in sorted(EXAMPLES.iterdir())]


def test_front_matter_subjects_are_honoured_and_no_subject_is_cut(demo: Config) -> None:
    target = next(t for t in targets(demo) if t.name == "newsletter")
    seen = {}
    for path, release in _examples():
        rendered = render(release, target, demo)  # type: ignore[arg-type]
        seen[path.name] = rendered
        assert rendered.subject
        assert "…" not in rendered.subject
    third = seen["2026-03-12-third-call-green-mobility.md"]
    assert third.subject == "Third call open: €14 million for green mobility"
    assert seen["2031-05-annual-conference-maribor.md"].subject == \
        "Annual conference 2031: health services without borders"
    long_one = seen["2026-02-small-project-fund-results.txt"]
    assert long_one.subject == \
        "Small project fund: 23 people-to-people projects selected in the second round"
    assert any("long subject" in w for w in long_one.warnings)


def test_markdown_releases_become_html_for_email(demo: Config) -> None:
    target = next(t for t in targets(demo) if t.name == "newsletter")
    release = dict(_examples())[EXAMPLES / "2026-03-12-third-call-green-mobility.md"]
    html = render(release, target, demo).html or ""  # type: ignore[arg-type]
    assert re.search(r"<h2[^>]*>What the call supports</h2>", html)
    assert re.search(r"<li[^>]*>shared timetables", html)
    assert re.search(r'<a [^>]*href="https://apply\.drava-karawanken\.example/calls/3"', html)
    assert "(https://apply" not in html
    assert html.count("Third call for projects: €14 million") == 2  # <title> and <h1>, once


def test_markdown_raw_html_is_not_passed_on(tmp_path: Path) -> None:
    file = tmp_path / "x.md"
    file.write_text("---\ntitle: T\n---\n<script>alert(1)</script>\n\n[a](javascript:x) "
                    "[b](https://ok.example/)\n", encoding="utf-8")
    release = read_release_file(file, source="s", key="x.md")
    assert "<script>" not in release.body_html
    assert "href=\"javascript" not in release.body_html
    assert 'href="https://ok.example/"' in release.body_html


def test_digest_text_separates_items_and_signs_with_dash_dash_space(demo: Config) -> None:
    target = next(t for t in targets(demo) if t.name == "newsletter")
    releases = [r for _, r in _examples()]
    text = render_digest(releases, target, demo).text  # type: ignore[arg-type]
    blocks = text.split("\n\n")
    for release in releases:
        title = release.title  # type: ignore[attr-defined]
        assert any(b.startswith(title) for b in blocks), title
    assert text.count("* * *") == len(releases) - 1
    assert "\n-- \n" in text
    assert "\n--\n" not in text


def test_sender_identity_preheader_and_colour_scheme(tmp_path: Path, fake: FakeSMTP) -> None:
    from bot.config import Config
    from tests.channels.test_email import email_config

    cfg = email_config(fake.port, organisation="Joint Secretariat Drava-Karawanken",
                       postal_address="Seeweg 14, 9020 Klagenfurt, Austria",
                       feedback_id="newsletter:pressbot")
    config = Config(bot={"public_url": "https://news.example.org"},
                    channels={"newsletter": cfg})
    [target] = targets(config)
    release = dict(_examples())[EXAMPLES / "2026-03-12-third-call-green-mobility.md"]
    rendered = render(release, target, config)  # type: ignore[arg-type]
    html = rendered.html or ""
    for part in (rendered.text, html):
        assert "Joint Secretariat Drava-Karawanken · Seeweg 14, 9020 Klagenfurt, Austria" in part
    assert '<meta name="color-scheme" content="light dark">' in html
    preheader = re.search(r'<div class="preheader" style="display:none[^"]*">([^<]+)</div>',
                          html)
    assert preheader is not None
    assert preheader.group(1).startswith("The Interreg Drava-Karawanken programme opens")
    digest = render_digest([r for _, r in _examples()], target, config)  # type: ignore[misc]
    assert "Joint Secretariat Drava-Karawanken" in digest.text

    db = Store(f"sqlite:///{tmp_path}/id.db")
    try:
        add_people(db, 1)
        channel = make_channel(db, fake.port, feedback_id="newsletter:pressbot")
        asyncio.run(channel.publish(make_post(db)))
    finally:
        db.dispose()
    head = fake.messages[0].data.split(b"\r\n\r\n", 1)[0]
    # the issue's id first, so a provider's feedback loop says which issue drew complaints
    assert re.search(rb"^Feedback-ID: 1:newsletter:pressbot\r?$", head, re.M)
    assert re.search(rb"^List-Archive: <https://news\.example\.org/newsletter>\r?$", head,
                     re.M)


def test_greeting_and_footer_follow_the_subscribers_language(tmp_path: Path,
                                                             fake: FakeSMTP) -> None:
    from bot import subscribers
    from bot.models import PostStatus, Release

    db = Store(f"sqlite:///{tmp_path}/lang.db")
    try:
        people = {"es@example.net": "es-MX", "fr@example.net": "fr", "ru@example.net": "ru",
                  "de@example.net": "de", "none@example.net": None}
        for address, language in people.items():
            subscribers.add(db, address, name="Ana", language=language)
        channel = make_channel(db, fake.port)
        [target] = targets(channel.config)
        rendered = render(Release(source="s", key="k", title="Puente", url="https://x.example/",
                                  summary="S.", body="B."), target, channel.config)
        with db.begin() as conn:
            post = post_store.require(conn, post_store.insert(
                conn, channel="newsletter", status=PostStatus.APPROVED, actor="t",
                release_id=None, title="Puente", subject="Puente", text=rendered.text,
                html=rendered.html, language="en"))
        asyncio.run(channel.publish(post))
    finally:
        db.dispose()
    got = {m.rcpt_tos[0]: parts(m.data) for m in fake.messages}
    expected = {
        "es@example.net": ("Hola, Ana:", "Darse de baja", "se suscribió a nuestras noticias"),
        "fr@example.net": ("Bonjour Ana,", "Se désabonner", "vous êtes abonné"),
        "ru@example.net": ("Здравствуйте, Ana!", "Отписаться", "подписались на наши новости"),
        "de@example.net": ("Hallo Ana,", "Abbestellen", "unsere Neuigkeiten abonniert"),
        "none@example.net": ("Hello Ana,", "Unsubscribe", "you subscribed to our news"),
    }
    for address, (hello, unsubscribe, reason) in expected.items():
        text, html = got[address]
        assert text.startswith(hello), (address, text[:40])
        assert f"{unsubscribe}: https://news.example.org/u/" in text
        assert reason in text and reason in html
        assert f">{unsubscribe}</a>" in html
        assert "%%" not in text + html


# ── issue 27 item 12: every fixed word and the date in the reader's language ───────────────

def _english_fragments() -> list[str]:
    """The English catalogue's messages, split at their `{fields}`: none may be in a mail
    to a reader of another language."""
    from bot import i18n

    pieces = {piece.strip(" ,:!?.") for message in i18n.msgids()
              for piece in re.split(r"\{\w+\}", message)}
    return sorted(p for p in pieces if len(p) >= 4)


def _send_in_languages(tmp_path: Path, fake: FakeSMTP, digest: bool) -> dict[str, str]:
    """A dated release with a link (or a digest of two), rendered by the shipped templates
    and sent to a French, a German, a Russian and an English reader: the bytes received,
    decoded, text part + HTML part, per address."""
    return {address: "\n".join(parts(data))
            for address, data in _send_raw(tmp_path, fake, digest).items()}


def _send_raw(tmp_path: Path, fake: FakeSMTP, digest: bool,
              subject: str | None = None) -> dict[str, bytes]:
    """As `_send_in_languages`, the raw bytes the server received; the post's subject (and
    a digest's subject in every language) as rendered, unless `subject` edits it."""
    from datetime import date

    from bot import subscribers
    from bot.models import PostStatus, Release

    db = Store(f"sqlite:///{tmp_path}/lang.db")
    try:
        people = {"fr@example.net": "fr", "de@example.net": "de-AT", "ru@example.net": "ru",
                  "en@example.net": "en"}
        for address, language in people.items():
            subscribers.add(db, address, name="Ana", language=language)
        channel = make_channel(db, fake.port)
        [target] = targets(channel.config)
        releases = [Release(source="s", key=f"k{n}", title=f"Pont {n}",
                            url=f"https://x.example/{n}", summary="Le pont.", body="Le pont.",
                            published_day=date(2026, 6, 10), language="en") for n in (1, 2)]
        rendered = render_digest(releases, target, channel.config) if digest else \
            render(releases[0], target, channel.config)
        with db.begin() as conn:
            post = post_store.require(conn, post_store.insert(
                conn, channel="newsletter", status=PostStatus.APPROVED, actor="t",
                release_id=None, title="Pont", subject=subject or rendered.subject,
                text=rendered.text, html=rendered.html, language=rendered.language,
                extra={"subjects": rendered.subjects}))
        asyncio.run(channel.publish(post))
    finally:
        db.dispose()
    return {m.rcpt_tos[0]: m.data for m in fake.messages}


@pytest.mark.parametrize("digest", [False, True], ids=["single", "digest"])
def test_a_french_readers_mail_has_no_english_fixed_string(tmp_path: Path, fake: FakeSMTP,
                                                            digest: bool) -> None:
    got = _send_in_languages(tmp_path, fake, digest)
    english = _english_fragments()
    assert "Read more" in english and "Read the full release" in english  # the check checks
    for address in ("fr@example.net", "de@example.net", "ru@example.net"):
        leaked = [f for f in english if f in got[address]]
        assert leaked == [], (address, leaked)
        assert "%%" not in got[address]
    french, german, russian, plain = (got[f"{w}@example.net"] for w in ("fr", "de", "ru", "en"))
    assert "10 juin 2026" in french and "Lire la suite :" in french
    assert "10. Juni 2026" in german and "Weiterlesen:" in german and "Hallo Ana," in german
    assert "10 июня 2026" in russian and "Подробнее:" in russian
    assert "10 June 2026" in plain and "Read more: https://x.example/1" in plain
    if not digest:
        assert "Lire le communiqué complet" in french
        assert "Die ganze Mitteilung lesen" in german
        assert "Read the full release" in plain


def _heads(data: bytes) -> tuple[bytes, str, str]:
    """(raw header block, decoded Subject, Content-Language) of a message as received."""
    head = data.split(b"\r\n\r\n", 1)[0]
    msg = BytesParser(policy=policy.default).parsebytes(data)
    return head, str(msg["Subject"]), str(msg["Content-Language"])


def test_a_french_reader_of_an_english_digest_gets_a_french_subject(tmp_path: Path,
                                                                    fake: FakeSMTP) -> None:
    """The digest's "N new releases" subject in each reader's words; Content-Language and
    `lang` describe the mail: its text in English, its fixed words in the reader's
    language (docs/newsletter-languages.md)."""
    got = _send_raw(tmp_path, fake, digest=True)
    head, subject, language = _heads(got["fr@example.net"])
    # an encoded-word on the wire, decoded to the catalogue's plural
    assert re.search(rb"^Subject: .*=\?utf-8\?q\?", head, re.M), head
    assert subject == "Nos actualités : 2 nouveaux communiqués"
    assert language == "en, fr"
    _, html = parts(got["fr@example.net"])
    assert '<html lang="en"' in html
    assert re.search(r'<p lang="fr"[^>]*>Bonjour Ana,</p>', html)
    assert re.search(r'<td class="foot" lang="fr"', html)
    assert re.search(r'<p class="date" lang="fr"[^>]*>10 juin 2026</p>', html)
    head, subject, language = _heads(got["en@example.net"])
    assert subject == "Our news: 2 new releases" and language == "en"
    assert b"\r\nContent-Language: en\r\n" in head
    _, html = parts(got["en@example.net"])
    assert '<html lang="en"' in html and re.search(r'<p lang="en"[^>]*>Hello Ana,</p>', html)
    assert _heads(got["de@example.net"])[1:] == ("Unsere Neuigkeiten: 2 neue Mitteilungen",
                                                 "en, de")
    assert _heads(got["ru@example.net"])[1].startswith("Наши новости: 2 ")


def test_a_single_issues_title_and_an_edited_subject_stay_as_written(tmp_path: Path,
                                                                    fake: FakeSMTP) -> None:
    got = _send_raw(tmp_path, fake, digest=False)
    assert {_heads(data)[1:] for address, data in got.items() if address != "en@example.net"
            } == {("Pont 1", "en, fr"), ("Pont 1", "en, de"), ("Pont 1", "en, ru")}
    assert _heads(got["en@example.net"])[1:] == ("Pont 1", "en")
    fake.messages.clear()
    (tmp_path / "edited").mkdir()
    edited = _send_raw(tmp_path / "edited", fake, digest=True, subject="Our June news")
    assert {_heads(data)[1] for data in edited.values()} == {"Our June news"}
