"""`pressbot check`: templates against a sample release; channels against their platforms."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.config import Config
from bot.models import Image, Release
from bot.render import render, render_digest, targets
from bot.store import Store, meta
from channels.base import Check

SAMPLE = Release(
    source="sample", key="sample", url="https://www.example.org/news/sample-release",
    title="Sample release: cross-border partners meet in Linz",
    published_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
    summary="Partners from six regions met to plan the next call for projects. "
            "The call opens in spring and closes in autumn.",
    body="Partners from six regions met to plan the next call for projects.\n\n"
         "The call opens in spring and closes in autumn.",
    images=[Image(url="https://www.example.org/img/linz.jpg", alt="Partners around a table")],
    tags=["cross-border cooperation", "EU funding"], language="en",
)


def check_templates(config: Config) -> list[str]:
    """One line per channel whose templates fail on the sample release."""
    problems = []
    for target in targets(config):
        rendered = render(SAMPLE, target, config)
        if rendered.blocking:
            problems.append(f"channels.{target.name}: " + "; ".join(rendered.warnings))
        if getattr(target.cfg, "type", None) == "email" or getattr(target.cfg, "like", None) \
                == "email":
            digest = render_digest([SAMPLE, SAMPLE], target, config)
            if digest.blocking:
                problems.append(f"channels.{target.name} (digest): " + "; ".join(digest.warnings))
    return problems


async def check_channels(config: Config, store: Store) -> list[tuple[str, Check]]:
    """Each channel's own check; limits a platform reports are cached for rendering."""
    from bot.runtime import live_channels

    async with live_channels(config, store, dry_run=False) as channels:
        names = list(channels)
        results = await asyncio.gather(*(channels[n].check() for n in names),
                                       return_exceptions=True)
    out: list[tuple[str, Check]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            result = Check(ok=False, summary=f"{type(result).__name__}: {result}")
        limits = result.details.get("limits") if result.ok else None
        if isinstance(limits, dict):
            with store.begin() as conn:
                meta.put(conn, f"limits:{name}", limits)
        if result.ok and "profile" in result.details:  # the account as the previews show it
            with store.begin() as conn:
                meta.put(conn, f"profile:{name}", result.details["profile"])
        act_by = result.details.get("act_by")
        if isinstance(act_by, str):  # when a person must renew the credential (LinkedIn)
            with store.begin() as conn:
                meta.put(conn, f"token:{name}", {"act_by": act_by})
        out.append((name, result))
    return out
