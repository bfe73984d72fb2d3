from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from api_support import CASH, START, Api

from riskdesk import AccountState, Desk, MarketRules, MarketSnapshot, Position, Signal
from riskdesk.allocation import rebalance_due, tier_budgets, tiers_from_config
from riskdesk.config import RiskConfig
from riskdesk.errors import StateError
from riskdesk.service._adapters import multi_tier_view, reservation_limits, tier_of


def get(api: Api, path: str) -> dict:
    r = api.client.get(path, headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    return r.json()


def test_state_has_seed_001_fields_and_the_paper_numbers(api: Api) -> None:
    s = get(api, "/api/capital/state")
    assert Decimal(s["total_wallet_balance"]) == CASH
    assert Decimal(s["available_balance"]) == CASH
    assert Decimal(s["margin_used"]) == 0
    assert s["margin_used_pct"] == 0.0
    assert Decimal(s["unrealized_pnl"]) == 0
    assert Decimal(s["buying_power"]) == CASH
    assert s["capital_status"] == "HEALTHY"
    assert s["as_of"].startswith("2024-03-04T14:30")


def test_history_returns_recorded_snapshots_in_the_window(api: Api) -> None:
    api.clock.advance(3600)
    api.service.record_capital()
    h = get(api, "/api/capital/history?hours=24")
    assert [Decimal(p["equity"]) for p in h["points"]] == [CASH, CASH]
    assert h["points"][0]["at"] < h["points"][1]["at"]
    api.clock.advance(3 * 3600)
    assert len(get(api, "/api/capital/history?hours=2")["points"]) == 0
    assert len(get(api, "/api/capital/history?hours=3.5")["points"]) == 1
    r = api.client.get("/api/capital/history?hours=-1", headers=api.headers(api.keys.read))
    assert r.status_code == 422


def test_optimal_leverage_is_within_the_configured_range(api: Api) -> None:
    lev = get(api, "/api/capital/leverage/optimal/AAPL")
    assert lev["symbol"] == "AAPL"
    # The default preset fixes leverage at 1 (cash equities).
    assert lev["optimal_leverage"] == 1.0
    r = api.client.get("/api/capital/leverage/optimal/DOGE", headers=api.headers(api.keys.read))
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "path.symbol"


def test_margin_drawdown_scaling_and_tiers(api: Api) -> None:
    m = get(api, "/api/capital/margin/status")
    assert m["zone"] == "GREEN"
    assert m["entries_allowed"] is True
    d = get(api, "/api/capital/drawdown/status")
    assert d["state"] == "NORMAL"
    assert d["drawdown_pct"] == 0.0
    assert d["breaker_tripped"] is False
    assert d["trading_state"] == "ACTIVE"
    sc = get(api, "/api/capital/strategy/scaling")
    assert sc["tier"] == "large"  # 100,000 is above seed 001's $5,000 threshold
    tiers = get(api, "/api/capital/allocation/multi-tier")
    cfg = RiskConfig.preset("default").capital_tiers.tiers
    assert [t["tier"] for t in tiers["tiers"]] == list(cfg)
    assert sum(t["target_pct"] for t in tiers["tiers"]) == 100.0
    assert all(Decimal(t["deployed"]) == 0 for t in tiers["tiers"])


def test_multi_tier_reports_the_rebalancing_schedule(api: Api) -> None:
    tiers = get(api, "/api/capital/allocation/multi-tier")
    cfg = RiskConfig.preset("default").capital_tiers
    reb = tiers["rebalance"]
    # Nothing deployed: every tier is 100% off its target, past the 20% threshold, and no
    # rebalance was ever recorded, so it is due now.
    assert (reb["due"], reb["cadence"]) == (True, "daily")
    assert reb["threshold_pct"] == cfg.rebalance_deviation * 100
    assert reb["last_rebalance"] is None
    assert reb["next_due"].startswith("2024-03-04T14:30")
    non_reserve = [n for n, t in cfg.tiers.items() if not t.reserve]
    assert reb["deviations_pct"] == dict.fromkeys(non_reserve, 100.0)
    by = {t["tier"]: t for t in tiers["tiers"]}
    for name, t in cfg.tiers.items():
        assert by[name]["deviation_pct"] == (None if t.reserve else 100.0)
        assert Decimal(by[name]["used"]) == 0
        # the reserve is never allocated; every other tier has its whole target left
        expected = 0 if t.reserve else CASH * Decimal(repr(t.target_pct))
        assert Decimal(by[name]["remaining"]) == expected


CRYPTO = RiskConfig.preset("crypto-capital-manager", env={})


def crypto_account(*positions: Position, available: str = "7000") -> AccountState:
    return AccountState(equity=Decimal(10_000), available=Decimal(available), as_of=START,
                        positions=positions)


def test_multi_tier_view_reads_allocations_tiers() -> None:
    account = crypto_account(
        Position("BTCUSDT", "LONG", Decimal("0.1"), Decimal(60_000), leverage=5),  # CORE
        Position("SOLUSDT", "LONG", Decimal(10), Decimal(150), leverage=5),        # GROWTH
        Position("BTC-PERP", "SHORT", Decimal("0.01"), Decimal(60_000), leverage=3))
    view = multi_tier_view(CRYPTO, account, now=START)
    by = {t["tier"]: t for t in view["tiers"]}
    # Exact symbols: BTC-PERP is not listed anywhere and goes to the default tier.
    used = {"CORE": Decimal(6_000) / 5, "GROWTH": Decimal(1_500) / 5,
            "OPPORTUNITY": Decimal(600) / 3}
    for name, amount in used.items():
        assert Decimal(by[name]["used"]) == amount.quantize(Decimal("1e-8"))
    assert Decimal(by["CORE"]["deployed"]) == 6_000
    assert Decimal(by["OPPORTUNITY"]["deployed"]) == 600
    budgets = tier_budgets(account.equity,
                           {k: Decimal(by[k]["used"]) for k in used},
                           tiers_from_config(CRYPTO.capital_tiers), available=account.available)
    for name, b in budgets.items():
        assert Decimal(by[name]["remaining"]) == b.remaining
        assert Decimal(by[name]["budget"]) == b.target
    assert view["default_tier"] == "OPPORTUNITY"
    # A tight free balance limits every tier: 1,000 free less the 500 reserve.
    tight = multi_tier_view(CRYPTO, crypto_account(*account.positions, available="1000"))
    assert {t["tier"]: Decimal(t["remaining"]) for t in tight["tiers"]} == {
        "CORE": 500, "GROWTH": 500, "OPPORTUNITY": 500, "RESERVE": 0}


def test_multi_tier_rebalancing_follows_rebalance_due() -> None:
    # margin shares 50% / 30% / 15% of equity: on target, so weekly
    on_target = crypto_account(
        Position("BTCUSDT", "LONG", Decimal("0.5"), Decimal(50_000), leverage=5),
        Position("SOLUSDT", "LONG", Decimal(100), Decimal(150), leverage=5),
        Position("DOGEUSDT", "LONG", Decimal(4_500), Decimal("1"), leverage=3))
    specs = tiers_from_config(CRYPTO.capital_tiers)
    for days, account in ((3, on_target), (8, on_target), (3, crypto_account())):
        last = START - timedelta(days=days)
        reb = multi_tier_view(CRYPTO, account, last_rebalance=last)["rebalance"]
        shares = {"CORE": Decimal(0), "GROWTH": Decimal(0), "OPPORTUNITY": Decimal(0)}
        if account.positions:
            shares = {"CORE": Decimal("0.5"), "GROWTH": Decimal("0.3"),
                      "OPPORTUNITY": Decimal("0.15")}
        check = rebalance_due(shares, last, START, specs, threshold=0.20)
        assert (reb["due"], reb["cadence"]) == (check.due, check.cadence)
        assert reb["next_due"] == check.next_due.isoformat()
        assert reb["last_rebalance"] == last.isoformat()
        assert reb["deviations_pct"] == pytest.approx(
            {k: v * 100 for k, v in check.deviations.items()})
    assert multi_tier_view(CRYPTO, on_target, last_rebalance=START - timedelta(days=3))[
        "rebalance"]["cadence"] == "weekly"


def test_multi_tier_fails_closed_without_a_time() -> None:
    undated = AccountState(equity=Decimal(1_000), available=Decimal(1_000))
    with pytest.raises(StateError):
        multi_tier_view(CRYPTO, undated)
    assert multi_tier_view(CRYPTO, undated, now=START)["rebalance"]["due"] is True


def test_analysis_complete_bundles_every_view(api: Api) -> None:
    a = get(api, "/api/capital/analysis/complete")
    assert a["capital_state"] == get(api, "/api/capital/state")
    assert a["margin_status"]["zone"] == "GREEN"
    assert a["drawdown_status"]["state"] == "NORMAL"
    assert a["trading_state"] == "ACTIVE"
    assert a["config_name"] == "default"
    assert a["exposure"]["by_symbol"] == []
    assert len(a["capital_history"]) == 1


def test_kelly_follows_the_formula(api: Api) -> None:
    r = api.client.post("/api/capital/position-size/kelly", headers=api.headers(api.keys.read),
                        json={"win_rate": 0.58, "win_loss_ratio": 1.75})
    assert r.status_code == 200, r.text
    k = r.json()
    # (0.58 x 1.75 - 0.42) / 1.75 = 0.34 (seed 001's "15%" example contradicts its formula).
    assert abs(k["kelly_pct"] - 34.0) < 1e-9
    assert abs(k["half_kelly_pct"] - 17.0) < 1e-9
    assert k["adjusted_pct"] <= k["kelly_pct"]
    assert Decimal(k["position_size_usd"]) == (CASH * Decimal(repr(k["adjusted_pct"]))
                                               / 100).quantize(Decimal("0.01"))
    no_edge = api.client.post("/api/capital/position-size/kelly",
                              headers=api.headers(api.keys.read),
                              json={"win_rate": 0.3, "win_loss_ratio": 1.0}).json()
    assert no_edge["kelly_pct"] == 0.0
    assert Decimal(no_edge["position_size_usd"]) == 0


def test_risk_parity_inverse_volatility_and_erc(api: Api) -> None:
    r = api.client.post("/api/capital/allocation/risk-parity",
                        headers=api.headers(api.keys.read),
                        json={"volatilities": {"BTC": 0.025, "ETH": 0.032, "SOL": 0.058},
                              "capital": "10000"})
    assert r.status_code == 200, r.text
    w = r.json()["weights"]
    inv = {k: 1 / v for k, v in {"BTC": 0.025, "ETH": 0.032, "SOL": 0.058}.items()}
    total = sum(inv.values())
    for k in inv:
        assert abs(w[k] - inv[k] / total) < 1e-12
    assert w["BTC"] > w["ETH"] > w["SOL"]
    erc = api.client.post("/api/capital/allocation/risk-parity",
                          headers=api.headers(api.keys.read),
                          json={"symbols": ["A", "B"],
                                "covariance": [[0.04, 0.0], [0.0, 0.01]]}).json()
    assert erc["method"] == "risk_parity"
    assert abs(erc["weights"]["A"] - 1 / 3) < 1e-8
    bad = api.client.post("/api/capital/allocation/risk-parity",
                          headers=api.headers(api.keys.read),
                          json={"symbols": ["A", "B"], "covariance": [[0.04]]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "body.covariance"


def test_a_reservation_fits_what_the_desk_sized_within_its_tier() -> None:
    # CORE holds 20,000 of notional at 5x: 4,000 of its 5,000 margin budget.
    account = AccountState(
        equity=Decimal(10_000), available=Decimal(6_000), margin_used=Decimal(4_000),
        buying_power=Decimal(40_000), as_of=START,
        positions=(Position("BTCUSDT", "LONG", Decimal("0.4"), Decimal(50_000), leverage=5),))
    rules = MarketRules("ETHUSDT", step="0.0001", tick="0.01", max_leverage=125)
    market = MarketSnapshot(rules, price=Decimal(3_000), bid=Decimal("2999.9"),
                            ask=Decimal("3000.1"), atr=Decimal(60), as_of=START)
    d = Desk(CRYPTO).recommend(Signal("ETHUSDT", "LONG", score=85), account, market, now=START)
    assert d.approved
    limits = reservation_limits(CRYPTO, account, "ETHUSDT")
    assert (limits.tier, tier_of(CRYPTO, "ETHUSDT"), tier_of(CRYPTO, "ETH-PERP")) == (
        "CORE", "CORE", "OPPORTUNITY")
    assert limits.tier_exposure == Decimal(20_000)
    # what is left of CORE's margin budget (1,000), at its maximum leverage (5x)
    assert limits.tier_cap == Decimal(20_000) + Decimal(1_000) * 5
    assert limits.tier_exposure + d.notional <= limits.tier_cap
    off = reservation_limits(RiskConfig.preset("default", env={}), account, "ETHUSDT")
    assert (off.tier, off.tier_cap) == (None, None)
