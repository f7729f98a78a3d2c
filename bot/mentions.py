"""Tell a reviewer she was mentioned in a comment: a mail to her, and a line in the team's
chat room through the configured webhook.

Comments are stored with `notify_due` set when they mention someone; whichever process
claims them first sends (the web process right after the comment, in the background;
`pressbot run` every minute for any left over), and a notice that fails stays due. The
mail goes through the `[notify]` SMTP settings (`bot.notify`); the webhook gets one JSON
`{"text": …}`, which Slack's, Teams' and Matrix hookshot's incoming webhooks all read.
Only the configured webhook address is ever called, without following redirects.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from bot import clock, tls
from bot.config import Config
from bot.store import Store
from bot.store import comments as comment_store
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.store.comments import Comment

log = logging.getLogger("pressbot.mentions")
WEBHOOK_TIMEOUT = 10.0


def _where(config: Config, store: Store, comment: Comment) -> tuple[str, str]:
    """What the comment is about, in words, and the page to read it on."""
    base = str(config.bot.public_url).rstrip("/")
    with store.begin() as conn:
        if comment.post_id is not None:
            post = post_store.get(conn, comment.post_id)
            title = (post.title if post else "") or "Digest"
            channel = post.channel if post else "?"
            return (f"post {comment.post_id} ({channel}) “{title}”",
                    f"{base}/posts/{comment.post_id}#comments")
        first = post_store.for_release(conn, comment.release_id or 0)
    title = first[0].title if first else f"release {comment.release_id}"
    page = f"{base}/posts/{first[0].id}#release-comments" if first else f"{base}/"
    return f"the release “{title}”", page


def notice_text(config: Config, store: Store, comment: Comment) -> tuple[str, str]:
    """(subject, body) of the mail; the body is also the webhook's text."""
    about, page = _where(config, store, comment)
    names = ", ".join(f"@{n}" for n in comment.mentions)
    quoted = "\n".join(f"> {line}" for line in comment.body.splitlines())
    body = (f"{comment.author} mentioned {names} in a comment on {about}:\n\n{quoted}\n\n"
            f"Read and answer it on the review page (sign-in needed): {page}\n")
    return f"pressbot: {comment.author} mentioned you on {about}", body


def _addresses(store: Store, names: list[str]) -> list[str]:
    with store.begin() as conn:
        found = [user_store.get(conn, n) for n in names]
    usable = []
    for user in found:
        if user is None or user.disabled or not user.email:
            continue
        try:
            checked = user_store.check_email(user.email)
        except user_store.UserError as exc:
            log.warning("mentions: skipping %s", exc)
            continue
        if checked:
            usable.append(checked)
    return usable


def slack_safe(text: str) -> str:
    """Slack reads `<!channel>`, `<@U123>` and `<url|label>` in a webhook's text: a comment
    must not ping the whole room or dress up a link, so `&`, `<` and `>` are escaped as
    Slack documents (Teams shows the entities as the characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def post_webhook(url: str, text: str, client: httpx.AsyncClient | None = None) -> None:
    """POST `{"text": text}`; raises on anything but a 2xx answer (the address is never
    logged: it is the room's key)."""
    own = client is None
    client = client or httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False,
                                         verify=tls.context())
    try:
        response = await client.post(url, json={"text": slack_safe(text)})
    except httpx.HTTPError as exc:
        raise RuntimeError(f"the webhook could not be reached: {type(exc).__name__}") from None
    finally:
        if own:
            await client.aclose()
    if not response.is_success:
        raise RuntimeError(f"the webhook answered {response.status_code}")


async def send_due(config: Config, store: Store, *, connector: object = None) -> int:
    """Send the notices of every comment still due; returns how many comments were done."""
    from bot.notify import _envelope, _send, smtp_settings

    if config.notify is None:
        return 0
    smtp = smtp_settings(config)
    webhook = config.notify.webhook.get_secret_value() if config.notify.webhook else None

    def claim() -> list[Comment]:
        with store.begin_immediate() as conn:
            return comment_store.claim_due(conn, clock.now())

    done = 0
    for comment in await asyncio.to_thread(claim):
        try:
            subject, text = await asyncio.to_thread(notice_text, config, store, comment)
            to = await asyncio.to_thread(_addresses, store, comment.mentions)
            if smtp is not None and to:
                envelope = await asyncio.to_thread(_envelope, config, store, smtp)
                await _send(smtp, to, subject, text, connector, envelope)
            if webhook:
                await post_webhook(webhook, text)
        except Exception as exc:  # stays due: the next pass tries again
            log.warning("comment=%d mention notice failed: %s: %s", comment.id,
                        type(exc).__name__, exc)
            await asyncio.to_thread(_release, store, comment.id, sent=False)
            continue
        await asyncio.to_thread(_release, store, comment.id, sent=True)
        log.info("comment=%d mentions=%s notified", comment.id, ",".join(comment.mentions))
        done += 1
    return done


def _release(store: Store, comment_id: int, *, sent: bool) -> None:
    with store.begin() as conn:
        (comment_store.sent if sent else comment_store.failed)(conn, comment_id)
