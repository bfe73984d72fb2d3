"""Prometheus metrics of one service instance (its own registry) and its account gauges.

The counters and histograms are updated by the requests; the account gauges are read when
``/metrics`` is scraped, in the scraping process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from riskdesk.domain import TradingState
from riskdesk.limits import CapitalStatusLevel, MarginZone

#: Content type of the text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

log = logging.getLogger("riskdesk.service")


@dataclass(frozen=True, slots=True)
class AccountGauges:
    """The account's risk state as ``/metrics`` exports it, read from the service's views.

    Money is in the account's currency; ratios are fractions (0.16 = 16 %).
    """

    equity: float
    available: float
    margin_used_ratio: float
    drawdown_ratio: float
    breaker_tripped: bool
    reserved_notional: float
    reserved_margin: float
    reserved_orders: int
    margin_zone: str
    capital_status: str
    trading_state: str

    @classmethod
    def from_views(cls, capital: Mapping[str, Any], margin: Mapping[str, Any],
                   drawdown: Mapping[str, Any]) -> AccountGauges:
        """The gauges of the capital state (with ``reserved``), margin and drawdown views.

        Parameters
        ----------
        capital
            :meth:`Service.capital_state`'s view, with its ``reserved`` block.
        margin
            :meth:`Service.margin_status`'s view.
        drawdown
            :meth:`Service.drawdown_status`'s view (breaker and effective trading state).
        """
        reserved = capital["reserved"]
        return cls(
            equity=float(capital["equity"]),
            available=float(capital["available_balance"]),
            margin_used_ratio=float(margin["margin_used_pct"]) / 100.0,
            drawdown_ratio=float(capital["drawdown_pct"]) / 100.0,
            breaker_tripped=bool(drawdown["breaker_tripped"]),
            reserved_notional=float(reserved["notional"]),
            reserved_margin=float(reserved["margin"]),
            reserved_orders=int(reserved["count"]),
            margin_zone=str(margin["zone"]),
            capital_status=str(capital["capital_status"]),
            trading_state=str(drawdown["trading_state"]),
        )

    def families(self) -> list[Metric]:
        """The gauges as metric families."""
        out = [
            _gauge("riskdesk_account_equity", "Account equity (account currency).",
                   self.equity),
            _gauge("riskdesk_account_available", "Available balance (account currency).",
                   self.available),
            _gauge("riskdesk_margin_used_ratio",
                   "Margin used as a fraction of equity (0..1), as the margin monitor reads "
                   "it.", self.margin_used_ratio),
            _gauge("riskdesk_drawdown_ratio",
                   "Drawdown from the high-water mark as a fraction (0..1).",
                   self.drawdown_ratio),
            _gauge("riskdesk_breaker_tripped",
                   "1 while the drawdown circuit breaker is tripped, else 0.",
                   1.0 if self.breaker_tripped else 0.0),
            _gauge("riskdesk_reserved_notional",
                   "Notional held by pending orders' active reservations (account currency).",
                   self.reserved_notional),
            _gauge("riskdesk_reserved_margin",
                   "Margin held by pending orders' active reservations (account currency).",
                   self.reserved_margin),
            _gauge("riskdesk_reserved_orders",
                   "Pending orders holding budget (active reservations).",
                   float(self.reserved_orders)),
        ]
        out.append(_state("riskdesk_margin_zone", "Margin zone: 1 for the current one.",
                          "zone", MarginZone, self.margin_zone))
        out.append(_state("riskdesk_capital_status", "Capital status: 1 for the current one.",
                          "status", CapitalStatusLevel, self.capital_status))
        out.append(_state("riskdesk_trading_state",
                          "Effective trading state (operator and breaker): 1 for the current "
                          "one.", "state", TradingState, self.trading_state))
        return out


def _gauge(name: str, documentation: str, value: float) -> Metric:
    return GaugeMetricFamily(name, documentation, value=value)


def _state(name: str, documentation: str, label: str, states: type[StrEnum],
           current: str) -> Metric:
    """One series per state, 1 for ``current`` and 0 for the others."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    names = [s.value for s in states]
    if current not in names:
        names.append(current)
    for state in names:
        family.add_metric([state], 1.0 if state == current else 0.0)
    return family


class _Families:
    """Metric families collected once (a collector for :func:`generate_latest`)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


class Metrics:
    """The service's metrics.

    Each instance owns a registry, so two services in one process (tests) do not share
    counters. When ``PROMETHEUS_MULTIPROC_DIR`` is set (several uvicorn workers),
    :meth:`render` aggregates every worker's files.

    Parameters
    ----------
    account
        Reads the account's gauges; called by :meth:`render` in the scraping process, so the
        one account appears once whatever the number of workers. ``None`` exports none.
    """

    def __init__(self, account: Callable[[], AccountGauges] | None = None) -> None:
        self.account = account
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
        # Set by the worker that answers a scrape, from the stored state, just before it
        # renders: with several workers its value is the most recent one, not the largest
        # (a worker that last saw a halt would keep a resumed desk at 1).
        self.trading_state = Gauge(
            "riskdesk_trading_halted", "1 when trading is halted or reduce-only, else 0.",
            registry=self.registry, multiprocess_mode="livemostrecent")
        self.account_read_failures = Counter(
            "riskdesk_account_read_failures",
            "Scrapes of /metrics that could not read the account (broker or database down).",
            registry=self.registry)

    def _account_families(self) -> list[Metric]:
        """The account gauges read now, or only ``riskdesk_account_up 0`` when unreadable."""
        if self.account is None:
            return []
        up = "riskdesk_account_up"
        up_help = "1 when this scrape read the account (its gauges follow), else 0."
        try:
            gauges = self.account()
        except Exception as exc:  # noqa: BLE001 - a scrape answers whatever the failure
            log.warning("account gauges left out of /metrics: %s", exc)
            self.account_read_failures.inc()
            return [_gauge(up, up_help, 0.0)]
        return [_gauge(up, up_help, 1.0), *gauges.families()]

    def render(self) -> bytes:
        """The text exposition of every metric, with the account gauges read now."""
        account = self._account_families()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            counters = bytes(generate_latest(registry))
        else:
            counters = bytes(generate_latest(self.registry))
        return counters + bytes(generate_latest(_Families(account)))
