"""`python -m bot.healthcheck`: the container's HEALTHCHECK, without curl in a slim image.

Healthy while `/healthz` answers `ok` or `degraded`: a paused channel or an outage at a
platform answers 503 (it should page someone) but a restart fixes neither, so only
`unhealthy` (database unreachable, scheduler stalled) or no answer fails the check.
The address is `PRESSBOT_WEB__LISTEN` (the Dockerfile's 0.0.0.0:8080), asked on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any


def probe(url: str, timeout: float = 4) -> tuple[bool, str]:
    """Whether the service at `url` is alive, and what it said."""
    try:
        response: Any = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (our own)
    except urllib.error.HTTPError as refused:
        response = refused
    except OSError as exc:
        return False, f"no answer from {url}: {exc}"
    with response:
        try:
            status = json.loads(response.read(65536)).get("status")
        except ValueError:
            return False, f"{url} answered {response.status} without JSON"
    return status in ("ok", "degraded"), f"{url}: {status}"


def main() -> None:
    port = os.environ.get("PRESSBOT_WEB__LISTEN", "127.0.0.1:8080").rpartition(":")[2]
    alive, said = probe(f"http://127.0.0.1:{port}/healthz")
    print(said)
    sys.exit(0 if alive else 1)


if __name__ == "__main__":
    main()
