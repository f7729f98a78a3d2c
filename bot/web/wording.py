"""How the audit trail reads to people: one sentence per event, who did it by name, times
in the bot's zone, lists as text, and nothing meant for machines (worker ids, claim
tokens, `file:` addresses).

The events keep their exact details (the CSV carries them as text); only what is shown is
worded here, so a new kind of event still shows (as its action and its details) before
anyone writes its sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

HIDDEN = frozenset({"worker", "claim", "outage", "approval"})
"""Details for machines, or said by the sentence itself."""
LABELS = {"publish_at": "goes out", "retry_in": "next try in", "remote_id": "platform id",
          "url": "link", "previous_text": "text before", "error": "error", "slot": "slot",
          "digest_of": "posts in the digest"}
SHORT = 120


def person(actor: str | None) -> str:
    """Who did it, as a colleague says it: `web:rita` is rita, `cli:ops` is ops at the
    command line, `system` is pressbot itself."""
    if not actor:
        return "someone"
    if actor == "system":
        return "pressbot"
    if actor.startswith("web:"):
        return actor.removeprefix("web:")
    if actor.startswith("cli:"):
        return f"{actor.removeprefix('cli:')} (command line)"
    if actor == "cli":
        return "the command line"
    return actor


def when(value: str | datetime, tz: tzinfo) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz).strftime("%a %-d %b %Y, %H:%M")


def readable(key: str, value: Any, tz: tzinfo = UTC, *, limit: int | None = SHORT) -> str:
    """One value as text: a time in the bot's zone, a list joined, seconds as minutes,
    a `file:` address as "the outbox", long texts shortened (unless `limit` is None)."""
    if key == "retry_in" and isinstance(value, int | float):
        return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"
    if isinstance(value, list):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value
        if text.startswith("file:"):
            text = "a file in the outbox"
        else:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if moment.tzinfo is not None and len(value) >= 16:
                    text = when(moment, tz)
    else:
        text = json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text[:limit - 3] + "…" if limit and len(text) > limit else text


def summary(detail: Mapping[str, Any], tz: tzinfo = UTC, *, limit: int | None = SHORT,
            skip: frozenset[str] = frozenset()) -> str:
    """The details as "label: value; …", internal keys left out."""
    parts = []
    for key, value in detail.items():
        if key in HIDDEN or key in skip or value in (None, "", [], {}):
            continue
        parts.append(f"{LABELS.get(key, key.replace('_', ' '))}: "
                     f"{readable(key, value, tz, limit=limit)}")
    return "; ".join(parts)


def _channel(detail: Mapping[str, Any]) -> str:
    name = detail.get("channel")
    return "every channel" if name == "*" else f"channel {name}"


Phrase = Callable[[Mapping[str, Any], Callable[[str], str]], tuple[str, frozenset[str]]]
"""(detail, readable value of a key) → the verb phrase, and the keys it has said."""


def _fixed(text: str) -> Phrase:
    return lambda d, v: (text, frozenset())


def _said(text: str, key: str, joiner: str = ": ") -> Phrase:
    return lambda d, v: ((f"{text}{joiner}{v(key)}", frozenset({key})) if d.get(key)
                         else (text, frozenset({key})))


_PHRASES: dict[str, Phrase] = {
    "queued": lambda d, v: ("queued it, approved by the channel's rule"
                            if d.get("approval") == "auto" else "queued it for review",
                            frozenset()),
    "approve": _said("approved it; it goes out", "publish_at", " "),
    "reject": _said("rejected it", "reason"),
    "comment": lambda d, v: (f"commented: {v('comment')}", frozenset({"comment", "mentions"})),
    "edit": _fixed("edited the text"),
    "schedule": _said("moved it to", "publish_at", " "),
    "rerender": _fixed("rewrote it from the changed release"),
    "release-changed": _fixed("noted that its release changed after it went out"),
    "claim": _fixed("started publishing it"),
    "reclaim": _fixed("took over publishing it after an interrupted attempt"),
    "wait": _said("put it back in line", "reason"),
    "retry": lambda d, v: ((f"could not reach the platform; next try in {v('retry_in')}"
                            if d.get("outage") else
                            f"could not publish it; next try in {v('retry_in')}"),
                           frozenset({"retry_in"})),
    "hold": lambda d, v: (("held it: its slot " + v("slot") + " passed long ago",
                           frozenset({"slot", "reason"})) if d.get("reason") == "stale"
                          else ("held it for a person to decide", frozenset())),
    "published": _fixed("published it"),
    "reconciled": _fixed("found it already published (after an interrupted attempt)"),
    "pause": lambda d, v: (f"paused {_channel(d)}", frozenset({"channel"})),
    "resume": lambda d, v: (f"resumed {_channel(d)}", frozenset({"channel"})),
    "outage": lambda d, v: (f"found {_channel(d)} unreachable", frozenset({"channel"})),
    "user-add": lambda d, v: (f"added the account {d.get('user')} ({d.get('role')})",
                              frozenset({"user", "role"})),
    "user-password": lambda d, v: (f"changed the password of {d.get('user')}",
                                   frozenset({"user"})),
    "user-disable": lambda d, v: (f"disabled the account {d.get('user')}",
                                  frozenset({"user"})),
    "user-enable": lambda d, v: (f"enabled the account {d.get('user')}",
                                 frozenset({"user"})),
}


def sentence(event: Mapping[str, Any], tz: tzinfo = UTC, *, limit: int | None = SHORT) -> str:
    """The event as a person would log it: "rita approved it; it goes out Tue 3 Mar 2026,
    10:00." The details the phrase did not say follow it."""
    detail: Mapping[str, Any] = event.get("detail") or {}
    phrase = _PHRASES.get(str(event.get("action")))

    def value(key: str) -> str:
        return readable(key, detail.get(key), tz, limit=limit)

    if phrase is None:
        said, used = f"did “{event.get('action')}”", frozenset[str]()
    else:
        said, used = phrase(detail, value)
    rest = summary(detail, tz, limit=limit, skip=used)
    text = f"{person(event.get('actor'))} {said}"
    return f"{text}. {rest[0].upper()}{rest[1:]}." if rest else f"{text}."
