"""``POST /api/exits/plan``: the bracket of a position, from the configuration's exits rules.

Expected stops and targets are derived here from the configuration's numbers with plain
``decimal`` arithmetic and the documented rounding (toward the position's profit side:
ceiling for a long, floor for a short), not from the exits module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from pathlib import Path

import pytest
from api_support import PRICES, START, Api, Clock, Keys, TestClient, build_service
from config_support import EXITS_LADDER_YAML

from riskdesk.api import create_app
from riskdesk.config import RiskConfig

URL = "/api/exits/plan"
DEFAULT = RiskConfig.preset("default").exits
AAPL_TICK = Decimal("0.01")
BTC_TICK = Decimal("0.1")


def to_grid(value: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (value / tick).to_integral_value(rounding=rounding) * tick


def dec(x: float) -> Decimal:
    return Decimal(repr(x))


def post(api: Api, body: object, key: str | None = None) -> dict:
    r = api.client.post(URL, json=body, headers=api.headers(key or api.keys.read))
    assert r.status_code == 200, r.text
    return r.json()


def nothing_written(api: Api) -> tuple:
    return (api.journal_count(), api.service.store.reservations(),
            api.service.store.load_desk_state())


# ---------------------------------------------------------------------- authentication
def test_missing_unknown_and_revoked_keys_are_401(api: Api) -> None:
    body = {"symbol": "AAPL", "side": "LONG", "quantity": 10}
    assert api.client.post(URL, json=body).status_code == 401
    for key in ("rdk_0000000000000000_nope", "garbage", api.keys.revoked):
        r = api.client.post(URL, json=body, headers={"X-API-Key": key})
        assert r.status_code == 401, (key, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
    # read is the lowest scope: every valid key may ask, also as a bearer token
    for key in (api.keys.read, api.keys.trade, api.keys.admin):
        r = api.client.post(URL, json=body, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text


# ---------------------------------------------------------------------- plans
def test_long_plan_follows_the_default_percent_stop_and_r_target(api: Api) -> None:
    before = nothing_written(api)
    entry, qty = Decimal("430.47"), Decimal(10)
    p = post(api, {"symbol": "AAPL", "side": "BUY", "entry": "430.47", "quantity": 10})
    stop = to_grid(entry * (1 - dec(DEFAULT.stop_pct)), AAPL_TICK, ROUND_CEILING)
    r = entry - stop
    target = to_grid(entry + dec(DEFAULT.take_profit_r) * r, AAPL_TICK, ROUND_CEILING)
    # by hand: 430.47 x 0.98 = 421.8606 -> 421.87; R = 8.60; 430.47 + 2 x 8.60 = 447.67
    assert (stop, r, target) == (Decimal("421.87"), Decimal("8.60"), Decimal("447.67"))
    assert p["side"] == "LONG"
    assert p["entry_source"] == "request"
    assert Decimal(p["entry"]) == entry
    assert Decimal(p["quantity"]) == qty
    assert Decimal(p["stop"]) == stop
    assert Decimal(p["risk_per_unit"]) == r
    assert Decimal(p["risk_budget"]) == qty * r
    assert Decimal(p["take_profit"]) == target
    assert len(p["targets"]) == 1
    t = p["targets"][0]
    assert (Decimal(t["price"]), Decimal(t["quantity"]), t["final"], t["fraction"]) == \
        (target, qty, True, None)
    assert Decimal(t["r_multiple"]) == dec(DEFAULT.take_profit_r)
    assert (p["tick"], p["step"], p["contract_size"]) == ("0.01", "1", "1")
    assert p["config_name"] == "default"
    assert p["exits"]["stop_pct"] == DEFAULT.stop_pct
    # opened now by the service's clock; the default preset has no time stop
    assert p["opened_at"] == START.isoformat()
    assert p["time_stop_at"] is None
    assert nothing_written(api) == before


def test_short_plan_is_the_mirror_rounded_down(api: Api) -> None:
    entry, qty = Decimal("60012.3"), Decimal("0.25")
    p = post(api, {"symbol": "BTCUSDT", "side": "SHORT", "entry": "60012.3",
                   "quantity": "0.25"})
    stop = to_grid(entry * (1 + dec(DEFAULT.stop_pct)), BTC_TICK, ROUND_FLOOR)
    r = stop - entry
    target = to_grid(entry - dec(DEFAULT.take_profit_r) * r, BTC_TICK, ROUND_FLOOR)
    # by hand: 60012.3 x 1.02 = 61212.546 -> 61212.5; R = 1200.2; 60012.3 - 2400.4 = 57611.9
    assert (stop, r, target) == (Decimal("61212.5"), Decimal("1200.2"), Decimal("57611.9"))
    assert p["side"] == "SHORT"
    assert Decimal(p["stop"]) == stop
    assert Decimal(p["stop"]) > entry > Decimal(p["take_profit"])
    assert Decimal(p["take_profit"]) == target
    assert Decimal(p["risk_budget"]) == qty * r
    assert [Decimal(t["price"]) for t in p["targets"]] == [target]
    assert p["tick"] == "0.1"


def test_a_stop_price_sent_wins_and_sets_r(api: Api) -> None:
    entry, stop = Decimal("430.47"), Decimal("425")
    p = post(api, {"symbol": "AAPL", "side": "LONG", "entry": str(entry), "quantity": 3,
                   "stop_price": "425"})
    r = entry - stop
    assert Decimal(p["stop"]) == stop
    assert Decimal(p["risk_per_unit"]) == r
    assert Decimal(p["take_profit"]) == to_grid(entry + dec(DEFAULT.take_profit_r) * r,
                                                AAPL_TICK, ROUND_CEILING)
    assert Decimal(p["risk_budget"]) == 3 * r


def test_entry_defaults_to_the_brokers_last_price(api: Api) -> None:
    p = post(api, {"symbol": "AAPL", "side": "LONG", "quantity": 1})
    assert p["entry_source"] == "broker"
    assert Decimal(p["entry"]) == PRICES["AAPL"]
    assert Decimal(p["stop"]) == to_grid(PRICES["AAPL"] * (1 - dec(DEFAULT.stop_pct)),
                                         AAPL_TICK, ROUND_CEILING)


def test_no_entry_and_no_broker_price_is_409(api: Api) -> None:
    before = nothing_written(api)
    body = {"symbol": "NOPRICE", "side": "LONG", "quantity": 1}
    r = api.client.post(URL, json=body, headers=api.headers(api.keys.read))
    assert r.status_code == 409, r.text
    assert "NOPRICE" in r.json()["detail"]
    assert nothing_written(api) == before
    # the caller's entry is enough
    assert post(api, {**body, "entry": "12.5"})["entry_source"] == "request"


def test_opened_at_sent_is_kept(api: Api) -> None:
    p = post(api, {"symbol": "AAPL", "side": "LONG", "quantity": 1, "entry": 100,
                   "opened_at": "2024-03-01T09:00:00-05:00"})
    assert p["opened_at"] == "2024-03-01T09:00:00-05:00"


# ---------------------------------------------------------------------- bad input
BAD = [
    ("missing side", '{"symbol": "AAPL", "quantity": 1}', "body.side"),
    ("missing quantity", '{"symbol": "AAPL", "side": "LONG"}', "body.quantity"),
    ("missing symbol", '{"side": "LONG", "quantity": 1}', "body.symbol"),
    ("unknown side", '{"symbol": "AAPL", "side": "UP", "quantity": 1}', "body.side"),
    ("zero quantity", '{"symbol": "AAPL", "side": "LONG", "quantity": 0}', "body.quantity"),
    ("negative quantity", '{"symbol": "AAPL", "side": "LONG", "quantity": "-1"}',
     "body.quantity"),
    ("nan quantity", '{"symbol": "AAPL", "side": "LONG", "quantity": NaN}', "body.quantity"),
    ("absurd quantity", '{"symbol": "AAPL", "side": "LONG", "quantity": "1e16"}',
     "body.quantity"),
    ("quantity as list", '{"symbol": "AAPL", "side": "LONG", "quantity": [1]}',
     "body.quantity"),
    ("infinite entry", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "entry": Infinity}',
     "body.entry"),
    ("zero entry", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "entry": 0}',
     "body.entry"),
    ("absurd entry", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "entry": 1e300}',
     "body.entry"),
    ("negative stop", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "stop_price": -5}',
     "body.stop_price"),
    ("stop above a long's entry",
     '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "entry": 100, "stop_price": 101}',
     "body.stop_price"),
    ("stop below a short's entry",
     '{"symbol": "AAPL", "side": "SHORT", "quantity": 1, "entry": 100, "stop_price": 99}',
     "body.stop_price"),
    ("zero atr", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "atr": 0}', "body.atr"),
    ("nan atr", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "atr": "NaN"}', "body.atr"),
    ("naive opened_at",
     '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "opened_at": "2024-03-01T09:00:00"}',
     "body.opened_at"),
    ("unknown key", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "targets": [1]}',
     "body.targets"),
    ("unknown symbol", '{"symbol": "DOGE", "side": "LONG", "quantity": 1}', "body.symbol"),
    ("bad symbol text", '{"symbol": "AA PL", "side": "LONG", "quantity": 1}', "body.symbol"),
    ("not an object", '[1, 2]', "body"),
    ("quantity given twice", '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "quantity": 2}',
     "body.quantity"),
]


def test_bad_input_is_422_with_the_field_and_writes_nothing(api: Api) -> None:
    before = nothing_written(api)
    for case, raw, field in BAD:
        r = api.client.post(URL, content=raw, headers=api.headers(
            api.keys.read, **{"Content-Type": "application/json"}))
        assert r.status_code == 422, (case, r.text)
        detail = r.json()["detail"]
        assert isinstance(detail, list), case
        assert any(d["field"] == field or d["field"].startswith(field + ".")
                   for d in detail), (case, detail)
    assert nothing_written(api) == before


# ---------------------------------------------------------------------- another configuration
LADDER = EXITS_LADDER_YAML


@pytest.fixture
def ladder_api(tmp_path: Path, sqlite_url: str) -> Iterator[Api]:
    config = tmp_path / "ladder.yaml"
    config.write_text(LADDER, encoding="utf-8")
    clock = Clock()
    service = build_service(sqlite_url, clock, preset=str(config))
    _, read = service.store.create_api_key("reader", ["read"])
    with TestClient(create_app(service, access_log=False)) as client:
        yield Api(client, service, clock, Keys(read, read, read, read, ""))
    service.close()


def test_atr_stop_partial_ladder_and_time_stop_from_the_configuration(ladder_api: Api
                                                                       ) -> None:
    cfg = ladder_api.service.config.exits
    entry, qty, atr = Decimal("430.47"), Decimal(10), Decimal("6.23")
    p = post(ladder_api, {"symbol": "AAPL", "side": "LONG", "entry": "430.47",
                          "quantity": 10, "atr": "6.23"})
    stop = to_grid(entry - dec(cfg.stop_atr_multiple) * atr, AAPL_TICK, ROUND_CEILING)
    r = entry - stop
    rungs = [(to_grid(entry + dec(rung.r_multiple) * r, AAPL_TICK, ROUND_CEILING),
              (dec(rung.fraction) * qty).quantize(Decimal(1), rounding=ROUND_DOWN))
             for rung in cfg.partials]
    final = to_grid(entry + dec(cfg.take_profit_r) * r, AAPL_TICK, ROUND_CEILING)
    # by hand: 430.47 - 1.5 x 6.23 = 421.125 -> 421.13, R = 9.34; rungs 439.81 x 5 and
    # 449.15 x 2 (2.5 rounded down to whole shares); the final 458.49 closes the other 3
    assert stop == Decimal("421.13")
    assert rungs == [(Decimal("439.81"), 5), (Decimal("449.15"), 2)]
    assert Decimal(p["stop"]) == stop
    assert Decimal(p["atr"]) == atr
    got = [(Decimal(t["price"]), Decimal(t["quantity"]), t["final"]) for t in p["targets"]]
    assert got == [(rungs[0][0], rungs[0][1], False), (rungs[1][0], rungs[1][1], False),
                   (final, qty - rungs[0][1] - rungs[1][1], True)]
    assert [t["fraction"] for t in p["targets"]] == ["0.5", "0.25", None]
    assert Decimal(p["take_profit"]) == final
    assert p["time_stop_at"] == (START + timedelta(hours=cfg.time_stop_hours)).isoformat()
    assert p["config_name"].endswith("ladder.yaml")
    # a time stop past the calendar's end is refused on opened_at, not a server error
    late = ladder_api.client.post(URL, json={"symbol": "AAPL", "side": "LONG", "quantity": 1,
                                             "atr": 1, "opened_at": "9999-12-31T00:00:00Z"},
                                  headers=ladder_api.headers(ladder_api.keys.read))
    assert late.status_code == 422, late.text
    assert [d["field"] for d in late.json()["detail"]] == ["body.opened_at"]


def test_atr_stop_without_an_atr_is_422_on_atr(ladder_api: Api) -> None:
    r = ladder_api.client.post(URL, json={"symbol": "AAPL", "side": "SHORT", "quantity": 1},
                               headers=ladder_api.headers(ladder_api.keys.read))
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["body.atr"]
