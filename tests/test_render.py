"""Rendering: sandboxed templates, errors that name file and line, fitting, email parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_config
from bot.fit import count
from bot.models import Image, Release
from bot.render import render, targets
from tests.helpers import make_workspace, write_release

RELEASE = Release(
    source="press", key="k", title="Partners meet in Linz", url="https://www.example.org/n/1",
    summary="Partners from six regions met in Linz this week. They agreed on the priorities "
            "of the next call for projects, which opens in spring. " * 6,
    body="Body.", tags=["cross-border cooperation", "EU funding"],
    images=[Image(url="https://www.example.org/a.jpg", alt="Partners around a table")])


def channels_with_template(folder: Path, template: str, body: str) -> str:
    (folder / "tpl").mkdir(exist_ok=True)
    (folder / "tpl" / template).write_text(body, encoding="utf-8")
    return f"""
[channels.broken]
type = "outbox"
like = "mastodon"
templates_dir = "{folder}/tpl"
template = "{template}"

[channels.fine]
type = "outbox"
like = "mastodon"
"""


@pytest.mark.parametrize(("body", "expected"), [
    ("{{ title }\n", "syntax error"),
    ("{{ title }}\n\n{{ no_such_thing }}\n", "'no_such_thing' is undefined"),
    ("{{ title.__class__.__mro__ }}\n", "SecurityError"),
    ("line one\n{{ release.title.format_map }}\n{{ ''.__class__ }}\n", "SecurityError"),
])
def test_template_errors_name_file_and_line_and_hold_only_that_post(
        tmp_path: Path, body: str, expected: str) -> None:
    ws = make_workspace(tmp_path, channels=channels_with_template(tmp_path, "bad.txt.j2", body))
    write_release(ws.content, "r.md", "A release")
    assert ws.run("fetch").exit_code == 0
    posts = json.loads(ws.run("queue", "--json").stdout)
    by_channel = {p["channel"]: p for p in posts}
    assert by_channel["fine"]["status"] == "approved"  # outboxes approve automatically
    held = by_channel["broken"]
    assert held["status"] == "held"
    assert "bad.txt.j2:" in held["last_error"] and expected in held["last_error"]
    check = ws.run("check", "--offline")
    assert check.exit_code == 1 and "channels.broken" in check.stdout


def test_check_offline_passes_on_the_default_templates(tmp_path: Path) -> None:
    result = make_workspace(tmp_path).run("check", "--offline")
    assert result.exit_code == 0 and "every channel renders" in result.stdout


def test_mastodon_post_fits_the_limit_and_keeps_link_and_hashtags() -> None:
    config = load_config("config/pressbot.toml")
    target = next(t for t in targets(config) if t.name == "mastodon")
    rendered = render(RELEASE, target, config)
    assert rendered.length == count(rendered.text, target.limits) <= 500
    assert "#CrossBorderCooperation #EUFunding" in rendered.text
    assert "https://www.example.org/n/1?utm_source=mastodon&utm_medium=social" in rendered.text
    assert any("shortened" in w for w in rendered.warnings)
    assert rendered.text.split("\n\n")[1].endswith(("…", "."))


def test_a_fifth_picture_on_a_four_picture_platform_is_a_warning_on_the_post() -> None:
    config = load_config("config/pressbot.toml")
    target = next(t for t in targets(config) if t.name == "mastodon")
    five = RELEASE.model_copy(update={"images": [
        Image(url=f"https://www.example.org/roof-{i}.jpg", alt=f"Roof {i}") for i in range(5)]})
    rendered = render(five, target, config)
    assert "5 pictures, mastodon takes 4: the 1 left out (roof-4.jpg)" in rendered.warnings
    assert not rendered.blocking
    assert not any("pictures" in w for w in render(RELEASE, target, config).warnings)


def test_a_post_that_cannot_fit_is_held_not_truncated() -> None:
    config = load_config("config/pressbot.toml")
    target = next(t for t in targets(config) if t.name == "mastodon")
    huge = RELEASE.model_copy(update={"title": "Title " * 120})
    rendered = render(huge, target, config)
    assert rendered.blocking and "too long" in rendered.warnings[0]
    assert huge.title.strip() in rendered.text


def test_email_has_subject_text_and_html_with_placeholders() -> None:
    config = load_config("config/pressbot.toml")
    target = next(t for t in targets(config) if t.name == "newsletter")
    tricky = RELEASE.model_copy(update={"title": "Line one\nline two\u2028three",
                                        "body_html": '<p onclick="x()">Hi<script>bad()</script>'
                                                     '<a href="javascript:alert(1)">x</a></p>'})
    rendered = render(tricky, target, config)
    assert rendered.subject == "Line one line two three"
    assert "%%UNSUBSCRIBE_URL%%" in rendered.text and "%%UNSUBSCRIBE_URL%%" in rendered.html
    assert 'alt="Partners around a table"' in rendered.html
    assert "<script" not in rendered.html and "onclick" not in rendered.html
    assert "javascript:" not in rendered.html
    assert 'style="' in rendered.html  # CSS inlined for mail clients


def test_per_channel_override_text_is_used_and_counted(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_release(ws.content, "o.md", "Override",
                  extra="mastodon:\n  text: \"Hand-written for Mastodon https://x.example/a\"\n")
    ws.run("fetch")
    posts = {p["channel"]: p for p in json.loads(ws.run("queue", "--json").stdout)}
    assert posts["mastodon"]["text"] == "Hand-written for Mastodon https://x.example/a"
    assert posts["facebook"]["text"] != posts["mastodon"]["text"]
