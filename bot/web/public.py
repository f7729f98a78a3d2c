"""The newsletter's public pages: subscribe, confirm, unsubscribe. No sign-in, no cookies.

    GET  /subscribe           the form
    POST /subscribe           a pending subscriber + a confirmation mail with a signed link
    GET  /confirm/{token}     a button to confirm (mail scanners open links; they confirm nothing)
    POST /confirm/{token}     double opt-in done (the link expires after 7 days)
    GET  /u/{token}           a page with an "Unsubscribe" button; it changes nothing, because
                              link scanners and prefetchers open every URL in a mail
    POST /u/{token}           unsubscribes: RFC 8058 one-click (`List-Unsubscribe=One-Click`,
                              urlencoded or multipart) or the button; 200, never a redirect,
                              the same answer when repeated

The token in the URL is the only authority (RFC 8058: the mailbox provider's POST carries
no cookies). The subscribe form answers alike whether an address was new or already
subscribed, so it cannot be used to find out who reads the newsletter.
"""

from __future__ import annotations

import asyncio
import html
import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot import subscribers as subs
from bot.config import Config, EmailConfig, OutboxConfig
from bot.store import Store
from bot.web.security import FailureLimiter

log = logging.getLogger("pressbot.web.public")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A small page; every value in `body` is escaped by the caller."""
    return HTMLResponse(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title>"
        "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
        f"<body><main id=\"main\" class=\"public\"><h1>{html.escape(title)}</h1>{body}</main>"
        "</body></html>\n", status_code=status)


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


class PublicPages:
    """The handlers, bound to one config and store; the signing key is read once, lazily."""

    def __init__(self, config: Config, store: Store, smtp: object | None = None) -> None:
        self.config = config
        self.store = store
        self.smtp = smtp
        # each subscribe request sends a mail: at most 10 per client address an hour, so the
        # form cannot be used to flood strangers' inboxes or our sending reputation
        self.requests = FailureLimiter(limit=10, window=3600)
        self.public_url = str(config.bot.public_url).rstrip("/")
        found: tuple[str | None, EmailConfig | OutboxConfig | None] = next(
            ((n, c) for n, c in config.channels.items()
             if isinstance(c, EmailConfig) or (isinstance(c, OutboxConfig) and c.like == "email")),
            (None, None))
        self.channel, self.cfg = found
        list_name = self.cfg.list_name if isinstance(self.cfg, EmailConfig) else None
        self.list_name = list_name or "our newsletter"
        self._key: str | None = None

    async def key(self) -> str:
        if self._key is None:
            from bot.signing import signing_key

            self._key = await asyncio.to_thread(signing_key, self.config, self.store)
        return self._key

    # ── subscribe ─────────────────────────────────────────────────────────────────────────

    def _form(self, error: str = "", email: str = "", name: str = "") -> str:
        problem = f"<p class=\"flash flash-error\" role=\"alert\">{html.escape(error)}</p>" \
            if error else ""
        return (
            f"{problem}<p>Get {html.escape(self.list_name)} by email. We send you a link to "
            "confirm first.</p>"
            "<form method=\"post\" action=\"/subscribe\">"
            "<p><label for=\"email\">Email address</label><br>"
            f"<input id=\"email\" name=\"email\" type=\"email\" required autocomplete=\"email\""
            f" value=\"{html.escape(email)}\"></p>"
            "<p><label for=\"name\">Name (optional)</label><br>"
            f"<input id=\"name\" name=\"name\" autocomplete=\"name\" value=\"{html.escape(name)}\">"
            "</p>"
            "<p class=\"hp\" hidden><label for=\"website\">Leave this empty</label>"
            "<input id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\"></p>"
            "<p><button type=\"submit\">Subscribe</button></p></form>")

    async def subscribe_page(self, request: Request) -> Response:
        if self.cfg is None:
            return _page("Not available", _p("This site has no newsletter."), 404)
        return _page("Subscribe", self._form())

    async def subscribe(self, request: Request) -> Response:
        if self.cfg is None:
            return _page("Not available", _p("This site has no newsletter."), 404)
        client = request.client.host if request.client else "unknown"
        wait = self.requests.retry_after(client)
        if wait is not None:
            return _page("Please try again later", _p(
                "Too many subscription requests from your network; try again in an hour."),
                429)
        self.requests.failed(client)
        form = await request.form()
        email, name = str(form.get("email") or ""), str(form.get("name") or "")
        language = str(form.get("language") or "") or None
        done = _page("Check your inbox", _p(
            "If the address is right, a message with a link to confirm is on its way. "
            "The link works for 7 days."))
        if form.get("website"):  # the hidden field: only robots fill it in
            return done
        try:
            pending = await asyncio.to_thread(subs.request, self.store, email, name=name,
                                              language=language)
        except subs.SubscriberError as exc:
            return _page("Subscribe", self._form(str(exc), email, name), 400)
        # the same answer when a mail went out a moment ago: nobody learns who subscribed
        if pending is not None and await asyncio.to_thread(subs.claim_confirmation,
                                                           self.store, pending):
            try:
                await self._send_confirmation(pending)
            except Exception as exc:
                await asyncio.to_thread(subs.confirmation_failed, self.store, pending)
                log.warning("confirmation mail to subscriber %d not sent: %s", pending.id, exc)
                return _page("Please try again later", _p(
                    "We could not send the confirmation message just now."), 503)
        return done

    async def _send_confirmation(self, subscriber: subs.Subscriber) -> None:
        assert self.cfg is not None
        assert self.channel is not None
        from channels.email.message import (
            greeting,
            sender_from_config,
            serialise,
            single_message,
            wire_address,
        )
        from channels.email.verp import verp_address

        key = await self.key()
        token = subs.confirm_token(key, subscriber)
        link = f"{self.public_url}/confirm/{token}"
        sender = sender_from_config(self.channel, self.config)
        to = wire_address(subscriber.email)
        who = [getattr(self.cfg, "organisation", None), getattr(self.cfg, "postal_address", None)]
        signed = " · ".join(w for w in who if w)
        msg = single_message(
            sender=sender, to_email=to, to_name=subscriber.name,
            subject=f"Confirm your subscription to {self.list_name}",
            text=f"{greeting(subscriber.name)}\n\nSomeone, probably you, asked to receive "
                 f"{self.list_name} at this address. To confirm, open this link within 7 "
                 f"days:\n\n{link}\n\n"
                 "If it was not you, ignore this message: nothing will be sent.\n"
                 + (f"\n-- \n{signed}\n" if signed else ""))
        bounce_domain = getattr(self.cfg, "bounce_domain", None)
        # VERP as for the newsletter (post 0: no issue), so a bounce reaches the processor
        envelope = verp_address(key, bounce_domain, 0, subscriber.id) if bounce_domain \
            else sender.envelope_from
        data, options = serialise(msg, to)
        if self.cfg.dry_run or not isinstance(self.cfg, EmailConfig):  # dry run: to the outbox
            folder = self.config.resolve(Path(self.config.bot.outbox)) / self.channel
            await asyncio.to_thread(_write, folder / f"confirm-{subscriber.id}.eml", data)
            return
        from channels.email.smtp import SmtpConnector, close_quietly

        connector = self.smtp if isinstance(self.smtp, SmtpConnector) else SmtpConnector(self.cfg)
        smtp = await connector.connect()
        try:
            await smtp.sendmail(envelope, [to], data, mail_options=options)
        finally:
            await close_quietly(smtp)

    async def confirm_page(self, request: Request) -> Response:
        """The link in the mail shows a button: mail scanners open links, people press buttons."""
        token = request.path_params["token"]
        try:
            found = await asyncio.to_thread(subs.read_confirm_token, self.store,
                                            await self.key(), token)
        except subs.SubscriberError as exc:
            return _page("Link not valid", _p(f"Sorry: {exc}.") +
                         "<p><a href=\"/subscribe\">Subscribe again</a></p>", 400)
        action = html.escape(f"/confirm/{token}")
        return _page("Confirm your subscription", (
            f"{_p(f'Send {self.list_name} to {found.email}?')}"
            f"<form method=\"post\" action=\"{action}\">"
            "<p><button type=\"submit\">Yes, subscribe me</button></p></form>"))

    async def confirm(self, request: Request) -> Response:
        try:
            found = await asyncio.to_thread(subs.read_confirm_token, self.store,
                                            await self.key(), request.path_params["token"])
            await asyncio.to_thread(subs.confirm, self.store, found)
        except subs.SubscriberError as exc:
            return _page("Link not valid", _p(f"Sorry: {exc}.") +
                         "<p><a href=\"/subscribe\">Subscribe again</a></p>", 400)
        return _page("You are subscribed", _p(f"Thank you: {found.email} will receive "
                                              f"{self.list_name}. Every message has a link "
                                              "to unsubscribe."))

    # ── unsubscribe ───────────────────────────────────────────────────────────────────────

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = await asyncio.to_thread(subs.read_unsubscribe_token, self.store,
                                        await self.key(), token)
        if found is None:
            return _page("Link not valid", _p("This unsubscribe link is not valid, or the "
                                              "address was already removed."), 404)
        if found.status == subs.UNSUBSCRIBED:
            return _page("You are unsubscribed", _p(f"{found.email} gets no more messages."))
        action = html.escape(f"/u/{token}")
        return _page("Unsubscribe", (
            f"{_p(f'Stop sending {self.list_name} to {found.email}?')}"
            f"<form method=\"post\" action=\"{action}\">"
            "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
            "<p><button type=\"submit\">Unsubscribe</button></p></form>"))

    async def unsubscribe(self, request: Request) -> Response:
        # read (and so accept) the body in either encoding RFC 8058 allows; its content
        # does not matter: the signed token is the authority
        try:
            await request.form()
        except Exception as exc:  # a malformed body must not keep anyone subscribed
            log.info("one-click body not parsed: %s", exc)
        key = await self.key()
        found = await asyncio.to_thread(subs.read_unsubscribe_token, self.store, key,
                                        request.path_params["token"])
        if found is None:
            if subs.is_signed_unsubscribe_token(key, request.path_params["token"]):
                # signed by us, but the subscriber was erased: already never mailed
                return _page("You are unsubscribed", _p("This address gets no messages."))
            return _page("Link not valid", _p("This unsubscribe link is not valid."), 404)
        await asyncio.to_thread(subs.unsubscribe, self.store, found.id)
        return _page("You are unsubscribed", _p(f"{found.email} gets no more messages from "
                                                f"{self.list_name}."))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


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
    ]
