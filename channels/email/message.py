"""One newsletter message per recipient, built with the `email` package's modern API.

Every header value passes through `clean_header`: titles from press releases carry
newlines, tabs and U+2028, and `EmailMessage` would refuse them (or, with hand-made
strings, a newline would start a new header). Addresses are built with
`email.headerregistry.Address`, never by string formatting. The body keeps the
placeholders `bot.render` left (greeting, unsubscribe link) until here, where each
recipient gets their own; the HTML part gets them HTML-escaped.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote, unquote

from bot import clock, i18n
from bot.config import Config, EmailConfig
from bot.models import Post
from bot.placeholders import ARCHIVE, FOOTER, GREETING, UNSUBSCRIBE
from channels.email.headers import WIRE, WIRE_UTF8, clean_header, fold_text, mailbox, phrase
from channels.email.words import Words, words_for

__all__ = ["clean_header"]
_LABEL = re.compile(r"[^A-Za-z0-9-]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")
_MSGID = re.compile(r"<[A-Za-z0-9.\-]{1,200}@[A-Za-z0-9.\-]{1,200}>")
_URI = re.compile(r"<[\x21-\x2b\x2d-\x3b\x3d\x3f-\x7e]{1,900}>")
"""An angle-bracketed URI of printable ASCII, without spaces, commas, '<' or '>'."""
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(frozen=True)
class Sender:
    """What every message of one channel shares."""

    address: Address
    reply_to: str | None
    list_id: str
    unsubscribe_mailto: str | None
    domain: str
    feedback_id: str | None = None
    archive_base: str | None = None
    """The public URL: each issue is at {archive_base}/newsletter/{post id}."""

    @property
    def envelope_from(self) -> str:
        return self.address.addr_spec


def _address(value: str) -> Address:
    name, addr = parseaddr(value)
    return Address(display_name=clean_header(name), addr_spec=addr)


def ascii_domain(domain: str) -> str:
    """A domain in its ASCII (IDNA) form, as Message-IDs and envelopes need it."""
    if domain.isascii():
        return domain
    import idna

    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return "localhost"


def list_id_header(name: str, list_id: str) -> str:
    return f"{phrase(name)} <{clean_header(list_id)}>" if phrase(name) else \
        f"<{clean_header(list_id)}>"


def sender_for(name: str, cfg: EmailConfig) -> Sender:
    address = _address(cfg.from_)
    domain = ascii_domain(address.domain or "localhost")
    label = _LABEL.sub("-", name).strip("-") or "newsletter"
    list_id = cfg.list_id or f"{label}.{domain}"
    if "<" in list_id:  # given whole, as `Name <id>`
        shown, _, rest = list_id.partition("<")
        list_id_value = list_id_header(shown, rest.rstrip(" >"))
    else:
        list_id_value = list_id_header(cfg.list_name or name, list_id)
    mailto = cfg.unsubscribe_mailto
    if mailto and not mailto.startswith("mailto:"):
        mailto = f"mailto:{mailto}?subject=unsubscribe"
    return Sender(address=address, reply_to=cfg.reply_to, list_id=list_id_value,
                  unsubscribe_mailto=clean_header(mailto) if mailto else None, domain=domain,
                  feedback_id=clean_header(cfg.feedback_id) if cfg.feedback_id else None)


def greeting(name: str | None, words: Words | None = None) -> str:
    words = words or words_for()
    name = clean_header(name or "")
    return words.hello_name.format(name=name) if name else words.hello


def _fill(template: str, hello: str, unsubscribe_url: str, words: Words,
          escape: bool = False) -> str:
    def esc(value: str) -> str:
        return html.escape(value) if escape else value

    filled = (template.replace(GREETING, esc(hello)).replace(UNSUBSCRIBE, esc(unsubscribe_url))
              .replace(FOOTER["reason"], esc(words.reason))
              .replace(FOOTER["unsubscribe"], esc(words.unsubscribe))
              .replace(FOOTER["view"], esc(words.view)))
    return i18n.fill(filled, words.locale, escape=escape)  # the templates' words and dates


class _Fixed(str):
    """A header value pressbot wrote whole: the `email` package reads it as the text it is
    (a header object, by its `name`) and writes the line as is, without parsing it again."""

    name: str
    _line: str

    def __new__(cls, name: str, value: str) -> _Fixed:
        fixed = super().__new__(cls, value)
        fixed.name = name
        fixed._line = f"{name}: {value}\r\n"
        return fixed

    def fold(self, *, policy: Any) -> str:
        return self._line


class _MailtoTemplate:
    """The `mailto:` unsubscribe URI with a recipient's token added to its subject
    (`mailto:leave@example.org?subject=unsubscribe%20<token>`), split once per send."""

    def __init__(self, uri: str) -> None:
        address, _, query = uri.partition("?")
        subject = "unsubscribe"
        rest: list[str] = []
        for pair in filter(None, query.split("&")):
            name, _, value = pair.partition("=")
            if name.lower() == "subject":
                subject = unquote(value) or subject
            else:
                rest.append(pair)
        # percent-encoded, never '+': in a mailto URI '+' is a plus sign (RFC 6068)
        self.head = f"{address}?subject={quote(subject, safe='')}"
        self.tail = "".join(f"&{pair}" for pair in rest)

    def uri(self, token: str | None) -> str:
        if not token:
            return self.head + self.tail
        # a signed token is all unreserved characters; anything else is encoded
        shown = token if _UNRESERVED.fullmatch(token) else quote(token, safe="")
        return f"{self.head}%20{shown}{self.tail}"


class MessageFactory:
    """Builds one post's message for each recipient, cheaply.

    The headers every copy shares are encoded once (`channels.email.headers`) and set as
    wire text; each copy then sets only its own (To, Date, Message-ID, List-Unsubscribe).
    The bodies are quoted-printable, encoded by `binascii` (C) rather than the email
    package's pure-Python encoder: at ten thousand copies that is most of the time spent.
    """

    def __init__(self, post: Post, sender: Sender) -> None:
        self.post = post
        self.sender = sender
        archive = f"{sender.archive_base}/newsletter/{post.id}" if sender.archive_base else ""
        self.text = post.text.replace(ARCHIVE, archive)
        self.html = (post.html or "").replace(ARCHIVE, html.escape(archive))
        shared = {
            "From": mailbox(sender.address.display_name, sender.address.addr_spec, "From"),
        }
        if sender.reply_to:
            name, addr = parseaddr(sender.reply_to)
            shared["Reply-To"] = mailbox(name, addr, "Reply-To")
        shared["List-Id"] = sender.list_id
        shared["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        shared["Precedence"] = "bulk"
        shared["Auto-Submitted"] = "auto-generated"
        if sender.feedback_id:  # the issue first: a feedback loop then says which one
            shared["Feedback-ID"] = f"{post.id}:{sender.feedback_id}"
        if sender.archive_base:  # RFC 2369: where the list's past issues are
            shared["List-Archive"] = f"<{clean_header(sender.archive_base)}/newsletter>"
        self.shared = shared
        self._languages: dict[str, tuple[str, str | None]] = {}
        # read by the generator for every copy (type, boundary): as _Fixed values they are
        # neither parsed on each read nor refolded on each write
        # ("=_" cannot occur in a quoted-printable body: '=' is always encoded there)
        self.content_type = _Fixed("Content-Type", 'multipart/alternative; '
                                   f'boundary="=_pressbot_{secrets.token_hex(12)}"')
        self.part_types = {sub: _Fixed("Content-Type", f'text/{sub}; charset="utf-8"')
                           for sub in ("plain", "html")}
        self.qp = _Fixed("Content-Transfer-Encoding", "quoted-printable")
        self.mailto = _MailtoTemplate(sender.unsubscribe_mailto) \
            if sender.unsubscribe_mailto else None
        self._dates: tuple[int, str] = (-1, "")
        self._templates: dict[Words, _WireTemplate] = {}

    def language_headers(self, words: Words) -> tuple[str, str | None]:
        """(Subject, Content-Language) as wire text for the readers of `words.locale`:
        worked out once per language of an issue, then looked up for each copy."""
        found = self._languages.get(words.locale)
        if found is None:
            found = self._languages[words.locale] = (
                fold_text("Subject", subject_for(self.post, words.locale)),
                content_language(self.post.language, words.locale))
        return found

    def _date(self, when: datetime) -> str:
        second = int(when.timestamp())
        if self._dates[0] != second:
            self._dates = (second, format_datetime(when))
        return self._dates[1]

    def build(self, *, to_email: str, to_name: str | None, message_id: str,
              unsubscribe_url: str, unsubscribe_token: str | None = None,
              date: datetime | None = None, language: str | None = None) -> EmailMessage:
        """The message for one recipient; `ValueError` when an address or id is not usable.

        `unsubscribe_token` (the signed token of `unsubscribe_url`) goes into the subject of
        the `mailto:` unsubscribe address too: a request mailed there counts only with it.
        """
        shared = self.shared
        to_email = wire_address(to_email)
        msg = EmailMessage(policy=WIRE if to_email.isascii() else WIRE_UTF8)
        words = words_for(language, self.post.language)
        subject, content_lang = self.language_headers(words)
        msg.set_raw("Subject", subject)
        for name in ("From", "Reply-To"):
            if name in shared:
                msg.set_raw(name, shared[name])
        msg.set_raw("To", mailbox(to_name, to_email))
        msg.set_raw("Date", self._date(date or clock.now()))
        if not _MSGID.fullmatch(message_id):
            raise ValueError(f"not a Message-ID pressbot makes: {message_id!r}")
        msg.set_raw("Message-ID", message_id)
        links = [f"<{clean_header(unsubscribe_url)}>"]
        if self.mailto is not None:
            links.append(f"<{self.mailto.uri(unsubscribe_token)}>")
        if not all(_URI.fullmatch(link) for link in links):
            raise ValueError(f"not a usable List-Unsubscribe value: {links}")
        # one URI a line: each stays whole and unencoded, as Gmail and Yahoo read it
        msg.set_raw("List-Unsubscribe", ",\r\n ".join(links))
        for name in ("List-Id", "List-Archive", "List-Unsubscribe-Post", "Precedence",
                     "Auto-Submitted", "Feedback-ID"):
            if name in shared:
                msg.set_raw(name, shared[name])
        if content_lang:
            msg.set_raw("Content-Language", content_lang)
        msg.set_raw("MIME-Version", "1.0")
        text = _fill(self.text, greeting(to_name, words), unsubscribe_url, words)
        if not self.html:
            self._set_text(msg, text, "plain")
            return msg
        msg.set_raw("Content-Type", self.content_type)
        html_text = fill_html(self.html, to_name, unsubscribe_url, language=language,
                              fallback=self.post.language)
        for content, subtype in ((text, "plain"), (html_text, "html")):
            part = MIMEPart(policy=WIRE)
            self._set_text(part, content, subtype)
            msg.attach(part)  # type: ignore[arg-type]  # typeshed: EmailMessage only
        return msg

    def wire(self, *, to_email: str, to_name: str | None, message_id: str,
             unsubscribe_url: str, unsubscribe_token: str | None = None,
             date: datetime | None = None, language: str | None = None) -> bytes:
        """The bytes `build` + `serialise` give for an ASCII address, written without the
        `email` package: what every copy shares is serialised once per language, and each
        copy only fills in its own header lines and the body lines holding a placeholder
        (greeting, unsubscribe link). A non-ASCII address takes `build`'s path."""
        to_email = wire_address(to_email)
        if not to_email.isascii():
            return serialise(self.build(
                to_email=to_email, to_name=to_name, message_id=message_id,
                unsubscribe_url=unsubscribe_url, unsubscribe_token=unsubscribe_token,
                date=date, language=language), to_email)[0]
        if not _MSGID.fullmatch(message_id):
            raise ValueError(f"not a Message-ID pressbot makes: {message_id!r}")
        links = [f"<{clean_header(unsubscribe_url)}>"]
        if self.mailto is not None:
            links.append(f"<{self.mailto.uri(unsubscribe_token)}>")
        if not all(_URI.fullmatch(link) for link in links):
            raise ValueError(f"not a usable List-Unsubscribe value: {links}")
        words = words_for(language, self.post.language)
        template = self._templates.get(words)
        if template is None:
            template = self._templates[words] = _WireTemplate(self, words)
        unsubscribe = ",\r\n ".join(links)
        own = (f"To: {mailbox(to_name, to_email)}\r\n"
               f"Date: {self._date(date or clock.now())}\r\n"
               f"Message-ID: {message_id}\r\n"
               f"List-Unsubscribe: {unsubscribe}\r\n").encode("ascii")
        hello = greeting(to_name, words)
        return template.fill(own, hello, unsubscribe_url)

    def _set_text(self, part: MIMEPart, content: str, subtype: str) -> None:
        body = content.replace("\r\n", "\n").replace("\r", "\n")
        if not body.endswith("\n"):
            body += "\n"
        part.set_raw("Content-Type", self.part_types[subtype])
        part.set_raw("Content-Transfer-Encoding", self.qp)
        part.set_payload(binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii"))


def _qp(line: str) -> bytes:
    """One line, quoted-printable, its soft line breaks CRLF as on the wire."""
    return binascii.b2a_qp(line.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


class _Body:
    """One part's body, quoted-printable, as fixed bytes and the lines left to fill."""

    def __init__(self, content: str) -> None:
        body = content.replace("\r\n", "\n").replace("\r", "\n")
        if not body.endswith("\n"):
            body += "\n"
        # b2a_qp encodes line by line: a line encoded alone is encoded as in the whole
        self.pieces: list[bytes | str] = []
        fixed: list[bytes] = []
        for line in body[:-1].split("\n"):
            if GREETING in line or UNSUBSCRIBE in line:
                if fixed:
                    self.pieces.append(b"".join(fixed))
                    fixed = []
                self.pieces.append(line)
            else:
                fixed.append(_qp(line) + b"\r\n")
        if fixed:
            self.pieces.append(b"".join(fixed))

    def fill(self, hello: str, url: str) -> list[bytes]:
        return [p if isinstance(p, bytes) else
                _qp(p.replace(GREETING, hello).replace(UNSUBSCRIBE, url)) + b"\r\n"
                for p in self.pieces]


class _WireTemplate:
    """One language's message with every shared byte serialised once."""

    def __init__(self, factory: MessageFactory, words: Words) -> None:
        shared = factory.shared
        subject, content_lang = factory.language_headers(words)
        self.head = (f"Subject: {subject}\r\n" + "".join(
            f"{name}: {shared[name]}\r\n" for name in ("From", "Reply-To") if name in shared)
        ).encode()
        tail = "".join(f"{name}: {shared[name]}\r\n" for name in
                       ("List-Id", "List-Archive", "List-Unsubscribe-Post", "Precedence",
                        "Auto-Submitted", "Feedback-ID") if name in shared)
        if content_lang:
            tail += f"Content-Language: {content_lang}\r\n"
        tail += "MIME-Version: 1.0\r\n"
        # this language's footer words filled once; greeting and link stay placeholders
        text = _fill(factory.text, GREETING, UNSUBSCRIBE, words)
        part_head = ("Content-Type: {}\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                     "\r\n")
        self.html: _Body | None = None
        if not factory.html:
            self.tail = (tail + part_head.format(factory.part_types["plain"])).encode()
            self.text = _Body(text)
            return
        boundary = str(factory.content_type).split('boundary="', 1)[1].rstrip('"')
        self.tail = (tail + f"Content-Type: {factory.content_type}\r\n\r\n"
                     f"--{boundary}\r\n"
                     + part_head.format(factory.part_types["plain"])).encode()
        self.text = _Body(text)
        self.between = (f"\r\n--{boundary}\r\n"
                        + part_head.format(factory.part_types["html"])).encode()
        self.html = _Body(_fill(factory.html, GREETING, UNSUBSCRIBE, words, escape=True))
        self.end = f"\r\n--{boundary}--\r\n".encode()

    def fill(self, own: bytes, hello: str, url: str) -> bytes:
        parts = [self.head, own, self.tail, *self.text.fill(hello, url)]
        if self.html is not None:
            safe_hello, safe_url = html.escape(hello), html.escape(url)
            parts += [self.between, *self.html.fill(safe_hello, safe_url), self.end]
        return b"".join(parts)


def subject_for(post: Post, language: str) -> str:
    """The subject readers of `language` (a catalogue's) get. A digest's counts its news in
    each catalogue's words (`extra["subjects"]`, from `bot.render.render_digest`); a subject
    a person wrote or edited (it is none of those) and a release's title stay as written."""
    written = post.subject or post.title or "Newsletter"
    subjects = post.extra.get("subjects")
    if isinstance(subjects, dict) and written in subjects.values():
        own = subjects.get(language)
        return own if isinstance(own, str) and own.strip() else written
    return written


def content_language(body: str | None, words: str) -> str | None:
    """`Content-Language` (RFC 3282) of a mail whose text is in `body` (the post's language)
    and whose fixed words (greeting, footer, dates, "Read more") are in `words`: the body's
    language, then the words' when they differ ("en, fr"), so the header lists every
    language the reader sees, the one the text is written in first. None when the post's
    language is unknown (or not a language tag): no header rather than a guess."""
    if not body or not _LANGUAGE.fullmatch(body):
        return None
    return body if body.split("-")[0].lower() == words else f"{body}, {words}"


def fill_html(html_text: str, to_name: str | None, unsubscribe_url: str,
              archive_url: str = "#", *, language: str | None = None,
              fallback: str | None = None) -> str:
    """The HTML part for one recipient (the review page previews it through this too)."""
    words = words_for(language, fallback)
    return _fill(html_text, greeting(to_name, words), unsubscribe_url, words, escape=True
                 ).replace(ARCHIVE, html.escape(archive_url))


def build_message(post: Post, sender: Sender, *, to_email: str, to_name: str | None,
                  message_id: str, unsubscribe_url: str, unsubscribe_token: str | None = None,
                  date: datetime | None = None, language: str | None = None) -> EmailMessage:
    """One message for one recipient (a send uses one `MessageFactory` for all of them)."""
    return MessageFactory(post, sender).build(
        to_email=to_email, to_name=to_name, message_id=message_id,
        unsubscribe_url=unsubscribe_url, unsubscribe_token=unsubscribe_token, date=date,
        language=language)


def wire_address(email: str) -> str:
    """The address as it goes on the wire: an internationalised domain in its ASCII (IDNA)
    form, so only a non-ASCII local part needs the server's SMTPUTF8."""
    local, _, domain = email.rpartition("@")
    if domain.isascii():
        return email
    ascii_form = ascii_domain(domain)
    return email if ascii_form == "localhost" else f"{local}@{ascii_form}"


def serialise(msg: EmailMessage, to_email: str) -> tuple[bytes, list[str]]:
    """Wire bytes and the MAIL options they need (SMTPUTF8 for a non-ASCII address).

    `WIRE` never refolds: the header text set above is what the server receives."""
    if to_email.isascii():
        return msg.as_bytes(policy=WIRE), []
    return msg.as_bytes(policy=WIRE_UTF8), ["SMTPUTF8"]


def sender_from_config(name: str, config: Config) -> Sender:
    """The sender of channel `name`; an outbox standing in for email gets a placeholder."""
    cfg = config.channels.get(name)
    public_url = str(config.bot.public_url).rstrip("/")
    if isinstance(cfg, EmailConfig):
        return replace(sender_for(name, cfg), archive_base=public_url if cfg.archive else None)
    host = config.bot.public_url.host or "localhost"
    label = _LABEL.sub("-", name).strip("-") or "newsletter"
    return Sender(address=Address(display_name=clean_header(name),
                                  addr_spec=f"newsletter@{host}"),
                  reply_to=None, list_id=list_id_header(name, f"{label}.{host}"),
                  unsubscribe_mailto=None, domain=ascii_domain(host), archive_base=public_url)


def build_preview_message(post: Post, config: Config) -> bytes:
    """The `.eml` a dry run writes: the message as a subscriber named "Reader" gets it."""
    public_url = str(config.bot.public_url).rstrip("/")
    sender = sender_from_config(post.channel, config)
    msg = build_message(post, sender, to_email="reader@example.invalid", to_name="Reader",
                        message_id=f"<pressbot.preview.{secrets.token_hex(16)}@{sender.domain}>",
                        unsubscribe_url=f"{public_url}/u/PREVIEW")
    return msg.as_bytes(policy=WIRE)


def single_message(*, sender: Sender, to_email: str, to_name: str | None, subject: str,
                   text: str, auto: str = "auto-generated") -> EmailMessage:
    """A one-off plain-text mail (a double opt-in confirmation) with every header a
    provider expects of it: a Message-ID, Date, and `Auto-Submitted: auto-generated` (RFC
    3834 keeps `auto-replied` for answers to a message; a confirmation answers a form)."""
    to_email = wire_address(to_email)
    msg = EmailMessage(policy=WIRE if to_email.isascii() else WIRE_UTF8)
    msg.set_raw("Subject", fold_text("Subject", subject))
    msg.set_raw("From", mailbox(sender.address.display_name, sender.address.addr_spec, "From"))
    msg.set_raw("To", mailbox(to_name, to_email))
    msg.set_raw("Date", format_datetime(clock.now()))
    msg.set_raw("Message-ID", f"<pressbot.{secrets.token_hex(12)}@{sender.domain}>")
    msg.set_raw("Auto-Submitted", auto)
    msg.set_raw("MIME-Version", "1.0")
    msg.set_raw("Content-Type", 'text/plain; charset="utf-8"')
    msg.set_raw("Content-Transfer-Encoding", "quoted-printable")
    body = text if text.endswith("\n") else text + "\n"
    msg.set_payload(binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii"))
    return msg
