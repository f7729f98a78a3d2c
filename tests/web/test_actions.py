"""The workflow's buttons: each role may do what it may, and the workflow's rules show."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bot import clock
from bot.config import Config
from bot.fit import count
from bot.models import Post
from bot.store import Store
from bot.store import posts as post_store
from bot.when import parse_when
from channels.registry import limits_for
from tests.web.conftest import add_user, client_for, csrf_of, sign_in, write_config


def _post(store: Store, post_id: int) -> Post:
    with store.begin() as conn:
        return post_store.require(conn, post_id)


def _events(store: Store, post_id: int) -> list[dict[str, object]]:
    with store.begin() as conn:
        return post_store.list_events(conn, post_id=post_id)


def _submit(client: TestClient, post_id: int, action: str, **data: str) -> Any:
    token = csrf_of(client.get(f"/posts/{post_id}").text)
    return client.post(f"/posts/{post_id}/{action}", data={"csrf": token, **data})


def test_reviewer_approves_but_cannot_edit_or_schedule(client: TestClient, store: Store,
                                                       posts: dict[str, int]) -> None:
    post_id = posts["mastodon"]
    sign_in(client, "rita")
    original = _post(store, post_id).text
    for action, data in (("edit", {"text": "Rewritten by a reviewer"}),
                         ("schedule", {"at": "tomorrow 09:00"})):
        refused = _submit(client, post_id, action, **data)
        assert refused.status_code == 403
        assert "needs the editor role" in refused.text
    assert _post(store, post_id).text == original
    assert not any(e["action"] in ("edit", "schedule") for e in _events(store, post_id))

    approved = _submit(client, post_id, "approve")
    assert approved.status_code == 303
    post = _post(store, post_id)
    assert post.status == "approved"
    assert _events(store, post_id)[0]["actor"] == "web:rita"
    page = client.get(approved.headers["location"])
    assert f"Post {post_id} (mastodon) approved" in page.text
    # the edit form is not even offered to a reviewer
    assert f'action="/posts/{posts["facebook"]}/edit"' not in page.text


def test_reviewer_page_hides_edit_but_offers_approve(client: TestClient,
                                                     posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    page = client.get("/").text
    assert f'action="/posts/{posts["mastodon"]}/approve"' in page
    assert f'action="/posts/{posts["mastodon"]}/edit"' not in page


def test_editor_edits_and_the_server_recounts(client: TestClient, store: Store,
                                              config: Config, posts: dict[str, int]) -> None:
    post_id = posts["mastodon"]
    sign_in(client, "ed")
    text = "Library opens Monday 🎉 https://www.example.org/news/a-very-long-address-indeed"
    response = _submit(client, post_id, "edit", text=text)
    assert response.status_code == 303
    post = _post(store, post_id)
    assert post.text == text
    assert post.edited_by == "web:ed"
    expected = count(text, limits_for(config.channels["mastodon"]))
    assert expected < len(text)  # the URL weighs 23, not its length
    page = client.get(response.headers["location"]).text
    assert f"saved: {expected}/500 characters as Mastodon counts them" in page
    assert f"{expected}/500 characters as Mastodon counts them" in page
    assert _events(store, post_id)[0]["detail"]["previous_text"]


def test_too_long_edit_is_refused_and_keeps_the_draft(client: TestClient, store: Store,
                                                      posts: dict[str, int]) -> None:
    post_id = posts["mastodon"]
    sign_in(client, "ed")
    before = _post(store, post_id).text
    draft = "word " * 150
    response = _submit(client, post_id, "edit", text=draft)
    assert response.status_code == 409
    assert "too long for mastodon" in response.text
    assert html.escape(draft.strip()) in response.text
    assert _post(store, post_id).text == before


def test_editor_edits_an_email_subject(client: TestClient, store: Store,
                                       posts: dict[str, int]) -> None:
    post_id = posts["newsletter"]
    sign_in(client, "ed")
    response = _submit(client, post_id, "edit", text="Plain words", subject="New  subject")
    assert response.status_code == 303
    post = _post(store, post_id)
    assert (post.subject, post.extra["markdown"]) == ("New subject", "Plain words")
    # the plain-text part is the layout around it: greeting and footer are not editable
    assert post.text.startswith("%%GREETING%%\n\nPlain words\n\n-- \n")
    assert "%%UNSUBSCRIBE_URL%%" in post.text
    page = client.get(f"/posts/{post_id}").text
    assert ">Plain words</textarea>" in page


def test_editor_schedules_with_a_phrase_or_a_date(client: TestClient, store: Store,
                                                  config: Config,
                                                  posts: dict[str, int]) -> None:
    sign_in(client, "ed")
    phrase = _submit(client, posts["mastodon"], "schedule", at="tomorrow 09:00")
    assert phrase.status_code == 303
    expected = parse_when("tomorrow 09:00", config.tz, clock.now())
    assert _post(store, posts["mastodon"]).publish_at == expected
    page = client.get(phrase.headers["location"]).text
    assert "It still needs approval" in page

    local = expected.astimezone(config.tz).replace(hour=15, minute=30, tzinfo=None)
    picked = _submit(client, posts["facebook"], "schedule", at_local=local.isoformat("T",
                                                                                      "minutes"))
    assert picked.status_code == 303
    stored = _post(store, posts["facebook"]).publish_at
    assert stored is not None
    assert stored.astimezone(config.tz).replace(tzinfo=None) == local


def test_unreadable_or_past_time_is_refused(client: TestClient, store: Store,
                                            posts: dict[str, int]) -> None:
    sign_in(client, "ed")
    for at in ("the twelfth of never", "2001-01-01T09:00", ""):
        response = _submit(client, posts["mastodon"], "schedule", at=at)
        assert response.status_code == 422
    assert _post(store, posts["mastodon"]).publish_at is None


def test_reject_keeps_the_note(client: TestClient, store: Store,
                               posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    response = _submit(client, posts["facebook"], "reject", reason="Wrong  photo")
    assert response.status_code == 303
    assert _post(store, posts["facebook"]).status == "rejected"
    assert _events(store, posts["facebook"])[0]["detail"] == {"reason": "Wrong photo"}


def test_workflow_error_is_shown(client: TestClient, store: Store,
                                 posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    _submit(client, posts["mastodon"], "reject")
    response = _submit(client, posts["mastodon"], "approve")
    assert response.status_code == 409
    assert "only a pending, held or failed post can be approved" in response.text
    assert _post(store, posts["mastodon"]).status == "rejected"


def test_unknown_post_is_404(client: TestClient) -> None:
    sign_in(client, "rita")
    assert client.get("/posts/9999").status_code == 404
    token = csrf_of(client.get("/").text)
    assert client.post("/posts/9999/approve", data={"csrf": token}).status_code == 404


def test_four_eyes_message_is_surfaced(tmp_path: Path) -> None:
    from tests.web.conftest import queue, release

    config = write_config(tmp_path, extra_web="four_eyes = true")
    store = Store(config.bot.database_url)
    ids = queue(store, config, release())
    add_user(store, "ed", "editor")
    add_user(store, "rita", "reviewer")
    with client_for(config, store) as editor:
        sign_in(editor, "ed")
        assert _submit(editor, ids["mastodon"], "edit", text="Edited").status_code == 303
        own = _submit(editor, ids["mastodon"], "approve")
        assert own.status_code == 409
        assert "another person must approve it (web.four_eyes)" in own.text
        assert _post(store, ids["mastodon"]).status == "pending"
    with client_for(config, store) as reviewer:
        sign_in(reviewer, "rita")
        assert _submit(reviewer, ids["mastodon"], "approve").status_code == 303
    assert _post(store, ids["mastodon"]).status == "approved"
    store.dispose()


def test_four_eyes_excludes_every_editor_of_the_current_text(tmp_path: Path) -> None:
    from tests.web.conftest import queue, release

    config = write_config(tmp_path, extra_web="four_eyes = true")
    store = Store(config.bot.database_url)
    ids = queue(store, config, release())
    for name in ("ed", "eve", "rita"):
        add_user(store, name, "editor")
    with client_for(config, store) as author, client_for(config, store) as colleague:
        sign_in(author, "ed")
        sign_in(colleague, "eve")
        assert _submit(author, ids["mastodon"], "edit", text="Ed's own words").status_code == 303
        assert _submit(colleague, ids["mastodon"], "edit",
                       text="Ed's own words.").status_code == 303      # a trivial touch
        for editor in (author, colleague):
            refused = _submit(editor, ids["mastodon"], "approve")
            assert refused.status_code == 409
            assert "another person must approve it" in refused.text
    with client_for(config, store) as third:
        sign_in(third, "rita")
        assert _submit(third, ids["mastodon"], "approve").status_code == 303
    assert _post(store, ids["mastodon"]).status == "approved"
    store.dispose()


def test_reject_all_and_approve_all_check_each_post(tmp_path: Path) -> None:
    from tests.web.conftest import queue, release

    config = write_config(tmp_path, extra_web="four_eyes = true")
    store = Store(config.bot.database_url)
    ids = queue(store, config, release())
    add_user(store, "ed", "editor")
    with client_for(config, store) as client:
        sign_in(client, "ed")
        assert _submit(client, ids["mastodon"], "edit", text="Ed's words").status_code == 303
        token = csrf_of(client.get("/").text)
        release_id = _post(store, ids["mastodon"]).release_id
        done = client.post(f"/releases/{release_id}/approve", data={"csrf": token})
        assert done.status_code == 303
        flash = client.get("/").text
        assert "Not approved: mastodon" in html.unescape(flash)   # four-eyes, per post
        assert _post(store, ids["mastodon"]).status == "pending"
        assert _post(store, ids["facebook"]).status == "approved"
        token = csrf_of(client.get("/").text)
        client.post(f"/releases/{release_id}/reject", data={"csrf": token,
                                                            "reason": "duplicate"})
        assert _post(store, ids["mastodon"]).status == "rejected"
        assert _post(store, ids["facebook"]).status == "approved"   # already decided
        assert client.post("/releases/999999/approve",
                           data={"csrf": csrf_of(client.get("/").text)}).status_code == 404
    store.dispose()
