"""Ask a derived link whether it exists, for folder sources with `check_link = true`.

A folder release without an address of its own gets one made from `base_url` and its
file name; that page may well not exist. With `check_link`, the link is asked once when
the release is read: a 200 makes it as good as a link found in the release (stored as
not derived); anything else leaves it derived, and `bot.render` holds its posts.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin, urlsplit

import httpx

from bot.models import Release

log = logging.getLogger("pressbot.linkcheck")

TIMEOUT = 10.0
MAX_REDIRECTS = 5


async def answers_200(client: httpx.AsyncClient, url: str) -> tuple[bool, str]:
    """(answered 200, what it answered); HEAD first, GET when a server refuses HEAD.

    The link's own host is the operator's `base_url`; a redirect may lead only back to it
    or to a public address (`bot.netguard`), never into the local network.
    """
    from bot.netguard import NotPublicURL, check_public

    own = urlsplit(url).hostname
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(current).hostname != own:
                await check_public(current, allow_private=False)
            response = await client.head(current, timeout=TIMEOUT)
            if response.status_code in (405, 501):
                async with client.stream("GET", current, timeout=TIMEOUT) as streamed:
                    response = streamed
            if not response.has_redirect_location:
                return response.status_code == 200, f"HTTP {response.status_code}"
            current = urljoin(current, response.headers["location"])
    except NotPublicURL:
        return False, "a redirect to a non-public address (refused)"
    except httpx.HTTPError:
        return False, "no answer"
    return False, f"more than {MAX_REDIRECTS} redirects"


async def confirm_derived(source: str, found: list[Release], client: httpx.AsyncClient
                          ) -> list[Release]:
    """The releases, with derived links that answer 200 marked as found."""
    derived = [r for r in found if r.url_derived and r.url]
    if not derived:
        return found
    answers = await asyncio.gather(*(answers_200(client, r.url or "") for r in derived))
    confirmed: dict[int, Release] = {}
    for release, (ok, what) in zip(derived, answers, strict=True):
        if ok:
            confirmed[id(release)] = release.model_copy(update={"url_derived": False})
        else:
            log.warning("source=%s derived link %s answered %s: its posts are held",
                        source, release.url, what)
    return [confirmed.get(id(r), r) for r in found]
