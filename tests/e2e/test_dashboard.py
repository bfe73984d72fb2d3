from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from e2e_support import Live
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").split(" ")[0])


def test_dashboard_shows_capital_and_a_posted_decision(live_service: Live,
                                                       tmp_path: Path) -> None:
    live = live_service
    live.service.record_capital()
    rec = httpx.post(f"{live.base_url}/api/capital/recommendation/position",
                     headers={"X-API-Key": live.trade_key},
                     json={"symbol": "AAPL", "side": "LONG", "signal_score": 75,
                           "market_regime": "TRENDING", "win_rate": 0.58,
                           "market": {"bid": "430.46", "ask": "430.48"}}, timeout=10)
    assert rec.status_code == 200, rec.text
    decision = rec.json()
    assert decision["reservation_id"], decision
    state = httpx.get(f"{live.base_url}/api/capital/state",
                      headers={"X-API-Key": live.read_key}, timeout=10).json()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live.base_url}/#key={live.read_key}")
            row = page.locator(f'tr[data-decision-id="{decision["decision_id"]}"]')
            expect(row).to_be_visible(timeout=15000)
            expect(row).to_contain_text("AAPL")
            expect(row).to_contain_text(decision["recommendation"])
            # The key left the address bar and stays in this browser only.
            assert "#key=" not in page.url
            # Capital figures match the API.
            assert _money(page.get_by_test_id("cap-wallet").inner_text()) == \
                Decimal(state["total_wallet_balance"])
            assert _money(page.get_by_test_id("cap-available").inner_text()) == \
                Decimal(state["available_balance"]).quantize(Decimal("0.01"))
            expect(page.get_by_test_id("capital-status")).to_have_text(
                state["capital_status"])
            expect(page.get_by_test_id("margin-zone")).to_have_text("GREEN")
            expect(page.get_by_test_id("dd-state")).to_have_text("NORMAL")
            expect(page.get_by_test_id("trading-state")).to_have_text("ACTIVE")
            # The approved order's reservation is shown as budget held by pending orders,
            # in the capital panel and beside the open positions of its symbol.
            assert state["reserved"]["count"] == 1
            assert Decimal(state["reserved"]["notional"]) == \
                Decimal(decision["position_size_usd"])
            reserved = page.get_by_test_id("cap-reserved")
            expect(reserved).to_contain_text("1 order")
            assert _money(reserved.inner_text()) == \
                Decimal(decision["position_size_usd"]).quantize(Decimal("0.01"))
            exposure = page.get_by_test_id("exposure-symbol")
            held = exposure.locator('tr[data-kind="reserved"][data-key="AAPL"]')
            expect(held).to_contain_text("reserved")
            assert _money(held.locator("td").nth(1).inner_text()) == \
                Decimal(decision["position_size_usd"]).quantize(Decimal("0.01"))
            expect(exposure).not_to_contain_text("no open exposure")
            # Clicking the row expands its trail with the reason codes.
            row.click()
            trail = page.locator(f'tr[data-trail-for="{decision["decision_id"]}"]')
            expect(trail).to_be_visible(timeout=5000)
            for step in decision["adjustments"]:
                expect(trail).to_contain_text(step["code"])
            # The trail stays open across refreshes.
            page.wait_for_timeout(2500)
            expect(trail).to_be_visible()
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert errors == []
        finally:
            browser.close()


def test_dashboard_without_a_key_asks_for_one(live_service: Live) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(live_service.base_url + "/")
            expect(page.get_by_test_id("login")).to_be_visible(timeout=10000)
            page.fill("#key-input", "rdk_0000000000000000_wrong")
            page.click("#key-form button")
            expect(page.locator("#login-error")).to_contain_text("refused", timeout=10000)
            page.fill("#key-input", live_service.read_key)
            page.click("#key-form button")
            expect(page.get_by_test_id("capital-status")).not_to_be_empty(timeout=10000)
        finally:
            browser.close()
