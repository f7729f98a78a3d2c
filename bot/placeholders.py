"""Placeholders the renderer writes into an email and the email channel fills per recipient.

Their own module: the email channel, built when the service starts, needs these strings and
not the renderer (Jinja2, the text fitter with `regex`; ~5 MB resident) that writes them.
"""

UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
GREETING = "%%GREETING%%"
ARCHIVE = "%%ARCHIVE_URL%%"
FOOTER = {"reason": "%%FOOTER_REASON%%", "unsubscribe": "%%FOOTER_UNSUBSCRIBE%%",
          "view": "%%FOOTER_VIEW%%"}
"""Filled per recipient (per post: ARCHIVE) at send time; FOOTER's words in the
subscriber's language (`channels.email.words`)."""
