"""`/metrics` says what prometheus_client's own counters and histograms would have said.

The service counts in `bot.metrics` without loading prometheus_client (it is loaded when
something scrapes); the text a scraper reads must not change for that.
"""

from __future__ import annotations

import math
import re

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bot import metrics


def _created_as_t(text: bytes) -> str:
    """The `_created` stamps differ by the microseconds between two objects' creation."""
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text.decode())


def test_counted_samples_render_as_prometheus_clients_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for family in metrics.families:  # what other tests in this process counted
        monkeypatch.setattr(family, "series", {})
    monkeypatch.setattr(metrics, "collectors", [])
    theirs = CollectorRegistry()
    kinds = []
    for family in metrics.families:
        if family.bounds:
            kinds.append(Histogram(family.name, family.documentation, family.labelnames,
                                   buckets=family.bounds[:-1], registry=theirs))
        else:
            kinds.append(Counter(family.name, family.documentation, family.labelnames,
                                 registry=theirs))
    for ours, own in zip(metrics.families, kinds, strict=True):
        if ours is metrics.publish_seconds:
            for seconds in (0.01, 0.05, 0.3, 7.0, 100.0, math.nan):
                ours.labels("mastodon").observe(seconds)
                own.labels("mastodon").observe(seconds)  # type: ignore[attr-defined]
        elif ours is metrics.polls:
            for source in ("news", "news", "press"):
                ours.labels(source).inc()
                own.labels(source).inc()  # type: ignore[attr-defined]
        elif ours is metrics.holds:
            ours.labels("mastodon", "stale").inc(2)
            own.labels("mastodon", "stale").inc(2)  # type: ignore[attr-defined]
    ours_text = _created_as_t(metrics.render())
    assert "pressbot_polls_total" in ours_text and "pressbot_publish_seconds_bucket" in ours_text
    assert ours_text == _created_as_t(generate_latest(theirs))
