"""The pre-serialised path (`MessageFactory.wire`) writes exactly the bytes the `email`
package writes for the same message: every language, name, body shape and address."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.headerregistry import Address

import pytest

from bot.models import Post
from channels.email.message import MessageFactory, Sender, serialise

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
TEXTS = ["%%GREETING%%\n\nBody é line\n\nUnsubscribe: %%UNSUBSCRIBE_URL%%",
         "x" * 200 + " %%GREETING%% é\r\n\n%%FOOTER_REASON%% %%UNSUBSCRIBE_URL%% trailing \n"]
HTMLS = [None, '<p>%%GREETING%%</p><a href="%%UNSUBSCRIBE_URL%%">x</a>',
         "<p>%%FOOTER_UNSUBSCRIBE%% &amp; %%GREETING%%</p>\n" + "y" * 300 + "\n%%ARCHIVE_URL%%"]


@pytest.mark.parametrize(("text", "html", "name", "language", "to"), list(itertools.product(
    TEXTS, HTMLS, ["Ann", None, "Zoë O'Neil \"x\""], [None, "fr", "ru"],
    ["a@b.org", "zoë@b.org"])))
def test_prebuilt_bytes_are_the_email_packages(text: str, html: str | None, name: str | None,
                                               language: str | None, to: str) -> None:
    post = Post(id=3, uid="x", channel="n", status="approved", text=text, html=html,
                subject="Hi ünïcode", created_at=NOW, updated_at=NOW)
    sender = Sender(address=Address("News", "news", "example.org"), reply_to="r@example.org",
                    list_id="<a.b>", unsubscribe_mailto="mailto:u@example.org?subject=bye",
                    domain="example.org", feedback_id="f:x", archive_base="https://n.example")
    factory = MessageFactory(post, sender)
    args = {"to_email": to, "to_name": name, "message_id": "<pressbot.3.2.abc@example.org>",
            "unsubscribe_url": "https://n.example/u/T&K" if name else "https://n.example/u/T",
            "unsubscribe_token": "TOKEN", "date": NOW, "language": language}
    assert factory.wire(**args) == serialise(factory.build(**args), to)[0]
    assert factory.wire(**args) == factory.wire(**args)  # the cached template is reused
