"""Prometheus metrics for `/metrics`: what the service did, and the queue as it is now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

registry = CollectorRegistry()
publish_seconds = Histogram("pressbot_publish_seconds", "Time to publish one post",
                            ["channel"], registry=registry,
                            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
publish_outcomes = Counter("pressbot_publish_outcomes_total", "Publish attempts by outcome",
                           ["channel", "outcome"], registry=registry)
retries = Counter("pressbot_retries_total", "Publish retries scheduled", ["channel"],
                  registry=registry)
poll_errors = Counter("pressbot_poll_errors_total", "Source polls that failed", ["source"],
                      registry=registry)
polls = Counter("pressbot_polls_total", "Source polls", ["source"], registry=registry)
holds = Counter("pressbot_holds_total", "Posts held for a person, by reason",
                ["channel", "reason"], registry=registry)
pauses = Counter("pressbot_channel_pauses_total", "Channels paused by an auth failure",
                 ["channel"], registry=registry)
outages = Counter("pressbot_channel_outages_total", "Attempts that found the platform down",
                  ["channel"], registry=registry)
reconciles = Counter("pressbot_reconciles_total", "Unknown outcomes found on the platform",
                     ["channel"], registry=registry)
lost_claims = Counter("pressbot_lost_claims_total",
                      "Sends stopped because another worker took the post over (this worker "
                      "was paused past its lease)", ["channel"], registry=registry)


class QueueCollector(Collector):
    """Posts by status and channel, read from the store at scrape time."""

    def __init__(self, store: Any, config: Any = None) -> None:
        self.store = store
        self.config = config

    def collect(self) -> Iterator[GaugeMetricFamily]:
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


def attach_store(store: Any, config: Any = None) -> None:
    registry.register(QueueCollector(store, config))


def render() -> bytes:
    return generate_latest(registry)
