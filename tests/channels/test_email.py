"""EmailChannel against a real aiosmtpd server on 127.0.0.1 (tests/fakes/smtp.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import subscribers
from bot.config import Config, EmailConfig
from bot.models import Post, PostStatus, Receipt
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import posts as post_store
from bot.store import subscribers as sub_store
from bot.store.schema import deliveries as deliveries_table
from channels.base import Permanent, Transient
from channels.email import EmailChannel, SmtpConnector, build_preview_message
from tests.fakes.smtp import Cert, FakeSMTP, make_cert

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "smtp-secret-password-77"
SINGLE = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
          "List-Unsubscribe-Post", "Precedence", "Auto-Submitted", "Reply-To", "MIME-Version")


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    return make_cert(tmp_path_factory.mktemp("cert"))


def email_config(port: int, **options: Any) -> EmailConfig:
    values: dict[str, Any] = {
        "type": "email", "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
        "from": "Example News <news@example.org>", "reply_to": "press@example.org",
        "unsubscribe_mailto": "unsubscribe@example.org", "timeout": "5s"}
    values.update(options)
    return EmailConfig(**values)


def make_channel(store: Store, port: int, *, tls: Cert | None = None,
                 **options: Any) -> EmailChannel:
    cfg = email_config(port, **options)
    config = Config(bot={"database_url": store.url, "public_url": "https://news.example.org",
                         "secret_key": "test-signing-key-0123456789"},
                    channels={"newsletter": cfg})
    connector = SmtpConnector(cfg, tls_context=tls.client_context() if tls else None,
                              local_hostname="client.test")
    return EmailChannel("newsletter", cfg, config=config, store=store, smtp=connector,
                        retry_base=0.02, retry_max=0.05)


def make_post(store: Store, *, title: str = "Spring report", subject: str | None = None,
              text: str | None = None, html: str | None = None) -> Post:
    text = text or ("%%GREETING%%\n\nOur spring report is out.\n\n"
                    "Unsubscribe: %%UNSUBSCRIBE_URL%%")
    html = html or ("<html><body><p>%%GREETING%%</p><h1>Spring report</h1>"
                    "<a href=\"%%UNSUBSCRIBE_URL%%\">Unsubscribe</a></body></html>")
    with store.begin() as conn:
        post_id = post_store.insert(conn, channel="newsletter", status=PostStatus.APPROVED,
                                    actor="test", release_id=None, title=title, text=text,
                                    html=html, subject=subject or title)
        return post_store.require(conn, post_id)


def add_people(store: Store, count: int, domain: str = "example.net") -> list[str]:
    emails = [f"reader{i}@{domain}" for i in range(count)]
    for i, address in enumerate(emails):
        subscribers.add(store, address, name=f"Reader {i}" if i % 2 == 0 else None)
    return emails


async def publish_until_done(channel: EmailChannel, post: Post, passes: int = 40) -> Receipt:
    """What the publisher does: call publish again after each Transient, until a receipt."""
    for _ in range(passes):
        try:
            return await channel.publish(post)
        except Transient as exc:
            await asyncio.sleep(min(exc.retry_after or 0.01, 0.1))
    raise AssertionError("the newsletter never finished")


def by_recipient(fake: FakeSMTP) -> dict[str, EmailMessage]:
    return {m.rcpt_tos[0]: m.parse() for m in fake.messages}


# ── message structure ─────────────────────────────────────────────────────────────────────

async def test_one_message_per_recipient_with_required_headers(store: Store,
                                                               fake: FakeSMTP) -> None:
    emails = add_people(store, 3)
    subscribers.add(store, "tricky@example.net", name='Ann <b>"&')
    channel = make_channel(store, fake.port)
    post = make_post(store)

    receipt = await channel.publish(post)

    assert receipt.remote_id == f"newsletter-{post.id}"
    got = by_recipient(fake)
    assert sorted(got) == sorted([*emails, "tricky@example.net"])
    ids = set()
    urls = set()
    for address, msg in got.items():
        assert msg.get_content_type() == "multipart/alternative"
        parts = [p.get_content_type() for p in msg.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        for name in SINGLE:
            assert len(msg.get_all(name) or []) == 1, name
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Precedence"] == "bulk"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["List-Id"] == "newsletter <newsletter.example.org>"
        assert msg["To"].addresses[0].addr_spec == address
        assert msg["From"].addresses[0].addr_spec == "news@example.org"
        links = [s.strip().strip("<>") for s in str(msg["List-Unsubscribe"]).split(",")]
        assert links[0].startswith("https://news.example.org/u/")
        # the reader's own signed token, in the subject a mail client sends (RFC 6068)
        token = links[0].rpartition("/u/")[2]
        assert links[1] == f"mailto:unsubscribe@example.org?subject=unsubscribe%20{token}"
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert links[0] in text
        assert links[0] in html
        assert "%%" not in text
        assert "%%" not in html
        ids.add(msg["Message-ID"])
        urls.add(links[0])
    assert len(ids) == len(got)
    assert len(urls) == len(got)
    assert "Hello Reader 0," in got["reader0@example.net"].get_body(("plain",)).get_content()
    assert got["reader1@example.net"].get_body(("plain",)).get_content().startswith("Hello,\r\n")
    tricky = got["tricky@example.net"].get_body(("html",)).get_content()
    assert "Hello Ann &lt;b&gt;&quot;&amp;," in tricky
    assert "<b>" not in tricky
    with store.begin() as conn:
        stored = {r.message_id for r in conn.execute(sa.select(deliveries_table))}
    assert stored == ids


async def test_header_values_never_carry_line_breaks(store: Store, fake: FakeSMTP) -> None:
    add_people(store, 2)
    subscribers.add(store, "odd@example.net", name="Eve\u2028Bcc: x@evil.test")
    channel = make_channel(store, fake.port)
    post = make_post(store, title="Big\nnews\u2028today", subject="Big\r\nBcc: x@evil.test\u2028!")

    await channel.publish(post)

    assert len(fake.messages) == 3
    for received in fake.messages:
        head = received.data.split(b"\r\n\r\n", 1)[0].decode()
        assert "\u2028" not in head
        msg = received.parse()
        assert msg.get_all("Bcc") is None
        for name, value in msg.items():
            assert not set(str(value)) & {"\n", "\r", "\u2028", "\u2029"}, name
        assert msg["Subject"] == "Big Bcc: x@evil.test !"


async def test_non_ascii_names_subjects_and_addresses(store: Store, fake: FakeSMTP) -> None:
    subscribers.add(store, "zoë@exämple.net", name="Zoë Ångström")
    subscribers.add(store, "ann@bücher.example", name="Ann")
    channel = make_channel(store, fake.port)
    post = make_post(store, title="Café ☕ — 10 000 € for the library")

    await channel.publish(post)

    got = by_recipient(fake)
    # an internationalised domain goes out in its ASCII form; a non-ASCII local part
    # needs SMTPUTF8, and only that message asks for it
    assert sorted(got) == ["ann@xn--bcher-kva.example", "zoë@xn--exmple-cua.net"]
    for msg in got.values():
        assert msg["Subject"] == "Café ☕ — 10 000 € for the library"
    zoe = got["zoë@xn--exmple-cua.net"]
    assert zoe["To"].addresses[0].display_name == "Zoë Ångström"
    assert zoe.get_body(("plain",)).get_content().startswith("Hello Zoë Ångström,")
    options = {m.rcpt_tos[0]: [o.upper() for o in m.mail_options] for m in fake.messages}
    assert "SMTPUTF8" in options["zoë@xn--exmple-cua.net"]
    assert "SMTPUTF8" not in options["ann@xn--bcher-kva.example"]
    for received in fake.messages:
        assert max(len(line) for line in received.data.split(b"\r\n")) <= 998


async def test_an_address_the_email_package_refuses_fails_only_that_recipient(
        store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 2)
    with store.begin() as conn:  # bypass validation: an old row, imported by hand
        bad = sub_store.insert(conn, email="bad address@example.net", name=None, language=None,
                               status=sub_store.ACTIVE, consent_source="test")
    channel = make_channel(store, fake.port)
    post = make_post(store)

    await channel.publish(post)

    assert sorted(fake.counts()) == sorted(emails)
    with store.begin() as conn:
        row = conn.execute(sa.select(deliveries_table).where(
            deliveries_table.c.subscriber_id == bad.id)).one()
        progress = post_store.require(conn, post.id).extra["progress"]
    assert row.status == "failed"
    assert "could not be built" in row.last_error
    assert progress == {"sent": 2, "failed": 1, "remaining": 0, "skipped": 0, "uncertain": 0}


async def test_a_body_that_cannot_be_built_after_its_batch_was_claimed_fails_that_recipient(
        store: Store, fake: FakeSMTP, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body is built while the connection waits for the server's answer to the message
    before it, after its batch was reserved: when that fails, the reserved row is closed
    as `failed` (not left `claimed` for every later pass to trip over), nothing reaches
    the server for it, and the others still go."""
    from channels.email.message import MessageFactory

    emails = add_people(store, 3)
    real = MessageFactory.wire

    def wire(self: MessageFactory, **kwargs: Any) -> bytes:
        if kwargs["to_email"] == emails[1]:
            raise ValueError("not a usable List-Unsubscribe value")
        return real(self, **kwargs)

    monkeypatch.setattr(MessageFactory, "wire", wire)
    channel = make_channel(store, fake.port)
    post = make_post(store)

    await channel.publish(post)

    assert sorted(fake.counts()) == sorted([emails[0], emails[2]])
    with store.begin() as conn:
        rows = {r.subscriber_id: r for r in conn.execute(sa.select(deliveries_table))}
        bad = sub_store.by_email(conn, emails[1])
        progress = post_store.require(conn, post.id).extra["progress"]
    assert bad is not None
    assert rows[bad.id].status == "failed"
    assert "could not be built" in (rows[bad.id].last_error or "")
    assert progress == {"sent": 2, "failed": 1, "remaining": 0, "skipped": 0, "uncertain": 0}


def test_preview_message_is_a_whole_newsletter(store: Store) -> None:
    channel = make_channel(store, 25)
    post = make_post(store, title="Preview\ntitle")
    msg = parse_bytes(build_preview_message(post, channel.config))
    assert msg["Subject"] == "Preview title"
    assert msg["To"].addresses[0].addr_spec == "reader@example.invalid"
    assert str(msg["List-Unsubscribe"]).startswith("<https://news.example.org/u/")
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def parse_bytes(data: bytes) -> EmailMessage:
    from email import policy
    from email.parser import BytesParser

    return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


async def test_the_registry_builds_it_as_the_service_does(store: Store, fake: FakeSMTP) -> None:
    from channels import registry
    from channels.base import Channel

    emails = add_people(store, 2)
    config = make_channel(store, fake.port).config
    channel = registry.build("newsletter", config.channels["newsletter"], config,
                             dry_run=False, store=store)
    assert isinstance(channel, EmailChannel)
    assert isinstance(channel, Channel)
    assert channel.limits == registry.DEFAULT_LIMITS["email"]
    await channel.publish(make_post(store))
    await channel.aclose()
    assert fake.counts() == {e: 1 for e in emails}


# ── failures, retries, resuming ───────────────────────────────────────────────────────────

async def test_4xx_5xx_and_dropped_connections_end_with_everyone_mailed_once(
        store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 12)
    fake.script(emails[1], "451 4.3.0 try later")
    fake.script(emails[4], "451 4.3.0 try later", "450 4.2.1 slow down")
    fake.script(emails[7], then="550 5.1.1 no such user")
    fake.script(emails[9], then="550 5.1.1 no such user")
    fake.script(emails[10], "451 4.3.0 try later", at="DATA")
    fake.drop_after = 2  # seven are accepted in the first pass: three drops in between
    fake.drop_limit = 3
    channel = make_channel(store, fake.port, connections=1)
    post = make_post(store)

    with pytest.raises(Transient) as first:
        await channel.publish(post)
    assert first.value.retry_after is not None
    receipt = await publish_until_done(channel, post)

    counts = fake.counts()
    bounced = {emails[7], emails[9]}
    assert {e: counts[e] for e in emails if e not in bounced} == \
        {e: 1 for e in emails if e not in bounced}
    assert not bounced & set(counts)
    assert fake.drops == 3
    assert receipt.remote_id == f"newsletter-{post.id}"
    with store.begin() as conn:
        assert post_store.require(conn, post.id).extra["progress"] == {
            "sent": 10, "failed": 2, "remaining": 0, "skipped": 0, "uncertain": 0}
        statuses = {s.email: s.status for s in sub_store.listing(conn)}
    assert {statuses[e] for e in bounced} == {"bounced"}
    assert await channel.lookup(post) == receipt


async def test_a_big_audience_goes_page_by_page_each_recipient_once(
        store: Store, fake: FakeSMTP, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audience is snapshot and sent a page at a time (memory stays flat at 100,000):
    across page edges nobody is skipped or mailed twice, a suppressed address stays out
    and a recipient put off in one page is retried."""
    monkeypatch.setattr("channels.email.channel.PAGE", 3)
    emails = add_people(store, 10)
    with store.begin() as conn:   # a complaint on file: active, but never mailed
        sub_store.suppress(conn, sub_store.email_hash(emails[5]), "complained")
    fake.script(emails[4], "451 4.3.0 try later")          # in the second page
    channel = make_channel(store, fake.port, connections=1)
    post = make_post(store)

    with pytest.raises(Transient, match="8 sent, 0 failed, 1 remaining"):
        await channel.publish(post)           # one pass walks every page…
    receipt = await publish_until_done(channel, post)   # …and a later one the put-off one

    assert receipt.remote_id == f"newsletter-{post.id}"
    expected = [e for e in emails if e != emails[5]]
    assert fake.counts() == {e: 1 for e in expected}
    with store.begin() as conn:
        assert ledger.progress(conn, post.id) == {"sent": 9, "failed": 0, "remaining": 0,
                                                  "skipped": 0, "uncertain": 0}


async def test_resume_skips_sent_and_keeps_the_snapshot(store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 4)
    fake.script(emails[2], "451 4.3.0 try later")
    fake.script(emails[3], "451 4.3.0 try later")
    channel = make_channel(store, fake.port)
    post = make_post(store)

    with pytest.raises(Transient):
        await channel.publish(post)
    assert await channel.lookup(post) is None
    subscribers.add(store, "late@example.net")          # after the snapshot: not mailed
    with store.begin() as conn:
        leaver = sub_store.by_email(conn, emails[3])
    assert leaver is not None
    subscribers.unsubscribe(store, leaver.id)           # before their retry: skipped
    await publish_until_done(channel, post)

    assert fake.counts() == {emails[0]: 1, emails[1]: 1, emails[2]: 1}
    with store.begin() as conn:
        assert ledger.progress(conn, post.id) == {"sent": 3, "failed": 0, "remaining": 0,
                                                  "skipped": 1, "uncertain": 0}


async def test_lookup_before_any_send_is_none(store: Store, fake: FakeSMTP) -> None:
    add_people(store, 1)
    channel = make_channel(store, fake.port)
    assert await channel.lookup(make_post(store)) is None


async def test_too_many_temporary_failures_give_up_on_that_recipient(
        store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 2)
    fake.script(emails[0], then="452 4.2.2 mailbox full")
    channel = make_channel(store, fake.port, max_attempts=3)
    post = make_post(store)

    await publish_until_done(channel, post)

    assert fake.counts() == {emails[1]: 1}
    with store.begin() as conn:
        row = conn.execute(sa.select(deliveries_table).where(
            deliveries_table.c.status == "failed")).one()
    assert row.attempts == 3
    assert "452 4.2.2" in row.last_error


async def test_sender_refused_holds_the_post(store: Store, fake: FakeSMTP) -> None:
    add_people(store, 2)
    channel = make_channel(store, fake.port, **{"from": "News <nobody@example.org>"})
    post = make_post(store)

    async def refuse(*_: Any) -> str:
        return "553 5.7.1 sender not owned by user"

    fake.handle_MAIL = refuse  # type: ignore[method-assign]
    with pytest.raises(Permanent, match=r"refused the sender nobody@example\.org"):
        await channel.publish(post)
    with store.begin() as conn:
        assert ledger.progress(conn, post.id)["remaining"] == 2


async def test_server_down_is_transient_and_nothing_is_lost(store: Store) -> None:
    add_people(store, 2)
    free = FakeSMTP()
    with free.running():
        port = free.port
    channel = make_channel(store, port)
    post = make_post(store)
    with pytest.raises(Transient, match="unreachable"):
        await channel.publish(post)
    with store.begin() as conn:
        assert ledger.progress(conn, post.id)["remaining"] == 2


async def test_pool_reconnects_after_per_connection(store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 7)
    channel = make_channel(store, fake.port, connections=2, per_connection=2)
    await channel.publish(make_post(store))
    assert fake.counts() == {e: 1 for e in emails}
    assert fake.connections >= 4


async def test_hourly_budget_stops_and_says_when(store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 5)
    channel = make_channel(store, fake.port, rate_per_hour=3)
    post = make_post(store)
    with pytest.raises(Transient, match="rate_per_hour") as exc:
        await channel.publish(post)
    assert len(fake.messages) == 3
    assert exc.value.retry_after is not None
    assert 3500 < exc.value.retry_after <= 3600
    with pytest.raises(Transient):  # the ledger remembers the hour across calls
        await channel.publish(post)
    assert len(fake.messages) == 3
    assert sorted(fake.counts()) == emails[:3]


async def test_rate_per_second_spaces_messages(store: Store, fake: FakeSMTP) -> None:
    add_people(store, 4)
    channel = make_channel(store, fake.port, rate_per_second=20, connections=2)
    started = asyncio.get_running_loop().time()
    await channel.publish(make_post(store))
    assert asyncio.get_running_loop().time() - started >= 0.15


# ── TLS and AUTH ──────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_tls_and_auth(store: Store, cert: Cert, security: str) -> None:
    server = FakeSMTP(security=security, cert=cert, users={"news": PASSWORD})
    with server.running() as fake:
        add_people(store, 2)
        channel = make_channel(store, fake.port, tls=cert, security=security,
                               username="news", password=PASSWORD)
        await channel.publish(make_post(store))
        check = await channel.check()
    assert [(m.tls, m.login) for m in fake.messages] == [(True, "news"), (True, "news")]
    assert check.ok
    assert "TLS" in check.summary
    assert "logged in as news" in check.summary
    assert PASSWORD not in repr(check)


async def test_starttls_missing_is_refused_before_auth(store: Store, cert: Cert) -> None:
    server = FakeSMTP(security="none", users={"news": PASSWORD}, plain_auth=True)
    with server.running() as fake:
        add_people(store, 1)
        channel = make_channel(store, fake.port, tls=cert, security="starttls",
                               username="news", password=PASSWORD)
        with pytest.raises(Permanent, match="does not offer STARTTLS"):
            await channel.publish(make_post(store))
        check = await channel.check()
    assert fake.messages == []
    assert fake.logins == []
    assert not check.ok
    assert "STARTTLS" in check.summary


async def test_auth_in_clear_only_when_security_none_is_explicit(store: Store) -> None:
    server = FakeSMTP(security="none", users={"news": PASSWORD}, plain_auth=True)
    with server.running() as fake:
        add_people(store, 1)
        channel = make_channel(store, fake.port, security="none", username="news",
                               password=PASSWORD)
        await channel.publish(make_post(store))
        check = await channel.check()
    assert fake.logins == ["news", "news"]
    assert len(fake.messages) == 1
    assert any("in clear" in w for w in check.warnings)


async def test_wrong_password_is_permanent_and_not_echoed(store: Store, cert: Cert) -> None:
    server = FakeSMTP(security="starttls", cert=cert, users={"news": "another-password"})
    with server.running() as fake:
        add_people(store, 1)
        channel = make_channel(store, fake.port, tls=cert, security="starttls",
                               username="news", password=PASSWORD)
        with pytest.raises(Permanent, match="refused the login") as exc:
            await channel.publish(make_post(store))
        check = await channel.check()
    assert PASSWORD not in str(exc.value)
    assert PASSWORD not in check.summary
    assert not check.ok
    assert fake.messages == []


async def test_untrusted_certificate_is_permanent(store: Store, cert: Cert) -> None:
    server = FakeSMTP(security="ssl", cert=cert)
    with server.running() as fake:
        add_people(store, 1)
        channel = make_channel(store, fake.port, security="ssl")  # no trust in the cert
        with pytest.raises(Permanent, match="certificate"):
            await channel.publish(make_post(store))
    assert fake.messages == []


# ── a crash mid-newsletter ────────────────────────────────────────────────────────────────

CHILD = textwrap.dedent("""
    import asyncio, sys
    from channels.base import Transient
    from bot.store import Store, posts
    from tests.channels.test_email import make_channel

    async def main() -> None:
        store = Store(sys.argv[1])
        channel = make_channel(store, int(sys.argv[2]), uncertain=sys.argv[4],
                               connections=int(sys.argv[5]) if len(sys.argv) > 5 else 1)
        with store.begin() as conn:
            post = posts.require(conn, int(sys.argv[3]))
        for _ in range(50):
            try:
                await channel.publish(post)
                return
            except Transient:
                await asyncio.sleep(0.05)
        sys.exit(3)

    asyncio.run(main())
""")


@pytest.mark.slow
@pytest.mark.parametrize("uncertain", ["skip", "resend"])
def test_sigkill_mid_newsletter_then_resume_sends_each_at_most_once(
        store: Store, fake: FakeSMTP, uncertain: str) -> None:
    """Killed while the 8th message's DATA is on the wire: by default (at most once) its
    recipient is `uncertain` and not mailed again; with `uncertain = "resend"` it is (the
    server had refused it here, so that makes exactly one copy)."""
    emails = add_people(store, 20)
    post = make_post(store)
    child: dict[str, subprocess.Popen[bytes]] = {}

    def kill_on_eighth(_: Any) -> str | None:
        if len(fake.messages) == 7 and "first" in child:
            proc = child.pop("first")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return "451 4.3.0 the client went away"
        return None

    fake.on_data = kill_on_eighth
    args = [sys.executable, "-c", CHILD, store.url, str(fake.port), str(post.id), uncertain]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(args, cwd=ROOT, env=env)
    child["first"] = first
    assert first.wait(60) == -signal.SIGKILL
    assert len(fake.messages) == 7
    with store.begin() as conn:
        assert ledger.progress(conn, post.id)["sent"] == 7

    second = subprocess.run(args, cwd=ROOT, env=env, timeout=300, check=False)

    assert second.returncode == 0
    interrupted = emails[7]
    if uncertain == "resend":
        assert fake.counts() == {e: 1 for e in emails}
    else:
        assert fake.counts() == {e: 1 for e in emails if e != interrupted}
    with store.begin() as conn:
        assert ledger.progress(conn, post.id) == {
            "sent": 20 if uncertain == "resend" else 19, "failed": 0, "remaining": 0,
            "skipped": 0, "uncertain": 0 if uncertain == "resend" else 1}
