"""Every review page passes axe-core with no serious and no critical violation, on a phone
(390 px) and a desktop (1280 px) — and the per-channel pause works there, by keyboard
and pointer, as a person would use it.

axe-core is a test asset (`tests/assets/axe-core`, MPL-2.0), evaluated in the page by
Playwright: the page's CSP (scripts from 'self' only) stays as it is in production.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot import workflow
from bot.config import Config, load_config
from bot.store import Store
from bot.store import channels as channel_store
from bot.store import posts as post_store
from bot.web.app import create_app
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, queue, release, write_config
from tests.web.test_browser import ARTIFACTS, publish_once, signed_in

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[1] / "assets" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
_RUN = """async (blocking) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => blocking.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + n.failureSummary)}));
}"""


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's serious and critical findings on the page as it is, every `<details>` open
    (what a person can open, axe must see)."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found: list[dict[str, Any]] = page.evaluate(_RUN, list(BLOCKING))
    return found


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The pages' usual channels and a Bluesky and a LinkedIn one (their link colours)."""
    file = write_config(tmp_path).source_file
    assert file is not None
    file.write_text(file.read_text(encoding="utf-8") + "".join(
        f'\n[channels.{name}]\ntype = "outbox"\nlike = "{name}"\napproval = "manual"\n'
        for name in ("bluesky", "linkedin")), encoding="utf-8")
    return load_config(file)


@pytest.fixture
def busy(config: Config, store: Store) -> dict[str, int]:
    """A queue with something in every state the pages show: waiting, approved, published
    (outbox links), rejected, a paused channel with its reason, long details."""
    first = queue(store, config, release(1))
    second = queue(store, config, release(2))
    for name, role in (("rita", "reviewer"), ("ed", "editor"), ("ada", "admin")):
        add_user(store, name, role)
    with store.begin() as conn:
        for post_id in first.values():
            workflow.approve(conn, config, post_id, "web:rita")
    publish_once(config, store)
    with store.begin() as conn:
        workflow.reject(conn, second["facebook"], "web:rita", "Not for Facebook")
        post_store.add_event(conn, actor="web:ed", action="edit", post_id=second["mastodon"],
                             detail={"previous_text": "word " * 80})
        post_store.add_event(conn, actor="system", action="retry", post_id=first["newsletter"],
                             from_status="publishing", to_status="failed",
                             detail={"retry_in": 600, "error": "Service Unavailable: upstream "
                                     "connect error or disconnect/reset before headers " * 3})
        channel_store.pause(conn, "newsletter", by="web:ed", reason="Waiting for the mayor")
    return {"published": first["mastodon"], "waiting": second["mastodon"]}


@pytest.mark.parametrize("width", [390, 1280])
def test_no_serious_or_critical_violation_on_any_page(chromium: Any, config: Config,
                                                       store: Store, busy: dict[str, int],
                                                       width: int) -> None:
    pages = ["/", "/?view=compact", f"/posts/{busy['published']}",
             f"/posts/{busy['waiting']}", "/activity", "/history", "/history?q=library",
             "/calendar", "/users", "/no/such/page", "/posts/999999"]
    found: dict[str, Any] = {}
    with LiveServer(create_app(config, store)) as server:
        anonymous = chromium.new_context(viewport={"width": width, "height": 900})
        page = anonymous.new_page()
        for path in ("/signin", "/no/such/page"):
            page.goto(server.url + path)
            if bad := violations(page):
                found[f"signed out {path}"] = bad
        anonymous.close()
        context, page = signed_in(chromium, server, "ada", width)
        for path in pages:
            page.goto(server.url + path)
            if path in ("/", "/?view=compact"):    # for people to look at, before opening
                name = "queue-compact" if "compact" in path else "queue-full"
                page.screenshot(path=str(_artifact(f"{name}-{width}.png")), full_page=True)
            if bad := violations(page):
                found[path] = bad
        page.goto(server.url + "/?view=full")
        context.close()
    assert found == {}, f"axe at {width} px: {found}"


def test_the_404_page_is_a_page_of_the_site(chromium: Any, config: Config, store: Store,
                                            busy: dict[str, int]) -> None:
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "rita", 390)
        answer = page.goto(server.url + "/no/such/page")
        assert answer is not None and answer.status == 404
        assert page.title() == "(4 waiting) Not found · pressbot"
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("navigation", name="Main").is_visible()  # the site's layout
        assert "There is no page at this address" in page.locator("main").inner_text()
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_pause_and_resume_one_channel_on_the_page(chromium: Any, config: Config, store: Store,
                                                  width: int) -> None:
    ids = queue(store, config, release(1))
    add_user(store, "rita", "reviewer")
    add_user(store, "ed", "editor")
    with store.begin() as conn:
        workflow.approve(conn, config, ids["mastodon"], "web:someone")
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "rita", width)
        page.get_by_text(re.compile(r"^Channels: 5 running")).click()
        page.get_by_label("Why pause mastodon").fill("Crisis: hold everything social")
        page.get_by_label("Why pause mastodon").press("Enter")     # by keyboard
        page.wait_for_load_state()
        assert "Channel mastodon is paused" in page.locator(".flash").inner_text()
        banner = page.locator(".banner.paused")
        said = banner.inner_text()
        assert "Channel mastodon is paused by rita since" in said
        assert "Why: Crisis: hold everything social" in said
        assert banner.get_by_role("button").count() == 0        # a reviewer cannot resume
        page.get_by_text(re.compile(r"^Channels: 4 running, 1 paused")).click()
        assert page.get_by_role("button", name="Pause facebook").count() == 1
        page.screenshot(path=str(_artifact(f"channel-paused-{width}.png")), full_page=True)
        # the publisher obeys: the approved mastodon post waits, the others are not held up
        assert ids["mastodon"] not in publish_once(config, store).published
        context.close()

        context, page = signed_in(chromium, server, "ed", width)
        page.locator(".banner.paused").get_by_role("button", name="Resume mastodon").click()
        page.wait_for_load_state()
        assert "Channel mastodon resumed" in page.locator(".flash").inner_text()
        assert page.locator(".banner.paused").count() == 0
        context.close()
    assert publish_once(config, store).published == [ids["mastodon"]]
    with store.begin() as conn:
        said = [(e["actor"], e["action"], (e["detail"] or {}).get("reason"))
                for e in post_store.list_events(conn) if e["action"] in ("pause", "resume")]
    assert said == [("web:ed", "resume", None),
                    ("web:rita", "pause", "Crisis: hold everything social")]


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


_BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      for (const m of node.textContent.matchAll(/[\\p{L}\\p{N}]{4,}/gu)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def test_table_cells_keep_their_words_whole_on_a_desktop(chromium: Any, config: Config,
                                                         store: Store,
                                                         busy: dict[str, int]) -> None:
    """At 1280 px no word in a table is split over two lines ("publishin / g")."""
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ada", 1280)
        found = {}
        for path in ("/activity", "/history", "/users", f"/posts/{busy['published']}"):
            page.goto(server.url + path)
            if broken := page.evaluate(_BROKEN_WORDS):
                found[path] = broken[:8]
            wraps = page.evaluate("[...document.querySelectorAll('td')].map("
                                  "c => getComputedStyle(c).overflowWrap)")
            if "anywhere" in wraps:     # a squeezed column would split its words
                found[path + " overflow-wrap"] = wraps[:3]
        page.goto(server.url + "/activity")
        page.screenshot(path=str(_artifact("activity-1280.png")), full_page=True)
        context.close()
        context, page = signed_in(chromium, server, "ada", 390)   # phones may break words
        page.goto(server.url + "/activity")
        assert page.evaluate("getComputedStyle(document.querySelector('main')).overflowWrap"
                             ) == "anywhere"
        context.close()
    assert found == {}
