"""The public newsletter pages: subscribe with double opt-in, RFC 8058 one-click unsubscribe.

The confirmation mail goes through a real aiosmtpd server on 127.0.0.1, sent after the
form's answer (`received` waits for it); the unsubscribe URL of the last test is taken
from a newsletter the email channel really sent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot import subscribers as subs
from bot.config import Config, EmailConfig
from bot.signing import signing_key
from bot.store import Store
from bot.store import subscribers as sub_store
from bot.web.public import public_routes
from channels.email import SmtpConnector
from tests.fakes.smtp import FakeSMTP

ONE_CLICK = "List-Unsubscribe=One-Click"
_LINK = re.compile(r"https://news\.example\.org(/confirm/\S+)")


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path}/t.db")
    yield db
    db.dispose()


def make_config(store: Store, port: int, **options: Any) -> Config:
    cfg = EmailConfig(type="email", smtp_host="127.0.0.1", smtp_port=port, security="none",
                      timeout="5s", list_name="Example News",
                      **{"from": "Example News <news@example.org>"}, **options)
    return Config(bot={"database_url": store.url, "public_url": "https://news.example.org",
                       "secret_key": "test-signing-key-0123456789"},
                  channels={"newsletter": cfg})


@pytest.fixture
def config(store: Store, fake: FakeSMTP) -> Config:
    return make_config(store, fake.port)


def client_for(config: Config, store: Store) -> TestClient:
    """The public pages of `config`, sending through its email channel's server."""
    cfg = config.channels["newsletter"]
    assert isinstance(cfg, EmailConfig)
    routes = public_routes(config, store, smtp=SmtpConnector(cfg, local_hostname="web.test"))
    return TestClient(Starlette(routes=routes), base_url="https://news.example.org",
                      follow_redirects=False)


@pytest.fixture
def client(config: Config, store: Store) -> Iterator[TestClient]:
    with client_for(config, store) as test_client:
        yield test_client


def received(fake: FakeSMTP, count: int) -> list[Any]:
    """The fake's messages once it has `count` of them: the form answers first, and its
    process sends the confirmation right after (the wait is only a guard against a hang)."""
    deadline = time.monotonic() + 20
    while len(fake.messages) < count:
        assert time.monotonic() < deadline, f"{len(fake.messages)} of {count} mails arrived"
        time.sleep(0.01)
    return list(fake.messages)


def queued(store: Store, email: str) -> bool:
    """Is a confirmation mail to `email` waiting to be sent?"""
    with store.begin() as conn:
        found = sub_store.by_email(conn, email)
    return found is not None and found.confirm_due_at is not None


def status_of(store: Store, email: str) -> str | None:
    with store.begin() as conn:
        found = sub_store.by_email(conn, email)
    return found.status if found else None


def unsubscribe_path(config: Config, store: Store, email: str) -> str:
    with store.begin() as conn:
        found = sub_store.by_email(conn, email)
    assert found is not None
    return f"/u/{subs.unsubscribe_token(signing_key(config, store), found.id, found.email)}"


# ── subscribe and confirm ─────────────────────────────────────────────────────────────────

def test_subscribe_sends_a_confirmation_and_the_link_activates(
        client: TestClient, store: Store, fake: FakeSMTP) -> None:
    form = client.get("/subscribe")
    assert form.status_code == 200
    assert 'action="/subscribe"' in form.text

    done = client.post("/subscribe", data={"email": " Ann@Example.org ", "name": "Ann"})

    assert done.status_code == 200
    assert "Check your inbox" in done.text
    assert status_of(store, "ann@example.org") == "pending"
    assert [m.rcpt_tos for m in received(fake, 1)] == [["ann@example.org"]]
    mail = fake.messages[0].parse()
    assert mail["Subject"] == "Confirm your subscription to Example News"
    body = mail.get_content()
    match = _LINK.search(body)
    assert match is not None

    opened = client.get(match.group(1))  # what a mail scanner does: confirms nothing
    assert opened.status_code == 200 and "Yes, subscribe me" in opened.text
    assert status_of(store, "ann@example.org") == "pending"

    confirmed = client.post(match.group(1))

    assert confirmed.status_code == 200
    assert "You are subscribed" in confirmed.text
    with store.begin() as conn:
        ann = sub_store.by_email(conn, "ann@example.org")
    assert ann is not None
    assert (ann.status, ann.consent_source, ann.name) == ("active", "form", "Ann")
    assert ann.confirmed_at is not None


def test_a_bad_address_shows_the_form_again_escaped(client: TestClient, store: Store,
                                                    fake: FakeSMTP) -> None:
    response = client.post("/subscribe", data={"email": '"><script>alert(1)</script>'})
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text
    assert subs.listing(store) == []
    assert fake.messages == []


def test_robots_filling_the_hidden_field_get_nothing(client: TestClient, store: Store,
                                                     fake: FakeSMTP) -> None:
    response = client.post("/subscribe", data={"email": "bot@example.org", "website": "x"})
    assert response.status_code == 200
    assert subs.listing(store) == []
    assert fake.messages == []


def test_an_active_subscriber_gets_the_same_answer_and_no_mail(
        client: TestClient, store: Store, fake: FakeSMTP) -> None:
    subs.add(store, "ann@example.org")
    new = client.post("/subscribe", data={"email": "bob@example.org"})
    known = client.post("/subscribe", data={"email": "ann@example.org"})
    assert new.status_code == known.status_code == 200
    assert new.text == known.text
    assert [m.rcpt_tos for m in received(fake, 1)] == [["bob@example.org"]]
    assert not queued(store, "ann@example.org")


def test_dry_run_writes_the_confirmation_to_the_outbox(store: Store, tmp_path: Path) -> None:
    config = make_config(store, 9, dry_run=True)
    config.bot.outbox = tmp_path / "outbox"
    with TestClient(Starlette(routes=public_routes(config, store))) as client:
        assert client.post("/subscribe", data={"email": "ann@example.org"}).status_code == 200
        deadline = time.monotonic() + 20
        while queued(store, "ann@example.org"):
            assert time.monotonic() < deadline, "the confirmation was never written"
            time.sleep(0.01)
    files = list((tmp_path / "outbox" / "newsletter").glob("confirm-*.eml"))
    assert len(files) == 1
    assert b"/confirm/" in files[0].read_bytes()


def test_forged_or_expired_confirmation_links_are_refused(
        client: TestClient, store: Store, config: Config,
        monkeypatch: pytest.MonkeyPatch) -> None:
    pending = subs.request(store, "ann@example.org")
    assert pending is not None
    token = subs.confirm_token(signing_key(config, store), pending)

    assert client.get(f"/confirm/{token}x").status_code == 400
    assert client.post(f"/confirm/{token}x").status_code == 400
    from itsdangerous.timed import TimestampSigner

    later = TimestampSigner.get_timestamp(TimestampSigner("k")) + 8 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    expired = client.post(f"/confirm/{token}")
    assert expired.status_code == 400
    assert "expired" in expired.text
    assert status_of(store, "ann@example.org") == "pending"


# ── unsubscribe ───────────────────────────────────────────────────────────────────────────

def test_get_shows_a_button_and_changes_nothing(client: TestClient, store: Store,
                                                config: Config) -> None:
    subs.add(store, "ann@example.org")
    path = unsubscribe_path(config, store, "ann@example.org")
    for _ in range(3):  # link scanners open it more than once
        page = client.get(path)
        assert page.status_code == 200
        assert f'<form method="post" action="{path}">' in page.text
        assert "<button" in page.text
    assert status_of(store, "ann@example.org") == "active"


def test_one_click_post_urlencoded_unsubscribes_without_cookies(
        client: TestClient, store: Store, config: Config) -> None:
    subs.add(store, "ann@example.org")
    subs.add(store, "bob@example.org")
    path = unsubscribe_path(config, store, "ann@example.org")
    client.cookies.clear()

    response = client.post(path, content=ONE_CLICK,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 200
    assert "location" not in response.headers
    assert status_of(store, "ann@example.org") == "unsubscribed"
    assert status_of(store, "bob@example.org") == "active"
    with store.begin() as conn:
        assert sub_store.is_suppressed(conn, sub_store.email_hash("ann@example.org"))
    again = client.post(path, content=ONE_CLICK,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 200
    assert status_of(store, "ann@example.org") == "unsubscribed"


def test_one_click_post_multipart_unsubscribes(client: TestClient, store: Store,
                                               config: Config) -> None:
    subs.add(store, "ann@example.org")
    path = unsubscribe_path(config, store, "ann@example.org")
    response = client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert status_of(store, "ann@example.org") == "unsubscribed"


def test_forged_tokens_unsubscribe_nobody(client: TestClient, store: Store,
                                          config: Config) -> None:
    subs.add(store, "ann@example.org")
    path = unsubscribe_path(config, store, "ann@example.org")
    for bad in (path[:-3] + "abc", "/u/not-a-token"):
        assert client.post(bad, content=ONE_CLICK).status_code == 404
        assert client.get(bad).status_code == 404
    assert status_of(store, "ann@example.org") == "active"


def test_an_erased_subscribers_link_still_answers_200(client: TestClient, store: Store,
                                                      config: Config) -> None:
    subs.add(store, "ann@example.org")
    path = unsubscribe_path(config, store, "ann@example.org")
    subs.erase(store, "ann@example.org")
    assert client.post(path, content=ONE_CLICK).status_code == 200


@pytest.mark.anyio
async def test_the_link_in_a_sent_newsletter_works_end_to_end(
        client: TestClient, store: Store, config: Config, fake: FakeSMTP) -> None:
    from bot.models import PostStatus
    from bot.store import posts as post_store
    from channels.email import EmailChannel

    subs.add(store, "ann@example.org")
    subs.add(store, "bob@example.org")
    cfg = config.channels["newsletter"]
    assert isinstance(cfg, EmailConfig)
    channel = EmailChannel("newsletter", cfg, config=config, store=store,
                           smtp=SmtpConnector(cfg, local_hostname="client.test"))

    def new_post() -> Any:
        with store.begin() as conn:
            post_id = post_store.insert(
                conn, channel="newsletter", status=PostStatus.APPROVED, actor="test",
                release_id=None, title="News", subject="News",
                text="%%GREETING%%\nUnsubscribe: %%UNSUBSCRIBE_URL%%")
            return post_store.require(conn, post_id)

    await channel.publish(new_post())
    ann = next(m.parse() for m in fake.messages if m.rcpt_tos == ["ann@example.org"])
    url = str(ann["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    assert ann["List-Unsubscribe-Post"] == ONE_CLICK

    response = client.post(url, content=ONE_CLICK,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 200
    fake.messages.clear()
    await channel.publish(new_post())
    assert [m.rcpt_tos for m in fake.messages] == [["bob@example.org"]]


def test_the_subscribe_form_is_rate_limited_per_client(client: TestClient) -> None:
    answers = [client.post("/subscribe", data={"email": f"p{i}@example.org"}).status_code
               for i in range(12)]
    assert 429 not in answers[:10]
    assert answers[10:] == [429, 429]


# ── issue 14: internationalised addresses, one mail per address, no resubscribe by old link


def test_internationalised_addresses_get_their_confirmation(
        client: TestClient, store: Store, fake: FakeSMTP) -> None:
    for address in ("jürgen@example.de", "ann@bücher.example"):
        answer = client.post("/subscribe", data={"email": address, "name": "Jürgen"})
        assert answer.status_code == 200, answer.text
    got = {m.rcpt_tos[0]: m for m in received(fake, 2)}
    assert sorted(got) == ["ann@xn--bcher-kva.example", "jürgen@example.de"]
    jurgen = got["jürgen@example.de"]
    assert "SMTPUTF8" in [o.upper() for o in jurgen.mail_options]
    assert "SMTPUTF8" not in [o.upper() for o in got["ann@xn--bcher-kva.example"].mail_options]
    head = jurgen.data.split(b"\r\n\r\n", 1)[0]
    assert re.search(rb"^To: =\?utf-8\?q\?J=C3=BCrgen\?= <j\xc3\xbcrgen@example\.de>\r?$",
                     head, re.M), head
    match = _LINK.search(jurgen.parse().get_content())
    assert match is not None
    assert client.post(match.group(1)).status_code == 200
    assert status_of(store, "jürgen@example.de") == "active"


def test_one_confirmation_mail_per_address_however_often_the_form_is_sent(
        client: TestClient, store: Store, fake: FakeSMTP,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:00:00+00:00")
    answers = {client.post("/subscribe", data={"email": "ann@example.org"}).text
               for _ in range(6)}
    assert len(answers) == 1  # the same page every time: nothing to learn from it
    assert len(received(fake, 1)) == 1
    assert not queued(store, "ann@example.org")   # one mail queued, and it went out
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:16:00+00:00")
    client.post("/subscribe", data={"email": "ann@example.org"})
    assert len(received(fake, 2)) == 2


def test_a_confirmation_link_used_after_unsubscribing_does_not_resubscribe(
        client: TestClient, store: Store, config: Config, fake: FakeSMTP) -> None:
    client.post("/subscribe", data={"email": "ann@example.org"})
    match = _LINK.search(received(fake, 1)[0].parse().get_content())
    assert match is not None
    assert client.post(match.group(1)).status_code == 200
    assert status_of(store, "ann@example.org") == "active"
    assert client.post(unsubscribe_path(config, store, "ann@example.org"),
                       data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert status_of(store, "ann@example.org") == "unsubscribed"

    again = client.post(match.group(1))

    assert again.status_code == 400
    assert "before you unsubscribed" in again.text
    assert status_of(store, "ann@example.org") == "unsubscribed"
    with store.begin() as conn:
        assert sub_store.is_suppressed(conn, sub_store.email_hash("ann@example.org"))


# ── issue 14 item 13: the public archive and "view in your browser"


def test_sent_newsletters_are_archived_and_linked_from_each_mail(
        client: TestClient, store: Store, config: Config, fake: FakeSMTP) -> None:
    import asyncio

    from bot.models import PostStatus, Release
    from bot.render import render, targets
    from bot.store import posts as post_store
    from channels.email import EmailChannel

    subs.add(store, "ann@example.org", name="Ann")
    cfg = config.channels["newsletter"]
    assert isinstance(cfg, EmailConfig)
    [target] = targets(config)
    rendered = render(Release(source="s", key="k", title="Bridge reopens <soon>",
                              url="https://www.example.org/bridge", summary="The bridge.",
                              body="The bridge reopens on Monday."), target, config)
    with store.begin() as conn:
        ids = [post_store.insert(conn, channel="newsletter", status=PostStatus.APPROVED,
                                 actor="t", release_id=None, title="Bridge reopens <soon>",
                                 subject="Bridge reopens <soon>", text=rendered.text,
                                 html=rendered.html) for _ in range(2)]
        post = post_store.require(conn, ids[0])
    channel = EmailChannel("newsletter", cfg, config=config, store=store,
                           smtp=SmtpConnector(cfg, local_hostname="t.test"))
    receipt = asyncio.run(channel.publish(post))
    with store.begin() as conn:
        post_store.change(conn, post.id, allowed_from=[PostStatus.APPROVED],
                          to=PostStatus.PUBLISHED, actor="t", action="publish",
                          remote_id=receipt.remote_id, remote_url=receipt.remote_url)

    url = f"https://news.example.org/newsletter/{post.id}"
    assert receipt.remote_url == url
    [mail] = fake.messages
    parsed = mail.parse()
    text, html_part = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html_part is not None
    assert f"View in your browser: {url}" in text.get_content()
    assert f'<a href="{url}"' in html_part.get_content()

    index = client.get("/newsletter")
    assert index.status_code == 200
    assert f'href="/newsletter/{post.id}"' in index.text
    assert "Bridge reopens &lt;soon&gt;" in index.text
    assert f'/newsletter/{ids[1]}"' not in index.text  # approved, not sent: not public

    page = client.get(f"/newsletter/{post.id}")
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "The bridge reopens on Monday." in page.text
    assert "%%" not in page.text
    assert "/u/" not in page.text  # nobody's unsubscribe link is published
    assert 'href="https://news.example.org/subscribe"' in page.text
    assert client.get(f"/newsletter/{ids[1]}").status_code == 404
    assert client.get("/newsletter/999").status_code == 404


# ── issue 27: consent evidence, self-service, the chosen language ─────────────────────────

def test_the_confirmation_mail_and_pages_follow_the_chosen_language(
        client: TestClient, store: Store, fake: FakeSMTP) -> None:
    from bot import i18n

    form = client.get("/subscribe?lang=fr")
    assert '<html lang="fr">' in form.text and "Adresse e-mail" in form.text
    assert '<option value="fr" selected>' in form.text
    assert "Email address" not in form.text
    german = client.get("/subscribe", headers={"accept-language": "de-CH, en;q=0.5"})
    assert "E-Mail-Adresse" in german.text

    bad = client.post("/subscribe", data={"email": "zoé@", "language": "fr"})
    assert bad.status_code == 400 and "Cette adresse e-mail n&#x27;est pas valide." in bad.text
    assert '<option value="fr" selected>' in bad.text
    # every validation message through the catalogues, none in English (nor an exception's)
    for language, expected in (("es", "Elija un idioma de la lista."),
                               ("de", "Wählen Sie eine Sprache aus der Liste."),
                               ("ru", "Выберите язык из списка.")):
        wrong = client.post(f"/subscribe?lang={language}",
                            data={"email": "zoe@example.org", "language": "?!"})
        assert wrong.status_code == 400 and expected in wrong.text, wrong.text
        assert "language tag" not in wrong.text
    named = client.post("/subscribe", data={"email": "zoe@example.org", "language": "ru",
                                            "name": "=?utf-8?q?x=0D=0Ay?="})
    assert "Укажите имя обычным текстом, в одну строку." in named.text
    done = client.post("/subscribe", data={"email": "zoe@example.org", "name": "Zoé",
                                           "language": "fr"})
    assert "Consultez votre boîte de réception" in done.text
    mail = received(fake, 1)[0].parse()
    assert mail["Subject"] == "Confirmez votre abonnement à Example News"
    body = mail.get_content()
    assert body.startswith("Bonjour Zoé,")
    assert "ouvrez ce lien dans les 7 jours" in body
    for message in i18n.msgids():
        for piece in re.split(r"\{\w+\}", message):
            if len(piece.strip(" ,:!?.")) >= 4:
                assert piece.strip(" ,:!?.") not in body, piece
    match = _LINK.search(body)
    assert match is not None
    assert "Oui, m&#x27;abonner" in client.get(match.group(1)).text
    assert "Vous êtes abonné" in client.post(match.group(1)).text


def _evidence_config(store: Store, fake: FakeSMTP, **newsletter: Any) -> Config:
    config = make_config(store, fake.port)
    return config.model_copy(update={"newsletter": config.newsletter.model_copy(
        update=newsletter)})


def _subscribe_and_confirm(client: TestClient, fake: FakeSMTP, email: str) -> None:
    client.post("/subscribe", data={"email": email}, headers={"user-agent": "Form/1.0"})
    match = _LINK.search(received(fake, 1)[0].parse().get_content())
    assert match is not None
    assert client.post(match.group(1), headers={"user-agent": "Click/2.0"}).status_code == 200


def test_consent_evidence_is_recorded_client_only_when_asked_and_erased_after_retention(
        store: Store, fake: FakeSMTP, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:00:00+00:00")
    config = _evidence_config(store, fake, consent_wording_version="form-2026-11",
                              record_client=True, client_retention_days=30)
    with client_for(config, store) as client:
        _subscribe_and_confirm(client, fake, "ann@example.org")
    with store.begin() as conn:
        ann = sub_store.by_email(conn, "ann@example.org")
    assert ann is not None
    assert ann.requested_at is not None and ann.confirm_mailed_at is not None
    assert ann.requested_at <= ann.confirm_mailed_at and ann.confirmed_at is not None
    assert ann.consent_wording == "form-2026-11"
    # the click is the consent: its client replaces the form's
    assert (ann.consent_ip, ann.consent_user_agent) == ("testclient", "Click/2.0")

    monkeypatch.setenv("PRESSBOT_CLOCK", "2027-01-05T10:00:01+00:00")  # 31 days later
    assert subs.forget_clients(store, 30) == 1
    with store.begin() as conn:
        ann = sub_store.by_email(conn, "ann@example.org")
    assert ann is not None
    assert (ann.consent_ip, ann.consent_user_agent, ann.consent_client_at) == (None,) * 3
    assert ann.consent_wording == "form-2026-11" and ann.confirmed_at is not None


def test_without_record_client_no_address_or_user_agent_is_kept(
        client: TestClient, store: Store, fake: FakeSMTP) -> None:
    _subscribe_and_confirm(client, fake, "ann@example.org")
    with store.begin() as conn:
        ann = sub_store.by_email(conn, "ann@example.org")
    assert ann is not None and ann.consent_wording == "1"
    assert (ann.consent_ip, ann.consent_user_agent, ann.consent_client_at) == (None,) * 3


def test_self_service_language_download_and_erasure(
        client: TestClient, store: Store, config: Config, tmp_path: Path) -> None:
    import json

    subs.add(store, "ann@example.org", name="Ann", language="fr")
    path = unsubscribe_path(config, store, "ann@example.org")
    page = client.get(path)
    assert '<html lang="fr">' in page.text
    for action in ("/language", "/data", "/erase"):
        assert f'<form method="post" action="{path}{action}">' in page.text

    # a forged form on another site: refused by what the browser says
    forged = client.post(f"{path}/erase", headers={"sec-fetch-site": "cross-site"})
    assert forged.status_code == 403 and status_of(store, "ann@example.org") == "active"
    assert "Ce formulaire doit être envoyé depuis ce site." in client.post(
        f"{path}/erase?lang=fr", headers={"sec-fetch-site": "cross-site"}).text
    assert client.post(f"{path}x/data").status_code == 404

    changed = client.post(f"{path}/language", data={"language": "de"})
    assert changed.status_code == 200 and '<html lang="de">' in changed.text
    with store.begin() as conn:
        ann = sub_store.by_email(conn, "ann@example.org")
    assert ann is not None and ann.language == "de"

    download = client.post(f"{path}/data", headers={"sec-fetch-site": "same-origin"})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert "attachment" in download.headers["content-disposition"]
    data = json.loads(download.text)
    assert data["email"] == "ann@example.org" and data["name"] == "Ann"
    assert data["language"] == "de" and data["status"] == "active"
    assert data["consent_source"] == "cli" and data["consent_at"] == ann.consent_at.isoformat()
    for name in ("requested_at", "confirm_mailed_at", "consent_wording", "consent_ip",
                 "consent_user_agent", "confirmed_at", "created_at", "suppressed"):
        assert name in data

    erased = client.post(f"{path}/erase")
    assert erased.status_code == 200 and "ann@example.org" in erased.text
    assert subs.listing(store) == []
    with store.begin() as conn:
        assert sub_store.suppression_list(conn)[0][:2] == (
            sub_store.email_hash("ann@example.org"), "erased")
    text = "".join(str(v) for row in _dump(store) for v in row)
    assert "ann@example.org" not in text and "Ann" not in text
    # a re-import of the address stays suppressed
    report = subs.import_csv(store, "email,name\nann@example.org,Ann\n")
    assert report.added == 0 and len(report.refused) == 1
    assert client.get(path).status_code == 404


def _dump(store: Store) -> list[tuple[object, ...]]:
    """Every row of the subscriber tables: what the database still holds."""
    from bot.store.schema import subscribers, suppressions

    with store.begin() as conn:
        return [tuple(r) for table in (subscribers, suppressions)
                for r in conn.execute(table.select())]
