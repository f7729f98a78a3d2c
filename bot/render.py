"""Releases become posts: Jinja2 templates in a sandbox, fitted to each platform's limits.

Templates may be edited by staff, so they run in Jinja's immutable sandbox with strict
undefined variables. The summary is the only elastic part: `bot.fit` re-renders the
template with a shorter summary until the post fits, and never touches the title, the
link or the hashtags. A template that fails names its file and line and blocks only
the post it was rendering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from markupsafe import Markup

from bot import clock, i18n, template_worker
from bot.config import ChannelConfig, Config, EmailConfig
from bot.errors import TemplateError
from bot.fit import count, fit, subject_line
from bot.hashtags import hashtags
from bot.htmltext import non_web_urls
from bot.links import add_utm, is_http_url
from bot.models import Release, Rendered
from bot.placeholders import ARCHIVE, FOOTER, GREETING, UNSUBSCRIBE
from bot.template_env import render_here
from channels.base import Limits
from channels.registry import kind


@dataclass(frozen=True)
class Target:
    """What to render for: the channel's name, its config and its limits."""

    name: str
    cfg: ChannelConfig
    limits: Limits


_SIGNATURE = re.compile(r"\n-- ?\n")


def render_edited_email(markdown: str, title: str, target: Target,
                        image: dict[str, str] | None = None) -> tuple[str, str]:
    """(HTML part, plain-text part) of an email post a person edited as Markdown: both
    written from the same HTML, each in the channel's layout, which adds the greeting,
    the footer, the unsubscribe link and the postal address: none of them is part of the
    text a person edits, so no edit can remove them."""
    from bot.emailbody import html_to_text, markdown_to_html
    from bot.emailimages import fit_images

    body = fit_images(markdown_to_html(markdown))
    text = html_to_text(body)
    context = {"title": title, "body": Markup(body),  # noqa: S704 (sanitised by nh3)
               "text": text,
               "image": image if image and is_http_url(image.get("url", "")) else None,
               "unsubscribe_url": UNSUBSCRIBE, "greeting": GREETING,
               "archive_url": ARCHIVE if _archived(target) else None, "footer": FOOTER,
               "sender": sender_context(target), "preheader": _preheader(text),
               "i18n_marks": True}
    html = inline_css(render_template(target, "email/edited.html.j2", context))
    return html, _tidy(render_template(target, "email/edited.txt.j2", context))


def _template_name(target: Target, default: str) -> tuple[str | None, str]:
    """(user folder, template name) for a target; a `template` key may be a path."""
    cfg = target.cfg
    user_dir = str(cfg.templates_dir) if cfg.templates_dir else None
    if cfg.template and default.endswith(".txt.j2") and "/" not in default:
        template = Path(cfg.template)
        if template.parent != Path("."):
            return str(template.parent), template.name
        return user_dir, cfg.template
    return user_dir, default


def render_template(target: Target, default: str, context: dict[str, Any]) -> str:
    """Render one template; any failure becomes a TemplateError naming file and line.

    A channel's own templates (`templates_dir`, or a `template` path) are written by staff
    and render in the template worker, a process with hard limits on memory and CPU; the
    templates shipped with pressbot render here."""
    user_dir, name = _template_name(target, default)
    setting = f"channels.{target.name}.template"
    if user_dir is not None:
        return template_worker.render(user_dir, name, context, setting)
    return render_here(None, name, context, setting)


def _tidy(text: str) -> str:
    """Trim trailing spaces and collapse runs of blank lines left by optional blocks."""
    # "-- " keeps its space: it is the signature separator mail clients recognise
    lines = [line.rstrip() if line.rstrip() != "--" else "-- "
             for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def context_for(release: Release, target: Target, config: Config | None) -> dict[str, Any]:
    """The template context, documented in the README."""
    utm = target.cfg.utm
    # only http(s) addresses reach a template: a `javascript:` link or a `data:` image from
    # a feed or a front matter never becomes a link or a picture in a post
    url = release.url if release.url and is_http_url(release.url) else None
    link = add_utm(url, utm.source, utm.medium, utm.campaign) if url else None
    images = [i for i in release.images if is_http_url(i.url)]
    image = images[0] if images else None
    tz = config.tz if config else UTC
    return {
        "release": {
            "title": release.title, "url": url, "summary": release.summary,
            "body": release.body, "body_html": release.body_html,
            # a day as written, or an instant in the bot's zone: `| date` shows its own day
            "published": release.published_in(tz), "tags": release.tags,
            "images": [i.model_dump() for i in images], "source": release.source,
            "language": release.language,
            "embargo": release.embargo_at.astimezone(tz) if release.embargo_at else None,
        },
        "title": " ".join(release.title.split()),
        "notes": release.notes,
        "link": link,
        "image": image.model_dump() if image else None,
        "hashtags": hashtags(release.tags) if target.cfg.hashtags else [],
        "channel": {"name": target.name, "type": kind(target.cfg)},
        "public_url": str(config.bot.public_url).rstrip("/") if config else "",
        "unsubscribe_url": UNSUBSCRIBE,
        "archive_url": ARCHIVE if _archived(target) else None,
        "greeting": GREETING,
        "footer": FOOTER,
        "now": clock.now(),
        "sender": sender_context(target),
        "preheader": _preheader(release.summary),
    }


def _archived(target: Target) -> bool:
    """Does this email channel publish its issues (and so link "view in your browser")?"""
    return bool(getattr(target.cfg, "archive", True))


def sender_context(target: Target) -> dict[str, str | None]:
    """Who sends an email, for its footer (`organisation`, `postal_address`)."""
    cfg = target.cfg
    logo = getattr(cfg, "logo", None)
    return {"organisation": getattr(cfg, "organisation", None),
            "postal_address": getattr(cfg, "postal_address", None),
            "logo": str(logo) if logo else None}


def _preheader(text: str, size: int = 140) -> str:
    """The line inboxes show after the subject: the start of the summary, whole words."""
    line = " ".join((text or "").split())
    if len(line) <= size:
        return line
    return line[:size].rsplit(" ", 1)[0] + "…"


def render(release: Release, target: Target, config: Config | None = None) -> Rendered:
    """Render a release for one channel; template errors give a blocking Rendered."""
    try:
        if kind(target.cfg) == "email":
            rendered = _render_email(release, target, config)
        else:
            rendered = _render_social(release, target, config)
    except TemplateError as exc:
        return Rendered(text="", warnings=[f"template error: {exc}"], blocking=True,
                        limit=target.limits.max_chars)
    rendered.warnings.extend(_release_warnings(release))
    if dropped := _images_left_out(release, target):
        rendered.warnings.append(dropped)
    if hold := _link_hold(release, config):
        rendered.warnings.append(hold)
        rendered.blocking = True
    for doubt in release.doubts:  # never lose a release: hold it and say why
        rendered.warnings.append(HOLD_PREFIX + doubt)
        rendered.blocking = True
    rendered.language = release.language or target.cfg.language
    return rendered


HOLD_PREFIX = "held: "


def _link_hold(release: Release, config: Config | None) -> str | None:
    """Why a release's posts must wait for a person because of its link, if they must."""
    source = config.sources.get(release.source) if config else None
    if source is None:
        return None
    if release.url_derived and getattr(source, "check_link", False):
        # a derived link that answered 200 is stored as found (`bot.linkcheck`)
        return (f"{HOLD_PREFIX}the derived link {release.url} did not answer 200 when "
                f"checked (sources.{release.source}.check_link): put the release's real "
                "address in it ('url:' or a 'Read more: …' line), then approve")
    if source.require_link and (not release.url or release.url_derived):
        what = "a link made from its file name" if release.url else "no link"
        return (f"{HOLD_PREFIX}the release has {what} and sources.{release.source}."
                "require_link is on: put its address in it ('url:' or a 'Read more: …' "
                "line), or approve it as it is")
    return None


def _render_social(release: Release, target: Target, config: Config | None) -> Rendered:
    context = context_for(release, target, config)
    spoiler = getattr(target.cfg, "spoiler_text", None) or ""
    override = (release.overrides.get(target.name) or {}).get("text")
    if override:
        text = _tidy(override)
        length = count(text, target.limits, spoiler)
        limit = target.limits.max_chars
        warnings = ["text written by hand in the release (override)"]
        blocking = bool(limit and length > limit)
        if blocking:
            warnings.append(f"too long: {length}/{limit} characters — edit it")
        return Rendered(text=text, link=context["link"], images=release.images, length=length,
                        limit=limit, warnings=warnings, blocking=blocking)
    default = f"{kind(target.cfg)}.txt.j2"

    def assemble(summary: str) -> str:
        return _tidy(render_template(target, default, {**context, "summary": summary}))

    result = fit(release.summary, target.limits, assemble, spoiler=spoiler)
    return Rendered(text=result.text, link=context["link"], images=release.images,
                    length=result.length, limit=result.limit, warnings=list(result.warnings),
                    blocking=result.blocking)


def _render_email(release: Release, target: Target, config: Config | None) -> Rendered:
    context = context_for(release, target, config)
    context["summary"] = release.summary
    override = (release.overrides.get(target.name) or {}).get("subject")
    # the subject is one header for every reader: in the post's language; the body's
    # fixed words and dates are markers, filled in each reader's (`bot.i18n`)
    subject_raw = override or render_template(target, "email/subject.txt.j2", context)
    context["i18n_marks"] = True
    subject, warnings = subject_line(subject_raw, target.limits.subject_max or 60)
    if override:
        warnings.append("subject written by hand in the release (override)")
    text = _tidy(render_template(target, "email/body.txt.j2", context))
    html = inline_css(render_template(target, "email/body.html.j2", context))
    return Rendered(text=text, subject=subject, html=html, link=context["link"],
                    images=release.images, length=len(text), limit=None, warnings=warnings)


def render_digest(releases: list[Release], target: Target, config: Config | None) -> Rendered:
    """One email for several releases (`mode = "digest"`)."""
    items = [context_for(r, target, config) for r in releases]
    context = {"greeting": GREETING, "unsubscribe_url": UNSUBSCRIBE, "footer": FOOTER,
               "sender": sender_context(target),
               **(items[0] if items else {}), "items": items, "count": len(items),
               "preheader": _preheader(" · ".join(i["title"] for i in items))}
    most = target.limits.subject_max or 60
    try:
        subject, warnings = subject_line(
            render_template(target, "email/digest_subject.txt.j2", context), most)
        # its words ("3 new releases", ngettext) in every catalogue's language too: the
        # subject is a header, which the per-reader markers of the body cannot reach
        subjects = {language: subject_line(render_template(
            target, "email/digest_subject.txt.j2", {**context, "reader_language": language}),
            most)[0] for language in i18n.LANGUAGES}
        context["i18n_marks"] = True
        text = _tidy(render_template(target, "email/digest_body.txt.j2", context))
        html = inline_css(render_template(target, "email/digest_body.html.j2", context))
    except TemplateError as exc:
        return Rendered(text="", warnings=[f"template error: {exc}"], blocking=True)
    languages = {r.language or target.cfg.language for r in releases}
    return Rendered(text=text, subject=subject, html=html, length=len(text), warnings=warnings,
                    subjects=subjects,
                    language=languages.pop() if len(languages) == 1 else target.cfg.language)


def inline_css(html: str) -> str:
    """Move `<style>` rules into `style` attributes (many mail clients drop `<style>`), then
    check that every link and image is an http(s) address: a template that writes any
    other (`javascript:`, `data:`, a relative path) holds the post instead of sending it."""
    import css_inline

    # keep_at_rules: the dark palette (`@media (prefers-color-scheme: dark)`) cannot be
    # inlined; it stays in a <style> block, overriding the inlined colours with !important
    inlined = str(css_inline.inline(html, keep_at_rules=True))
    bad = non_web_urls(inlined, allowed=(UNSUBSCRIBE, ARCHIVE))
    if bad:
        raise TemplateError(f"the email links to {bad[0][:80]!r}: only absolute http(s) links "
                            "and images are sent — fix the template or the release")
    return inlined


def _images_left_out(release: Release, target: Target) -> str | None:
    """A picture past the platform's count is not published: said on the post, where the
    person approving it looks, not only in a log line at publish time."""
    most = target.limits.max_images
    if most is None or len(release.images) <= most:
        return None
    left = release.images[most:]
    names = ", ".join(image.url.rsplit("/", 1)[-1][:60] for image in left)
    return (f"{len(release.images)} pictures, {target.name} takes {most}: "
            f"{'the last' if len(left) > 1 else 'the'} {len(left)} left out ({names})")


def _release_warnings(release: Release) -> list[str]:
    warnings = []
    if not release.url:
        warnings.append("missing link: the release has no URL")
    elif release.url_derived:
        warnings.append(f"derived link: {release.url} was made from base_url and the file "
                        "name, not found in the release — check that the page exists, or "
                        "give the address ('url:' or a 'Read more: …' line)")
    elif not is_http_url(release.url):
        warnings.append(f"the release's link {release.url[:80]!r} is not an http(s) address: "
                        "it is left out of every post")
    if any(not i.alt.strip() for i in release.images):
        warnings.append("no image alt text: add image_alt so everyone can read the image")
    if release.embargo_at and release.embargo_at > clock.now():
        warnings.append(f"embargoed until {release.embargo_at.isoformat()}")
    return warnings


def targets(config: Config, learned: dict[str, dict[str, Any]] | None = None,
            only: str | None = None) -> list[Target]:
    """One target per configured channel (or just `only`)."""
    from channels.registry import limits_for

    learned = learned or {}
    return [Target(name, cfg, limits_for(cfg, learned.get(name)))
            for name, cfg in config.channels.items() if only in (None, name)]


def wants(release: Release, source_channels: list[str] | None, target: Target) -> bool:
    """Does this release go to this channel? Front matter and source config may restrict it."""
    for allowed in (release.channels, source_channels):
        if allowed is not None and target.name not in allowed:
            return False
    return not isinstance(target.cfg, EmailConfig) or target.cfg.mode == "per-release"
