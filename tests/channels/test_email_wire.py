"""What really left pressbot: the raw bytes an aiosmtpd server on 127.0.0.1 received.

Headers are read from those bytes, never through the `email` package's decoding parser
(which would turn an RFC 2047-encoded `List-Unsubscribe` back into a valid-looking one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot import subscribers
from bot.config import EmailConfig
from bot.models import Image, Post, PostStatus, Release
from bot.render import render, targets
from bot.store import Store
from bot.store import posts as post_store
from bot.store import subscribers as sub_store
from bot.web.public import public_routes
from channels.email import EmailChannel, SmtpConnector
from channels.email.headers import WIRE, fold_text
from channels.email.message import MessageFactory
from channels.email.verp import verp_address
from tests.channels.test_email import add_people, make_channel, make_post
from tests.fakes.smtp import FakeSMTP, Received

pytestmark = pytest.mark.anyio
EVIL = "=?utf-8?q?Ann=0D=0AReply-To:_evil@attacker.test=0D=0A=0D=0Ahello?="


@pytest.fixture
def store(tmp_path: object) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path}/wire.db")
    yield db
    db.dispose()


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


def raw_head(received: Received) -> bytes:
    return received.data.split(b"\r\n\r\n", 1)[0]


def raw_headers(received: Received) -> dict[str, list[str]]:
    """Header name (lower case) → values, unfolded but not decoded."""
    head = raw_head(received).decode("utf-8")
    found: dict[str, list[str]] = {}
    for line in re.sub(r"\r\n[ \t]", " ", head).split("\r\n"):
        name, _, value = line.partition(":")
        found.setdefault(name.lower(), []).append(value.strip())
    return found


def assert_well_formed(received: Received) -> None:
    head = raw_head(received)
    for line in head.split(b"\r\n"):
        assert len(line) <= 998
        assert line.strip(), "an empty header line"
        assert b"\n" not in line and b"\r" not in line
    assert b"\r\n\r\n" in received.data


async def test_list_unsubscribe_goes_out_unencoded(store: Store, fake: FakeSMTP) -> None:
    add_people(store, 2)
    channel = make_channel(store, fake.port)
    await channel.publish(make_post(store))

    assert len(fake.messages) == 2
    for received in fake.messages:
        assert_well_formed(received)
        headers = raw_headers(received)
        [value] = headers["list-unsubscribe"]
        assert re.fullmatch(r"<https://news\.example\.org/u/([A-Za-z0-9._\-]+)>, "
                            r"<mailto:unsubscribe@example\.org\?subject=unsubscribe%20\1>",
                            value), value
        assert headers["list-unsubscribe-post"] == ["List-Unsubscribe=One-Click"]
        [message_id] = headers["message-id"]
        assert re.fullmatch(r"<pressbot\.[^<>@\s]+@example\.org>", message_id)


async def test_subject_folds_without_empty_lines_or_doubled_spaces(
        store: Store, fake: FakeSMTP) -> None:
    add_people(store, 1)
    title = ("Cross-border health: Dravograd and Lavamünd share results in a pilot that "
             "brings doctors, nurses and “Ärzte” together — a very long title indeed")
    channel = make_channel(store, fake.port)
    await channel.publish(make_post(store, title=title, subject=title))

    [received] = fake.messages
    head = raw_head(received).decode()
    subject_block = re.search(r"^Subject:(.*?)\r\n(?![ \t])", head, re.S | re.M)
    assert subject_block is not None
    lines = f"Subject:{subject_block.group(1)}".split("\r\n")
    assert lines[0] != "Subject: " and lines[0].strip() != "Subject:"
    assert all(len(line) <= 78 for line in lines), lines
    assert all(line.startswith(" ") and line.strip() for line in lines[1:])
    assert "  " not in subject_block.group(1).replace("\r\n", "")
    decoded = str(make_header(decode_header(subject_block.group(1).replace("\r\n", ""))))
    assert decoded.strip() == title


def test_fold_text_round_trips_any_title() -> None:
    for title in ["plain", "Zoë", "a " * 60, "x" * 200, "€" * 90, "=?utf-8?q?fake?= title",
                  "mixed Ärger and ascii words " * 5]:
        folded = fold_text("Subject", title)
        assert all(len(line) <= 78 for line in f"Subject: {folded}".split("\r\n"))
        assert str(make_header(decode_header(folded.replace("\r\n", "")))) == " ".join(
            title.split())


async def test_no_name_can_inject_headers(store: Store, fake: FakeSMTP) -> None:
    """A row written before names were checked (or by hand) still cannot break a line."""
    with store.begin() as conn:
        sub_store.insert(conn, email="ann@example.net", name=EVIL, language=None,
                         status=sub_store.ACTIVE, consent_source="test")
        sub_store.insert(conn, email="bob@example.net", name='Bob "B" \\ <x@y>', language=None,
                         status=sub_store.ACTIVE, consent_source="test")
    channel = make_channel(store, fake.port)
    await channel.publish(make_post(store))

    assert len(fake.messages) == 2
    for received in fake.messages:
        assert_well_formed(received)
        headers = raw_headers(received)
        assert headers["reply-to"] == ["press@example.org"]
        assert len(headers["to"]) == 1
        assert b"evil@attacker.test\r\n" not in received.data
        assert not re.search(rb"^Reply-To: evil", received.data, re.M)
    ann = next(m for m in fake.messages if m.rcpt_tos == ["ann@example.net"])
    # the reader sees the literal text that was typed, not what it would decode to
    shown = str(make_header(decode_header(raw_headers(ann)["to"][0])))
    assert shown == f"{EVIL} <ann@example.net>"


def test_encoded_line_breaks_in_names_are_refused_on_every_path(store: Store) -> None:
    for name in (EVIL, "=?utf-8?b?QW5uDQpCY2M6IHhAeS56?=", "Ann\x07"):
        with pytest.raises(subscribers.SubscriberError, match="control characters"):
            subscribers.add(store, "ann@example.org", name=name)
        with pytest.raises(subscribers.SubscriberError, match="control characters"):
            subscribers.request(store, "ann@example.org", name=name)
    report = subscribers.import_csv(store, f'email,name\nann@example.org,"{EVIL}"\n'
                                           "bob@example.org,Bob\n")
    assert report.added == 1
    assert [line for line, _ in report.errors] == [2]
    assert "control characters" in report.errors[0][1]
    assert subscribers.add(store, "zoe@example.org", name="=?utf-8?q?Zo=C3=AB?=").name


def test_the_cli_refuses_such_a_name(tmp_path: object) -> None:
    from tests.helpers import make_workspace

    ws = make_workspace(tmp_path)  # type: ignore[arg-type]
    result = ws.run("subscribers", "add", "ann@example.org", "--name", EVIL)
    assert result.exit_code != 0
    assert "control characters" in result.output
    assert "ann@example.org" not in ws.run("subscribers", "list").output


def test_the_form_refuses_such_a_name_and_the_confirmation_has_a_message_id(
        store: Store, fake: FakeSMTP) -> None:
    from tests.test_public_web import make_config, received

    config = make_config(store, fake.port)
    cfg = config.channels["newsletter"]
    assert isinstance(cfg, EmailConfig)
    routes = public_routes(config, store, smtp=SmtpConnector(cfg, local_hostname="web.test"))
    with TestClient(Starlette(routes=routes), base_url="https://news.example.org") as client:
        refused = client.post("/subscribe", data={"email": "ann@example.org", "name": EVIL})
        assert refused.status_code == 400
        assert "Give your name as plain text, on one line." in refused.text
        assert fake.messages == []
        done = client.post("/subscribe", data={"email": "ann@example.org",
                                               "name": "Ann Ångström"})
        assert done.status_code == 200
        [mail] = received(fake, 1)
    assert_well_formed(mail)
    headers = raw_headers(mail)
    [message_id] = headers["message-id"]
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", message_id)
    assert len(headers["date"]) == 1
    assert headers["auto-submitted"] == ["auto-generated"]  # RFC 3834: not a reply


def test_a_confirmation_greets_by_name_signs_with_the_address_and_bounces_by_verp(
        store: Store, fake: FakeSMTP) -> None:
    from channels.email.verp import read_verp
    from tests.test_public_web import make_config, received

    config = make_config(store, fake.port, organisation="Joint Secretariat",
                         postal_address="Seeweg 14, 9020 Klagenfurt",
                         bounce_domain="bounces.example.org")
    cfg = config.channels["newsletter"]
    assert isinstance(cfg, EmailConfig)
    routes = public_routes(config, store, smtp=SmtpConnector(cfg, local_hostname="web.test"))
    with TestClient(Starlette(routes=routes), base_url="https://news.example.org") as client:
        assert client.post("/subscribe", data={"email": "ann@example.org",
                                               "name": "Ann Lee"}).status_code == 200
        [mail] = received(fake, 1)  # the confirmation goes out after the answer
    body = mail.parse().get_content()
    assert body.startswith("Hello Ann Lee,")
    assert "Joint Secretariat · Seeweg 14, 9020 Klagenfurt" in body
    assert mail.mail_from.endswith("@bounces.example.org")
    pending = subscribers.listing(store)[0]
    assert read_verp("test-signing-key-0123456789", mail.mail_from) == (0, pending.id)


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v or "" for k, v in attrs if k in ("href", "src", "background")]


async def test_only_http_links_and_images_leave(store: Store, fake: FakeSMTP) -> None:
    from bot.config import Config

    add_people(store, 1)
    channel = make_channel(store, fake.port)
    release = Release(
        source="test", key="x", title="Links", url="javascript:alert(1)",
        summary="A summary.", body="Body.",
        body_html=('<p><a href="JaVa&#x09;script:alert(2)">a</a> <a href="/relative">r</a> '
                   '<a href="mailto:x@example.org">m</a> <img src="data:image/png;base64,AA">'
                   '<a href="https://ok.example/">ok</a></p>'),
        images=[Image(url="javascript:alert(3)", alt="x")])
    config: Config = channel.config
    [target] = targets(config, only="newsletter")
    rendered = render(release, target, config)
    assert not rendered.blocking, rendered.warnings
    assert rendered.html is not None
    with store.begin() as conn:
        post_id = post_store.insert(
            conn, channel="newsletter", status=PostStatus.APPROVED, actor="test",
            release_id=None, title="Links", text=rendered.text, html=rendered.html,
            subject=rendered.subject)
        post = post_store.require(conn, post_id)
    await channel.publish(post)

    [received] = fake.messages
    html_part = received.parse().get_body(("html",))
    assert html_part is not None
    parser = _Urls()
    parser.feed(html_part.get_content())
    assert "https://ok.example/" in parser.found
    assert parser.found and all(u.startswith(("https://", "http://")) for u in parser.found), \
        parser.found
    assert b"javascript" not in received.data.lower()


def test_a_template_writing_a_non_http_link_holds_the_post(tmp_path: object) -> None:
    from pathlib import Path

    from tests.channels.test_email import email_config

    folder = Path(str(tmp_path)) / "tpl" / "email"
    folder.mkdir(parents=True)
    (folder / "body.html.j2").write_text('<a href="javascript:go()">{{ title }}</a>'
                                         '<a href="{{ unsubscribe_url }}">u</a>')
    from bot.config import Config

    cfg = email_config(25, templates_dir=str(folder.parent))
    config = Config(bot={"public_url": "https://news.example.org"}, channels={"newsletter": cfg})
    [target] = targets(config, only="newsletter")
    rendered = render(Release(source="t", key="k", title="T", url="https://x.example/",
                              summary="S"), target, config)
    assert rendered.blocking
    assert "javascript:go()" in rendered.warnings[0]


def _shape(msg: EmailMessage) -> list[tuple[str, str | None, str | None]]:
    """Each part's type, charset and transfer encoding, in order (boundaries aside)."""
    return [(part.get_content_type(), part.get_content_charset(),
             part.get("Content-Transfer-Encoding")) for part in msg.walk()]


async def test_two_readers_each_get_only_their_own_link_and_the_email_packages_shape(
        store: Store, fake: FakeSMTP) -> None:
    """Issue 27 item 17: the copies are filled into bytes serialised once. Each reader's
    unsubscribe URL is in both parts (quoted-printable, a line long enough to be broken
    with soft line breaks) and in List-Unsubscribe, nothing of the other reader is in
    their copy, and each parses into the message `MessageFactory.build` (the `email`
    package) makes for them."""
    subscribers.add(store, "ann@example.net", name="Ann Ünïcode-Long Surname")
    subscribers.add(store, "bob@example.net")
    channel = make_channel(store, fake.port, bounce_domain="bounces.example.org",
                           feedback_id="spring:pressbot")
    pad = "Déjà vu: " + "x" * 60
    post = make_post(store, title="Printemps — rapport annuel 2026, avec un titre assez "
                     "long pour être plié sur deux lignes",
                     text=f"%%GREETING%%\n\n{pad} %%UNSUBSCRIBE_URL%% {pad}\n",
                     html=f'<p>%%GREETING%%</p><p>{pad}<a href="%%UNSUBSCRIBE_URL%%">'
                          f"leave</a> {pad}</p>")

    await channel.publish(post)

    got = {m.rcpt_tos[0]: m for m in fake.messages}
    assert sorted(got) == ["ann@example.net", "bob@example.net"]
    own: dict[str, tuple[str, str, str, str]] = {}
    for address, received in got.items():
        assert_well_formed(received)
        headers = raw_headers(received)
        url = headers["list-unsubscribe"][0].split(",")[0].strip("<> ")
        token = url.rpartition("/u/")[2]
        assert headers["list-unsubscribe"][0].endswith(f"subject=unsubscribe%20{token}>")
        assert headers["list-unsubscribe-post"] == ["List-Unsubscribe=One-Click"]
        assert headers["feedback-id"] == [f"{post.id}:spring:pressbot"]
        assert received.mail_from.endswith("@bounces.example.org")
        own[address] = (url, token, headers["message-id"][0], received.mail_from)
    for address, received in got.items():
        url, token, message_id, envelope = own[address]
        msg = received.parse()
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert f" {url} " in text and f'href="{url}"' in html
        assert b"=\r\n" in received.data, "the long lines should be soft-broken"
        [other] = [a for a in got if a != address]
        whole = received.data.replace(b"=\r\n", b"").decode("ascii") + text + html
        for theirs in (other, *own[other]):
            assert theirs not in whole, f"{address}'s copy carries {theirs}"
        name = "Ann Ünïcode-Long Surname" if address.startswith("ann") else None
        expected = channel_factory(channel, post).build(
            to_email=address, to_name=name, message_id=message_id, unsubscribe_url=url,
            unsubscribe_token=token, date=parsedate_to_datetime(msg["Date"]))
        reparsed = message_from_bytes(expected.as_bytes(policy=WIRE), policy=default)
        assert _shape(msg) == _shape(reparsed)  # type: ignore[arg-type]
        assert list(msg.keys()) == list(reparsed.keys())
        for name_ in msg:
            assert str(msg[name_]) == str(reparsed[name_]) or name_ == "Content-Type"
        assert text == reparsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert html == reparsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert envelope == verp_address("test-signing-key-0123456789", "bounces.example.org",
                                        post.id, subscriber_id(store, address))


def channel_factory(channel: EmailChannel, post: Post) -> MessageFactory:
    return MessageFactory(post, channel.sender)


def subscriber_id(store: Store, address: str) -> int:
    with store.begin() as conn:
        found = sub_store.by_email(conn, address)
    assert found is not None
    return found.id


async def test_each_copy_of_an_issue_is_valid_mime_with_only_its_readers_parts(
        store: Store, fake: FakeSMTP) -> None:
    """Issue 27 item 17, from the raw bytes aiosmtpd received: two readers of one issue
    (filled into the same pre-serialised bytes) each get their own address in To and RCPT,
    their own signed unsubscribe URL in List-Unsubscribe (https and mailto) and in both
    bodies, their own VERP return path, and nothing of the other reader; each copy parses
    with the `email` package without a defect, and its quoted-printable parts decode as
    UTF-8 (a line starting with a dot, a long line soft-broken around the link)."""
    key = "test-signing-key-0123456789"
    subscribers.add(store, "zoe@example.net", name="Zoë Ångström-Lindqvist")
    subscribers.add(store, "yan@example.org")
    channel = make_channel(store, fake.port, bounce_domain="bounces.example.org",
                           unsubscribe_mailto="leave@example.org")
    long = "Ünïcödé " * 12
    post = make_post(store, text=f"%%GREETING%%\n\n.a line that starts with a dot\n"
                     f"{long}%%UNSUBSCRIBE_URL%% {long}\n",
                     html=f"<p>%%GREETING%%</p><p>{long}<a href=\"%%UNSUBSCRIBE_URL%%\">"
                          f"leave</a> {long}</p>")

    await channel.publish(post)

    got = {m.rcpt_tos[0]: m for m in fake.messages}
    assert sorted(got) == ["yan@example.org", "zoe@example.net"]
    own: dict[str, list[str]] = {}
    for address, received in got.items():
        sid = subscriber_id(store, address)
        token = subscribers.unsubscribe_token(key, sid, address)
        url = f"https://news.example.org/u/{token}"
        envelope = verp_address(key, "bounces.example.org", post.id, sid)
        own[address] = [address, token, envelope]
        assert received.mail_from == envelope
        assert_well_formed(received)
        assert raw_headers(received)["list-unsubscribe"] == [
            f"<{url}>, <mailto:leave@example.org?subject=unsubscribe%20{token}>"]
        msg = message_from_bytes(received.data, policy=default)
        assert not msg.defects, msg.defects
        assert [a.addr_spec for a in msg["To"].addresses] == [address]
        parts = {part.get_content_type(): part for part in msg.walk()}
        assert sorted(parts) == ["multipart/alternative", "text/html", "text/plain"]
        for subtype in ("text/plain", "text/html"):
            part = parts[subtype]
            assert not part.defects, part.defects
            assert part["Content-Transfer-Encoding"] == "quoted-printable"
            payload = part.get_payload()
            assert all(len(line) <= 76 for line in payload.splitlines()), payload
            decoded = part.get_payload(decode=True).decode("utf-8")  # strict: valid UTF-8
            assert decoded == part.get_content()
        text, html = (parts[t].get_content().replace("\r\n", "\n")
                      for t in ("text/plain", "text/html"))
        assert "\n.a line that starts with a dot\n" in text
        assert f"{long}{url} {long}" in text
        assert f'<a href="{url}">leave</a>' in html
        hello = "Zoë Ångström-Lindqvist" if address.startswith("zoe") else None
        assert (hello or "Hello") in text.splitlines()[0] and (hello or "Hello") in html
        own[address].append(text + html)
    for address, received in got.items():
        [other] = [a for a in got if a != address]
        mine = received.data.replace(b"=\r\n", b"").decode("utf-8") + own[address][3]
        for theirs in own[other][:3]:
            assert theirs not in mine, f"{address}'s copy carries {theirs}"


async def test_what_aiosmtpd_received_is_each_copy_byte_for_byte(
        store: Store, fake: FakeSMTP) -> None:
    """The connections write prepared bytes with `smtplib` (`send.py`): MAIL with SIZE,
    RCPT, and the body dot-stuffed by pressbot itself. What aiosmtpd took off the wire
    (un-stuffed) is exactly the copy `MessageFactory.wire` writes for that reader (but
    for the MIME boundary, random per `MessageFactory`), lines of two dots and starting
    with one included, and SIZE is its length; a UTF-8 address goes with SMTPUTF8."""
    key = "test-signing-key-0123456789"
    subscribers.add(store, "ann@example.net", name="Ann")
    subscribers.add(store, "bob@example.org")
    subscribers.add(store, "zoë@example.net")
    channel = make_channel(store, fake.port)
    post = make_post(store, text="%%GREETING%%\n\n.\n..\n.starts with a dot\n. \n"
                     "Unsubscribe: %%UNSUBSCRIBE_URL%%\n.",
                     html="<p>%%GREETING%%</p>\n.<p>dot</p>\n<a href=\"%%UNSUBSCRIBE_URL%%\">"
                          "leave</a>")

    await channel.publish(post)

    got = {m.rcpt_tos[0]: m for m in fake.messages}
    assert sorted(got) == ["ann@example.net", "bob@example.org", "zoë@example.net"]
    factory = channel_factory(channel, post)
    for address, received in got.items():
        token = subscribers.unsubscribe_token(key, subscriber_id(store, address), address)
        date = re.search(rb"\r\nDate: ([^\r]+)\r\n", received.data)
        message_id = re.search(rb"\r\nMessage-ID: ([^\r]+)\r\n", received.data)
        assert date and message_id
        expected = factory.wire(
            to_email=address, to_name="Ann" if address.startswith("ann") else None,
            message_id=message_id[1].decode(), unsubscribe_url=f"https://news.example.org/u/"
            f"{token}", unsubscribe_token=token,
            date=parsedate_to_datetime(date[1].decode()))
        ours, theirs = (re.search(rb'boundary="([^"]+)"', b)[1]  # type: ignore[index]
                        for b in (received.data, expected))
        assert received.data == expected.replace(theirs, ours)  # the one random part
        # (a line of one dot is quoted-printable "=2E"; these two go as they are)
        assert b"\r\n..\r\n" in received.data and b"\r\n.starts with" in received.data
        assert f"SIZE={len(expected)}" in received.mail_options
        assert ("SMTPUTF8" in received.mail_options) == (not address.isascii())
