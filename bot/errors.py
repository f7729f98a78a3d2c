"""The one root of every error pressbot raises on purpose.

    PressbotError
    ├── ConfigError        bad config: names the file, the key and what was expected (exit 2)
    ├── SourceError        one source could not be read; the others go on
    ├── ExtractError       a file held no recognisable release (no title, binary, unreadable)
    ├── TemplateError      a template failed: names the file and line; holds that post only
    ├── WorkflowError      an illegal transition (approve a published post, …)
    │   └── LostClaim      another worker took this worker's post over: stop, write nothing
    └── ChannelError       see `channels.base`: Transient, Permanent, Ambiguous

Messages say which thing, which value and what to do; they never carry a secret
(`bot.redact` scrubs every configured secret from text before it is shown or logged).
"""

from __future__ import annotations


class PressbotError(Exception):
    """Root of pressbot's own errors."""


class ConfigError(PressbotError):
    """The configuration cannot be used as written."""


class SourceError(PressbotError):
    """One source could not be read this time."""


class ExtractError(PressbotError):
    """A content file held no release pressbot could understand."""


class TemplateError(PressbotError):
    """A template could not be rendered; `where` is `file:line` when known."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class WorkflowError(PressbotError):
    """A status change the workflow does not allow."""


class LostClaim(WorkflowError):
    """This worker's claim on a post is no longer the current one.

    Its lease ran out while it was paused (SIGSTOP, a GC pause, a frozen VM) and another
    worker claimed the post: whatever this worker still holds in memory is stale, so it
    sends nothing more and records nothing.
    """
