"""Campaign tags on outgoing links, and URL keys for dedup."""

from __future__ import annotations

import pytest

from bot.links import add_utm, is_http_url, normalise_url


@pytest.mark.parametrize(("url", "args", "expected"), [
    ("https://example.org/news/a", ("mastodon", "social", "spring"),
     "https://example.org/news/a?utm_source=mastodon&utm_medium=social&utm_campaign=spring"),
    ("https://example.org/news/a", ("mastodon", None, None),
     "https://example.org/news/a?utm_source=mastodon"),
    ("https://example.org/news/a", (None, "email", ""),
     "https://example.org/news/a?utm_medium=email"),
    ("https://example.org/a?id=3&lang=fr#top", ("fb", None, None),
     "https://example.org/a?id=3&lang=fr&utm_source=fb#top"),
    ("https://example.org/a?utm_source=press&x=1", ("mastodon", "social", None),
     "https://example.org/a?utm_source=press&x=1&utm_medium=social"),
    ("https://example.org/a?UTM_SOURCE=press", ("mastodon", None, None),
     "https://example.org/a?UTM_SOURCE=press"),
    ("https://example.org/a?q=a%20b&empty=", ("m", None, None),
     "https://example.org/a?q=a%20b&empty=&utm_source=m"),
    ("https://example.org", ("m", None, None), "https://example.org/?utm_source=m"),
    ("https://example.org/a#frag", (None, None, "spring 2025/é"),
     "https://example.org/a?utm_campaign=spring+2025%2F%C3%A9#frag"),
    ("https://example.org/a", (None, None, None), "https://example.org/a"),
    ("mailto:press@example.org", ("m", "n", "o"), "mailto:press@example.org"),
    ("/relative/path", ("m", None, None), "/relative/path"),
    ("ftp://example.org/file", ("m", None, None), "ftp://example.org/file"),
    ("not a url", ("m", None, None), "not a url"),
])
def test_add_utm(url: str, args: tuple[str | None, str | None, str | None],
                 expected: str) -> None:
    assert add_utm(url, *args) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("https://example.org/a", True),
    ("http://127.0.0.1:8080/", True),
    ("HTTPS://EXAMPLE.ORG", True),
    ("example.org", False),
    ("mailto:a@example.org", False),
    ("https://", False),
    ("https://exa mple.org", False),
    ("http://[::1", False),
    ("", False),
])
def test_is_http_url(value: str, expected: bool) -> None:
    assert is_http_url(value) is expected


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTPS://Example.ORG/News/", "https://example.org/News"),
    ("https://example.org:443/a", "https://example.org/a"),
    ("http://example.org:80/a", "http://example.org/a"),
    ("http://example.org:8080/a", "http://example.org:8080/a"),
    ("https://example.org:80/a", "https://example.org:80/a"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/", "https://example.org/"),
    ("https://example.org/a#section", "https://example.org/a"),
    ("https://example.org/a?utm_source=x&id=3&UTM_Medium=y", "https://example.org/a?id=3"),
    ("https://example.org/a?utm_source=x", "https://example.org/a"),
    ("https://example.org/a?b=2&a=1", "https://example.org/a?b=2&a=1"),
    ("http://user:pw@Example.org/a/", "http://user:pw@example.org/a"),
    ("http://[::1]:8080/a/", "http://[::1]:8080/a"),
    ("  https://example.org/a  ", "https://example.org/a"),
    ("mailto:Press@Example.org", "mailto:Press@Example.org"),
])
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_normalise_url_makes_variants_equal() -> None:
    variants = [
        "https://www.example.org/news/budget-2025",
        "https://WWW.example.org/news/budget-2025/",
        "https://www.example.org:443/news/budget-2025?utm_source=feed#comments",
        add_utm("https://www.example.org/news/budget-2025", "mastodon", "social", "x"),
    ]
    assert len({normalise_url(v) for v in variants}) == 1
