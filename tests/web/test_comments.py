"""Comments between reviewers: a thread per post and per release, "@name" mentions that
reach the person by mail (a real SMTP server) and the team's room by webhook (a real HTTP
server), the audit trail, a rejection's reason as the first comment, and escaped text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.config import Config
from bot.store import Store
from bot.store import comments as comment_store
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.web.app import create_app
from tests.fakes.server import LiveServer
from tests.fakes.smtp import FakeSMTP
from tests.fakes.webhook import FakeWebhook
from tests.helpers import SAFETY
from tests.web.conftest import add_user, client_for, csrf_of, queue, release, sign_in, write_config

XSS = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1"> & "quotes"'


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    fake = FakeSMTP()
    with fake.running():
        yield fake


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as fake:
        yield fake


def notifying_config(tmp_path: Path, smtp: FakeSMTP, webhook: str = "") -> Config:
    """The review page's config with a [notify] table mailing through the fake SMTP server."""
    return write_config(tmp_path, extra=f"""
[channels.mail]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp.port}
security = "none"
from = "News <news@example.org>"

[notify]
channel = "mail"
{f'webhook = "{webhook}"' if webhook else ""}
""")


def team(store: Store) -> None:
    for name, role in (("rita", "reviewer"), ("ed", "editor")):
        with store.begin() as conn:
            user_store.add(conn, name, "correct horse battery", role,
                           email=f"{name}@example.org")


def comment(client: TestClient, url: str, body: str) -> Any:
    """Comment on the post at `url` with the form's CSRF token, as its page would."""
    page = client.get(url)
    return client.post(url + "/comments", data={"body": body, "csrf": csrf_of(page.text)})


def test_mention_mails_the_person_and_posts_to_the_webhook(
        tmp_path: Path, smtp: FakeSMTP, hook: FakeWebhook) -> None:
    config = notifying_config(tmp_path, smtp, hook.url)
    store = Store(config.bot.database_url)
    team(store)
    ids = queue(store, config, release(1))
    with client_for(config, store) as client:
        sign_in(client, "ed")
        answer = comment(client, f"/posts/{ids['mastodon']}",
                         "@rita, is the opening date right? cc @nobody <!channel>")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/posts/{ids['mastodon']}#comments"
    mail = smtp.wait(1, SAFETY)[0]
    assert mail.rcpt_tos == ["rita@example.org"]  # the author and strangers are not mailed
    text = mail.parse().get_content()
    assert "ed mentioned @rita" in text and "> @rita, is the opening date right?" in text
    assert f"/posts/{ids['mastodon']}#comments" in text
    posted = hook.wait(1)[0]["text"]
    assert "ed mentioned @rita" in posted and "City opens riverside library" in posted
    assert "<!channel>" not in posted and "&lt;!channel&gt;" in posted  # pings nobody
    with store.begin() as conn:
        (stored,) = comment_store.thread(conn, post_id=ids["mastodon"])
        assert stored.mentions == ["rita"]
        assert comment_store.claim_due(conn, stored.created_at) == []  # sent: not due
        (event,) = [e for e in post_store.list_events(conn, post_id=ids["mastodon"])
                    if e["action"] == "comment"]
    assert event["actor"] == "web:ed" and event["detail"]["mentions"] == ["rita"]
    store.dispose()


def test_a_failed_webhook_leaves_the_notice_due(tmp_path: Path, smtp: FakeSMTP,
                                                hook: FakeWebhook) -> None:
    import asyncio

    from bot.mentions import send_due

    config = notifying_config(tmp_path, smtp, hook.url)
    store = Store(config.bot.database_url)
    team(store)
    ids = queue(store, config, release(1))
    hook.fail_next = 503
    with store.begin() as conn:
        comment_store.add(conn, author="ed", body="@Rita. look", post_id=ids["facebook"])
    assert asyncio.run(send_due(config, store)) == 0     # the room refused: still due
    assert asyncio.run(send_due(config, store)) == 1     # the next pass sends it
    assert asyncio.run(send_due(config, store)) == 0     # and only once
    assert len(hook.wait(1)) == 1
    store.dispose()


def test_release_thread_and_rejection_reason(tmp_path: Path, smtp: FakeSMTP) -> None:
    config = notifying_config(tmp_path, smtp)
    store = Store(config.bot.database_url)
    team(store)
    ids = queue(store, config, release(1))
    with store.begin() as conn:
        release_id = post_store.require(conn, ids["mastodon"]).release_id
    with client_for(config, store) as client:
        sign_in(client, "ed")
        page = client.get(f"/posts/{ids['mastodon']}")
        client.post(f"/releases/{release_id}/comments",
                    data={"body": "Holding all channels", "csrf": csrf_of(page.text)})
        page = client.get(f"/posts/{ids['mastodon']}")
        client.post(f"/posts/{ids['facebook']}/reject",
                    data={"reason": "wrong date, @rita please check", "csrf": csrf_of(page.text)})
        facebook = client.get(f"/posts/{ids['facebook']}").text
    assert "Holding all channels" in facebook          # the release's thread on each post
    assert "Rejected: wrong date, @rita please check" in facebook
    assert smtp.wait(1, SAFETY)[0].rcpt_tos == ["rita@example.org"]
    store.dispose()


def test_comment_text_is_escaped_and_checked(config: Config, store: Store,
                                             client: TestClient, posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    assert comment(client, f"/posts/{posts['mastodon']}", XSS).status_code == 303
    page = client.get(f"/posts/{posts['mastodon']}").text
    assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    queue_page = client.get("/").text                   # the queue says a thread exists
    assert f'href="/posts/{posts["mastodon"]}#comments">1 comment<' in queue_page
    empty = comment(client, f"/posts/{posts['mastodon']}", "   ")
    assert "Comment not saved: the comment is empty" in client.get(
        empty.headers["location"]).text


def test_signed_out_cannot_comment(client: TestClient, posts: dict[str, int]) -> None:
    page = client.get("/signin")
    answer = client.post(f"/posts/{posts['mastodon']}/comments",
                         data={"body": "hi", "csrf": csrf_of(page.text)})
    assert answer.status_code == 403


@pytest.mark.browser
def test_browser_comment_with_mention_sends_the_mail(chromium: Any, tmp_path: Path,
                                                     smtp: FakeSMTP) -> None:
    from tests.web.test_browser import signed_in

    config = notifying_config(tmp_path, smtp)
    store = Store(config.bot.database_url)
    team(store)
    add_user(store, "ada", "admin")
    ids = queue(store, config, release(1))
    dialogs: list[str] = []
    with LiveServer(create_app(config, store)) as server:
        for width in (390, 1280):
            context, page = signed_in(chromium, server, "ed", width)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{server.url}/posts/{ids['mastodon']}")
            box = page.get_by_label("Add a comment", exact=False).first
            box.fill(f"@rita at {width} px: {XSS}")
            page.locator("#comments").get_by_role("button", name="Comment").click()
            page.wait_for_url(f"**/posts/{ids['mastodon']}#comments")
            shown = page.locator("#comments .comment .body").last
            assert shown.inner_text() == f"@rita at {width} px: {XSS}"
            assert page.evaluate("window.pwned") is None and not dialogs
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"sideways scroll at {width} px: {scroll}"
            context.close()
    mails = smtp.wait(2, SAFETY)
    assert [m.rcpt_tos for m in mails] == [["rita@example.org"]] * 2
    assert "@rita at 390 px" in mails[0].parse().get_content()
    store.dispose()
