"""The service's stop signals, caught before anything heavy is imported."""

from __future__ import annotations

import signal


class EarlyStop:
    """SIGTERM/SIGINT caught from the first line of `run`, before the event loop takes them.

    Start-up (configuration, migrations, imports) takes a second or more: a SIGTERM then
    killed the process (exit 143) and a SIGINT raised KeyboardInterrupt wherever it
    landed. Now the signal is remembered, and the service stops as soon as it is up, as
    cleanly as it would later (exit 0, no traceback)."""

    def __init__(self) -> None:
        self.received: int | None = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._note)

    def _note(self, sig: int, _frame: object) -> None:
        self.received = sig
