"""Prometheus counters and histograms of one service instance (its own registry)."""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

#: Content type of the text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The service's metrics.

    Each instance owns a registry, so two services in one process (tests) do not share
    counters. When ``PROMETHEUS_MULTIPROC_DIR`` is set (several uvicorn workers),
    :meth:`render` aggregates every worker's files.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "riskdesk_http_requests", "HTTP requests by route and status.",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "riskdesk_http_request_seconds", "HTTP request latency by route.",
            ["method", "route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
        self.decisions = Counter(
            "riskdesk_decisions", "Decisions made, by action.", ["action"],
            registry=self.registry)
        self.replays = Counter(
            "riskdesk_idempotent_replays", "Requests answered from a stored idempotent answer.",
            registry=self.registry)
        self.auth_failures = Counter(
            "riskdesk_auth_failures", "Requests refused for a missing, unknown or weak key.",
            ["reason"], registry=self.registry)
        self.bad_input = Counter(
            "riskdesk_bad_input", "Requests refused as invalid (422).", registry=self.registry)
        self.store_unavailable = Counter(
            "riskdesk_store_unavailable",
            "Requests refused because the database was unavailable (503).",
            registry=self.registry)
        self.trading_state = Gauge(
            "riskdesk_trading_halted", "1 when trading is halted or reduce-only, else 0.",
            registry=self.registry, multiprocess_mode="livemax")

    def render(self) -> bytes:
        """The text exposition of every metric."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))
