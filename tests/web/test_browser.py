"""End to end in a real headless Chromium: sign in, read the previews, edit and watch the
live count, approve, let the publisher run, and see the post published with its link.

Debian's Chromium (`/usr/bin/chromium`, or PRESSBOT_CHROMIUM) is driven by Playwright;
no browser is ever downloaded. Screenshots land in tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.fit import count
from bot.publisher import PassReport, Publisher
from bot.runtime import live_channels
from bot.store import Store
from bot.store import posts as post_store
from bot.web.app import create_app
from channels.registry import limits_for
from tests.fakes.server import LiveServer
from tests.web.conftest import PASSWORD, add_user, queue, release

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def publish_once(config: Config, store: Store) -> PassReport:
    """One publisher pass, in its own thread: Playwright's sync API owns this one's loop."""
    result: list[PassReport] = []

    async def run() -> None:
        async with live_channels(config, store, dry_run=False) as channels:
            result.append(await Publisher(config, store, channels).run_once())

    worker = threading.Thread(target=lambda: asyncio.run(run()))
    worker.start()
    worker.join(30)
    return result[0]


def signed_in(chromium: Any, server: LiveServer, name: str, width: int) -> tuple[Any, Any]:
    """A browser context that reaches only 127.0.0.1, signed in as `name`, `width` px wide."""
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
    page = context.new_page()
    page.goto(server.url + "/signin")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/")
    return context, page


def test_review_edit_approve_publish(chromium: Any, config: Config, store: Store) -> None:
    ids = queue(store, config, release(1))
    add_user(store, "ed", "editor")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with LiveServer(create_app(config, store)) as server:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        # the release's images live on example.org: nothing leaves 127.0.0.1 in tests
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        page.goto(server.url + "/")
        assert page.url.startswith(server.url + "/signin")
        page.screenshot(path=str(ARTIFACTS / "signin.png"))
        page.get_by_label("Account name").fill("ed")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(server.url + "/")

        toot = page.locator(f"#post-{ids['mastodon']}")
        assert "City opens riverside library number 1" in toot.locator(".mastodon .text") \
            .inner_text()
        facebook = page.locator(f"#post-{ids['facebook']}")
        assert facebook.locator(".linkcard .host").inner_text() == "WWW.EXAMPLE.ORG"
        email = page.locator(f"#post-{ids['newsletter']}")
        frames = email.locator("details.email-frames")
        assert frames.get_attribute("open") is None          # collapsed in the queue…
        assert "library" in frames.locator(".first-lines").inner_text()
        frames.locator("summary").click()                   # …until opened
        phone_frame = email.locator(".phone iframe")
        assert phone_frame.get_attribute("sandbox") == ""
        # the email's own viewport: the frame's width inside its border
        assert phone_frame.evaluate("frame => frame.clientWidth") == 375
        assert email.locator(".desktop iframe").evaluate("frame => frame.clientWidth") == 700
        heading = email.frame_locator(".desktop iframe").locator("h1")
        assert heading.inner_text() == "City opens riverside library number 1"
        page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)

        limits = limits_for(config.channels["mastodon"])
        toot.get_by_text("Edit…").click()
        box = toot.get_by_label("Text")
        live = toot.locator(".live-count")
        before = live.inner_text()
        text = "Riverside library opens Monday 📚 https://www.example.org/news/riverside-library"
        box.fill(text)
        expected = count(text, limits)
        assert expected != len(text)  # the link weighs 23: a plain length would be wrong
        live_text = live.inner_text()
        assert live_text != before
        assert live_text.startswith(f"{expected}/{limits.max_chars} characters")
        box.fill("x" * (limits.max_chars or 0) + "y")
        assert "too long" in live.inner_text()
        assert "over" in (live.get_attribute("class") or "")
        box.fill(text)
        page.screenshot(path=str(ARTIFACTS / "edit.png"), full_page=True)
        toot.get_by_role("button", name="Save text").click()
        page.wait_for_url(f"{server.url}/#post-{ids['mastodon']}")
        assert f"saved: {expected}/{limits.max_chars}" in page.locator(".flash").inner_text()
        assert page.locator(f"#post-{ids['mastodon']} .mastodon .count").inner_text() \
            .startswith(f"{expected}/{limits.max_chars}")

        page.locator(f"#post-{ids['mastodon']}").get_by_role("button", name="Approve").click()
        assert "approved" in page.locator(".flash").inner_text()
        with store.begin() as conn:
            assert post_store.require(conn, ids["mastodon"]).status == "approved"

        report = publish_once(config, store)
        assert report.published == [ids["mastodon"]]
        with store.begin() as conn:
            published = post_store.require(conn, ids["mastodon"])
        assert published.status == "published"
        assert published.remote_url

        page.reload()
        done = page.locator("#done")
        card = done.locator(f"#post-{ids['mastodon']}")
        assert card.locator(".status").inner_text() == "published"
        # the demo's outbox file is served by the review page, not a file: link browsers block
        served = card.locator("a.remote").get_attribute("href")
        assert published.remote_url.endswith(served or "-")
        assert served == f"/outbox/mastodon/post-{ids['mastodon']}.txt"
        assert text in page.request.get(server.url + served).text()
        # the link shown as Mastodon shows it, whole in the href
        link = "https://www.example.org/news/riverside-library"
        shown = card.locator(".mastodon .text")
        assert shown.inner_text() == text.replace(link, "example.org/news/riverside-lib…")
        assert shown.locator("a").get_attribute("href") == link
        page.screenshot(path=str(ARTIFACTS / "published.png"), full_page=True)

        page.goto(f"{server.url}/posts/{ids['mastodon']}")
        history = page.locator("table.events tbody tr")
        said = [history.nth(i).locator("td").nth(1).inner_text()
                for i in range(history.count())]
        assert [s.split(".")[0] for s in said] == [
            "pressbot queued it for review", "ed edited the text",
            "ed approved it; it goes out " + said[2].split("goes out ")[1].split(".")[0],
            "pressbot started publishing it", "pressbot published it"]
        page.screenshot(path=str(ARTIFACTS / "post.png"), full_page=True)
        context.close()
    # blocked images aside: no CSP violation, no script error
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []


def test_after_a_refused_edit_the_count_describes_the_text_in_the_box(
        chromium: Any, config: Config, store: Store) -> None:
    ids = queue(store, config, release(1))
    add_user(store, "ed", "editor")
    limits = limits_for(config.channels["mastodon"])
    too_long = "x" * ((limits.max_chars or 500) + 20)
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ed", 1280)
        toot = page.locator(f"#post-{ids['mastodon']}")
        toot.get_by_text("Edit…").click()
        toot.get_by_label("Text").fill(too_long)
        toot.get_by_role("button", name="Save text").click()
        page.wait_for_load_state()
        assert "too long" in page.locator(".error, .flash").first.inner_text()
        box = page.locator("textarea[name=text]").first
        assert box.input_value() == too_long                 # the text as typed is kept
        live = page.locator(".live-count").first.inner_text()
        assert live.startswith(f"{len(too_long)}/{limits.max_chars} characters")
        assert "too long" in live and not live.startswith("Saved")
        context.close()


@pytest.mark.parametrize("width", [360, 390, 1280])
def test_no_page_scrolls_sideways(chromium: Any, config: Config, store: Store,
                                  width: int) -> None:
    ids = queue(store, config, release(1))
    add_user(store, "ada", "admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with store.begin() as conn:   # something in the activity log with long details
        post_store.add_event(conn, actor="ada", action="edit", post_id=ids["mastodon"],
                             detail={"previous_text": "word " * 80})
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ada", width)
        wide = {}
        for name, path in (("queue", "/"), ("post", f"/posts/{ids['newsletter']}"),
                           ("activity", "/activity"), ("users", "/users"),
                           ("history", "/history"), ("calendar", "/calendar")):
            page.goto(server.url + path)
            for details in page.locator("details").all():
                details.evaluate("d => d.open = true")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:   # name the widest element sticking out, to fix it
                wide[name] = page.evaluate(
                    """w => { const out = [];
                      const page = document.documentElement.scrollWidth;
                      for (const el of document.querySelectorAll('body *')) {
                        const r = el.getBoundingClientRect().right;
                        if (r > w && r <= page + 1) out.push(`${el.tagName}.${el.className}`); }
                      return `${page}: ${out.slice(0, 5).join(', ')}`; }""",
                    width)
        context.close()
    assert wide == {}, f"pages wider than {width} px: {wide}"


def test_approve_every_channel_of_a_release_in_one_action(chromium: Any, config: Config,
                                                          store: Store) -> None:
    ids = queue(store, config, release(1))
    other = queue(store, config, release(2))
    add_user(store, "rita", "reviewer")
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "rita", 390)
        group = page.locator("section.release", has=page.locator(f"#post-{ids['mastodon']}"))
        group.get_by_role("button", name=re.compile(r"Approve all \d channels")).click()
        page.wait_for_load_state()
        assert "Approved on" in page.locator(".flash").inner_text()
        context.close()
    with store.begin() as conn:
        assert {post_store.require(conn, i).status for i in ids.values()} == {"approved"}
        assert {post_store.require(conn, i).status for i in other.values()} == {"pending"}


def test_bulk_decision_across_releases(chromium: Any, config: Config, store: Store) -> None:
    first = queue(store, config, release(1))
    second = queue(store, config, release(2))
    add_user(store, "rita", "reviewer")
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "rita", 1280)
        for post_id in (first["mastodon"], second["facebook"]):
            page.locator(f"#post-{post_id}").get_by_label("select for a bulk decision").check()
        page.get_by_role("button", name="Approve selected").click()
        page.wait_for_load_state()
        assert "Approved on" in page.locator(".flash").inner_text()
        context.close()
    with store.begin() as conn:
        status = {i: post_store.require(conn, i).status
                  for i in [*first.values(), *second.values()]}
    assert {i for i, s in status.items() if s == "approved"} == {first["mastodon"],
                                                                  second["facebook"]}


def test_find_by_filter_and_search_then_read_the_activity(chromium: Any, config: Config,
                                                          store: Store) -> None:
    from bot import workflow

    ids = queue(store, config, release(1))
    queue(store, config, release(2))
    add_user(store, "rita", "reviewer")
    with store.begin() as conn:
        workflow.approve(conn, config, ids["mastodon"], "rita")
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "rita", 390)
        page.get_by_role("link", name="Find").click()
        page.get_by_label("Words").fill("number 1")
        page.get_by_label("Channel").select_option("mastodon")
        page.get_by_role("button", name="Find").click()
        rows = page.locator("table.events tbody tr")
        assert rows.count() == 1 and "library number 1" in rows.first.inner_text()
        assert "approved" in rows.first.inner_text()
        page.get_by_role("link", name="Activity").click()
        approve = page.locator("table.events tbody tr", has_text="approve").first
        said = approve.inner_text()
        assert "City opens riverside library number 1" in said and "on mastodon" in said
        assert "rita approved it; it goes out " in said and "+00:00" not in said
        page.screenshot(path=str(ARTIFACTS / "activity-read-390.png"), full_page=True)
        context.close()


def test_move_a_post_in_the_calendar(chromium: Any, config: Config, store: Store) -> None:
    from datetime import datetime, timedelta

    from bot import workflow

    ids = queue(store, config, release(1))
    add_user(store, "ed", "editor")
    with store.begin() as conn:
        workflow.approve(conn, config, ids["mastodon"], "someone-else")
    target = (datetime.now(config.tz) + timedelta(days=1)).replace(hour=10, minute=30,
                                                                   second=0, microsecond=0)
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ed", 390)
        page.get_by_role("link", name="Calendar").click()
        slot = page.locator(f"#slot-{ids['mastodon']}")
        assert "mastodon" in slot.inner_text()
        slot.get_by_label(f"New time for post {ids['mastodon']}").fill(
            target.strftime("%Y-%m-%dT%H:%M"))
        slot.get_by_role("button", name="Move").click()
        page.wait_for_load_state()
        assert "scheduled for" in page.locator(".flash").inner_text()
        page.screenshot(path=str(ARTIFACTS / "calendar-390.png"), full_page=True)
        context.close()
    with store.begin() as conn:
        moved = post_store.require(conn, ids["mastodon"])
    assert moved.publish_at == target.astimezone(moved.publish_at.tzinfo)  # type: ignore[union-attr]
    assert moved.status == "approved"


def test_pages_work_without_javascript(chromium: Any, config: Config, store: Store) -> None:
    ids = queue(store, config, release(2))
    add_user(store, "rita", "reviewer")
    with LiveServer(create_app(config, store)) as server:
        context = chromium.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(server.url + "/signin")
        page.keyboard.press("Tab")  # keyboard users meet the skip link first
        assert page.locator(":focus").inner_text() == "Skip to content"
        page.get_by_label("Account name").fill("rita")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        card = page.locator(f"#post-{ids['facebook']}")
        card.get_by_text("Reject…").click()
        card.get_by_label("Note for the audit trail (why)").fill("Not for Facebook")
        card.get_by_role("button", name="Reject this post").click()
        assert "rejected" in page.locator(".flash").inner_text()
        context.close()
    with store.begin() as conn:
        post = post_store.require(conn, ids["facebook"])
    assert post.status == "rejected"
    assert post.last_error == "Not for Facebook"
