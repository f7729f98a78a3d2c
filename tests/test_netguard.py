"""netguard: only public http(s) URLs pass, in every spelling a resolver or httpx accepts."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.netguard import (
    NotPublicURL,
    UnresolvedHost,
    check_public,
    ip_is_public,
    is_public_http_url,
)

EXAMPLES = int(os.environ.get("PRESSBOT_FUZZ_EXAMPLES", "100"))

PUBLIC = [
    "https://www.example.org/news/a.jpg",
    "http://presse.example.de:8080/img.png?x=1",
    "https://8.8.8.8/a.png",
    "https://[2001:4860:4860::8888]/a.png",
    "https://[::ffff:8.8.8.8]/a.png",
    "https://example.com./trailing-dot.png",
    "HTTPS://WWW.EXAMPLE.ORG/UPPER.PNG",
    "https://bücher.example.com/a.png",
]
PRIVATE = [
    "http://127.0.0.1/a.png",
    "http://127.0.0.1:8080/a.png",
    "http://127.1/a.png",                      # inet_aton shorthand
    "http://2130706433/a.png",                 # 127.0.0.1 as one decimal number
    "http://0x7f.0.0.1/a.png",                 # hex part
    "http://0177.0.0.1/a.png",                 # octal part
    "http://0/a.png",                          # 0.0.0.0
    "http://１２７.０.０.１/a.png",            # full-width digits and dots (NFKC)
    "http://127。0。0。1/a.png",               # ideographic full stops (IDNA maps them)
    "http://[::1]/a.png",
    "http://[::ffff:127.0.0.1]/a.png",         # IPv4-mapped loopback
    "http://[::ffff:10.1.2.3]/a.png",
    "http://[2002:7f00:1::]/a.png",            # 6to4 around 127.0.0.1
    "http://[64:ff9b::a00:1]/a.png",           # NAT64 around 10.0.0.1
    "http://[fe80::1%25eth0]/a.png",           # link-local with a zone
    "http://[fc00::1]/a.png",                  # unique local
    "http://10.0.0.5/a.png",
    "http://172.16.3.4/a.png",
    "http://192.168.1.1/a.png",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata service
    "http://100.64.0.1/a.png",                 # carrier-grade NAT (shared)
    "http://224.0.0.1/a.png",                  # multicast
    "http://240.0.0.1/a.png",                  # reserved
    "http://255.255.255.255/a.png",
    "http://localhost/a.png",
    "http://LOCALHOST./a.png",
    "http://images.localhost/a.png",
    "http://printer.local/a.png",
    "http://metadata.google.internal/a.png",
    "http://intranet/a.png",                   # one-label name: a LAN host
    "http://router.home.arpa/a.png",
    "http://example.org\\@127.0.0.1/a.png",    # httpx and urlsplit both read 127.0.0.1
    "http://a@b@127.0.0.1/a.png",
]
NOT_HTTP = [
    "file:///etc/passwd",
    "ftp://example.org/a.png",
    "gopher://example.org:70/_",
    "javascript:alert(1)",
    "data:image/png;base64,iVBORw0KGgo=",
    "/relative/a.png",
    "//example.org/a.png",
    "",
    "http://",
    "http://example.org:notaport/a.png",
]


@pytest.mark.parametrize("url", PUBLIC)
def test_public_urls_pass(url: str) -> None:
    assert is_public_http_url(url, allow_private=False)


@pytest.mark.parametrize("url", PRIVATE)
def test_private_and_loopback_hosts_are_refused_unless_allowed(url: str) -> None:
    assert not is_public_http_url(url, allow_private=False)
    assert is_public_http_url(url, allow_private=True)


@pytest.mark.parametrize("url", NOT_HTTP)
def test_other_schemes_are_refused_even_when_private_is_allowed(url: str) -> None:
    assert not is_public_http_url(url, allow_private=False)
    assert not is_public_http_url(url, allow_private=True)


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("::", False), ("0.0.0.0", False),
    ("::ffff:192.168.0.1", False), ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", True),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo whose client is 127.0.0.1
    ("198.18.0.1", False), ("192.0.2.1", False), ("ff02::1", False),
])
def test_ip_is_public(address: str, public: bool) -> None:
    assert ip_is_public(ipaddress.ip_address(address)) is public


# ---------------------------------------------------------------- resolver


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The running loop's getaddrinfo answers from this table: tests never use real DNS."""
    table: dict[str, list[str]] = {}
    asked: list[str] = []

    async def getaddrinfo(host: str, port: Any, *args: Any, **kw: Any) -> list[Any]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in table[host]]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo",
                        lambda self, *a, **kw: getaddrinfo(*a, **kw))
    table["__asked__"] = asked  # type: ignore[assignment]
    return table


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_check_public_accepts_names_resolving_to_public_addresses(
        fake_dns: dict[str, list[str]]) -> None:
    fake_dns["images.example.org"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    run(check_public("https://images.example.org/a.png", False))
    assert fake_dns["__asked__"] == ["images.example.org"]


@pytest.mark.parametrize("answers", [["127.0.0.1"], ["93.184.216.34", "10.0.0.7"],
                                     ["::1"], ["fe80::1%eth0"], ["169.254.169.254"]])
def test_check_public_refuses_names_resolving_to_private_addresses(
        fake_dns: dict[str, list[str]], answers: list[str]) -> None:
    fake_dns["rebind.example.org"] = answers
    with pytest.raises(NotPublicURL, match=r"rebind\.example\.org resolves to"):
        run(check_public("http://rebind.example.org/a.png", False))
    run(check_public("http://rebind.example.org/a.png", True))  # allowed: no DNS needed


def test_check_public_fails_closed_when_the_name_does_not_resolve(
        fake_dns: dict[str, list[str]]) -> None:
    with pytest.raises(UnresolvedHost, match=r"cannot resolve nowhere\.example\.org"):
        run(check_public("https://nowhere.example.org/a.png", False))


def test_check_public_refuses_without_dns_what_is_plainly_private(
        fake_dns: dict[str, list[str]]) -> None:
    for url in ("http://127.1/a.png", "http://localhost/a.png", "file:///etc/passwd"):
        with pytest.raises(NotPublicURL, match="refusing to fetch"):
            run(check_public(url, False))
    with pytest.raises(NotPublicURL, match="only http"):
        run(check_public("file:///etc/passwd", True))
    run(check_public("http://8.8.8.8/a.png", False))
    assert fake_dns["__asked__"] == []  # literals and local names never reach the resolver


def test_messages_quote_the_url_but_never_a_huge_one() -> None:
    url = "http://127.0.0.1/" + "a" * 5000
    with pytest.raises(NotPublicURL) as caught:
        run(check_public(url, False))
    assert "127.0.0.1" in str(caught.value)
    assert len(str(caught.value)) < 400


# ---------------------------------------------------------------- agreement with httpx

_hosts = st.one_of(
    st.sampled_from(["example.org", "127.0.0.1", "127.1", "2130706433", "0x7f.1", "[::1]",
                     "[::ffff:7f00:1]", "10.1.2.3", "localhost", "LocalHost.", "a.local",
                     "8.8.8.8", "１２７.０.０.１", "127。0。0。1", "[2606:4700::1111]", "0",
                     "example.org\\@127.0.0.1", "user@127.0.0.1", "127.0.0.1@example.org",
                     "intranet", "xn--bcher-kva.example"]),
    st.from_regex(r"[0-9a-fx.]{1,20}", fullmatch=True),
    st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "file"]), host=_hosts,
       port=st.sampled_from(["", ":80", ":8080", ":0"]),
       path=st.sampled_from(["/", "/a.png", "/#@evil.example", "?@x", ""]))
def test_whatever_httpx_would_connect_to_is_public_when_we_say_so(
        scheme: str, host: str, port: str, path: str) -> None:
    url = f"{scheme}://{host}{port}{path}"
    if not is_public_http_url(url, allow_private=False):
        return
    try:
        target = httpx.URL(url)  # what the client would really connect to
    except httpx.InvalidURL:  # e.g. "01.0.0.0": httpx refuses to connect at all
        return
    assert target.scheme in ("http", "https")
    name = target.host.rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        try:  # the resolver reads these loose IPv4 spellings too
            ip = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            ip = None
    if ip is not None:
        assert ip_is_public(ip), url
    else:
        assert name != "localhost", url
        assert "." in name, url
