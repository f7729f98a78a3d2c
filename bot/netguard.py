"""Which URLs pressbot may fetch on a stranger's say-so: public http(s) only.

Feeds hand us image addresses written by whoever controls the feed. Fetched blindly, one
pointing at `http://127.0.0.1:8080/`, `http://169.254.169.254/` (a cloud's metadata
service) or a printer on the office LAN turns the bot into a proxy into its own network
(SSRF), and the answer would even be uploaded to Mastodon for the world to read.

Two checks, for two moments:
- `is_public_http_url` needs no network, so a parser can use it: it refuses other schemes,
  IP literals that are not global (in every spelling `getaddrinfo` accepts: `127.1`,
  `2130706433`, `0x7f.0.0.1`, `[::ffff:127.0.0.1]`, full-width digits) and names that
  only ever mean this machine or a private network (`localhost`, `*.local`, one-label
  names like `intranet`).
- `check_public` also resolves the name, just before a fetch, and refuses it when any
  address it resolves to is not public.
A name can resolve differently a second later (DNS rebinding); pinning the address for
the connection itself would need a custom transport, so the check narrows the window
rather than closing it. `allow_private=True` (a source's `allow_private_images`) keeps
only the scheme check, for intranet deployments whose images really live on the LAN.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from urllib.parse import urlsplit

from bot.errors import PressbotError

__all__ = ["NotPublicURL", "UnresolvedHost", "check_public", "ip_is_public",
           "is_public_http_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES = ("http", "https")
# Names that never leave the machine or the local network, whatever DNS says.
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost",
                          "ip6-loopback", "broadcasthost"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".lan", ".home.arpa",
                   ".intranet", ".corp", ".private")
# Dots other than "." that IDNA (UTS 46) maps to "." before the name reaches the resolver.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# What inet_aton reads as an IPv4 address: 1 to 4 parts, decimal, octal or hex.
_LOOSE_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class NotPublicURL(PressbotError):
    """A URL that must not be fetched: not http(s), or its host is not on the public internet."""


class UnresolvedHost(NotPublicURL):
    """The host's name did not resolve, so it could not be checked (often temporary)."""


def _host(url: str) -> str | None:
    """The URL's host as the resolver will see it, or None when there is none."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname  # lower-cased, brackets of an IPv6 literal removed
        parts.port  # noqa: B018 — raises ValueError for a port that is not a number
    except ValueError:
        return None
    if not host:
        return None
    host = unicodedata.normalize("NFKC", host).translate(_DOTS).lower()
    return host.rstrip(".") or None


def _as_ip(host: str) -> IPAddress | None:
    """The address an IP-literal host stands for, in any spelling the resolver accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if "%" in host:  # an IPv6 zone index: only meaningful on this machine's own links
        return ipaddress.ip_address("::1")
    if _LOOSE_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def ip_is_public(ip: IPAddress) -> bool:
    """A global unicast address: not loopback, private, link-local, shared, reserved,
    multicast or unspecified, also when an IPv4 address hides inside an IPv6 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return ip_is_public(embedded)
        if ip.teredo:
            return ip_is_public(ip.teredo[1])
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback
                                 or ip.is_link_local or ip.is_private or ip.is_unspecified)


def _local_name(host: str) -> bool:
    return host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or "." not in host


def _refusal(url: str, *, allow_private: bool) -> str | None:
    """Why `url` must not be fetched, judged without the network; None when it may be."""
    scheme = url.strip().split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in _SCHEMES:
        return f"only http(s) URLs are fetched: {_shown(url)}"
    host = _host(url)
    if host is None:
        return f"no host in the URL: {_shown(url)}"
    if allow_private:
        return None
    ip = _as_ip(host)
    if ip is not None:
        if not ip_is_public(ip):
            return f"{host} is a loopback, private or reserved address: {_shown(url)}"
        return None
    if _local_name(host):
        return f"{host} names this machine or a local network: {_shown(url)}"
    return None


def _shown(url: str) -> str:
    return repr(url[:200] + ("…" if len(url) > 200 else ""))


def is_public_http_url(url: str, *, allow_private: bool) -> bool:
    """Whether `url` is http(s) with a host that may be public, judged without DNS."""
    return _refusal(url, allow_private=allow_private) is None


async def check_public(url: str, allow_private: bool) -> None:
    """Raise NotPublicURL unless `url` is http(s) and its host resolves to public addresses
    only (with `allow_private`, only the scheme and host are checked)."""
    reason = _refusal(url, allow_private=allow_private)
    if reason:
        raise NotPublicURL(f"refusing to fetch: {reason}")
    if allow_private:
        return
    host = _host(url)
    assert host is not None  # _refusal checked it
    if _as_ip(host) is not None:
        return
    try:
        port = urlsplit(url.strip()).port
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnresolvedHost(f"refusing to fetch: cannot resolve {host} to check it is a "
                             f"public address ({exc}): {_shown(url)}") from None
    for *_, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if not ip_is_public(ipaddress.ip_address(address)):
            raise NotPublicURL(f"refusing to fetch: {host} resolves to {address}, a loopback, "
                               f"private or reserved address: {_shown(url)}")
