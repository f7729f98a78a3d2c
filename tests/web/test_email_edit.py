"""An edited email post: every part carries the edit, in the review page's preview and in
the outbox's `.eml` and `.html` (the SMTP side: tests/test_email_content.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.testclient import TestClient

from bot.config import Config
from bot.store import Store
from bot.store import posts as post_store
from channels.registry import outbox_for
from tests.test_email_content import EDIT, parts
from tests.web.conftest import csrf_of, sign_in


def test_an_edit_reaches_the_html_the_preview_and_the_outbox(
        client: TestClient, store: Store, config: Config, posts: dict[str, int]) -> None:
    post_id = posts["newsletter"]
    sign_in(client, "ed")
    token = csrf_of(client.get(f"/posts/{post_id}").text)
    response = client.post(f"/posts/{post_id}/edit", data={"csrf": token, "text": EDIT,
                                                           "subject": "Edited subject"})
    assert response.status_code == 303
    with store.begin() as conn:
        post = post_store.require(conn, post_id)
    assert post.html is not None
    assert "Edited: the café opens on Tuesday." in post.html
    assert "40,000 books" not in post.html  # the old body is gone from every part
    assert '<a href="https://www.example.org/x?a=1&amp;b=2"' in post.html
    assert "Unsubscribe: %%UNSUBSCRIBE_URL%%" not in post.html  # the layout's own footer

    preview = client.get(f"/posts/{post_id}/email.html").text
    assert "Edited: the café opens on Tuesday." in preview
    assert "40,000 books" not in preview
    assert "%%" not in preview

    outbox = outbox_for("newsletter", config.channels["newsletter"], config)
    asyncio.run(outbox.publish(post))
    folder = Path(str(config.resolve(Path(config.bot.outbox)))) / "newsletter"
    text, html = parts((folder / f"post-{post_id}.eml").read_bytes())
    assert "Edited: the café opens on Tuesday." in text
    assert "Edited: the café opens on Tuesday." in html
    assert "Edited: the café" in (folder / f"post-{post_id}.html").read_text()


def test_the_review_page_shows_an_emails_fixed_words_not_their_markers(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    """An issue keeps its fixed words and dates as per-reader markers until it is sent
    (`bot.i18n`); the reviewer reads them in the post's language."""
    post_id = posts["newsletter"]
    with store.begin() as conn:
        post = post_store.require(conn, post_id)
    assert "%%T:" in post.text or "%%D:" in post.text  # what the page has to write out
    sign_in(client, "ed")
    page = client.get(f"/posts/{post_id}").text
    preview = client.get(f"/posts/{post_id}/email.html").text
    for shown in (page, preview):
        assert "%%T:" not in shown and "%%D:" not in shown
