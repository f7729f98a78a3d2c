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


class QueueCollector(Collector):
    """Posts by status and channel, read from the store at scrape time."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.store import posts

        gauge = GaugeMetricFamily("pressbot_posts", "Posts by status and channel",
                                  labels=["channel", "status"])
        with self.store.begin() as conn:
            for (channel, status), n in posts.counts(conn).items():
                gauge.add_metric([channel, status], n)
        yield gauge


def attach_store(store: Any) -> None:
    registry.register(QueueCollector(store))


def render() -> bytes:
    return generate_latest(registry)
