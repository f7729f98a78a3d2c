"""Whether the server that received a mail authenticated its `From` domain (RFC 8601).

Anyone can write an `Authentication-Results` header into a mail they send, so only the
receiving server's own verdict counts: the topmost such header (the last server to add
one is the one nearest the mailbox), and only when it carries the authserv-id the operator
named (`imap_authserv_id`). That server must add the header to every mail it accepts and
drop copies carrying its id from incoming mail, as RFC 8601 §5 asks. A header that cannot
be parsed, that is long enough to be an attack on the parser, or that holds two DMARC or
two SPF verdicts (one smuggled in through a value the sender chose) proves nothing.

The sender counts as authenticated when DMARC passed for exactly the `From` domain, or
when both SPF and DKIM passed for it (strict alignment: the same domain, not a parent).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import getaddresses

import authres

MAX_HEADER = 4000
"""Characters of the header parsed at most (the parser slices its text on every token)."""


def sender_domain(msg: EmailMessage) -> str | None:
    """The domain of the one address in `From`, lowercased; None when there is not one."""
    found = getaddresses([str(v) for v in msg.get_all("From", [])])
    if len(found) != 1 or "@" not in found[0][1]:
        return None
    return found[0][1].rpartition("@")[2].strip().lower() or None


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().lower()


def from_domain_passed(msg: EmailMessage, authserv_id: str | None) -> bool:
    """True when the trusted receiving server says the `From` domain is authentic."""
    headers = msg.get_all("Authentication-Results") or []
    domain = sender_domain(msg)
    if not authserv_id or not headers or domain is None:
        return False
    text = " ".join(str(headers[0]).split())
    if len(text) > MAX_HEADER:
        return False
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(text)
    except authres.AuthResError:
        return False
    if str(parsed.authserv_id).lower() != authserv_id.lower():
        return False
    methods = [str(getattr(r, "method", "")).lower() for r in parsed.results]
    if methods.count("dmarc") > 1 or methods.count("spf") > 1:
        return False  # one verdict each per server: a second one was written into a value
    passed: set[str] = set()
    for method, result in zip(methods, parsed.results, strict=True):
        if str(getattr(result, "result", "")).lower() != "pass":
            continue
        props = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
        if method == "dmarc" and _domain(props.get("header.from", "")) == domain:
            passed.add("dmarc")
        elif method == "spf" and _domain(props.get("smtp.mailfrom", "")) == domain:
            passed.add("spf")
        elif method == "dkim" and _domain(props.get("header.d", "")) == domain:
            passed.add("dkim")
    return "dmarc" in passed or {"spf", "dkim"} <= passed
