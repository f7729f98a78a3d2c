"""An email edited in a real headless Chromium, on a phone (390 px) and a desktop (1280 px):
the rendered email sits beside the editor (below it on a phone), "Preview without saving"
renders the box's Markdown into it and saves nothing, saving shows the words inserted
and deleted against the generated text, and the page passes axe with all of it open."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Config
from bot.store import Store
from bot.store import posts as post_store
from bot.web.app import create_app
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, queue, release
from tests.web.test_accessibility import violations
from tests.web.test_browser import ARTIFACTS, signed_in

pytestmark = pytest.mark.browser
_SEEN = """marks => marks.map(m => {
  const seen = m.cloneNode(true);
  seen.querySelectorAll('.visually-hidden').forEach(e => e.remove());
  return seen.textContent.trim();
})"""
"""What a sighted reader sees of each mark (its sign and words); the words a screen reader
says instead of the sign ("[inserted: …]") are checked by tests/web/test_edit_changes.py."""


@pytest.mark.parametrize("width", [390, 1280])
def test_preview_then_save_an_email_edit(chromium: Any, config: Config, store: Store,
                                         width: int) -> None:
    post_id = queue(store, config, release(1))["newsletter"]
    add_user(store, "ed", "editor")
    with store.begin() as conn:
        generated = post_store.require(conn, post_id)
    assert generated.original_text and "40,000 books" in generated.original_text
    problems: list[str] = []
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ed", width)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{server.url}/posts/{post_id}")
        page.get_by_text("Edit…", exact=True).click()
        box = page.locator(f"#text-{post_id}")
        frame = page.locator(f'iframe[name="draft-{post_id}"]')
        frame.scroll_into_view_if_needed()
        draft = page.frame_locator(f'iframe[name="draft-{post_id}"]')
        assert "40,000 books" in draft.locator("body").inner_text()   # the saved email
        form, shown = box.bounding_box(), frame.bounding_box()
        assert form is not None and shown is not None
        if width >= 1000:   # beside the editor
            assert shown["x"] >= form["x"] + form["width"] and shown["y"] < form["y"] + 200
        else:               # below it, as wide as the page allows
            assert shown["y"] > form["y"] and shown["width"] <= width

        edited = generated.original_text.replace("40,000 books", "52,000 books and comics")
        box.fill(edited + "\n\n## Opening hours\n\n- Monday to Friday\n")
        page.get_by_role("button", name="Preview without saving").click()
        heading = draft.get_by_role("heading", name="Opening hours")
        heading.wait_for()
        assert "52,000 books and comics" in draft.locator("body").inner_text()
        assert page.url == f"{server.url}/posts/{post_id}"      # the page itself stayed
        assert box.input_value().startswith(edited)             # and so did the box
        with store.begin() as conn:
            assert post_store.require(conn, post_id).html == generated.html   # nothing saved
        page.screenshot(path=str(ARTIFACTS / f"email-edit-preview-{width}.png"),
                        full_page=True)

        page.get_by_role("button", name="Save text").click()
        page.wait_for_url(f"{server.url}/posts/{post_id}")
        changes = page.get_by_test_id("changes")
        assert "Changed from the generated text" in changes.inner_text()
        inserted, deleted = (page.locator(f".diff {tag}").evaluate_all(_SEEN)
                             for tag in ("ins", "del"))
        assert "+52,000" in inserted and any("Opening hours" in t for t in inserted)
        assert deleted == ["−40,000"]   # a visible mark, not colour alone
        struck = page.locator(".diff del").first.evaluate(
            "e => getComputedStyle(e).textDecorationLine")
        assert "line-through" in struck
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways
        page.get_by_text("Edit…", exact=True).click()   # the saved email beside the editor
        draft.get_by_role("heading", name="Opening hours").wait_for()
        page.screenshot(path=str(ARTIFACTS / f"email-edit-changes-{width}.png"),
                        full_page=True)
        found = violations(page)
        context.close()
    with store.begin() as conn:
        saved = post_store.require(conn, post_id)
    assert saved.original_text == generated.original_text
    assert found == [], f"axe at {width} px: {found}"
    # the release's pictures are on example.org, which the test's browser may not reach;
    # anything else (a CSP refusal above all) is a problem
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
