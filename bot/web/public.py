"""The newsletter's public pages: subscribe, confirm, unsubscribe and self-service. No
sign-in, no cookies.

    GET  /subscribe           the form (in `?lang=`, else the browser's language, with a
                              language menu: the mails follow the language chosen there)
    POST /subscribe           a pending subscriber + a confirmation mail with a signed link,
                              queued and sent after the answer (`bot.confirmations`)
    GET  /confirm/{token}     a button to confirm (mail scanners open links; they confirm nothing)
    POST /confirm/{token}     double opt-in done (the link expires after 7 days)
    GET  /u/{token}           the subscriber's page: an "Unsubscribe" button, their language,
                              a download of their data and erasure; it changes nothing,
                              because link scanners and prefetchers open every URL in a mail
    POST /u/{token}           unsubscribes: RFC 8058 one-click (`List-Unsubscribe=One-Click`,
                              urlencoded or multipart) or the button; 200, never a redirect,
                              the same answer when repeated
    POST /u/{token}/language  the language of their mails
    POST /u/{token}/data      what is stored about them, as a JSON download
    POST /u/{token}/erase     erasure: the row goes, a hash stays on the suppression list

The token in the URL is the only authority (RFC 8058: the mailbox provider's POST carries
no cookies); it is the secret a forged cross-site form cannot know, so it stands in for a
CSRF token. The self-service POSTs also refuse a browser's request that says it came from
another site (`Sec-Fetch-Site: cross-site`). The subscribe form answers alike whether an
address was new or already subscribed, and before any mail is sent (whatever the mail
server's state), so it cannot be used to find out who reads the newsletter.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot import i18n
from bot import subscribers as subs
from bot.config import Config
from bot.confirmations import Sender, list_name
from bot.features import newsletter
from bot.store import Store
from bot.web.security import FailureLimiter

log = logging.getLogger("pressbot.web.public")


def _page(title: str, body: str, status: int = 200, lang: str = "en") -> HTMLResponse:
    """A small page; every value in `body` is escaped by the caller."""
    return HTMLResponse(
        f"<!doctype html>\n<html lang=\"{html.escape(lang)}\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title>"
        "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
        f"<body><main id=\"main\" class=\"public\"><h1>{html.escape(title)}</h1>{body}</main>"
        "</body></html>\n", status_code=status)


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _button(action: str, label: str, hidden: str = "") -> str:
    return (f"<form method=\"post\" action=\"{html.escape(action)}\">{hidden}"
            f"<p><button type=\"submit\">{html.escape(label)}</button></p></form>")


def _language_menu(chosen: str) -> str:
    options = "".join(
        f"<option value=\"{code}\"{' selected' if code == chosen else ''}>"
        f"{html.escape(i18n.language_name(code))}</option>" for code in i18n.LANGUAGES)
    return f"<select id=\"language\" name=\"language\">{options}</select>"


def _cross_site(request: Request) -> bool:
    """A browser's form POST from another site (a forged self-service request)."""
    return request.headers.get("sec-fetch-site", "").lower() == "cross-site"


def _form_problem(email: str, name: str, language: str | None = None) -> str | None:
    """What is wrong with the form's address, name or language, as a message of the
    catalogue (the person reads it in their language), or None."""
    try:
        subs.normalise_email(email)
    except subs.SubscriberError:
        return "This is not a valid email address."
    try:
        subs.normalise_name(name)
    except subs.SubscriberError:
        return "Give your name as plain text, on one line."
    try:
        subs.normalise_language(language)
    except subs.SubscriberError:
        return "Choose a language from the list."
    return None


class PublicPages:
    """The handlers, bound to one config and store; the signing key is read once, lazily."""

    def __init__(self, config: Config, store: Store, smtp: object | None = None) -> None:
        self.config = config
        self.store = store
        # each subscribe request sends a mail: at most 10 per client address an hour, so the
        # form cannot be used to flood strangers' inboxes or our sending reputation
        self.requests = FailureLimiter(limit=10, window=3600)
        self.cfg = newsletter(config)
        self.sender = Sender(config, store, smtp)
        self._key: str | None = None

    async def key(self) -> str:
        if self._key is None:
            from bot.signing import signing_key

            self._key = await asyncio.to_thread(signing_key, self.config, self.store)
        return self._key

    def _evidence(self, request: Request) -> subs.Evidence:
        """The form's wording version, and the client only with `record_client`."""
        settings = self.config.newsletter
        if not settings.record_client:
            return subs.Evidence(wording=settings.consent_wording_version)
        return subs.Evidence(wording=settings.consent_wording_version,
                             ip=request.client.host if request.client else None,
                             user_agent=request.headers.get("user-agent"))

    # ── subscribe ─────────────────────────────────────────────────────────────────────────

    @staticmethod
    def _lang(request: Request, *hints: str | None) -> str:
        """The page's language: `?lang=`, else `hints` (a subscriber's), else the
        browser's, else English."""
        asked = request.query_params.get("lang")
        for candidate in (asked, *hints):
            if candidate and i18n.best(candidate) == candidate.split("-")[0].lower():
                return i18n.best(candidate)
        return i18n.from_accept_language(request.headers.get("accept-language")) or "en"

    def _form(self, lang: str, error: str = "", email: str = "", name: str = "") -> str:
        def _(message: str, **values: object) -> str:
            return html.escape(i18n.gettext(lang, message, **values))

        problem = f"<p class=\"flash flash-error\" role=\"alert\">{html.escape(error)}</p>" \
            if error else ""
        return (
            f"{problem}<p>{_('Get {list} by email. We send you a link to confirm first.', list=list_name(self.config, lang))}</p>"  # noqa: E501
            "<form method=\"post\" action=\"/subscribe\">"
            f"<p><label for=\"email\">{_('Email address')}</label><br>"
            f"<input id=\"email\" name=\"email\" type=\"email\" required autocomplete=\"email\""
            f" value=\"{html.escape(email)}\"></p>"
            f"<p><label for=\"name\">{_('Name (optional)')}</label><br>"
            f"<input id=\"name\" name=\"name\" autocomplete=\"name\" value=\"{html.escape(name)}\">"
            "</p>"
            f"<p><label for=\"language\">{_('Language')}</label><br>{_language_menu(lang)}</p>"
            f"<p class=\"hp\" hidden><label for=\"website\">{_('Leave this empty')}</label>"
            "<input id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\"></p>"
            f"<p><button type=\"submit\">{_('Subscribe')}</button></p></form>")

    def _missing(self, lang: str) -> Response:
        return _page(i18n.gettext(lang, "Not available"),
                     _p(i18n.gettext(lang, "This site has no newsletter.")), 404, lang)

    async def subscribe_page(self, request: Request) -> Response:
        lang = self._lang(request)
        if self.cfg is None:
            return self._missing(lang)
        return _page(i18n.gettext(lang, "Subscribe"), self._form(lang), lang=lang)

    async def subscribe(self, request: Request) -> Response:
        lang = self._lang(request)
        if self.cfg is None:
            return self._missing(lang)
        client = request.client.host if request.client else "unknown"
        wait = self.requests.retry_after(client)
        if wait is not None:
            return _page(i18n.gettext(lang, "Please try again later"), _p(i18n.gettext(
                lang, "Too many subscription requests from your network; try again in an "
                "hour.")), 429, lang)
        self.requests.failed(client)
        form = await request.form()
        email, name = str(form.get("email") or ""), str(form.get("name") or "")
        language = str(form.get("language") or "") or None
        lang = self._lang(request, language)
        done = _page(i18n.gettext(lang, "Check your inbox"), _p(i18n.gettext(
            lang, "If the address is right, a message with a link to confirm is on its way. "
            "The link works for 7 days.")), lang=lang)
        if form.get("website"):  # the hidden field: only robots fill it in
            return done
        try:
            problem = _form_problem(email, name, language)
            if problem is None:
                await asyncio.to_thread(subs.request, self.store, email, name=name,
                                        language=language, evidence=self._evidence(request))
        except subs.SubscriberError as exc:  # its English text is for the log, not the person
            log.info("subscribe request refused: %s", exc)
            problem = "This request could not be accepted: check the form and send it again."
        if problem is not None:
            return _page(i18n.gettext(lang, "Subscribe"),
                         self._form(lang, i18n.gettext(lang, problem), email, name), 400, lang)
        # queued, not sent: the answer is the same, as soon, for an address already
        # subscribed, one that got a mail a moment ago, and whatever the mail server does
        self.sender.kick()
        return done

    def _bad_confirm(self, lang: str, exc: subs.SubscriberError) -> Response:
        log.info("confirmation link refused: %s", exc)
        return _page(i18n.gettext(lang, "Link not valid"), _p(i18n.gettext(
            lang, "This confirmation link is not valid, has expired, or was sent before you "
            "unsubscribed.")) + f"<p><a href=\"/subscribe?lang={lang}\">"
            f"{html.escape(i18n.gettext(lang, 'Subscribe again'))}</a></p>", 400, lang)

    async def confirm_page(self, request: Request) -> Response:
        """The link in the mail shows a button: mail scanners open links, people press buttons."""
        token = request.path_params["token"]
        try:
            found = await asyncio.to_thread(subs.read_confirm_token, self.store,
                                            await self.key(), token)
        except subs.SubscriberError as exc:
            return self._bad_confirm(self._lang(request), exc)
        lang = self._lang(request, found.language)
        title = list_name(self.config, lang)
        return _page(i18n.gettext(lang, "Confirm your subscription"), (
            _p(i18n.gettext(lang, "Send {list} to {email}?", list=title, email=found.email))
            + _button(f"/confirm/{token}", i18n.gettext(lang, "Yes, subscribe me"))), lang=lang)

    async def confirm(self, request: Request) -> Response:
        try:
            found = await asyncio.to_thread(subs.read_confirm_token, self.store,
                                            await self.key(), request.path_params["token"])
            await asyncio.to_thread(subs.confirm, self.store, found, self._evidence(request))
        except subs.SubscriberError as exc:
            return self._bad_confirm(self._lang(request), exc)
        lang = self._lang(request, found.language)
        return _page(i18n.gettext(lang, "You are subscribed"), _p(i18n.gettext(
            lang, "Thank you: {email} will receive {list}. Every message has a link to "
            "unsubscribe.", email=found.email, list=list_name(self.config, lang))), lang=lang)

    # ── unsubscribe and self-service ──────────────────────────────────────────────────────

    async def _subscriber(self, request: Request) -> subs.Subscriber | None:
        return await asyncio.to_thread(subs.read_unsubscribe_token, self.store,
                                       await self.key(), request.path_params["token"])

    def _invalid(self, lang: str) -> Response:
        return _page(i18n.gettext(lang, "Link not valid"), _p(i18n.gettext(
            lang, "This link is not valid, or the address was already removed.")), 404, lang)

    def _manage(self, token: str, found: subs.Subscriber, lang: str) -> str:
        """The rest of the subscriber's page: language, their data, erasure."""
        def _(message: str) -> str:
            return i18n.gettext(lang, message)

        base = f"/u/{token}"
        language = (f"<form method=\"post\" action=\"{html.escape(base)}/language\">"
                    f"<p><label for=\"language\">{html.escape(_('Language'))}</label><br>"
                    f"{_language_menu(i18n.best(found.language))} <button type=\"submit\">"
                    f"{html.escape(_('Save language'))}</button></p></form>")
        return (f"{language}<h2>{html.escape(_('Your data'))}</h2>"
                + _p(_("Download everything we store about you, as a JSON file."))
                + _button(f"{base}/data", _("Download my data"))
                + f"<h2>{html.escape(_('Erase me'))}</h2>"
                + _p(_("Delete everything we store about you. Only a scrambled (hashed) form "
                       "of your address is kept, so that you are never added again."))
                + _button(f"{base}/erase", _("Erase my data")))

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = await self._subscriber(request)
        if found is None:
            return self._invalid(self._lang(request))
        lang = self._lang(request, found.language)
        manage = self._manage(token, found, lang)
        if found.status == subs.UNSUBSCRIBED:
            return _page(i18n.gettext(lang, "You are unsubscribed"), _p(i18n.gettext(
                lang, "{email} gets no more messages.", email=found.email)) + manage,
                lang=lang)
        title = list_name(self.config, lang)
        one_click = "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
        return _page(i18n.gettext(lang, "Your subscription"), (
            _p(i18n.gettext(lang, "Stop sending {list} to {email}?", list=title,
                            email=found.email))
            + _button(f"/u/{token}", i18n.gettext(lang, "Unsubscribe"), one_click) + manage),
            lang=lang)

    async def unsubscribe(self, request: Request) -> Response:
        # read (and so accept) the body in either encoding RFC 8058 allows; its content
        # does not matter: the signed token is the authority
        try:
            await request.form()
        except Exception as exc:  # a malformed body must not keep anyone subscribed
            log.info("one-click body not parsed: %s", exc)
        key = await self.key()
        found = await self._subscriber(request)
        if found is None:
            lang = self._lang(request)
            if subs.is_signed_unsubscribe_token(key, request.path_params["token"]):
                # signed by us, but the subscriber was erased: already never mailed
                return _page(i18n.gettext(lang, "You are unsubscribed"),
                             _p(i18n.gettext(lang, "This address gets no messages.")),
                             lang=lang)
            return self._invalid(lang)
        await asyncio.to_thread(subs.unsubscribe, self.store, found.id)
        lang = self._lang(request, found.language)
        return _page(i18n.gettext(lang, "You are unsubscribed"), _p(i18n.gettext(
            lang, "{email} gets no more messages from {list}.", email=found.email,
            list=list_name(self.config, lang))), lang=lang)

    async def _self_service(self, request: Request) -> subs.Subscriber | Response:
        """The subscriber a self-service POST is for, or the page refusing it."""
        if _cross_site(request):
            lang = self._lang(request)
            return _page(i18n.gettext(lang, "Not allowed"), _p(i18n.gettext(
                lang, "This form must be sent from this site.")), 403, lang)
        found = await self._subscriber(request)
        return self._invalid(self._lang(request)) if found is None else found

    async def language(self, request: Request) -> Response:
        found = await self._self_service(request)
        if isinstance(found, Response):
            return found
        chosen = i18n.best(str((await request.form()).get("language") or ""))
        await asyncio.to_thread(subs.set_language, self.store, found.id, chosen)
        return _page(i18n.gettext(chosen, "Your subscription"), _p(i18n.gettext(
            chosen, "Messages now come in {language}.", language=i18n.language_name(chosen)))
            + self._manage(request.path_params["token"], found, chosen), lang=chosen)

    async def data(self, request: Request) -> Response:
        found = await self._self_service(request)
        if isinstance(found, Response):
            return found
        retention = self.config.newsletter.client_retention_days
        await asyncio.to_thread(subs.forget_clients, self.store, retention)
        current, suppressed = await asyncio.to_thread(subs.find, self.store, found.email)
        if current is None:  # erased in the meantime
            return self._invalid(self._lang(request))
        body = json.dumps(subs.personal_data(current, suppressed), indent=2,
                          ensure_ascii=False) + "\n"
        return Response(body, media_type="application/json", headers={
            "content-disposition": "attachment; filename=\"my-newsletter-data.json\"",
            "cache-control": "no-store"})

    async def erase(self, request: Request) -> Response:
        found = await self._self_service(request)
        if isinstance(found, Response):
            return found
        await asyncio.to_thread(subs.erase, self.store, found.email)
        lang = self._lang(request, found.language)
        return _page(i18n.gettext(lang, "You are erased"), _p(i18n.gettext(
            lang, "Everything we stored about {email} is deleted.", email=found.email)),
            lang=lang)


def public_routes(config: Config, store: Store, *, smtp: object | None = None) -> list[Route]:
    """The public routes; `smtp` (a `SmtpConnector`) overrides the email channel's server."""
    from bot.web.archive import archive_routes

    pages = PublicPages(config, store, smtp)
    return [*archive_routes(config, store),
        Route("/subscribe", pages.subscribe_page, methods=["GET"]),
        Route("/subscribe", pages.subscribe, methods=["POST"]),
        Route("/confirm/{token}", pages.confirm_page, methods=["GET"]),
        Route("/confirm/{token}", pages.confirm, methods=["POST"]),
        Route("/u/{token}", pages.unsubscribe_page, methods=["GET"]),
        Route("/u/{token}", pages.unsubscribe, methods=["POST"]),
        Route("/u/{token}/language", pages.language, methods=["POST"]),
        Route("/u/{token}/data", pages.data, methods=["POST"]),
        Route("/u/{token}/erase", pages.erase, methods=["POST"]),
    ]
