from __future__ import annotations

from api_support import Api

REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "win_rate": 0.58,
       "market_regime": "TRENDING", "market": {"bid": "430.46", "ask": "430.48"}}

# (method, path, body, scope needed)
ENDPOINTS = [
    ("GET", "/api/capital/state", None, "read"),
    ("GET", "/api/capital/history?hours=24", None, "read"),
    ("GET", "/api/capital/leverage/optimal/AAPL", None, "read"),
    ("GET", "/api/capital/margin/status", None, "read"),
    ("GET", "/api/capital/strategy/scaling", None, "read"),
    ("GET", "/api/capital/drawdown/status", None, "read"),
    ("GET", "/api/capital/allocation/multi-tier", None, "read"),
    ("GET", "/api/capital/analysis/complete", None, "read"),
    ("GET", "/api/journal", None, "read"),
    ("POST", "/api/capital/position-size/kelly", {"win_rate": 0.58, "win_loss_ratio": 1.75},
     "read"),
    ("POST", "/api/capital/allocation/risk-parity", {"volatilities": {"A": 0.02}}, "read"),
    ("POST", "/api/capital/recommendation/position", REC, "trade"),
    ("POST", "/api/orders/plan", {"targets": [{"symbol": "AAPL", "target_weight": 0.01}]},
     "trade"),
    ("POST", "/api/reservations/abc/confirm", None, "trade"),
    ("POST", "/api/reservations/abc/release", None, "trade"),
    ("POST", "/api/reconcile", {}, "trade"),
    ("POST", "/api/admin/trading-state", {"state": "resume", "note": "t"}, "admin"),
]
RANK = {"read": 0, "trade": 1, "admin": 2}


def _call(api: Api, method: str, path: str, body: object, headers: dict[str, str]):
    return api.client.request(method, path, json=body, headers=headers)


# One service per database serves every endpoint's checks (creating a PostgreSQL database
# per case would dominate the run time).
def test_missing_key_is_401_everywhere(api: Api) -> None:
    for method, path, body, _ in ENDPOINTS:
        r = _call(api, method, path, body, {})
        assert r.status_code == 401, (path, r.text)
        assert "API key" in r.json()["detail"]
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_wrong_and_revoked_keys_are_401_everywhere(api: Api) -> None:
    tampered = api.keys.admin[:-1] + ("A" if api.keys.admin[-1] != "A" else "B")
    for method, path, body, _ in ENDPOINTS:
        for key in ("rdk_0000000000000000_nope", "garbage", api.keys.revoked, tampered):
            r = _call(api, method, path, body, {"X-API-Key": key})
            assert r.status_code == 401, (path, key, r.text)


def test_scopes_are_enforced_everywhere(api: Api) -> None:
    for method, path, body, scope in ENDPOINTS:
        before = api.journal_count()
        for have, key in (("read", api.keys.read), ("trade", api.keys.trade),
                          ("admin", api.keys.admin)):
            r = _call(api, method, path, body, {"X-API-Key": key})
            if RANK[have] < RANK[scope]:
                assert r.status_code == 403, (path, have, r.text)
                assert scope in r.json()["detail"]
            else:
                assert r.status_code not in (401, 403), (path, have, r.text)
        if scope == "read":
            assert api.journal_count() == before, path


def test_bearer_token_is_accepted(api: Api) -> None:
    r = api.client.get("/api/capital/state",
                       headers={"Authorization": f"Bearer {api.keys.read}"})
    assert r.status_code == 200
    r = api.client.get("/api/capital/state", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_revoking_takes_effect_at_once(api: Api) -> None:
    key_id, key = api.service.store.create_api_key("temp", ["read"])
    assert api.client.get("/api/capital/state", headers={"X-API-Key": key}).status_code == 200
    api.service.store.revoke_api_key(key_id)
    assert api.client.get("/api/capital/state", headers={"X-API-Key": key}).status_code == 401


def test_refused_requests_are_counted(api: Api) -> None:
    api.client.get("/api/capital/state")
    api.client.get("/api/capital/state", headers={"X-API-Key": api.keys.read[:-2]})
    text = api.client.get("/metrics").text
    assert 'riskdesk_auth_failures_total{reason="missing"} 1.0' in text
    assert 'riskdesk_auth_failures_total{reason="unknown"} 1.0' in text
