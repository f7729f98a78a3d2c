"""An edit against the text pressbot generated: the post's page marks the words inserted
and deleted, the generated text survives every edit in its own column, and an email's
Markdown can be rendered beside the editor before it is saved."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from bot import workflow
from bot.config import Config
from bot.store import Store
from bot.store import posts as post_store
from bot.web.security import EMAIL_CSP
from tests.web.conftest import csrf_of, release, sign_in

_INS = re.compile(r"<ins>(.*?)</ins>", re.S)
_DEL = re.compile(r"<del>(.*?)</del>", re.S)
_HIDDEN = re.compile(r'<span class="(?:visually-hidden|mark)"[^>]*>.*?</span>', re.S)


def marked(page: str) -> tuple[list[str], list[str]]:
    """The words the page marks inserted and deleted, without the marks' own words."""
    return ([_HIDDEN.sub("", m) for m in _INS.findall(page)],
            [_HIDDEN.sub("", m) for m in _DEL.findall(page)])


def edit(client: TestClient, post_id: int, text: str, **form: str) -> None:
    token = csrf_of(client.get(f"/posts/{post_id}").text)
    answer = client.post(f"/posts/{post_id}/edit", data={"csrf": token, "text": text, **form})
    assert answer.status_code == 303, answer.text


def stored(store: Store, post_id: int) -> workflow.Post:
    with store.begin() as conn:
        return post_store.require(conn, post_id)


def test_an_edit_shows_the_words_inserted_and_deleted(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    post_id = posts["mastodon"]
    generated = stored(store, post_id).text
    assert "40,000 books" in generated
    sign_in(client, "ed")
    assert 'data-testid="changes"' not in client.get(f"/posts/{post_id}").text  # not edited

    edit(client, post_id, generated.replace("40,000 books", "52,000 books and comics"))
    page = client.get(f"/posts/{post_id}").text
    inserted, deleted = marked(page)
    assert inserted == ["52,000", "and comics"]
    assert deleted == ["40,000"]
    assert "3 words inserted, 1 deleted" in page
    assert page.count('<span class="visually-hidden">[inserted: </span>') == 2  # not colour alone
    assert '<span class="mark" aria-hidden="true">−</span>40,000' in page

    row = stored(store, post_id)   # the row, after the real web action
    assert row.original_text == generated
    assert "52,000 books and comics" in row.text and row.edited_by == "web:ed"


def test_the_generated_text_survives_a_second_edit(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    post_id = posts["mastodon"]
    generated = stored(store, post_id).text
    sign_in(client, "ed")
    edit(client, post_id, generated.replace("40,000 books", "52,000 books"))
    edit(client, post_id, generated.replace("40,000 books", "60,000 volumes"))

    row = stored(store, post_id)
    assert row.original_text == generated
    assert "60,000 volumes" in row.text
    inserted, deleted = marked(client.get(f"/posts/{post_id}").text)
    assert inserted == ["60,000 volumes"]     # against what was generated, not the first edit
    assert deleted == ["40,000 books"]        # "52,000" was never generated: not marked at all


def test_an_emails_edit_is_shown_as_markdown_and_a_script_in_it_as_text(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    post_id = posts["newsletter"]
    generated = stored(store, post_id)
    original = generated.original_text
    assert original is not None and "40,000 books" in original
    assert original == workflow.editable_text(generated)   # what the editor opens with
    sign_in(client, "ed")
    edit(client, post_id, original.replace("40,000 books", "<script>alert(1)</script> books")
         + "\n\n## Opening hours\n\n- Monday to Friday\n", subject=generated.subject or "")

    page = client.get(f"/posts/{post_id}").text
    inserted, deleted = marked(page)
    assert deleted == ["40,000"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in inserted
    assert "## Opening hours\n\n- Monday to Friday" in inserted
    assert "<script>alert" not in page
    assert stored(store, post_id).original_text == original


def test_the_email_beside_the_editor_renders_the_box_without_saving(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    post_id = posts["newsletter"]
    before = stored(store, post_id)
    with store.begin() as conn:
        events = len(post_store.list_events(conn, post_id=post_id))
    sign_in(client, "ed")
    page = client.get(f"/posts/{post_id}").text
    assert f'formaction="/posts/{post_id}/email-draft.html" formtarget="draft-{post_id}"' in page
    assert f'<iframe name="draft-{post_id}" src="/posts/{post_id}/email.html"' in page

    answer = client.post(f"/posts/{post_id}/email-draft.html", data={
        "csrf": csrf_of(page), "text": "## Draft heading\n\nA <b>bold</b> claim "
                                       "<script>alert(1)</script>\n\n- one\n- two"})
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == EMAIL_CSP   # never a script
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Draft heading</h2>" in answer.text and "<li" in answer.text
    assert "<script" not in answer.text
    assert "%%" not in answer.text   # filled as for one reader, like the saved preview
    after = stored(store, post_id)
    assert (after.html, after.text, after.edited_by) == (before.html, before.text, None)
    with store.begin() as conn:
        assert len(post_store.list_events(conn, post_id=post_id)) == events

    empty = client.post(f"/posts/{post_id}/email-draft.html",
                        data={"csrf": csrf_of(page), "text": "  "})
    assert empty.status_code == 422 and "nothing to show" in empty.text
    assert empty.headers["content-security-policy"] == EMAIL_CSP


@pytest.mark.parametrize(("who", "token", "status"), [("rita", True, 403), ("ed", False, 403)])
def test_only_an_editor_with_the_pages_token_renders_a_draft(
        client: TestClient, posts: dict[str, int], who: str, token: bool, status: int) -> None:
    post_id = posts["newsletter"]
    sign_in(client, who)
    form = {"text": "## Draft"}
    if token:
        form["csrf"] = csrf_of(client.get(f"/posts/{post_id}").text)
    answer = client.post(f"/posts/{post_id}/email-draft.html", data=form)
    assert answer.status_code == status
    assert "Draft</h2>" not in answer.text


def test_a_social_post_has_no_email_beside_its_editor(
        client: TestClient, posts: dict[str, int]) -> None:
    sign_in(client, "ed")
    page = client.get(f"/posts/{posts['mastodon']}").text
    assert "email-draft.html" not in page and 'name="draft-' not in page
    answer = client.post(f"/posts/{posts['mastodon']}/email-draft.html",
                         data={"csrf": csrf_of(page), "text": "x"})
    assert answer.status_code == 404


def test_a_changed_release_renders_a_new_original(
        client: TestClient, store: Store, config: Config, posts: dict[str, int]) -> None:
    """Rendered again from a changed release, a post is generated anew: its edit is gone,
    and so is the difference."""
    post_id = posts["mastodon"]
    sign_in(client, "ed")
    edit(client, post_id, stored(store, post_id).text.replace("40,000", "52,000"))
    changed = release(summary="The new library has 45,000 books and a roof garden.",
                      body="The new library has 45,000 books.\n\nIt opens on Monday.")
    row = stored(store, post_id)
    assert row.release_id is not None
    with store.begin() as conn:
        workflow.rerender_release(conn, config, row.release_id, changed)
    row = stored(store, post_id)
    assert row.original_text == row.text and "45,000" in row.text
    assert 'data-testid="changes"' not in client.get(f"/posts/{post_id}").text
