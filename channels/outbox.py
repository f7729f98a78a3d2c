"""The dry-run channel: every post becomes a readable file in the outbox folder.

Like Django's file-based mail backend, it is a real channel, so a dry run goes through
every status and gets a receipt. The file name is derived from the post id, so
publishing the same post twice writes the same file once: publish is idempotent and
`lookup` finds an earlier publication by looking for the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from bot.models import Post, Receipt
from channels.base import Check, Limits


class OutboxChannel:
    """Writes `<outbox>/<channel>/post-<id>.txt` (plus `.html` and `.eml` for email)."""

    def __init__(self, name: str, limits: Limits, folder: Path, *, echo: bool = False,
                 eml: Callable[[Post], bytes] | None = None) -> None:
        self.name = name
        self.limits = limits
        self.folder = folder / name
        self.echo = echo
        self.eml = eml

    def _path(self, post: Post) -> Path:
        return self.folder / f"post-{post.id}.txt"

    async def check(self) -> Check:
        self.folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(self.folder, os.W_OK)
        return Check(ok=writable, summary=f"dry run: posts are written to {self.folder}")

    async def publish(self, post: Post) -> Receipt:
        path = self._path(post)
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            lines = [f"channel: {self.name}", f"post: {post.id}"]
            if post.subject:
                lines.append(f"subject: {post.subject}")
            if post.link:
                lines.append(f"link: {post.link}")
            for image in post.images:
                lines.append(f"image: {image.url} (alt: {image.alt or '—'})")
            content = "\n".join(lines) + "\n\n" + post.text.rstrip() + "\n"
            _write_atomic(path, content)
            if post.html:
                _write_atomic(path.with_suffix(".html"), post.html)
            if self.eml is not None:
                _write_atomic(path.with_suffix(".eml"), self.eml(post).decode("utf-8",
                                                                          "surrogateescape"))
            _write_atomic(path.with_suffix(".json"), json.dumps(
                post.model_dump(mode="json", include={"id", "channel", "text", "subject",
                                                      "link", "language"}), indent=2))
            if self.echo:
                print(f"── {self.name} · post {post.id} → {path}\n{post.text.rstrip()}\n")
        return Receipt(remote_id=f"outbox-{post.id}", remote_url=path.resolve().as_uri())

    async def lookup(self, post: Post) -> Receipt | None:
        path = self._path(post)
        if path.exists():
            return Receipt(remote_id=f"outbox-{post.id}", remote_url=path.resolve().as_uri())
        return None


def _write_atomic(path: Path, content: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a post."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
