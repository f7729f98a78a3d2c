"""Prometheus metrics for `/metrics`: what the service did, and the queue as it is now.

The service counts on every poll and publish, but renders only when something scrapes
`/metrics`: the counting is a few dicts here, and prometheus_client (with the http.server,
wsgiref and urllib modules it imports; ~0.8 MB resident) is loaded by `render`, which hands
it the same samples its own `Counter` and `Histogram` would have made.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.metrics_core import Metric

_lock = threading.Lock()  # counted from the event loop and from worker threads


class _Series:
    """One label set's numbers, and when it was first counted (the `_created` sample)."""

    def __init__(self, buckets: int) -> None:
        self.created = time.time()
        self.value = 0.0
        self.buckets = [0.0] * buckets

    def inc(self, amount: float = 1.0) -> None:
        with _lock:
            self.value += amount

    def observe(self, amount: float, bounds: tuple[float, ...]) -> None:
        with _lock:
            self.value += amount
            bucket = next((i for i, b in enumerate(bounds) if amount <= b), None)
            if bucket is not None:  # NaN falls in none, as in prometheus_client
                self.buckets[bucket] += 1


class _Child:
    def __init__(self, series: _Series, bounds: tuple[float, ...]) -> None:
        self._series, self._bounds = series, bounds

    def inc(self, amount: float = 1.0) -> None:
        self._series.inc(amount)

    def observe(self, amount: float) -> None:
        self._series.observe(amount, self._bounds)


class Family:
    """A counter (`buckets` empty) or a histogram, by label values, as prometheus_client's
    `Counter(...).labels(...).inc()` and `Histogram(...).labels(...).observe()` are used."""

    def __init__(self, name: str, documentation: str, labelnames: Iterable[str],
                 buckets: tuple[float, ...] = ()) -> None:
        self.name = name.removesuffix("_total") if not buckets else name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.bounds = (*buckets, float("inf")) if buckets else ()
        self.series: dict[tuple[str, ...], _Series] = {}
        families.append(self)

    def labels(self, *values: str) -> _Child:
        series = self.series.get(values)
        if series is None:
            with _lock:
                series = self.series.setdefault(values, _Series(len(self.bounds)))
        return _Child(series, self.bounds)

    def metric(self) -> Metric:
        """What prometheus_client's own counter or histogram would collect."""
        from prometheus_client.metrics import _use_created
        from prometheus_client.metrics_core import Metric
        from prometheus_client.utils import floatToGoString

        metric = Metric(self.name, self.documentation, "histogram" if self.bounds else "counter")
        with _lock:
            copied = [(labels, s.value, list(s.buckets), s.created)
                      for labels, s in self.series.items()]
        for values, value, buckets, created in copied:
            labels = dict(zip(self.labelnames, values, strict=True))
            if self.bounds:
                seen = 0.0
                for bound, count in zip(self.bounds, buckets, strict=True):
                    seen += count
                    metric.add_sample(f"{self.name}_bucket",
                                      {**labels, "le": floatToGoString(bound)},  # type: ignore[no-untyped-call]
                                      seen)
                metric.add_sample(f"{self.name}_count", labels, seen)
                metric.add_sample(f"{self.name}_sum", labels, value)
            else:
                metric.add_sample(f"{self.name}_total", labels, value)
            if _use_created:
                metric.add_sample(f"{self.name}_created", labels, created)
        return metric


families: list[Family] = []
publish_seconds = Family("pressbot_publish_seconds", "Time to publish one post", ["channel"],
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
publish_outcomes = Family("pressbot_publish_outcomes_total", "Publish attempts by outcome",
                          ["channel", "outcome"])
retries = Family("pressbot_retries_total", "Publish retries scheduled", ["channel"])
poll_errors = Family("pressbot_poll_errors_total", "Source polls that failed", ["source"])
polls = Family("pressbot_polls_total", "Source polls", ["source"])
holds = Family("pressbot_holds_total", "Posts held for a person, by reason",
               ["channel", "reason"])
pauses = Family("pressbot_channel_pauses_total", "Channels paused by an auth failure",
                ["channel"])
outages = Family("pressbot_channel_outages_total", "Attempts that found the platform down",
                 ["channel"])
reconciles = Family("pressbot_reconciles_total", "Unknown outcomes found on the platform",
                    ["channel"])
lost_claims = Family("pressbot_lost_claims_total",
                     "Sends stopped because another worker took the post over (this worker "
                     "was paused past its lease)", ["channel"])
collectors: list[Any] = []


class QueueCollector:
    """Posts by status and channel, read from the store at scrape time."""

    def __init__(self, store: Any, config: Any = None) -> None:
        self.store = store
        self.config = config

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from prometheus_client.core import GaugeMetricFamily

        from bot import clock
        from bot.health import OVERDUE_AFTER, channel_report
        from bot.store import posts

        gauge = GaugeMetricFamily("pressbot_posts", "Posts by status and channel",
                                  labels=["channel", "status"])
        state = GaugeMetricFamily("pressbot_channel_state",
                                  "1 for the state each channel is in (ok, paused, outage, "
                                  "failing)", labels=["channel", "state"])
        overdue = GaugeMetricFamily("pressbot_overdue_posts",
                                    "Approved posts past their slot by more than 5 minutes",
                                    labels=["channel"])
        now = clock.now()
        with self.store.begin() as conn:
            for (channel, status), n in posts.counts(conn).items():
                gauge.add_metric([channel, status], n)
            if self.config is not None:
                for channel, info in channel_report(conn, self.config, now).items():
                    for kind in ("ok", "paused", "outage", "failing"):
                        state.add_metric([channel, kind], 1 if info["state"] == kind else 0)
            for channel, n in posts.overdue_counts(conn, now - OVERDUE_AFTER).items():
                overdue.add_metric([channel], n)
        yield gauge
        yield state
        yield overdue


class _Counted:
    def collect(self) -> Iterator[Metric]:
        return (family.metric() for family in families)


def attach_store(store: Any, config: Any = None) -> None:
    collectors.append(QueueCollector(store, config))


def render() -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    for collector in (_Counted(), *collectors):
        registry.register(collector)
    return generate_latest(registry)
