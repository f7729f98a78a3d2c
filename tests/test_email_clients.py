"""Every client: the newsletter's HTML as an aiosmtpd server on 127.0.0.1 received it, for
each example release, a release with oversized pictures, the digest and an edited issue.

- Outlook for Windows: a 600 px ghost table in MSO conditional comments holds the card, and
  no picture is wider than its cell (width attribute, `max-width:100%`, `height:auto`).
- The preheader is hidden even where `display:none` is not (Gmail's mobile webmail), and
  spacer characters keep the greeting out of the inbox preview.
- A dark palette in a `<style>` block that survived inlining, its colours readable
  (WCAG contrast ≥ 4.5:1, computed from the CSS in the message).
- The caniemail linter (`.ci/node`, run by `.ci/run`): no feature Gmail, Outlook, Apple Mail
  or Yahoo lacks except those in ACCEPTED, each of which degrades harmlessly
  (docs/email-clients.md says why).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot import workflow
from bot.emailimages import fit_images
from bot.models import Image, PostStatus, Release
from bot.render import render, render_digest, targets
from bot.sources.files import read_release_file
from bot.store import Store
from bot.store import posts as post_store
from tests.channels.test_email import add_people, make_channel, make_post
from tests.conftest import need
from tests.fakes.smtp import FakeSMTP
from tests.helpers import EXAMPLES
from tests.test_email_content import parts

ROOT = Path(__file__).resolve().parent.parent
LINTER = ROOT / ".ci" / "node"
CLIENTS = ("gmail.*", "outlook.*", "apple-mail.*", "yahoo.*")
CARD = 600
LOGO = "https://www.example.org/logo.png"
ACCEPTED = {
    "<body> element": "clients replace <body>; the outer table carries the background",
    "@media": "holds only the dark palette: without it the light one shows",
    "display:none": "the preheader is hidden by its zero size, height and colour too",
    "opacity": "the preheader is hidden by its zero size, height and colour too",
    "overflow": "the preheader: Outlook hides it by mso-hide:all, the rest by zero size",
    "role attribute": "an accessibility hint a client may drop; the table stays a table",
    "border-radius": "square corners where unsupported",
    "word-break": "a long address wraps only where supported",
}
"""Features the linter reports as unsupported by some client, and why each is harmless."""

WIDE = Release(
    source="press", key="wide", title="A wide photograph", url="https://www.example.org/wide",
    summary="A release whose pictures are wider than the card.",
    body_html=('<p>Before the pictures.</p>'
               '<img src="https://www.example.org/wide.jpg" alt="Wide" width="1200" height="800">'
               '<img src="https://www.example.org/no-size.jpg" alt="No size">'
               '<p>After the pictures.</p>'),
    images=[Image(url="https://www.example.org/hero.jpg", alt="The hero")])
EDIT = """# Edited issue

## With a picture

![A picture in the edit](https://www.example.org/edited.jpg)

- one
- two
"""


@pytest.fixture(scope="module")
def received(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Subject → the HTML part one subscriber received, for every kind of issue."""
    db = Store(f"sqlite:///{tmp_path_factory.mktemp('clients')}/clients.db")
    server = FakeSMTP()
    try:
        with server.running() as fake:
            add_people(db, 1)
            channel = make_channel(db, fake.port, organisation="Joint Secretariat",
                                   postal_address="Seeweg 14, 9020 Klagenfurt", logo=LOGO)
            config = channel.config
            [target] = targets(config)
            releases = [read_release_file(p, source="press", key=p.name,
                                          base_url="https://www.example.org/news/")
                        for p in sorted(EXAMPLES.iterdir())]
            issues = [render(r, target, config) for r in [*releases, WIDE]]
            issues.append(render_digest(releases, target, config))
            posts = []
            edited = make_post(db, title="Edited issue")
            with db.begin() as conn:
                for rendered in issues:
                    subject = rendered.subject or "Our news"
                    posts.append(post_store.require(conn, post_store.insert(
                        conn, channel="newsletter", status=PostStatus.APPROVED, actor="t",
                        release_id=None, title=subject, subject=subject, text=rendered.text,
                        html=rendered.html, language="en")))
                posts.append(workflow.edit(conn, config, edited.id, "ed", EDIT))
            for post in posts:
                asyncio.run(channel.publish(post))
            got = {}
            for message in fake.messages:
                subject = message.parse()["Subject"]
                got[str(subject)] = parts(message.data)[1]
    finally:
        db.dispose()
    assert len(got) == len(posts) == len(releases) + 3
    return got


class _Elements(HTMLParser):
    """Each element's tag, attributes and open ancestors, in document order."""

    VOID = frozenset({"img", "br", "meta", "hr", "input", "link", "source", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str], list[tuple[str, dict[str, str]]]]] = []
        self.open: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.found.append((tag, values, list(self.open)))
        if tag not in self.VOID:
            self.open.append((tag, values))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break


def style(attrs: dict[str, str]) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in attrs.get("style", "").split(";") if ":" in d)
    return {k.strip().lower(): v.strip().lower() for k, v in pairs}


def classes(attrs: dict[str, str]) -> set[str]:
    return set(attrs.get("class", "").split())


def horizontal_padding(td: dict[str, str]) -> int:
    values = [int(v) for v in re.findall(r"(\d+)px", style(td).get("padding", "0"))]
    if not values:
        return 0
    right = values[1] if len(values) > 1 else values[0]
    left = values[3] if len(values) > 3 else right
    return left + right


def test_outlook_gets_a_600px_ghost_table_around_the_card(received: dict[str, str]) -> None:
    opening = ('<!--[if mso]><table role="presentation" width="600" align="center" '
               'cellpadding="0" cellspacing="0" border="0"><tr><td width="600"><![endif]-->')
    closing = "<!--[if mso]></td></tr></table><![endif]-->"
    for subject, html in received.items():
        assert html.count(opening) == 1 and html.count(closing) == 1, subject
        card = html.index('class="card"')
        assert html.index(opening) < card < html.index('class="foot"') < html.index(closing)
        [(_, attrs, _)] = [e for e in _Elements(html).found if "card" in classes(e[1])]
        assert attrs["width"] == "100%" and style(attrs)["max-width"] == "600px", subject


def test_no_picture_is_wider_than_its_cell(received: dict[str, str]) -> None:
    widths: dict[str, list[int]] = {}
    for subject, html in received.items():
        for tag, attrs, ancestors in _Elements(html).found:
            if tag != "img":
                continue
            td = next(a for t, a in reversed(ancestors) if t == "td")
            cell = CARD - horizontal_padding(td)
            css = style(attrs)
            assert 0 < int(attrs["width"]) <= cell, (subject, attrs, cell)
            assert css["max-width"] == "100%" and css["height"] == "auto", (subject, attrs)
            widths.setdefault(subject, []).append(int(attrs["width"]))
    # the hero spans the card; the digest's pictures and those in a body fill the padded cell
    assert widths["A wide photograph"] == [200, 600, 552, 552]
    digest = next(s for s in widths if s.startswith("Our news"))
    assert widths[digest] == [200, 552, 552, 552]
    assert widths["Edited issue"] == [200, 552]
    wide = next(e[1] for e in _Elements(received["A wide photograph"]).found
                if e[1].get("alt") == "Wide")
    assert wide["height"] == "368"  # 800 × 552 / 1200: the picture keeps its proportions


@pytest.mark.parametrize(("given", "fitted"), [
    ('<img src="a" width="1200" height="800">', '<img src="a" width="552" height="368">'),
    ('<img src="a" width="300" height="200">', '<img src="a" width="300" height="200">'),
    ('<img src="a" height="900">', '<img src="a" width="552">'),
    ("<img src=a width=50% />", '<img src=a width="552">'),
    ('<img alt="a > b" WIDTH="2000px" height="1000">',
     '<img alt="a > b" width="552" height="276">'),
    # a value is never searched inside: "width=" in an alt text stays text
    ("<img alt=\"z width='q\" src=\"https://x/'y\" width=\"300\">",
     "<img alt=\"z width='q\" src=\"https://x/'y\" width=\"300\">"),
])
def test_a_picture_in_the_text_is_fitted_to_the_content_cell(given: str, fitted: str) -> None:
    assert fit_images(f"<p>x</p>{given}<p>y</p>") == f"<p>x</p>{fitted}<p>y</p>"


SPACER = "\u034f\u200c\xa0"


def test_the_preheader_is_hidden_everywhere_and_padded(received: dict[str, str]) -> None:
    for subject, html in received.items():
        found = re.search(r'<body[^>]*>\s*<div class="preheader" style="([^"]+)">([^<]*)</div>',
                          html)
        assert found, f"{subject}: no preheader first in the body"
        css = style({"style": found.group(1)})
        assert css["display"] == "none" and css["mso-hide"] == "all"
        for name in ("font-size", "line-height", "max-height", "max-width", "opacity"):
            assert css[name] == "0", (subject, name, css)
        assert css["overflow"] == "hidden" and css["color"] == "transparent"
        content = unescape(found.group(2))
        text, spacers = content.split(SPACER, 1)
        assert text.strip() and "Hello Reader 0" not in text, subject
        assert spacers.rstrip(SPACER) == "" and content.count(SPACER) >= 90
        if subject == "A wide photograph":
            assert text == "A release whose pictures are wider than the card."


# ── dark palette ─────────────────────────────────────────────────────────────────────────


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb or #rrggbb colour."""
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    assert re.fullmatch(r"[0-9a-f]{6}", hex_digits), f"not a hex colour: {colour}"

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_digits[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, two: str) -> float:
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_the_wcag_formula() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def dark_rules(html: str) -> dict[str, dict[str, str]]:
    """Selector → declarations of the `prefers-color-scheme: dark` block; each must be
    !important, or the inlined light colours would win."""
    found = re.search(r"<style>\s*@media \(prefers-color-scheme: dark\) \{(.*?)\}\s*</style>",
                      html, re.S)
    assert found, "no dark palette left in a <style> block"
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", found.group(1)):
        declarations = {}
        for declaration in filter(str.strip, body.split(";")):
            name, _, value = declaration.partition(":")
            assert value.strip().endswith("!important"), declaration
            declarations[name.strip()] = value.replace("!important", "").strip()
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


PAIRS = {  # what is read → (foreground, background) as (tag, class, property)
    "text": (("td", "inner", "color"), ("table", "card", "background")),
    "heading": (("h1", "", "color"), ("table", "card", "background")),
    "date": (("p", "date", "color"), ("table", "card", "background")),
    "link": (("a", "", "color"), ("table", "card", "background")),
    "button": (("a", "button", "color"), ("a", "button", "background")),
    "footer": (("td", "foot", "color"), ("table", "card", "background")),
    "view in browser": (("p", "view", "color"), ("table", "bg", "background")),
    "its link": (("a", "", "color"), ("table", "bg", "background")),
    "logo plate": (("table", "card", "background"), ("td", "logo", "background")),
}


def colour(elements: _Elements, dark: dict[str, dict[str, str]] | None,
           tag: str, cls: str, prop: str) -> str | None:
    """The colour a (tag, class) shows in the light palette (`dark` None: its inline style)
    or in the dark one (the dark rule that matches it, else that inline style)."""
    inline = next((style(attrs)[prop] for found, attrs, _ in elements.found
                   if found == tag and (not cls or cls in classes(attrs))
                   and prop in style(attrs)), None)
    if inline is None or dark is None:
        return inline
    for selector in (f"{tag}.{cls}", f".{cls}", tag) if cls else (tag,):
        if prop in dark.get(selector, {}):
            return dark[selector][prop]
    return inline


def test_a_dark_palette_survives_inlining_and_stays_readable(received: dict[str, str]) -> None:
    measured: dict[str, float] = {}
    dark_palettes = []
    present: set[str] = set()
    for html in received.values():
        assert '<meta name="color-scheme" content="light dark">' in html
        assert '<meta name="supported-color-schemes" content="light dark">' in html
        dark = dark_rules(html)
        dark_palettes.append(dark)
        elements = _Elements(html)
        present.update(*(classes(a) for _, a, _ in elements.found))
        for scheme, rules in (("light", None), ("dark", dark)):
            for name, (fg, bg) in PAIRS.items():
                front, back = colour(elements, rules, *fg), colour(elements, rules, *bg)
                if front is None or back is None:
                    continue  # not in this issue (a date, a button, a logo)
                if name == "logo plate":  # the logo keeps the white it was drawn for
                    assert back == "#ffffff", scheme
                    continue
                ratio = contrast(front, back)
                key = f"{scheme} {name}"
                measured[key] = min(ratio, measured.get(key, ratio))
    # every rule still finds its elements after inlining (css-inline keeps the classes)
    assert set(re.findall(r"\.([\w-]+)", " ".join(dark_palettes[0]))) <= present
    print("\n".join(f"{name}: {ratio:.2f}" for name, ratio in measured.items()))
    assert len(measured) == 2 * (len(PAIRS) - 1), measured
    assert all(ratio >= 4.5 for ratio in measured.values()), measured
    assert all(palette == dark_palettes[0] for palette in dark_palettes)


# ── the linter ───────────────────────────────────────────────────────────────────────────


def lint(htmls: dict[str, str], folder: Path) -> dict[str, set[str]]:
    """Client → the features the caniemail linter says it lacks, over all `htmls`."""
    node = shutil.which("node")
    need(node is not None, "node is not installed: the email linter runs on it")
    need((LINTER / "node_modules" / "@jsx-email" / "doiuse-email").is_dir(),
         "the email linter is not installed: npm ci --prefix .ci/node")
    assert node is not None
    files = []
    for i, html in enumerate(htmls.values()):
        files.append(str(folder / f"message-{i}.html"))
        Path(files[-1]).write_text(html, encoding="utf-8")
    done = subprocess.run([node, str(LINTER / "lint-email.mjs"), ",".join(CLIENTS), *files],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(report) == sorted(files)
    unsupported: dict[str, set[str]] = {}
    for result in report.values():
        assert "?" not in result["errors"], result["errors"]["?"]
        for client, features in result["errors"].items():
            unsupported.setdefault(client, set()).update(features)
    return unsupported


def breaking(unsupported: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(client, feature) for client, features in unsupported.items()
            for feature in features if feature not in ACCEPTED}


def test_every_message_passes_the_email_linter(received: dict[str, str],
                                               tmp_path: Path) -> None:
    unsupported = lint(received, tmp_path)
    print("\n".join(f"{client}: {', '.join(sorted(features))}"
                    for client, features in sorted(unsupported.items())))
    families = {client.split(".")[0] for client in unsupported}
    assert families == {"gmail", "outlook", "yahoo"}  # the linter did read the messages
    assert not breaking(unsupported), f"features these clients lack: {breaking(unsupported)}"


def test_the_linter_check_fails_on_a_feature_that_breaks_a_client(
        received: dict[str, str], tmp_path: Path) -> None:
    html = received["Edited issue"].replace('class="inner" style="',
                                            'class="inner" style="position:absolute;', 1)
    assert "position:absolute" in html
    assert ("gmail.desktop-webmail", "position") in breaking(lint({"x": html}, tmp_path))


def test_every_accepted_feature_is_explained_in_the_docs() -> None:
    doc = (ROOT / "docs" / "email-clients.md").read_text(encoding="utf-8")
    for feature in ACCEPTED:
        assert f"`{feature}`" in doc, feature
