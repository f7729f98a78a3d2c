"""Bounces and complaints end to end: a newsletter goes out through aiosmtpd with VERP
envelope senders, reports land in a real dovecot IMAP mailbox on 127.0.0.1, pressbot reads
it, and the next newsletter skips whoever bounced, complained or asked to leave."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from bot import subscribers
from bot.bounces import check_mailbox
from bot.models import Post, PostStatus
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import subscribers as sub_store
from channels.email import reports
from channels.email.channel import EmailChannel
from channels.email.verp import read_verp, verp_address
from tests.channels.test_email import make_channel, make_post
from tests.dovecot import Dovecot, running_dovecot
from tests.fakes.smtp import FakeSMTP, Received

BOUNCE_DOMAIN = "bounces.example.org"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


def _empty(dovecot: Dovecot) -> None:
    imap = dovecot.client()
    try:
        _, count = imap.select("INBOX")
        if count[0] != b"0":
            imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            imap.expunge()
    finally:
        imap.logout()


def dsn(received: Received, status: str, *, to: str | None = None) -> bytes:
    """A delivery status notification (RFC 3464) for one received message, as an MTA
    sends it: to the envelope sender, with the original headers returned."""
    recipient = received.rcpt_tos[0]
    head = received.data.split(b"\r\n\r\n", 1)[0].decode()
    action = "failed"
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: {to or received.mail_from}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.{abs(hash(recipient + status))}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

This is the mail system at host mx.example.net. I'm sorry to have to inform you
that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Sat,  5 Dec 2026 10:00:00 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status[0]}50 {status} mailbox problem

--b1
Content-Type: text/rfc822-headers

{head}

--b1--
""".replace("\n", "\r\n").encode()


def arf(received: Received) -> bytes:
    """A complaint (RFC 5965) as a provider's feedback loop sends it: to the list's
    feedback address, the original message attached whole."""
    return ("""From: Feedback Loop <fbl@isp.example.net>
To: abuse@example.org
Subject: complaint about message
Message-ID: <arf.1@isp.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

--b2
Content-Type: text/plain

This is an email abuse report.

--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeISP-FBL/1.0
Version: 1
Original-Mail-From: <""" + received.mail_from + """>
Arrival-Date: Sat, 5 Dec 2026 10:00:00 +0000
Reported-Domain: example.org

--b2
Content-Type: message/rfc822

""").replace("\n", "\r\n").encode() + received.data + b"\r\n--b2--\r\n"


def unsubscribe_mail(sender: str, *, subject: str = "unsubscribe",
                     to: str = "unsubscribe@example.org", headers: str = "") -> bytes:
    """A mail to the unsubscribe address; `headers` go on top, where the receiving server
    puts its Authentication-Results."""
    return (f"{headers}From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <u.{abs(hash(sender + subject + headers))}@example.net>\r\n\r\n"
            "please stop\r\n").encode()


def mailto_request(received: Received, sender: str | None = None) -> bytes:
    """What a mail client sends for the `mailto:` in a message's List-Unsubscribe: to its
    address, with its subject (RFC 6068: percent-decoded)."""
    head = received.parse()
    uri = next(u for u in re.findall(r"<([^<>]+)>", str(head["List-Unsubscribe"]))
               if u.startswith("mailto:"))
    address, _, query = uri.removeprefix("mailto:").partition("?")
    subject = next(unquote(v) for k, _, v in (p.partition("=") for p in query.split("&"))
                   if k == "subject")
    return unsubscribe_mail(sender or received.rcpt_tos[0], subject=subject, to=address)


def legacy_message_id(post: Post, subscriber_id: int, domain: str = "example.org") -> str:
    """The Message-ID earlier versions gave (an unkeyed hash), as anyone can work it out
    from the post id (public: /newsletter/<id>), its creation time and a subscriber id."""
    stamp = post.created_at.isoformat() if post.created_at else ""
    digest = hashlib.sha256(f"{post.id}:{stamp}:{subscriber_id}".encode()).hexdigest()[:12]
    return f"<pressbot.{post.id}.{subscriber_id}.{digest}@{domain}>"


def returned(received: Received, rcpt: str | None = None, **replace: str) -> Received:
    """A received message with some header values changed, as a forger edits their own
    (`rcpt`: the recipient a DSN about it is to name)."""
    data = received.data
    for name, value in replace.items():
        data = re.sub(rf"(?m)^{name.replace('_', '-')}: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*"
                      .encode(),
                      f"{name.replace('_', '-')}: {value}".encode(), data, count=1)
    return dataclasses.replace(received, data=data,
                               rcpt_tos=[rcpt] if rcpt else received.rcpt_tos)


def complaint_naming(address: str, attached: bytes | None = None, *,
                     mail_from: str = "news@example.org") -> bytes:
    """A feedback report (RFC 5965) naming `address` as the recipient, with `attached` (a
    made-up copy by default) as the reported message."""
    message = attached or (f"From: news@example.org\r\nTo: {address}\r\n"
                           "Subject: First\r\nMessage-ID: <made-up.1@example.org>\r\n\r\n"
                           "the newsletter\r\n").encode()
    return ("From: Feedback Loop <fbl@isp.example.net>\r\nTo: abuse@example.org\r\n"
            "Subject: complaint about message\r\nMessage-ID: <arf.forged@isp.example.net>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b3\"\r\n"
            "\r\n--b3\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
            "\r\n--b3\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
            f"User-Agent: SomeISP-FBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: <{address}>\r\n"
            f"Original-Mail-From: <{mail_from}>\r\n"
            "Arrival-Date: Sat, 5 Dec 2026 10:00:00 +0000\r\n\r\n--b3\r\n"
            "Content-Type: message/rfc822\r\n\r\n").encode() + message + b"\r\n--b3--\r\n"


def statuses(store: Store) -> dict[str, tuple[str, int]]:
    return {s.email: (s.status, s.soft_bounces) for s in subscribers.listing(store)}


def test_verp_addresses_are_signed() -> None:
    address = verp_address("k1", BOUNCE_DOMAIN, 12, 34)
    assert re.fullmatch(r"bounce\+12-34-[0-9a-f]{12}@bounces\.example\.org", address)
    assert read_verp("k1", f"To: <{address}>") == (12, 34)
    assert read_verp("k2", address) is None
    assert read_verp("k1", address.replace("-34-", "-35-")) is None


def test_reports_are_read_from_their_structured_parts() -> None:
    auto_reply = b"From: ann@example.net\r\nTo: x@example.org\r\nSubject: Out of office\r\n" \
                 b"\r\nI am away; your message could not be delivered to me until Monday.\r\n"
    assert reports.parse(auto_reply, "unsubscribe@example.org").kind is None


def test_bounces_complaints_and_unsubscribe_mails_end_to_end(
        store: Store, fake: FakeSMTP, dovecot: Dovecot) -> None:
    _empty(dovecot)
    people = ["hard@example.net", "complains@example.net", "soft@example.net",
              "leaves@example.net", "forged@example.net", "stays@example.net"]
    for address in people:
        subscribers.add(store, address)
    channel = make_channel(
        store, fake.port, bounce_domain=BOUNCE_DOMAIN, soft_bounce_after=2,
        imap_host=dovecot.host, imap_port=dovecot.port, imap_security="none",
        imap_username=dovecot.user, imap_password=dovecot.password)
    asyncio.run(channel.publish(make_post(store, title="First")))

    sent = {m.rcpt_tos[0]: m for m in fake.messages}
    assert sorted(sent) == sorted(people)
    for received in sent.values():  # a VERP envelope sender per recipient
        assert re.fullmatch(rf"bounce\+\d+-\d+-[0-9a-f]{{12}}@{re.escape(BOUNCE_DOMAIN)}",
                            received.mail_from), received.mail_from
    assert len({m.mail_from for m in fake.messages}) == len(people)

    auto_reply = (b"From: stays@example.net\r\nTo: news@example.org\r\nSubject: Away\r\n"
                  b"Message-ID: <away@example.net>\r\n\r\nBack on Monday.\r\n")
    forged = dsn(sent["forged@example.net"], "5.1.1", to="news@example.org").replace(
        b"Message-ID: <pressbot.", b"Message-ID: <forged.")
    dovecot.append(
        dsn(sent["hard@example.net"], "5.1.1"),
        arf(sent["complains@example.net"]),
        dsn(sent["soft@example.net"], "4.2.2"),
        mailto_request(sent["leaves@example.net"], "Leaves <leaves@example.net>"),
        forged,
        auto_reply,
    )

    outcome = check_mailbox(channel.config, store, "newsletter")

    assert outcome.counts == {"bounced": 1, "complaint": 1, "soft bounce counted": 1,
                              "unsubscribed": 1}
    assert outcome.unknown == 2  # the forged bounce and the auto-reply
    assert statuses(store) == {
        "hard@example.net": ("bounced", 0), "complains@example.net": ("unsubscribed", 0),
        "soft@example.net": ("active", 1), "leaves@example.net": ("unsubscribed", 0),
        "forged@example.net": ("active", 0), "stays@example.net": ("active", 0)}
    with store.begin() as conn:
        assert sub_store.is_suppressed(conn, sub_store.email_hash("complains@example.net"))
        assert sub_store.is_suppressed(conn, sub_store.email_hash("leaves@example.net"))
    left = dovecot.inbox()
    assert len(left) == 2  # handled reports are deleted; the rest stay, marked read
    assert all(b"\\Seen" in flags for flags, _ in left)

    fake.messages.clear()
    asyncio.run(channel.publish(make_post(store, title="Second")))

    assert sorted(m.rcpt_tos[0] for m in fake.messages) == [
        "forged@example.net", "soft@example.net", "stays@example.net"]

    # a second soft bounce reaches soft_bounce_after = 2: no more mail
    second = next(m for m in fake.messages if m.rcpt_tos == ["soft@example.net"])
    dovecot.append(dsn(second, "4.2.2"))
    result = CliRunner().invoke(_cli(), ["bounces"], obj=_app(channel.config,
                                                                               store))
    assert result.exit_code == 0, result.output
    assert "1 bounced after soft bounces" in result.output
    assert statuses(store)["soft@example.net"] == ("bounced", 2)


def _cli() -> object:
    from bot.cli import cli
    from bot.cli import subscribers as _commands  # noqa: F401  (registers the group)

    return cli.commands["subscribers"]


def _app(config: object, store: Store) -> object:
    from bot.cli import App

    app = App(None)
    app._config = config  # type: ignore[assignment]
    app._store = store
    return app


def test_a_wrong_imap_password_is_named_and_not_echoed(dovecot: Dovecot,
                                                       tmp_path: Path) -> None:
    from channels.base import Permanent

    # once per server, on SQLite only: dovecot delays each further failed login from an
    # address, and the database plays no part here
    store = Store(f"sqlite:///{tmp_path}/p.db")
    channel = make_channel(store, 25, imap_host=dovecot.host, imap_port=dovecot.port,
                           imap_security="none", imap_username=dovecot.user,
                           imap_password="wrong-password-123")
    with pytest.raises(Permanent) as caught:
        check_mailbox(channel.config, store, "newsletter")
    assert "refused the login of 'bounces'" in str(caught.value)
    assert "wrong-password-123" not in str(caught.value) + repr(caught.value)
    store.dispose()


# ── forged mail in the bounce mailbox (issue 26, items 4–6) ──────────────────────────────

AUTHSERV = "mx.example.org"


def _mailing(store: Store, fake: FakeSMTP, dovecot: Dovecot, people: list[str],
             **options: object) -> tuple[EmailChannel, Post, dict[str, Received],
                                         dict[str, int]]:
    """Subscribe `people`, send them one newsletter; (channel, post, message per address,
    subscriber id per address). The bounce mailbox is emptied first."""
    _empty(dovecot)
    for address in people:
        subscribers.add(store, address)
    channel = make_channel(
        store, fake.port, imap_host=dovecot.host, imap_port=dovecot.port,
        imap_security="none", imap_username=dovecot.user, imap_password=dovecot.password,
        **options)
    post = make_post(store, title="First")
    asyncio.run(channel.publish(post))
    ids = {s.email: s.id for s in subscribers.listing(store)}
    return channel, post, {m.rcpt_tos[0]: m for m in fake.messages}, ids


def test_message_ids_are_keyed_and_unguessable() -> None:
    from channels.email.msgid import cited, message_id_for

    post = Post(id=7, channel="newsletter", status=PostStatus.APPROVED, title="t", text="t",
                created_at=datetime(2026, 12, 5, 10, tzinfo=UTC))
    one = message_id_for("key-one-0123456789", post, 42, "example.org")
    assert re.fullmatch(r"<pressbot\.7\.42\.[0-9a-f]{32}@example\.org>", one)
    assert message_id_for("key-one-0123456789", post, 42, "example.org") == one  # retries
    assert message_id_for("key-two-0123456789", post, 42, "example.org") != one
    assert message_id_for("key-one-0123456789", post, 43, "example.org") != one
    assert one != legacy_message_id(post, 42)  # what a stranger can work out
    assert cited(one) == cited(one.replace("example.org", "other.example"))
    assert cited(one) is not None and not cited(one).legacy  # type: ignore[union-attr]
    assert cited(legacy_message_id(post, 42)).legacy  # type: ignore[union-attr]
    assert cited("<pressbot.7.42.xyz@example.org>") is None


def test_a_dsn_citing_a_derived_message_id_is_left_for_a_person(
        store: Store, fake: FakeSMTP, dovecot: Dovecot) -> None:
    """Item 4: the attacker is a subscriber. Their own copy shows the post id, their
    subscriber id and the format; the post's creation time is recoverable. The victim's
    Message-ID derived from those, cited in a DSN mailed to the From address (no VERP),
    must bounce nobody. A real DSN that returns our keyed id still counts."""
    channel, post, sent, ids = _mailing(store, fake, dovecot, [
        "attacker@example.net", "victim@example.net", "gone@example.net"])
    derived = legacy_message_id(post, ids["victim@example.net"])
    own = sent["attacker@example.net"]  # the attacker's own copy, edited
    forged = returned(own, "victim@example.net", Message_ID=derived)
    guessed = returned(own, "victim@example.net", Message_ID=re.sub(
        r"\.[0-9a-f]{12}@", "." + "0" * 32 + "@", derived))
    dovecot.append(dsn(forged, "5.1.1", to="news@example.org"),
                   dsn(guessed, "5.1.1", to="news@example.org"),
                   dsn(sent["gone@example.net"], "5.1.1", to="news@example.org"))

    outcome = check_mailbox(channel.config, store, "newsletter")

    assert statuses(store)["victim@example.net"] == ("active", 0)
    assert statuses(store)["gone@example.net"] == ("bounced", 0)  # our own id: believed
    assert outcome.counts == {"bounced": 1}
    assert outcome.unknown == 2
    assert len(dovecot.inbox()) == 2  # the forged DSNs stay, read, for a person


def test_legacy_message_ids_count_only_beside_the_subscribers_own_link(
        store: Store, fake: FakeSMTP, dovecot: Dovecot) -> None:
    """Item 4, mail sent before the upgrade: its unkeyed Message-ID is derivable, so a DSN
    returning one counts only when the returned headers carry that same subscriber's
    signed unsubscribe link (an MTA returns the headers whole). The attacker can return
    only their own link beside the victim's derived id."""
    _empty(dovecot)
    people = ["old@example.net", "victim@example.net", "attacker@example.net"]
    for address in people:
        subscribers.add(store, address)
    channel = make_channel(
        store, fake.port, imap_host=dovecot.host, imap_port=dovecot.port,
        imap_security="none", imap_username=dovecot.user, imap_password=dovecot.password)
    post = make_post(store, title="First")
    ids = {s.email: s.id for s in subscribers.listing(store)}
    with store.begin_immediate() as conn:  # the audience as an earlier version snapshot it
        ledger.add(conn, post.id, [(i, legacy_message_id(post, i)) for i in ids.values()])
    asyncio.run(channel.publish(post))
    sent = {m.rcpt_tos[0]: m for m in fake.messages}
    assert sent["old@example.net"].parse()["Message-ID"] == legacy_message_id(
        post, ids["old@example.net"])
    forged = returned(sent["attacker@example.net"], "victim@example.net",
                      Message_ID=legacy_message_id(post, ids["victim@example.net"]))
    dovecot.append(dsn(sent["old@example.net"], "5.1.1", to="news@example.org"),
                   dsn(forged, "5.1.1", to="news@example.org"))

    outcome = check_mailbox(channel.config, store, "newsletter")

    assert statuses(store) == {"old@example.net": ("bounced", 0),
                               "victim@example.net": ("active", 0),
                               "attacker@example.net": ("active", 0)}
    assert (outcome.counts, outcome.unknown) == ({"bounced": 1}, 1)


def test_a_complaint_naming_only_an_address_is_left_for_a_person(
        store: Store, fake: FakeSMTP, dovecot: Dovecot) -> None:
    """Item 5: a feedback report counts only through our signed VERP address or a
    Message-ID we issued; then it is about whom that was issued to, never about the
    address the report names."""
    channel, _, sent, _ = _mailing(store, fake, dovecot, [
        "victim@example.net", "attacker@example.net", "verp@example.net"],
        bounce_domain=BOUNCE_DOMAIN)
    own = returned(sent["attacker@example.net"], To="victim@example.net")
    redacted = (b"From: news@example.org\r\nTo: redacted@isp.example.net\r\n"
                b"Subject: First\r\n\r\n[body removed by the provider]\r\n")
    dovecot.append(
        complaint_naming("victim@example.net"),  # the address and nothing else
        complaint_naming("victim@example.net", own.data),  # the attacker's own copy
        complaint_naming("redacted@isp.example.net", redacted,
                         mail_from=sent["verp@example.net"].mail_from),  # VERP only
    )

    outcome = check_mailbox(channel.config, store, "newsletter")

    assert statuses(store) == {"victim@example.net": ("active", 0),
                               "attacker@example.net": ("unsubscribed", 0),
                               "verp@example.net": ("unsubscribed", 0)}
    with store.begin() as conn:
        assert not sub_store.is_suppressed(conn, sub_store.email_hash("victim@example.net"))
    assert (outcome.counts, outcome.unknown) == ({"complaint": 2}, 1)
    assert len(dovecot.inbox()) == 1


def test_a_mailto_unsubscribe_needs_the_readers_token(
        store: Store, fake: FakeSMTP, dovecot: Dovecot) -> None:
    """Item 6: `From: victim` to the unsubscribe address proves nothing (nor does an
    Authentication-Results header when no receiving server is trusted); the subject the
    List-Unsubscribe mailto gives each reader carries their signed token, and that counts,
    for the token's subscriber only."""
    channel, _, sent, _ = _mailing(store, fake, dovecot, [
        "victim@example.net", "attacker@example.net", "reader@example.net"])
    uri = next(u for u in re.findall(r"<([^<>]+)>",
                                     str(sent["reader@example.net"].parse()["List-Unsubscribe"]))
               if u.startswith("mailto:"))
    dovecot.append(
        unsubscribe_mail("Victim <victim@example.net>"),
        unsubscribe_mail("victim@example.net", headers=f"Authentication-Results: {AUTHSERV}; "
                         "dmarc=pass header.from=example.net\r\n"),
        unsubscribe_mail("victim@example.net", subject=re.sub(  # a token that is not signed
            r"\.[A-Za-z0-9_-]{27}$", "." + "A" * 27,
            unquote(uri.partition("subject=")[2]))),
        mailto_request(sent["attacker@example.net"], "victim@example.net"),  # their own token
        mailto_request(sent["reader@example.net"]),  # the reader's mail client
    )

    outcome = check_mailbox(channel.config, store, "newsletter")

    assert statuses(store) == {"victim@example.net": ("active", 0),
                               "attacker@example.net": ("unsubscribed", 0),
                               "reader@example.net": ("unsubscribed", 0)}
    assert (outcome.counts, outcome.unknown) == ({"unsubscribed": 2}, 3)
    assert re.fullmatch(r"mailto:unsubscribe@example\.org\?subject=unsubscribe%20"
                        r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{27}", uri)


def test_a_mailto_unsubscribe_counts_when_the_receiving_server_authenticated_the_sender(
        store: Store, fake: FakeSMTP, dovecot: Dovecot) -> None:
    """Item 6, without the token: honoured only when the topmost Authentication-Results
    header is our receiving server's (`imap_authserv_id`) and says DMARC, or SPF and DKIM,
    passed for exactly the From domain."""
    people = ["ann@dmarc.example", "gus@both.example", "bob@stranger.example",
              "cy@below.example", "dee@other.example", "eve@spf.example", "fay@sub.example"]
    channel, _, _, _ = _mailing(store, fake, dovecot, people, imap_authserv_id=AUTHSERV)

    def ar(*values: str) -> str:
        return "".join(f"Authentication-Results: {v}\r\n" for v in values)

    dovecot.append(
        unsubscribe_mail("Ann <ann@dmarc.example>", headers=ar(
            f"{AUTHSERV}; spf=fail smtp.mailfrom=x.example; dkim=pass (2048-bit key) "
            "header.d=dmarc.example; dmarc=pass (p=reject) header.from=dmarc.example")),
        unsubscribe_mail("gus@both.example", headers=ar(
            f"{AUTHSERV}; spf=pass smtp.mailfrom=gus@both.example; "
            "dkim=pass header.d=both.example")),
        unsubscribe_mail("bob@stranger.example", headers=ar(  # someone else's verdict
            "mx.stranger.example; dmarc=pass header.from=stranger.example")),
        unsubscribe_mail("cy@below.example", headers=ar(  # a forged one below ours
            f"{AUTHSERV}; dmarc=fail header.from=below.example",
            f"{AUTHSERV}; dmarc=pass header.from=below.example")),
        unsubscribe_mail("dee@other.example", headers=ar(
            f"{AUTHSERV}; dmarc=pass header.from=attacker.example")),
        unsubscribe_mail("eve@spf.example", headers=ar(
            f"{AUTHSERV}; spf=pass smtp.mailfrom=spf.example; dkim=none")),
        unsubscribe_mail("fay@sub.example", headers=ar(
            f"{AUTHSERV}; dmarc=pass header.from=mail.sub.example")),
    )

    outcome = check_mailbox(channel.config, store, "newsletter")

    left = {a for a, (status, _) in statuses(store).items() if status == "unsubscribed"}
    assert left == {"ann@dmarc.example", "gus@both.example"}
    assert (outcome.counts, outcome.unknown) == ({"unsubscribed": 2}, 5)


def test_the_mailto_keeps_a_configured_subject_and_fields() -> None:
    from channels.email.message import build_message, sender_for
    from tests.channels.test_email import email_config

    cfg = email_config(25, unsubscribe_mailto="mailto:leave@example.org?body=stop+it"
                                              "&subject=remove%20me")
    post = Post(id=7, channel="newsletter", status=PostStatus.APPROVED, title="t", text="t")
    msg = build_message(post, sender_for("newsletter", cfg), to_email="ann@example.net",
                        to_name=None, message_id="<pressbot.7.1.ab@example.org>",
                        unsubscribe_url="https://news.example.org/u/Wz.sig",
                        unsubscribe_token="WzEsImFiIl0.sig")
    assert str(msg["List-Unsubscribe"]).endswith(
        "<mailto:leave@example.org?subject=remove%20me%20WzEsImFiIl0.sig&body=stop+it>")


@pytest.mark.parametrize(("head", "expected"), [
    ("Authentication-Results: mx.example.org; dmarc=pass header.from=a.example\r\n", True),
    ("Authentication-Results: MX.example.org; dmarc=pass header.from=A.example\r\n", True),
    ("Authentication-Results: mx.example.org; dkim=pass header.d=a.example\r\n", False),
    ("Authentication-Results: mx.example.org; dmarc=pass header.from=a.example;;\r\n",
     False),  # not parseable: proves nothing
    ("Authentication-Results: mx.example.org; spf=none smtp.mailfrom=x@evil.example; "
     "dmarc=fail header.from=evil.example; dmarc=pass header.from=a.example\r\n", False),
    ("Authentication-Results: mx.example.org; dmarc=pass header.from=a.example; "
     + "dkim=none; " * 400 + "\r\n", False),  # too long to be worth parsing
    ("Authentication-Results: mx.example.org; dmarc=pass header.from=a.example\r\n"
     "From: b@b.example\r\n", False),  # two senders
    ("", False),
])
def test_only_our_servers_verdict_on_the_from_domain_counts(head: str, expected: bool) -> None:
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    from channels.email.authresults import from_domain_passed

    msg = BytesParser(policy=policy.default).parsebytes(
        f"{head}From: ann@a.example\r\nSubject: unsubscribe\r\n\r\n".encode())
    assert isinstance(msg, EmailMessage)
    assert from_domain_passed(msg, "mx.example.org") is expected
    assert from_domain_passed(msg, None) is False
