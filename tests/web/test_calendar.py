"""The calendar as a browser without JavaScript uses it: week and month views, windows
shaded, the sidebar of posts to place, and moves by plain form POST that pass the same
checks as the post's own date field and land in the audit trail.

The clock is frozen on Monday 7 December 2026, 08:00 in Brussels; mastodon may publish
09:00-12:00 on weekdays only, facebook at any time."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot import workflow
from bot.config import Config
from bot.models import Post
from bot.store import Store
from bot.store import posts as post_store
from tests.web.conftest import add_user, client_for, csrf_of, queue, release, sign_in, write_config

NOW = "2026-12-07T08:00:00+01:00"


def windowed(tmp_path: Path) -> Config:
    """The review page's config with mastodon publishing 09:00-12:00 on weekdays."""
    config = write_config(tmp_path)
    config.channels["mastodon"] = config.channels["mastodon"].model_copy(
        update={"windows": ["mon-fri 09:00-12:00"]})
    return config


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("PRESSBOT_CLOCK", NOW)
    return windowed(tmp_path)


@pytest.fixture
def editor(config: Config, store: Store) -> Iterator[TestClient]:
    add_user(store, "ed", "editor")
    add_user(store, "rita", "reviewer")
    with client_for(config, store) as client:
        sign_in(client, "ed")
        yield client


def local(config: Config, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=config.tz)


def stored(store: Store, post_id: int) -> tuple[Post, list[dict[str, Any]]]:
    with store.begin() as conn:
        return post_store.require(conn, post_id), post_store.list_events(conn, post_id=post_id)


def move(client: TestClient, post_id: int, **fields: str) -> Any:
    token = csrf_of(client.get("/calendar").text)
    return client.post("/calendar/move", data={"csrf": token, "post": str(post_id),
                                               "next": "/calendar?view=week", **fields})


def flash(client: TestClient, response: Any) -> str:
    found = re.search(r'class="flash flash-(\w+)"[^>]*>([^<]*)<',
                      client.get(response.headers["location"]).text)
    assert found, "no message on the page"
    return f"{found[1]}: {html.unescape(found[2])}"


def approved_at(store: Store, config: Config, post_id: int, when: datetime) -> None:
    with store.begin() as conn:
        workflow.schedule(conn, config, post_id, "someone", when)
        workflow.approve(conn, config, post_id, "someone")


def test_week_shades_windows_and_lists_posts_to_place(editor: TestClient, store: Store,
                                                      config: Config) -> None:
    ids = queue(store, config, release(1))
    page = editor.get("/calendar").text
    assert "Week of 7 December 2026" in page
    # mastodon's window on a weekday, shaded hours 9, 10 and 11; closed at the weekend
    monday = page[page.index('data-day="2026-12-07"'):page.index('data-day="2026-12-08"')]
    assert "mastodon: 09:00–12:00" in monday
    assert monday.count('<i class="open">') == 3
    sunday = page[page.index('data-day="2026-12-13"'):]
    assert "mastodon: closed" in sunday
    sidebar = page[page.index('id="loose-heading"'):page.index('class="week"')]
    for post_id in ids.values():      # pending, no time yet: all three wait in the sidebar
        assert f'id="loose-{post_id}"' in sidebar


def test_month_view_lays_out_the_whole_month(editor: TestClient, store: Store,
                                             config: Config) -> None:
    ids = queue(store, config, release(1))
    approved_at(store, config, ids["facebook"], local(config, "2026-12-24T15:00"))
    page = editor.get("/calendar?view=month&start=2026-12-10").text
    assert "December 2026" in page
    assert 'data-day="2026-11-30"' in page and 'data-day="2027-01-03"' in page  # whole weeks
    assert page.count('class="day drop') == 35
    christmas_eve = page[page.index('data-day="2026-12-24"'):page.index('data-day="2026-12-25"')]
    assert f'id="slot-{ids["facebook"]}"' in christmas_eve and "15:00" in christmas_eve
    assert "start=2026-11-01" in page and "start=2027-01-01" in page
    assert editor.get("/calendar?view=year").status_code == 400
    last = editor.get("/calendar?view=month&start=2999-12-31")     # the calendar's ends
    assert last.status_code == 200 and "Next month" not in last.text
    first = editor.get("/calendar?view=month&start=1900-01-01")
    assert first.status_code == 200 and "Previous month" not in first.text


def test_a_post_moves_a_day_keeping_its_time_and_the_move_is_audited(
        editor: TestClient, store: Store, config: Config) -> None:
    ids = queue(store, config, release(1))
    approved_at(store, config, ids["mastodon"], local(config, "2026-12-08T10:30"))
    response = move(editor, ids["mastodon"], day="2026-12-09")
    assert response.status_code == 303
    assert response.headers["location"] == "/calendar?view=week"
    assert flash(editor, response).startswith(f"ok: Post {ids['mastodon']} (mastodon) moved "
                                              "to Wed 9 Dec 2026, 10:30")
    post, events = stored(store, ids["mastodon"])
    assert post.publish_at == local(config, "2026-12-09T10:30")
    assert post.status == "approved"
    assert events[0]["action"] == "schedule" and events[0]["actor"] == "web:ed"
    moved_from = datetime.fromisoformat(events[0]["detail"]["moved_from"])
    assert moved_from == local(config, "2026-12-08T10:30")


def test_a_sidebar_post_lands_at_its_channels_first_opening(editor: TestClient, store: Store,
                                                            config: Config) -> None:
    ids = queue(store, config, release(1))
    assert move(editor, ids["mastodon"], day="2026-12-10").status_code == 303
    assert move(editor, ids["facebook"], day="2026-12-10", time="16:45").status_code == 303
    assert stored(store, ids["mastodon"])[0].publish_at == local(config, "2026-12-10T09:00")
    facebook, _ = stored(store, ids["facebook"])
    assert facebook.publish_at == local(config, "2026-12-10T16:45")
    assert facebook.status == "pending"   # placed, still waiting for a decision


@pytest.mark.parametrize(("day", "time", "said"), [
    ("2026-12-12", "", "outside mastodon's publishing windows (mon-fri 09:00-12:00"),
    ("2026-12-08", "14:00", "outside mastodon's publishing windows"),
    ("2026-12-06", "", "has passed"),
])
def test_a_move_the_date_field_would_refuse_is_refused(
        editor: TestClient, store: Store, config: Config, day: str, time: str,
        said: str) -> None:
    ids = queue(store, config, release(1))
    approved_at(store, config, ids["mastodon"], local(config, "2026-12-08T10:30"))
    response = move(editor, ids["mastodon"], day=day, time=time)
    assert said in flash(editor, response)
    post, events = stored(store, ids["mastodon"])
    assert post.publish_at == local(config, "2026-12-08T10:30")
    assert events[0]["action"] == "approve"


def test_the_date_field_refuses_a_time_outside_the_windows_too(editor: TestClient,
                                                               store: Store,
                                                               config: Config) -> None:
    ids = queue(store, config, release(1))
    token = csrf_of(editor.get(f"/posts/{ids['mastodon']}").text)
    response = editor.post(f"/posts/{ids['mastodon']}/schedule",
                           data={"csrf": token, "at": "2026-12-08 14:00"})
    assert response.status_code == 409
    assert "outside mastodon&#39;s publishing windows" in response.text


def test_bad_values_and_roles(editor: TestClient, store: Store, config: Config) -> None:
    ids = queue(store, config, release(1))
    assert move(editor, ids["mastodon"], day="tomorrow").status_code == 400
    assert move(editor, ids["mastodon"], day="2026-12-09", time="25:00").status_code == 400
    assert "pick a day" in flash(editor, move(editor, ids["mastodon"], day=""))
    assert move(editor, 999999, day="2026-12-09").status_code == 303   # said, not a 500
    with client_for(config, store) as reviewer:
        sign_in(reviewer, "rita")
        assert move(reviewer, ids["mastodon"], day="2026-12-09").status_code == 403
        assert 'action="/calendar/move"' not in reviewer.get("/calendar").text
    assert stored(store, ids["mastodon"])[0].publish_at is None
