"""`pressbot preview`: files, folders, feed files and URLs; human and JSON; nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.fit import count
from channels.registry import DEFAULT_LIMITS
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import EXAMPLES, Workspace, make_workspace, write_release

KEYS = {"release", "channel", "type", "text", "subject", "html", "length", "limit", "warnings"}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path, channels="""
[channels.mastodon]
type = "outbox"
like = "mastodon"

[channels.newsletter]
type = "outbox"
like = "email"
""")


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_every_example_previews_as_json_and_fits(ws: Workspace, example: str) -> None:
    result = ws.run("preview", str(EXAMPLES / example), "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert {i["channel"] for i in items} == {"mastodon", "newsletter"}
    for item in items:
        assert set(item) >= KEYS
        assert set(item["release"]) >= {"id", "title", "url", "published", "summary"}
        assert item["release"]["title"]
        if item["type"] == "mastodon":
            assert item["length"] == count(item["text"], DEFAULT_LIMITS["mastodon"])
            assert item["length"] <= item["limit"] == 500
        else:
            assert item["subject"] and "\n" not in item["subject"]
            assert item["html"].lstrip().lower().startswith("<!doctype html>")
    assert not (ws.root / "pressbot.db").exists(), "preview must not store anything"


def test_human_output_shows_counts_warnings_and_the_html_file(ws: Workspace) -> None:
    write_release(ws.content, "a.md", "A release without alt text",
                  extra="image: https://www.example.org/a.jpg\n")
    result = ws.run("preview", str(ws.content / "a.md"))
    assert result.exit_code == 0
    assert "→ mastodon (mastodon) ·" in result.stdout and "/500" in result.stdout
    assert "no image alt text" in result.stdout
    html = result.stdout.split("HTML: ", 1)[1].split("\n", 1)[0]
    assert Path(html).read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype")


def test_folder_feed_file_and_url(ws: Workspace, tmp_path: Path) -> None:
    folder = ws.run("preview", str(EXAMPLES), "--json", "--channel", "mastodon")
    assert len(json.loads(folder.stdout)) == len(list(EXAMPLES.iterdir()))
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss([{"title": "From a feed file", "link": "https://www.example.org/f"}]))
    from_file = json.loads(ws.run("preview", str(feed), "--json").stdout)
    assert from_file[0]["release"]["title"] == "From a feed file"
    site = FeedSite(pages={"/feed": Page(rss([{"title": "From a URL",
                                                "link": "https://www.example.org/u"}]))})
    with LiveServer(make_app(site)) as server:
        from_url = json.loads(ws.run("preview", f"{server.url}/feed", "--json").stdout)
    assert from_url[0]["release"]["title"] == "From a URL"


def test_no_argument_previews_the_pending_queue(tmp_path: Path) -> None:
    manual = make_workspace(tmp_path)
    write_release(manual.content, "q.md", "Queued release")
    manual.run("fetch")
    items = json.loads(manual.run("preview", "--json").stdout)
    assert {i["release"]["title"] for i in items} == {"Queued release"}


def test_bad_arguments(ws: Workspace) -> None:
    missing = ws.run("preview", "nope.md")   # a missing path is a usage error (issue 29)
    assert missing.exit_code == 2 and "nope.md: no such file or folder" in missing.stderr
    unknown = ws.run("preview", str(EXAMPLES), "--channel", "twitter")
    assert unknown.exit_code == 2 and "no channel named 'twitter'" in unknown.stderr


def test_preview_of_a_file_reads_it_as_its_source_does(tmp_path: Path) -> None:
    """A pasted page without a URL: preview derives the link from the source's base_url and
    warns exactly as the queued post does (issue 16: preview equals queue)."""
    from tests.helpers import make_workspace

    ws = make_workspace(tmp_path)
    page = ws.content / "visit.txt"
    page.write_text("Partners visit the new bridge\n\n12 March 2026\n\nThe partners of the "
                    "programme visited the new bridge over the river on Tuesday.\n",
                    encoding="utf-8")
    shown = ws.run("preview", str(page), "--channel", "mastodon", "--json")
    assert shown.exit_code == 0, shown.output
    [previewed] = json.loads(shown.stdout)
    assert ws.run("fetch").exit_code == 0
    queued = json.loads(ws.run("queue", "--json").stdout)
    [post] = [p for p in queued if p["channel"] == "mastodon"]
    assert previewed["release"]["url"] == post["release"]["url"]
    assert previewed["release"]["url"].startswith("https://www.example.org/news/")
    assert previewed["text"] == post["text"]
    assert previewed["warnings"] == post["warnings"]


def test_preview_exits_1_when_a_template_error_left_nothing_to_show(tmp_path: Path) -> None:
    from tests.helpers import make_workspace
    from tests.test_render import channels_with_template

    ws = make_workspace(tmp_path, channels=channels_with_template(
        tmp_path, "bad.txt.j2", "{{ no_such_thing }}"))
    release = ws.content / "r.md"
    release.write_text("---\ntitle: T\n---\nBody.\n", encoding="utf-8")
    (ws.content / "budget.xlsx").write_bytes(b"PK\x03\x04")
    broken = ws.run("preview", str(ws.content), "--channel", "broken")
    assert broken.exit_code == 1
    assert "template error" in broken.output
    assert "budget.xlsx: skipped" in broken.output
    assert ws.run("preview", str(release), "--channel", "fine").exit_code == 0
