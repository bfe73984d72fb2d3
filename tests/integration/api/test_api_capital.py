from __future__ import annotations

from decimal import Decimal

from api_support import CASH, Api

from riskdesk.config import RiskConfig


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
