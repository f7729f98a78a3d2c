"""What SpamAssassin thinks of the mail pressbot sends: a newsletter, a digest and a double
opt-in confirmation, scored on the bytes a real SMTP server received.

    .venv/bin/python bench/spamassassin.py [--keep DIR]

Each message goes out through the real code path (EmailChannel.publish, the public
subscribe form) to an aiosmtpd server on 127.0.0.1, and the received bytes are piped to
`spamassassin -t -L` (Debian's package; -L: local tests only, no DNS or network rules).
It prints each score and the rules that fired; the target is ≤ 0 for all three. A check
script, not a test: scores move with SpamAssassin's rule updates.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.smtp import FakeSMTP, Received
from tests.helpers import EXAMPLES

PUBLIC_URL = "https://news.example.org"


def _config(store_url: str, port: int) -> object:
    from bot.config import Config, EmailConfig

    cfg = EmailConfig(type="email", smtp_host="127.0.0.1", smtp_port=port, security="none",
                      timeout="10s", list_name="Drava-Karawanken News",
                      unsubscribe_mailto="unsubscribe@drava-karawanken.example",
                      bounce_domain="bounces.drava-karawanken.example",
                      **{"from": "Drava-Karawanken News <news@drava-karawanken.example>",
                         "reply_to": "press@drava-karawanken.example"})
    return Config(bot={"database_url": store_url, "public_url": PUBLIC_URL,
                       "secret_key": "spamassassin-check-key-0123456789"},
                  channels={"newsletter": cfg})


def _send(folder: Path, fake: FakeSMTP) -> dict[str, Received]:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from bot import subscribers
    from bot.models import PostStatus
    from bot.render import render, render_digest, targets
    from bot.sources.files import read_release_file
    from bot.store import Store
    from bot.store import posts as post_store
    from bot.web.public import public_routes
    from channels.email import EmailChannel, SmtpConnector

    store = Store(f"sqlite:///{folder}/sa.db")
    config = _config(store.url, fake.port)
    cfg = config.channels["newsletter"]  # type: ignore[attr-defined]
    subscribers.add(store, "reader@example.net", name="Ana Novak")
    [target] = targets(config)  # type: ignore[arg-type]
    releases = [read_release_file(p, source="press", key=p.name,
                                  base_url="https://www.drava-karawanken.example/news/")
                for p in sorted(EXAMPLES.iterdir())]
    channel = EmailChannel("newsletter", cfg, config=config, store=store,  # type: ignore[arg-type]
                           smtp=SmtpConnector(cfg, local_hostname="mail.drava-karawanken.example"))
    got: dict[str, Received] = {}
    for label, rendered in (("newsletter", render(releases[1], target, config)),  # type: ignore[arg-type]
                            ("digest", render_digest(releases, target, config))):  # type: ignore[arg-type]
        with store.begin() as conn:
            post = post_store.require(conn, post_store.insert(
                conn, channel="newsletter", status=PostStatus.APPROVED, actor="check",
                release_id=None, title=rendered.subject, subject=rendered.subject,
                text=rendered.text, html=rendered.html))
        asyncio.run(channel.publish(post))
        got[label] = fake.messages[-1]
    routes = public_routes(config, store,  # type: ignore[arg-type]
                           smtp=SmtpConnector(cfg, local_hostname="web.drava-karawanken.example"))
    with TestClient(Starlette(routes=routes), base_url=PUBLIC_URL) as web:
        web.post("/subscribe", data={"email": "new.reader@example.net", "name": "Marko"})
    got["confirmation"] = fake.messages[-1]
    store.dispose()
    return got


def _as_delivered(received: Received) -> bytes:
    """What a receiving MTA would store: the envelope sender as Return-Path on top. No
    made-up Received line: its address would be scored (a documentation range is
    RCVD_ILLEGAL_IP), not pressbot's message."""
    return f"Return-Path: <{received.mail_from}>\r\n".encode() + received.data


def score(data: bytes) -> tuple[float, str]:
    """(score, "rule points, …") from `spamassassin -t -L`'s report."""
    result = subprocess.run(["spamassassin", "-t", "-L"], input=data, capture_output=True,
                            timeout=300, check=False)
    out = result.stdout.decode("utf-8", "replace")
    total = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", out, re.M)
    if total is None:
        raise SystemExit(f"no X-Spam-Status in spamassassin's output:\n{out[:2000]}\n"
                         f"{result.stderr.decode()[:2000]}")
    rules = re.findall(r"^\s*(-?\d+\.\d+) ([A-Z0-9_]+) ", out, re.M)
    return float(total.group(1)), ", ".join(f"{name} {points}" for points, name in rules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="also write the messages (.eml) here")
    args = parser.parse_args()
    if shutil.which("spamassassin") is None:  # `make bench` runs every script: skip, say why
        print("skipped: spamassassin is not installed (apt-get install spamassassin)")
        return
    fake = FakeSMTP()
    with fake.running(), tempfile.TemporaryDirectory() as tmp:
        messages = _send(Path(tmp), fake)
    worst = float("-inf")
    for label, received in messages.items():
        data = _as_delivered(received)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"{label}.eml").write_bytes(data)
        value, rules = score(data)
        worst = max(worst, value)
        print(f"{label:<13} {value:6.1f}  {rules}")
    print(f"{'target':<13} {'≤ 0':>6}  {'met' if worst <= 0 else 'NOT met'}")


if __name__ == "__main__":
    main()
