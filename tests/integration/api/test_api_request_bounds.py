"""Request bounds: what the request models refuse before anything runs, and how a sent zero
comes back.

A value the store cannot hold (a journal cursor past a 64-bit integer) is a 422 on its
query parameter, not a 500; a zero sent as ``"-0"`` (or with an odd exponent) is an
unsigned ``0``: no money in an answer reads ``-0.00``; each row of a covariance is bounded
like the matrix itself. Nothing is written for a refused request.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from api_support import Api

KELLY = "/api/capital/position-size/kelly"
PARITY = "/api/capital/allocation/risk-parity"
URL = "/api/capital/recommendation/position"


def _fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["detail"]]


# ---------------------------------------------------------------------- journal cursor
@pytest.mark.parametrize("before", [str(2**63), "99999999999999999999999"])
def test_a_journal_cursor_past_a_64_bit_id_is_a_422_on_the_query(api: Api, before: str) -> None:
    r = api.client.get(f"/api/journal?before={before}", headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert _fields(r) == ["query.before"]


def test_the_largest_journal_cursor_is_read_as_usual(api: Api) -> None:
    posted = api.client.post(URL, json={"symbol": "AAPL", "signal_score": 75},
                             headers=api.headers())
    assert posted.status_code == 200, posted.text
    r = api.client.get(f"/api/journal?before={2**63 - 1}", headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    assert [e["id"] for e in r.json()["entries"]] == [posted.json()["decision_id"]]


# ---------------------------------------------------------------------- signed and odd zeros
@pytest.mark.parametrize("zero", ["-0", "-0.00", "0E+999999", "-0E-50"])
def test_a_zero_capital_gives_unsigned_zero_money(api: Api, zero: str) -> None:
    kelly = api.client.post(KELLY, json={"win_rate": 0.6, "win_loss_ratio": 2,
                                         "capital": zero},
                            headers=api.headers(api.keys.read))
    assert kelly.status_code == 200, kelly.text
    assert kelly.json()["position_size_usd"] == "0.00"
    parity = api.client.post(PARITY, json={"volatilities": {"AAPL": 0.2}, "capital": zero},
                             headers=api.headers(api.keys.read))
    assert parity.status_code == 200, parity.text
    assert parity.json()["capital"] == "0"
    assert parity.json()["allocation_usd"] == {"AAPL": "0.00"}


def test_a_negative_zero_atr_is_read_as_zero() -> None:
    from riskdesk.api._requests import MarketIn

    market = MarketIn.model_validate({"atr": "-0", "bids": [{"price": 1, "size": "-0.0"}]})
    assert market.atr is not None
    assert not market.atr.is_signed()
    assert not market.bids[0].size.is_signed()
    assert str(market.atr) == "0"


# ---------------------------------------------------------------------- covariance rows
def test_a_covariance_row_longer_than_the_symbol_cap_is_refused_on_that_row(api: Api) -> None:
    row = [0.04] + [0.0] * 200
    r = api.client.post(PARITY, json={"symbols": ["AAPL"], "covariance": [row]},
                        headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body.covariance.0"]
    assert r.json()["detail"][0]["type"] == "too_long"


def test_a_covariance_at_the_cap_is_solved(api: Api) -> None:
    n = 200
    cov = [[0.04 if i == j else 0.01 for j in range(n)] for i in range(n)]
    r = api.client.post(PARITY, json={"symbols": [f"S{i}" for i in range(n)],
                                      "covariance": cov, "capital": "1000"},
                        headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    assert sum(Decimal(v) for v in r.json()["allocation_usd"].values()) <= 1000
