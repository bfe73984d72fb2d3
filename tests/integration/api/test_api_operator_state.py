"""GET /api/admin/trading-state: the operator's state, who set it, when and why."""

from __future__ import annotations

from api_support import Api

URL = "/api/admin/trading-state"


def _set(api: Api, body: dict[str, object]) -> None:
    r = api.client.post(URL, json=body, headers=api.headers(api.keys.admin))
    assert r.status_code == 200, r.text


def test_an_operators_halt_is_shown_with_who_when_and_why(api: Api) -> None:
    fresh = api.client.get(URL, headers=api.headers(api.keys.read))
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["operator_state"] == "ACTIVE"
    assert fresh.json()["trading_state"] == "ACTIVE"
    assert fresh.json()["changes"] == []
    _set(api, {"state": "halt", "note": "exchange maintenance 14:00-15:00"})
    body = api.client.get(URL, headers=api.headers(api.keys.read)).json()
    assert body["operator_state"] == "HALTED"
    assert body["trading_state"] == "HALTED"
    assert body["reasons"] == ["TRADING_HALTED"]
    assert body["account_error"] is None
    last = body["changes"][0]
    assert (last["operator"], last["trading_state"], last["note"]) == (
        "operator", "HALTED", "exchange maintenance 14:00-15:00")
    assert last["at"] == api.clock().isoformat()
    _set(api, {"state": "resume", "note": "done"})
    body = api.client.get(URL, params={"changes": 1},
                          headers=api.headers(api.keys.read)).json()
    assert body["operator_state"] == "ACTIVE"
    assert [c["note"] for c in body["changes"]] == ["done"]


def test_reading_it_needs_a_key_and_a_sane_count(api: Api) -> None:
    assert api.client.get(URL).status_code == 401
    bad = api.client.get(URL, params={"changes": 0}, headers=api.headers(api.keys.read))
    assert bad.status_code == 422
    assert "changes" in bad.text
    head = api.client.head(URL, headers=api.headers(api.keys.read))
    assert head.status_code == 200
    assert head.content == b""


def test_the_operators_part_answers_while_the_broker_is_down(api: Api) -> None:
    _set(api, {"state": "reduce-only", "note": "broker flaky"})

    def down(now: object) -> object:
        from riskdesk.errors import BrokerError

        raise BrokerError("broker unreachable")

    api.service.broker.account = down  # type: ignore[method-assign]
    body = api.client.get(URL, headers=api.headers(api.keys.read)).json()
    assert body["operator_state"] == "REDUCING"
    assert body["trading_state"] is None
    assert "broker unreachable" in body["account_error"]
    assert body["changes"][0]["note"] == "broker flaky"
