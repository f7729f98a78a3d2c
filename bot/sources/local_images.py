"""A folder release's images on disk: only files inside the source's own folder.

A release names its image as its author wrote it — front matter `image:`, a Markdown
`![]()`, a pasted page's `og:image`. Read blindly, `image: /etc/pressbot/pressbot.toml` or
`file:///…` would upload the config with its tokens to a public timeline. So an image that
is not an http(s) URL must be a file (a path or a `file:` URL) under the folder (after
resolving symlinks, so a link cannot lead out of it) whose bytes say it is a picture;
anything else is left out with a warning naming the file and the image. The channels read
only what is kept.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.models import Image, Release

log = logging.getLogger("pressbot.fetch")
_HEAD = 16


def confine_images(release: Release, root: Path, file: Path) -> Release:
    """The release with its local images checked (absolute paths) and the others dropped."""
    kept: list[Image] = []
    for image in release.images:
        scheme = urlsplit(image.url).scheme.lower()
        if scheme in ("http", "https"):
            kept.append(image)
            continue
        reason, path = _local(image.url, scheme, root, file)
        if reason:
            log.warning("%s: image %r left out: %s", file, image.url[:200], reason)
            continue
        kept.append(image.model_copy(update={"url": str(path)}))
    if len(kept) == len(release.images) and all(
            a.url == b.url for a, b in zip(kept, release.images, strict=True)):
        return release
    return release.model_copy(update={"images": kept})


def _local(url: str, scheme: str, root: Path, file: Path) -> tuple[str | None, Path | None]:
    if scheme == "file":
        url = urlsplit(url).path   # `file:///…` is a path like any other: confined below
    elif scheme:
        return (f"only http(s) addresses and files of the content folder are used, not "
                f"{scheme}:"), None
    candidate = Path(unquote(url))
    if not candidate.is_absolute():
        candidate = file.parent / candidate
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return "no such file", None
    if not real.is_relative_to(root.resolve()):
        return f"outside the source's folder {root}", None
    if not real.is_file():
        return "not a file", None
    from channels.images import sniff

    try:
        with real.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError as exc:
        return f"cannot read it ({exc.strerror})", None
    if sniff(head) is None:
        return "not an image (PNG, JPEG, GIF or WebP by its content)", None
    return None, real
