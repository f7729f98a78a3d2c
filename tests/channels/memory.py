"""An in-memory channel for core tests: records what it 'sent', fails on request.

Like Django's locmem mail backend: a real implementation of the channel interface, so
the publisher is tested as it runs, with outcomes scripted per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.models import Post, Receipt
from channels.base import Check, Limits

Script = Callable[[Post, int], Exception | None]


@dataclass
class MemoryChannel:
    name: str = "memory"
    limits: Limits = field(default_factory=lambda: Limits(max_chars=500))
    sent: list[Post] = field(default_factory=list)
    calls: int = 0
    lookups: int = 0
    delay: float = 0.0
    script: Script | None = None
    """Called with (post, call number): an exception to raise instead of, or after, sending."""
    fail_after_send: bool = False

    async def check(self) -> Check:
        return Check(ok=True, summary="memory")

    async def publish(self, post: Post) -> Receipt:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        error = self.script(post, self.calls) if self.script else None
        if error is not None and not self.fail_after_send:
            raise error
        if not any(p.id == post.id for p in self.sent):  # idempotent like a keyed API
            self.sent.append(post)
        if error is not None:
            raise error
        return Receipt(remote_id=f"m-{post.id}", remote_url=f"memory://{post.id}")

    async def lookup(self, post: Post) -> Receipt | None:
        self.lookups += 1
        if any(p.id == post.id for p in self.sent):
            return Receipt(remote_id=f"m-{post.id}", remote_url=f"memory://{post.id}")
        return None
