"""The newsletter's HTML in a real Chromium: readable at phone and desktop widths, no
horizontal scrolling, images with alt text. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.render import render, render_digest, targets
from bot.sources.files import read_release_file
from tests.helpers import EXAMPLES

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTHS = {"phone": 375, "desktop": 1024}


def email_htmls() -> list[tuple[str, str]]:
    config = load_config("config/pressbot.toml")
    target = next(t for t in targets(config) if t.name == "newsletter")
    releases = [read_release_file(p, source="press", key=p.name,
                                  base_url="https://www.example.org/news/")
                for p in sorted(EXAMPLES.iterdir())]
    pages = [(p.stem, render(r, target, config).html or "") for p, r
             in zip(sorted(EXAMPLES.iterdir()), releases, strict=True)]
    pages.append(("digest", render_digest(releases, target, config).html or ""))
    return pages


def offline_context(chromium: Any, width: int, scheme: str = "light") -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 800},
                                   color_scheme=scheme)
    # images point at the (offline) example.org: answer them with nothing, never the network
    context.route("**/*", lambda route: route.abort() if not route.request.url.startswith(
        ("about:", "data:")) else route.continue_())
    return context


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_email_html_fits_without_horizontal_scrolling(chromium: Any, width_name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = WIDTHS[width_name]
    context = offline_context(chromium, width)
    page = context.new_page()
    try:
        for name, html in email_htmls():
            assert "<script" not in html.lower()
            page.set_content(html, wait_until="domcontentloaded")
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert scroll <= client, f"{name} scrolls sideways at {width}px: {scroll} > {client}"
            card = page.evaluate("document.querySelector('table.card').getBoundingClientRect()"
                                 ".width")
            assert card <= min(width, 600) + 1
            missing_alt = page.evaluate(
                "[...document.images].filter(i => !i.hasAttribute('alt')).length")
            assert missing_alt == 0
            font = page.evaluate("getComputedStyle(document.querySelector('.inner')).fontSize")
            assert float(font.removesuffix("px")) >= 14
            page.screenshot(path=str(ARTIFACTS / f"email-{name}-{width_name}.png"),
                            full_page=True)
    finally:
        context.close()


COLOURS = """() => [getComputedStyle(document.querySelector('td.inner')).color,
  getComputedStyle(document.querySelector('table.card')).backgroundColor,
  getComputedStyle(document.querySelector('td.foot a')).color]"""


@pytest.mark.parametrize(("scheme", "expected"), [
    ("light", ["rgb(31, 41, 55)", "rgb(255, 255, 255)", "rgb(29, 78, 216)"]),
    ("dark", ["rgb(229, 231, 235)", "rgb(31, 41, 55)", "rgb(147, 197, 253)"])])
def test_the_palette_follows_the_readers_colour_scheme(chromium: Any, scheme: str,
                                                       expected: list[str]) -> None:
    """The dark palette left in a <style> block after inlining wins over the inlined light
    colours where a client follows `prefers-color-scheme` (here: Chromium's emulation)."""
    context = offline_context(chromium, WIDTHS["phone"], scheme)
    page = context.new_page()
    try:
        for name, html in email_htmls():
            page.set_content(html, wait_until="domcontentloaded")
            assert page.evaluate(COLOURS) == expected, name
            page.screenshot(path=str(ARTIFACTS / f"email-{name}-{scheme}.png"), full_page=True)
    finally:
        context.close()
