"""pressbot's Jinja environment and one render of one template, nothing else.

Kept apart from `bot.render` (which needs the config, the channels, the fitting) so that
the template worker (`bot.template_worker`) starts by importing only Jinja and this.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import jinja2
from jinja2.runtime import Context
from markupsafe import Markup, escape

from bot import i18n, paths
from bot.errors import TemplateError
from bot.htmltext import sanitize_html
from bot.sandbox import BoundedEnvironment, render_bounded


@cache
def environment(user_dir: str | None) -> BoundedEnvironment:
    """The sandbox over a channel's own templates folder (if any), then pressbot's."""
    folders = [user_dir] if user_dir else []
    folders.append(str(paths.templates_dir()))
    env = BoundedEnvironment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith((".html.j2", ".html"))),
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = _format_date
    env.globals["_"] = env.globals["gettext"] = _gettext
    env.globals["ngettext"] = _ngettext
    env.globals["words_lang"] = _words_lang
    env.filters["paragraphs"] = text_to_html
    env.filters["sanitize"] = _email_html
    env.filters["plaintext"] = _email_text
    env.bound_filters()
    return env


def _email_html(html: str | None) -> Markup:
    """A release's HTML body as an email shows it: sanitised, a link that is not http(s)
    left as its text, no picture wider than the content cell."""
    from bot.emailbody import unwrap_dead_links
    from bot.emailimages import fit_images

    return Markup(fit_images(unwrap_dead_links(sanitize_html(html or ""))))  # noqa: S704 (nh3 output)


def _email_text(html: str | None) -> str:
    """The plain-text part's body, written from the very HTML the HTML part shows."""
    from bot.emailbody import html_to_text

    return html_to_text(str(_email_html(html)))


def render_here(user_dir: str | None, name: str, context: dict[str, Any], setting: str,
                memory: str = "there is") -> str:
    """Render one template in this process; any failure becomes a TemplateError naming
    file and line (`setting` is the config key that chose the template, `memory` how
    much memory there was, for the out-of-memory message)."""
    try:
        template = environment(user_dir).get_template(name)
        return render_bounded(template, context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error: {exc.message}",
                            f"{exc.filename or name}:{exc.lineno}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name} ({setting})") from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError,
            ValueError) as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}", where(exc, name)) from None
    except RecursionError as exc:
        raise TemplateError("the template calls itself without end (recursion)",
                            where(exc, name)) from None
    except MemoryError as exc:
        raise TemplateError(f"MemoryError: the template needs more memory than {memory}",
                            where(exc, name)) from None
    except (ArithmeticError, LookupError, AttributeError, RuntimeError) as exc:
        # whatever else a template can provoke holds this post, never the whole source
        raise TemplateError(f"{type(exc).__name__}: {exc}", where(exc, name)) from None


def where(exc: BaseException, name: str) -> str:
    """`file:line` of the innermost template frame in the traceback."""
    tb, found = exc.__traceback__, name
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".txt")):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def text_to_html(text: str, links: bool = False) -> Markup:
    """Plain text as HTML: blank lines make paragraphs, `- ` lines make a list, other line
    breaks stay line breaks; every character escaped; with `links`, http(s) URLs become
    links — the ones `bot.fit.find_urls` finds, as the review page shows them, in time
    linear in the text (a backtracking pattern took 10 s on "http://a" and 20,000 dots)."""
    def line_html(line: str) -> str:
        return _linked(line) if links else str(escape(line))

    blocks = []
    for block in (b.strip() for b in (text or "").split("\n\n")):
        if not block:
            continue
        lines = block.splitlines()
        if all(line.lstrip().startswith(("- ", "* ", "• ")) for line in lines):
            items = "".join(f"<li>{line_html(line.lstrip()[2:].strip())}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append("<p>" + "<br>".join(line_html(line) for line in lines) + "</p>")
    return Markup("\n".join(blocks))  # noqa: S704 (every piece escaped above)


def _linked(line: str) -> str:
    """One line, escaped, its URLs made links."""
    from bot.fit import find_urls

    pieces, position = [], 0
    for start, end in find_urls(line):
        url = escape(line[start:end])  # escaped: a valid attribute value as it is
        pieces += [str(escape(line[position:start])), f'<a href="{url}">{url}</a>']
        position = end
    pieces.append(str(escape(line[position:])))
    return "".join(pieces)


@jinja2.pass_context
def _format_date(context: Context, value: date | None,
                 fmt: str | None = None) -> str:
    """A release's date: a day as written, or an instant already in the bot's zone.

    In a newsletter (`i18n_marks` in the context) a marker the mail fills with each
    reader's date (`bot.i18n`); elsewhere Babel's long date in the post's `language`;
    with `fmt` given, `strftime(fmt)` as written."""
    if not value:
        return ""
    if fmt is not None:
        return value.strftime(fmt)
    if context.get("i18n_marks"):
        return i18n.mark_date(value)
    return i18n.format_day(value, _language(context))


def _language(context: Context) -> str | None:
    """The language words are written in: `reader_language` (a digest's subject rendered
    for each catalogue), else the release's, else the context's `language`."""
    if reader := context.get("reader_language"):
        return str(reader)
    release = context.get("release")
    language = release.get("language") if isinstance(release, dict) else None
    language = language or context.get("language")
    return str(language) if language else None


@jinja2.pass_context
def _gettext(context: Context, message: str, **values: object) -> str:
    """`_("Read more:")`: in a newsletter a marker filled in each reader's language at send
    time; elsewhere the post's language. Values fill `{name}` fields (not in a newsletter:
    a marker carries words only)."""
    if context.get("i18n_marks") and not values:
        return i18n.mark(message)
    return i18n.gettext(_language(context), message, **values)


@jinja2.pass_context
def _words_lang(context: Context) -> str:
    """`lang="{{ words_lang() }}"` on an element holding fixed words: in a newsletter the
    reader's language (a marker), since the body's text stays in the post's language
    (`<html lang>`); elsewhere the post's language."""
    if context.get("i18n_marks"):
        return i18n.LANGUAGE_MARK
    return _language(context) or i18n.LANGUAGES[0]


@jinja2.pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int,
              **values: object) -> str:
    """Singular or plural in the post's language, `{n}` filled (a digest's subject is also
    rendered once per catalogue, and each reader gets theirs: `bot.render.render_digest`)."""
    return i18n.ngettext(_language(context), singular, plural, n, **values)
