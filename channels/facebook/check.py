"""`check`: is the token a Page token for `page_id`, allowed to post, and not about to expire?

With `app_token` set, `debug_token` shows the token's type, Page, permissions and expiry, so
every problem can be named before a post fails. Without it only `/me` can be asked, which
says whose token it is but not what it may do; the check says so in a warning.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from channels.base import ChannelError, Check, Permanent, profile
from channels.facebook.errors import NEED_PAGE, REAUTH, REQUIRED_SCOPES, TOKEN_HINTS, _int, scrub
from channels.facebook.graph import GraphApi


class PageCheck(GraphApi):
    """`check` of `FacebookChannel`, whose constructor sets the app token."""

    _app_token: str | None

    async def check(self) -> Check:
        try:
            found = await (self._check_debug_token() if self._app_token else self._check_me())
        except ChannelError as exc:
            return Check(ok=False, summary=f"Facebook Page {self.config.page_id}: {exc}")
        if found.ok:
            found.details["profile"] = await self._profile()
        return found

    async def _profile(self) -> dict[str, str] | None:
        """The Page's name and picture, for the review page's previews (None if unread)."""
        try:
            page = await self._call("GET", self.config.page_id, {"fields": "name,picture"})
        except ChannelError:
            return None
        picture = ((page.get("picture") or {}).get("data") or {}).get("url")
        return profile(page.get("name"), picture)

    async def _check_debug_token(self) -> Check:
        page_id = self.config.page_id
        try:
            answer = await self._call("GET", "debug_token", {"input_token": self._token},
                                      token=self._app_token)
        except Permanent as exc:
            return Check(False, f"Facebook refused app_token for debug_token: {exc.reason} — "
                                "set app_token to the app's token ('APP_ID|APP_SECRET') or "
                                "remove it to check with the Page token alone")
        data = answer.get("data") or {}
        details = {k: data.get(k) for k in ("type", "profile_id", "scopes", "expires_at",
                                            "data_access_expires_at", "app_id")}
        if not data.get("is_valid"):
            err = data.get("error") or {}
            hint = TOKEN_HINTS.get(_int(err.get("subcode")) or 0, REAUTH)
            return Check(False, f"the Facebook Page token is not valid: "
                                f"{scrub(str(err.get('message') or 'no reason given'))} — {hint}",
                         details)
        problems: list[str] = []
        kind = data.get("type")
        if kind != "PAGE":
            problems.append(NEED_PAGE if kind == "USER" else
                            f"this is a {kind} token; a Page token is needed: get one from "
                            f"/me/accounts with a long-lived user token")
        elif str(data.get("profile_id")) != page_id:
            problems.append(f"the token is for Page {data.get('profile_id')}, not page_id "
                            f"{page_id}: use that Page's token from /me/accounts, or fix page_id")
        missing = [s for s in REQUIRED_SCOPES if s not in (data.get("scopes") or [])]
        if missing:
            problems.append(f"the token lacks the permission(s) {', '.join(missing)}: make a new "
                            f"Page token with them granted")
        warnings = self._expiry_warnings(data, problems)
        if problems:
            return Check(False, "Facebook: " + "; ".join(problems), details, warnings)
        page = await self._call("GET", page_id, {"fields": "id,name"})
        return Check(True, f"Facebook Page '{page.get('name')}' ({page_id}): the Page token is "
                           f"valid and may publish", details, warnings)

    def _expiry_warnings(self, data: dict[str, Any], problems: list[str]) -> list[str]:
        warnings: list[str] = []
        now = datetime.now(UTC)
        soon = now + timedelta(days=self.config.expiry_warning_days)
        for key, what in (("expires_at", "the Page token expires"),
                          ("data_access_expires_at", "the token's data access expires")):
            stamp = _int(data.get(key)) or 0
            if not stamp:
                continue  # 0 means never
            when = datetime.fromtimestamp(stamp, UTC)
            if when <= now:
                problems.append(f"{what.replace('expires', 'expired')} on {when:%Y-%m-%d}: "
                                f"{REAUTH}")
            elif when <= soon:
                warnings.append(f"{what} on {when:%Y-%m-%d %H:%M} UTC: {REAUTH}")
        return warnings

    async def _check_me(self) -> Check:
        page_id = self.config.page_id
        me = await self._call("GET", "me", {"fields": "id,name", "metadata": "1"})
        if str(me.get("id")) != page_id:
            kind = (me.get("metadata") or {}).get("type")
            who = f"'{me.get('name')}' ({me.get('id')})"
            if kind == "user":
                summary = f"the token belongs to the person {who}: {NEED_PAGE}"
            elif kind == "page":
                summary = (f"the token is for another Page {who}, not page_id {page_id}: use "
                           f"this Page's token from /me/accounts, or fix page_id")
            else:
                summary = (f"the token belongs to {who}, not Page {page_id}: if that is a "
                           f"person, {NEED_PAGE}")
            return Check(False, f"Facebook: {summary}", {"me": me.get("id")})
        page = await self._call("GET", page_id, {"fields": "id,name"})
        return Check(True, f"Facebook Page '{page.get('name')}' ({page_id}) reachable with its "
                           f"Page token", {"me": page_id},
                     ["set app_token to also check the token's permissions and expiry"])
