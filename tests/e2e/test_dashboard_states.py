"""The dashboard under the states an operator must not miss, a slow or failing API, and a phone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from e2e_support import START, Live
from playwright.sync_api import Page, Route, ViewportSize, expect, sync_playwright

from riskdesk.desk import DeskState
from riskdesk.limits import BreakerState

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@contextmanager
def dashboard(live: Live, viewport: ViewportSize = DESKTOP,
              init_script: str | None = None) -> Iterator[tuple[Page, list[str]]]:
    """A page on the dashboard with the read key, and the console errors it logs."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            if init_script is not None:
                page.add_init_script(init_script)
            page.goto(f"{live.base_url}/#key={live.read_key}")
            expect(page.get_by_test_id("capital-status")).not_to_be_empty(timeout=15000)
            yield page, errors
        finally:
            browser.close()


def _decide(live: Live, symbol: str = "AAPL") -> dict[str, Any]:
    r = httpx.post(f"{live.base_url}/api/capital/recommendation/position",
                   headers={"X-API-Key": live.trade_key},
                   json={"symbol": symbol, "side": "LONG", "signal_score": 75,
                         "market": {"bid": "430.46", "ask": "430.48"}}, timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _set_state(live: Live, state: str, note: str) -> None:
    _, admin = live.service.store.create_api_key(f"ops-{state}", ["admin"])
    r = httpx.post(f"{live.base_url}/api/admin/trading-state", headers={"X-API-Key": admin},
                   json={"state": state, "note": note}, timeout=10)
    assert r.status_code == 200, r.text


# Every fetch waits 3 s before it starts, longer than the 2 s polling period; the page
# records the paths it asked and how many analysis requests (one per cycle) were in flight
# at once.
SLOW_FETCH = """
(() => {
  const real = window.fetch.bind(window);
  window.__cycles = 0; window.__maxCycles = 0; window.__paths = [];
  window.fetch = async (input, init) => {
    const path = String(input);
    const cycle = path.startsWith("/api/capital/analysis/complete");
    window.__paths.push(path);
    if (cycle) {
      window.__cycles += 1;
      window.__maxCycles = Math.max(window.__maxCycles, window.__cycles);
    }
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      return await real(input, init);
    } finally { if (cycle) window.__cycles -= 1; }
  };
})();
"""


def test_a_slow_api_gets_one_request_cycle_at_a_time(live_service: Live) -> None:
    live = live_service
    decision = _decide(live)
    with dashboard(live, init_script=SLOW_FETCH) as (page, errors):
        row = page.locator(f'tr[data-decision-id="{decision["decision_id"]}"]')
        expect(row).to_be_visible(timeout=15000)
        page.wait_for_timeout(9000)
        paths = page.evaluate("window.__paths")
        cycles = [p for p in paths if p.startswith("/api/capital/analysis/complete")]
        # Two cycles never overlap.
        assert page.evaluate("window.__maxCycles") == 1, paths
        assert len(cycles) >= 2, paths
        # The 24-hour history is not carried by every cycle.
        assert sum(p.startswith("/api/capital/history") for p in paths) == 1, paths
        for p in cycles:
            hours = re.search(r"hours=([0-9.]+)", p)
            assert hours is not None, p
            assert float(hours.group(1)) <= 1, p
        # A click opens the trail from what is on screen, without waiting for a request.
        row.click()
        expect(page.locator(f'tr[data-trail-for="{decision["decision_id"]}"]')).to_be_visible(
            timeout=1000)
        assert errors == []


def test_an_api_failure_marks_the_figures_as_not_current(live_service: Live) -> None:
    with dashboard(live_service) as (page, _):
        banner = page.get_by_test_id("conn-banner")
        expect(banner).to_be_hidden()

        def unavailable(route: Route) -> None:
            route.fulfill(status=503, content_type="application/json",
                          headers={"Retry-After": "1"},
                          body=json.dumps({"detail": "store unavailable: database is locked"}))

        page.route("**/api/**", unavailable)
        expect(banner).to_be_visible(timeout=10000)
        expect(banner).to_contain_text("503")
        expect(banner).to_contain_text("store unavailable: database is locked")
        expect(banner).to_contain_text("were read at")
        expect(page.locator("body")).to_have_class(re.compile(r"\bstale\b"))

        page.unroute("**/api/**")
        page.route("**/api/**", lambda route: route.abort("connectionrefused"))
        expect(banner).to_contain_text("cannot be reached", timeout=10000)

        page.unroute("**/api/**")
        expect(banner).to_be_hidden(timeout=10000)
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bstale\b"))
        status = page.get_by_test_id("status-line")
        expect(status).to_contain_text("updated")
        expect(status).not_to_have_class(re.compile(r"\bbad\b"))


def test_a_halted_or_reduce_only_desk_is_announced(live_service: Live) -> None:
    live = live_service
    with dashboard(live) as (page, errors):
        alerts = page.get_by_test_id("alerts")
        expect(alerts).to_be_empty()
        expect(page.get_by_test_id("dd-entries")).to_have_text("allowed")

        _set_state(live, "halt", "exchange incident")
        expect(alerts).to_contain_text("TRADING HALTED", timeout=10000)
        expect(alerts).to_contain_text("set by an operator")
        expect(alerts).to_contain_text("Set by ops-halt")  # who, when and why
        expect(alerts).to_contain_text("\u201cexchange incident\u201d")
        expect(page.get_by_test_id("trading-state")).to_have_text("HALTED")
        expect(page.get_by_test_id("dd-entries")).to_contain_text("refused")

        _set_state(live, "reduce-only", "cutting risk")
        expect(alerts).to_contain_text("REDUCE-ONLY", timeout=10000)
        expect(alerts).not_to_contain_text("TRADING HALTED")
        expect(alerts).to_contain_text("cutting risk")
        expect(alerts).not_to_contain_text("exchange incident")

        _set_state(live, "resume", "all clear")
        expect(alerts).to_be_empty(timeout=10000)
        expect(page.get_by_test_id("dd-entries")).to_have_text("allowed")
        assert errors == []


def test_a_tripped_breaker_shows_its_end_and_reason(live_service: Live) -> None:
    live = live_service
    store = live.service.store
    record = store.desk_state_record()
    state = DeskState(breaker=BreakerState().trip(START, 24.0, "heavy drawdown 21.30% >= 20%"))
    store.save_desk_state(state.to_dict(), at=START, operator="breaker", note="heavy drawdown",
                          expected_version=0 if record is None else record["version"])
    until = (START + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M") + " UTC"
    with dashboard(live) as (page, _):
        breaker = page.get_by_test_id("dd-breaker")
        expect(breaker).to_contain_text("TRIPPED until " + until)
        expect(breaker).to_contain_text("heavy drawdown 21.30% >= 20%")
        alerts = page.get_by_test_id("alerts")
        expect(alerts).to_contain_text("TRADING HALTED")
        expect(alerts).to_contain_text("circuit breaker tripped until " + until)
        # The breaker halted the desk, not an operator.
        expect(alerts).not_to_contain_text("set by an operator")


def test_entries_refused_by_a_loss_limit_are_announced(live_service: Live) -> None:
    # The paper account cannot lose a day's 3 % here: the analysis is edited on its way.
    def loss_limit(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        body["drawdown_status"].update(daily_pnl_pct=-3.4, weekly_pnl_pct=-1.25,
                                       entries_allowed=False, reasons=["DAILY_LOSS_LIMIT"])
        route.fulfill(response=answer, body=json.dumps(body))

    with dashboard(live_service) as (page, _):
        page.route("**/api/capital/analysis/complete*", loss_limit)
        alerts = page.get_by_test_id("alerts")
        expect(alerts).to_contain_text("NEW ENTRIES REFUSED", timeout=10000)
        expect(alerts).to_contain_text("daily loss limit")
        expect(page.get_by_test_id("dd-pnl")).to_have_text("-3.40% / -1.25%")
        expect(page.get_by_test_id("dd-entries")).to_contain_text("daily loss limit")


def test_the_equity_curve_places_snapshots_by_time(live_service: Live) -> None:
    live = live_service
    account = live.service.broker.account(START)  # records nothing
    # Two snapshots a minute apart six hours ago, then one now: the first two sit together.
    live.service.store.record_capital(account, at=START - timedelta(hours=6))
    live.service.store.record_capital(account, at=START - timedelta(hours=6, minutes=-1))
    live.service.store.record_capital(account, at=START)
    with dashboard(live) as (page, _):
        line = page.locator("#equity-curve path.line")
        expect(line).to_have_attribute("d", re.compile(r"^M"))
        xs = [float(x) for x in re.findall(r"[ML]([0-9.]+) ", line.get_attribute("d") or "")]
        assert len(xs) == 3, xs
        assert xs[0] < xs[1] < xs[2]
        assert xs[1] - xs[0] < 10, xs
        expect(page.get_by_test_id("equity-curve").locator("xpath=..")).to_contain_text(
            (START - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M") + " UTC")


def test_quantities_keep_every_digit(live_service: Live) -> None:
    with dashboard(live_service) as (page, _):
        assert page.evaluate("fmtDecimal('0.00012345')") == "0.00012345"
        assert page.evaluate("fmtDecimal('1234567.000001')") == "1,234,567.000001"
        assert page.evaluate("fmtDecimal('-2500')") == "-2,500"


def test_a_phone_reads_the_dashboard_without_errors(live_service: Live) -> None:
    live = live_service
    decision = _decide(live)
    with dashboard(live, viewport=PHONE) as (page, errors):
        row = page.locator(f'tr[data-decision-id="{decision["decision_id"]}"]')
        expect(row).to_be_visible(timeout=15000)
        row.click()
        expect(page.locator(f'tr[data-trail-for="{decision["decision_id"]}"]')).to_be_visible()
        page.wait_for_timeout(2500)
        # The page itself never scrolls sideways; the decisions table scrolls in its card.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        assert errors == []
