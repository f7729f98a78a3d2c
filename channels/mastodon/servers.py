"""Which Mastodon-API server answers, by the version `/api/v1/instance` reports, and how
it counts a status.

Servers other than Mastodon name themselves in `version` ("takahe/0.11",
"2.7.2 (compatible; Akkoma 3.13)", "3.0.0 (compatible; Sharkey 2024.8)"). Counting rules
pressbot relies on (sources in docs/mastodon-servers.md):

- Mastodon: grapheme clusters of spoiler + text, a URL as `characters_reserved_per_url`,
  `@user@domain` as `@user`; over the limit is a 422.
- Takahē: `len()` of the text, i.e. code points, links and mentions in full; over the limit
  is a 400 "Status is too long" (seen on a real server, issue 28).
- Pleroma/Akkoma: Elixir `String.length` (grapheme clusters) of text + spoiler, links in
  full; "The status is over the character limit".

GoToSocial and the Misskey family (Misskey, Sharkey, Iceshrimp, Firefish) are recognised
but their rule is not confirmed here: `pressbot check` says so and names the mode that
counts highest ("takahe"), which never lets a post through that the server refuses for
length, except for links shorter than 23 characters.
"""

from __future__ import annotations

import regex

COUNTING = {"takahe": "takahe", "pleroma": "pleroma", "akkoma": "pleroma"}
NAMES = {"takahe": "Takahē", "pleroma": "Pleroma", "akkoma": "Akkoma",
         "gotosocial": "GoToSocial", "sharkey": "Sharkey", "misskey": "Misskey",
         "iceshrimp": "Iceshrimp", "firefish": "Firefish"}
HOW = {"mastodon": "grapheme clusters, URLs as 23 characters and @user@domain as @user",
       "takahe": "every code point, links and mentions in full",
       "pleroma": "grapheme clusters, links and mentions in full"}
_NAMED = regex.compile(r"\b(" + "|".join(NAMES) + r")\b", regex.I)


def server_of(version: object) -> str | None:
    """The server's key in NAMES when its version names one; None for Mastodon."""
    if not isinstance(version, str):
        return None
    found = _NAMED.search(version.replace("ē", "e"))
    return found[1].lower() if found else None


def display_name(server: str | None) -> str:
    return NAMES.get(server or "", "Mastodon")
