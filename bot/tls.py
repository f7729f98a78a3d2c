"""One TLS context for every HTTP client of the process.

Each `httpx.AsyncClient` built without one loads the whole CA bundle into a context of its
own: about 1.2 MB of the service's resident memory per client (the sources' client, the
channels' client, a webhook's). The contexts are identical (certifi's roots, hostname
checks, TLS ≥ 1.2), and an `SSLContext` may serve many connections at once, so the clients
share this one.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def context() -> ssl.SSLContext:
    """httpx's default verifying context, built once."""
    return httpx.create_ssl_context()
