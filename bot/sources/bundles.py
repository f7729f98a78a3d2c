"""One release per subfolder: its text file plus the pictures beside it.

Press offices often keep a release as a folder — the text and the photos that go with
it. When a subfolder of a folder source holds exactly one content file, that file is
the release and every picture in the subfolder is attached to it, in the order the front
matter names them, then by file name. Alt text comes from the front matter (`image:` as
a list of `{src, alt}`, or `image` with `image_alt`), else from an `images.yaml` sidecar
mapping file names to alt text (`bus.jpg: An electric bus at the border crossing`);
a picture with neither is attached without one, and the posts warn.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.errors import ExtractError
from bot.models import Image, Release

__all__ = ["IMAGE_SUFFIXES", "SIDECARS", "attach_pictures", "bundle_files"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
SIDECARS = ("images.yaml", "images.yml")


def bundle_files(folder: Path) -> list[Path]:
    """The pictures and sidecar of a release folder: what its fingerprint covers."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".")
                  and (p.suffix.lower() in IMAGE_SUFFIXES or p.name.lower() in SIDECARS))


def _sidecar(folder: Path) -> dict[str, str]:
    import yaml

    for name in SIDECARS:
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ExtractError(f"{path}: not a readable YAML file of 'picture.jpg: alt text'"
                               f" lines ({' '.join(str(exc).split())[:160]})") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ExtractError(f"{path}: expected 'picture.jpg: alt text' lines")
        return {str(k).strip(): " ".join(str(v).split()) for k, v in data.items()
                if v is not None}
    return {}


def _file_name(url: str) -> str:
    return Path(unquote(urlsplit(url).path)).name


def _front_alt(content: Path | None) -> str:
    """`image_alt` of the release's front matter: with no `image:` it names no picture,
    so it is only known here, where the one picture it can mean is found."""
    if content is None or content.suffix.lower() not in (".md", ".markdown"):
        return ""
    from bot.sources.files import _front_matter, _read_text, _text_value

    meta, _ = _front_matter(_read_text(content), content)
    return _text_value(meta.get("image_alt")) or ""


def attach_pictures(release: Release, folder: Path, content: Path | None = None) -> Release:
    """The release with the folder's pictures as its images (local paths, with alt text).

    `content` is the release's own file: in a one-picture folder its `image_alt` (without
    an `image:` list) is that picture's alt text."""
    pictures = {p.name: p for p in bundle_files(folder) if p.suffix.lower() in IMAGE_SUFFIXES}
    if not pictures:
        return release
    alts = _sidecar(folder)
    if len(pictures) == 1 and not release.images:
        [only] = pictures
        alts[only] = _front_alt(content) or alts.get(only, "")  # the front matter wins
    named: list[tuple[str, str]] = []  # front-matter images that are these files, in order
    others: list[Image] = []
    for image in release.images:
        name = _file_name(image.url)
        # `image: bus.jpg` arrives resolved against base_url: the name says which file
        if name in pictures:
            named.append((name, image.alt))
        else:
            others.append(image)
    order = [n for n, _ in named] + [n for n in sorted(pictures) if n not in dict(named)]
    given = dict(named)
    images = [Image(url=str(pictures[n].resolve()), alt=given.get(n) or alts.get(n, ""))
              for n in order]
    return release.model_copy(update={"images": [*images, *others]})
