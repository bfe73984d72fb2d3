"""Text from the API is shown as text: markup in a symbol, a note or a reason never runs.

An operator's note is free text (anything but NUL), and a broker, a journal row or an error
detail may carry any characters; the dashboard must render them literally, never as HTML.
The analysis and the journal are edited on their way to the page so that every place the
dashboard writes API text into holds markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from e2e_support import Live
from playwright.sync_api import Page, Route, expect, sync_playwright

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
MARKUP = '<img src=x onerror="window.__ran=1"><b>bold</b>'


@contextmanager
def page_on(live: Live) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            yield page
        finally:
            browser.close()


def _with_markup_analysis(route: Route) -> None:
    answer = route.fetch()
    body: dict[str, Any] = answer.json()
    body["config_name"] = MARKUP
    d = body["drawdown_status"]
    d.update(breaker_tripped=True, reasons=[MARKUP], entries_allowed=False,
             trading_state_reasons=["TRADING_HALTED", MARKUP])
    d["breaker"] = {**d["breaker"], "tripped": True, "reason": MARKUP}
    body["margin_status"]["action"] = MARKUP
    body["exposure"]["by_symbol"] = [{"symbol": MARKUP, "side": MARKUP, "quantity": "1",
                                      "notional": "100", "pct_of_equity": 0.1,
                                      "unrealized_pnl": "0"}]
    body["exposure"]["by_tier"][0]["tier"] = MARKUP
    body["capital_state"]["reserved"]["by_symbol"] = [
        {"symbol": MARKUP, "count": 2, "notional": "50"}]
    route.fulfill(response=answer, body=json.dumps(body))


def _with_markup_journal(route: Route) -> None:
    answer = route.fetch()
    body: dict[str, Any] = answer.json()
    for e in body["entries"]:
        e.update(symbol=MARKUP, side=MARKUP, binding_cap=MARKUP, reasons=[MARKUP])
        for a in e["trail"]:
            a.update(step=MARKUP, code=MARKUP, note=MARKUP)
    route.fulfill(response=answer, body=json.dumps(body))


def test_api_text_is_rendered_as_text(live_service: Live) -> None:
    live = live_service
    r = httpx.post(f"{live.base_url}/api/capital/recommendation/position",
                   headers={"X-API-Key": live.trade_key},
                   json={"symbol": "AAPL", "side": "LONG", "signal_score": 75,
                         "strategy": MARKUP,
                         "market": {"bid": "430.46", "ask": "430.48"}}, timeout=10)
    assert r.status_code == 200, r.text
    _, admin = live.service.store.create_api_key("ops", ["admin"])
    r = httpx.post(f"{live.base_url}/api/admin/trading-state", headers={"X-API-Key": admin},
                   json={"state": "halt", "note": MARKUP}, timeout=10)
    assert r.status_code == 200, r.text

    with page_on(live) as page:
        page.route("**/api/capital/analysis/complete*", _with_markup_analysis)
        page.route("**/api/journal*", _with_markup_journal)
        page.goto(f"{live.base_url}/#key={live.read_key}")
        alerts = page.get_by_test_id("alerts")
        expect(alerts).to_contain_text("\u201c" + MARKUP + "\u201d", timeout=15000)  # the note
        expect(alerts).to_contain_text("Why: " + MARKUP)
        row = page.locator("tr.row").first
        expect(row).to_contain_text(MARKUP)
        row.click()
        expect(page.locator("tr.trail")).to_contain_text(MARKUP)
        for test_id in ("dd-breaker", "exposure-symbol", "exposure-tier"):
            expect(page.get_by_test_id(test_id)).to_contain_text(MARKUP)
        expect(page.locator("#config-name")).to_contain_text(MARKUP)
        expect(page.locator("#margin-action")).to_contain_text(MARKUP)

        # An error's detail in the stale banner.
        page.unroute("**/api/capital/analysis/complete*")
        page.route("**/api/capital/analysis/complete*", lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps({"detail": MARKUP})))
        banner = page.get_by_test_id("conn-banner")
        expect(banner).to_contain_text(MARKUP, timeout=10000)

        assert page.locator("img").count() == 0
        assert page.locator("b", has_text="bold").count() == 0
        assert page.evaluate("window.__ran") is None
