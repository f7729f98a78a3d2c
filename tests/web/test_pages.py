"""What the pages show: headers, previews, warnings, the queue's order, activity and CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from bot import clock
from bot.config import Config
from bot.fit import count
from bot.models import Image, PostStatus
from bot.store import Store
from bot.store import posts as post_store
from bot.store.activity import events_count
from bot.store.meta import learned_limits
from channels.registry import limits_for
from tests.web.conftest import csrf_of, queue, release, sign_in

S = PostStatus


def _article(page: str, post_id: int) -> str:
    match = re.search(rf'<article[^>]*id="post-{post_id}".*?</article>', page, re.S)
    assert match, f"post {post_id} is not on the page"
    return match.group(0)


def _set(store: Store, post_id: int, to: PostStatus, **fields: object) -> None:
    with store.begin() as conn:
        post_store.change(conn, post_id, allowed_from=list(S), to=to, actor="test",
                          action="test", **fields)


@pytest.mark.parametrize("path", ["/", "/signin", "/healthz", "/activity", "/static/style.css"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    sign_in(client, "rita")
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    assert "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_page_has_no_inline_script_or_style(client: TestClient, posts: dict[str, int]) -> None:
    sign_in(client, "ed")
    page = client.get("/").text
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/count.js" defer>']
    assert " style=" not in page
    assert "<style" not in page


def test_email_preview_is_framable_by_us_only_and_runs_no_script(
        client: TestClient, posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    post_id = posts["newsletter"]
    response = client.get(f"/posts/{post_id}/email.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp
    assert "style-src 'unsafe-inline'" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert response.headers["x-frame-options"] != "DENY"
    assert "City opens riverside library number 1" in response.text
    assert "%%UNSUBSCRIBE_URL%%" not in response.text
    assert "%%GREETING%%" not in response.text
    article = _article(client.get("/").text, post_id)
    frames = re.findall(r"<iframe[^>]*>", article)
    assert len(frames) == 2
    assert all('sandbox=""' in f and f'src="/posts/{post_id}/email.html"' in f for f in frames)
    assert 'class="phone"' in article
    assert 'class="desktop"' in article


def test_email_preview_needs_sign_in(config: Config, store: Store,
                                     posts: dict[str, int]) -> None:
    from tests.web.conftest import client_for

    with client_for(config, store) as client:
        assert client.get(f"/posts/{posts['newsletter']}/email.html").status_code == 303
        sign_in(client, "nobody")
    with client_for(config, store) as client:
        assert client.get(f"/posts/{posts['mastodon']}/email.html").status_code == 303


def test_previews_count_as_the_platform_counts(client: TestClient, store: Store,
                                               config: Config,
                                               posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    page = client.get("/").text
    with store.begin() as conn:
        learned = learned_limits(conn)
    for channel in ("mastodon", "facebook"):
        with store.begin() as conn:
            post = post_store.require(conn, posts[channel])
        limits = limits_for(config.channels[channel], learned.get(channel))
        article = _article(page, post.id)
        assert f"{count(post.text, limits)}/{limits.max_chars} characters" in article
        assert f'data-limit="{limits.max_chars}"' not in article  # reviewers get no edit box
    facebook = _article(page, posts["facebook"])
    assert 'class="linkcard" href="https://www.example.org/news/release-1' in facebook
    assert "WWW.EXAMPLE.ORG" in facebook
    assert 'src="https://www.example.org/img/library.jpg" alt="The library"' in facebook


def test_warnings_too_long_no_alt_and_embargo(client: TestClient, store: Store,
                                              config: Config) -> None:
    embargo = clock.now() + timedelta(days=2)
    ids = queue(store, config, release(7, images=[Image(url="https://www.example.org/a.jpg")],
                                       embargo_at=embargo))
    _set(store, ids["mastodon"], S.PENDING, text="x" * 520)
    sign_in(client, "rita")
    article = _article(client.get("/").text, ids["mastodon"])
    assert "too long: 520/500 characters as Mastodon counts them" in article
    assert 'class="count over"' in article
    assert "no alt text on 1 image" in article
    local = embargo.astimezone(config.tz).strftime("%a %-d %b %Y, %H:%M")
    assert f"embargoed until {local}" in article


def test_post_text_is_escaped(client: TestClient, store: Store,
                              posts: dict[str, int]) -> None:
    _set(store, posts["mastodon"], S.PENDING, text='<img src=x onerror="alert(1)"> hi')
    sign_in(client, "rita")
    page = client.get("/").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; hi" in page


def test_queue_order_held_advice_and_published_link(client: TestClient, store: Store,
                                                    config: Config) -> None:
    first = queue(store, config, release(1))
    second = queue(store, config, release(2))
    _set(store, first["mastodon"], S.HELD,
         last_error="the access token was revoked: create a new one and set MASTODON_TOKEN")
    _set(store, first["facebook"], S.PUBLISHED, remote_id="fb-1",
         remote_url="https://www.facebook.com/123_456")
    sign_in(client, "rita")
    page = client.get("/").text
    waiting = page.index('id="waiting"')
    attention = page.index('id="scheduled"')
    done = page.index('id="done"')
    assert waiting < attention < done
    assert waiting < page.index(f'id="post-{second["mastodon"]}"') < attention
    held = page.index(f'id="post-{first["mastodon"]}"')
    assert attention < held < done
    published = page.index(f'id="post-{first["facebook"]}"')
    assert published > done
    held_article = _article(page, first["mastodon"])
    assert "the access token was revoked" in held_article
    assert "Renew the credential" in held_article
    assert f'action="/posts/{first["mastodon"]}/approve"' in held_article
    published_article = _article(page, first["facebook"])
    assert 'href="https://www.facebook.com/123_456"' in published_article
    assert "/approve" not in published_article
    # both posts of release 1 are grouped under its title in the "attention" part
    section = page[attention:done]
    assert section.count("City opens riverside library number 1</a></h3>") == 1


def test_post_page_shows_the_audit_trail(client: TestClient, store: Store,
                                         posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    token = csrf_of(client.get("/").text)
    client.post(f"/posts/{posts['mastodon']}/reject", data={"csrf": token, "reason": "Dup"})
    page = client.get(f"/posts/{posts['mastodon']}").text
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    rows = re.findall(r"<tr>.*?</tr>", body, re.S)
    assert len(rows) == 3
    assert "pressbot queued it for review." in rows[0]      # sentences, people by name
    assert "rita commented: Rejected: Dup" in rows[1]  # the reason starts the post's thread
    assert "rita rejected it: Dup." in rows[2]
    assert "web:rita" not in body


def test_activity_pages_and_csv(client: TestClient, store: Store, config: Config) -> None:
    for n in range(20):  # 60 queued events and more: two pages of 50
        queue(store, config, release(n + 10))
    sign_in(client, "rita")
    token = csrf_of(client.get("/").text)
    with store.begin() as conn:
        target = post_store.listing(conn, status=["pending"])[0].id
    client.post(f"/posts/{target}/reject", data={"csrf": token, "reason": "=HYPERLINK(1)"})

    first = client.get("/activity").text
    assert "Page 1 of 2" in first
    assert "rita rejected it: =HYPERLINK(1)." in first  # newest first
    second = client.get("/activity?page=2").text
    assert "Page 2 of 2" in second
    assert "rel=\"prev\"" in second

    export = client.get("/activity.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    with store.begin() as conn:
        # accounts, queued, rejected, and the comment the reason started
        assert len(rows) == events_count(conn) == 3 + 60 + 2
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    reject = rows[-1]
    assert (reject["who"], reject["action"], reject["post_id"]) == ("rita", "reject",
                                                                    str(target))
    with store.begin() as conn:
        post = post_store.require(conn, target)
    assert (reject["title"], reject["channel"]) == (post.title, post.channel)
    assert reject["what"] == "rita rejected it: =HYPERLINK(1)."
    assert reject["detail"] == "reason: =HYPERLINK(1)"
    queued = rows[3]
    assert queued["title"].startswith("City opens riverside library number")
    assert not any(c.startswith(("{", "[")) for r in rows for c in r.values())  # no JSON


def test_csv_cells_that_look_like_formulas_are_defused(client: TestClient, store: Store,
                                                      posts: dict[str, int]) -> None:
    with store.begin() as conn:
        post_store.add_event(conn, actor="=cmd|' /C calc'!A0", action="note")
    sign_in(client, "rita")
    rows = list(csv.DictReader(io.StringIO(client.get("/activity.csv").text)))
    assert rows[-1]["who"] == "'=cmd|' /C calc'!A0"


def test_activity_needs_sign_in(config: Config, store: Store) -> None:
    from tests.web.conftest import client_for

    with client_for(config, store) as client:
        assert client.get("/activity.csv").status_code == 303


def test_links_from_data_are_web_links_only(client: TestClient, store: Store,
                                            config: Config) -> None:
    ids = queue(store, config, release(3, url="javascript:alert(1)"))
    sign_in(client, "rita")
    page = client.get("/").text
    assert "javascript:alert(1)" in page  # shown as text (a warning)…
    assert 'href="javascript' not in page  # …never as a link
    # and it never reaches a post: no link card, a warning saying why
    facebook = _article(page, ids["facebook"])
    assert "linkcard" not in facebook
    assert "not an http(s) address" in facebook


def test_a_release_without_a_time_shows_its_day_alone(client: TestClient, store: Store,
                                                       config: Config) -> None:
    from datetime import UTC, date, datetime

    from tests.web.conftest import queue, release

    # a day west of UTC: its instant (midnight in New York) is the 24th at 06:00 in Brussels
    queue(store, config, release(2, published_at=datetime(2026, 2, 24, 5, tzinfo=UTC),
                                 published_day=date(2026, 2, 24)))
    queue(store, config, release(3, published_at=datetime(2026, 2, 25, 9, 30, tzinfo=UTC)))
    sign_in(client, "rita")
    page = client.get("/").text
    assert "released Tue 24 Feb 2026<" in page or "released Tue 24 Feb 2026 " in page
    assert "Tue 24 Feb 2026, 06:00" not in page          # no made-up hour in Brussels
    assert "released Wed 25 Feb 2026, 10:30" in page     # a real time is kept, local


def test_activity_reads_like_a_log_a_person_wrote(client: TestClient, store: Store,
                                                   config: Config,
                                                   posts: dict[str, int]) -> None:
    from bot import workflow

    with store.begin() as conn:
        workflow.approve(conn, config, posts["mastodon"], "web:rita")
        post_store.add_event(conn, actor="system", action="retry", post_id=posts["mastodon"],
                             detail={"retry_in": 30.4, "worker": "vm:31791",
                                     "warnings": ["long for inbox display", "derived link"]})
        post_store.add_event(conn, actor="system", action="published",
                             post_id=posts["facebook"],
                             detail={"remote_id": "outbox-7", "worker": "vm:31791",
                                     "url": "file:///var/lib/pressbot/outbox/facebook/7.json"})
    sign_in(client, "rita")
    page = client.get("/activity").text
    row = re.search(r"<tr>(?:(?!</tr>).)*approved it(?:(?!</tr>).)*</tr>", page, re.S)
    assert row, "no approve row"
    assert "City opens riverside library" in row.group(0) and "on mastodon" in row.group(0)
    # a sentence, the time in Brussels: what the post's publish_at is there
    with store.begin() as conn:
        slot = post_store.require(conn, posts["mastodon"]).publish_at
    assert slot is not None
    local = slot.astimezone(config.tz).strftime("%a %-d %b %Y, %H:%M")
    assert f"rita approved it; it goes out {local}." in row.group(0)
    shown = re.sub(r'datetime="[^"]*"', "", page)     # machine-readable attributes aside
    assert "+00:00" not in shown                      # times in the bot's zone, not ISO
    assert "vm:31791" not in page and "worker" not in page
    assert "pressbot could not publish it; next try in 30 s. Warnings: long for inbox " \
           "display; derived link." in page
    assert "pressbot published it. Platform id: outbox-7; link: a file in the outbox." in page
    assert "file:" not in page and "web:rita" not in page
    assert '["' not in shown and "['" not in shown    # no list text for people to read


def test_search_finds_words_of_the_post_text(client: TestClient, store: Store,
                                             config: Config) -> None:
    from bot import workflow
    from tests.web.conftest import queue, release

    ids = queue(store, config, release(1))
    queue(store, config, release(2))
    with store.begin() as conn:
        workflow.edit(conn, config, ids["mastodon"], "ed",
                      "The Bibliothèque opens with a reading by Zadie Smith. #library", None)
    sign_in(client, "rita")
    found = client.get("/history?q=zadie").text            # a word of the text alone
    assert "1 post," in found and f'href="/posts/{ids["mastodon"]}"' in found
    assert "1 post," in client.get("/history?q=bibliotheque+READING").text  # accents, case
    assert "1 post," in client.get("/history?q=bibliot").text              # a word's start
    assert "0 posts" in client.get("/history?q=zadie+nowhere").text        # every word
    assert "6 posts" in client.get("/history?q=riverside").text            # titles still
    assert "0 posts" in client.get('/history?q=%22+OR+*+NEAR(').text       # syntax is text


def test_find_posts_by_status_channel_words_and_page(client: TestClient, store: Store,
                                                     config: Config) -> None:
    from tests.web.conftest import queue, release

    for n in range(1, 4):
        queue(store, config, release(n))
    sign_in(client, "rita")
    every = client.get("/history").text
    assert "9 posts" in every
    only = client.get("/history?channel=mastodon&q=library+number+2").text
    assert "1 post," in only and "City opens riverside library number 2" in only
    assert "number 3" not in only
    assert "0 posts" in client.get("/history?status=published").text
    assert "No post matches" in client.get("/history?q=nothing-like-this").text
    assert client.get("/outbox/../pressbot.toml").status_code == 404   # only outbox files
