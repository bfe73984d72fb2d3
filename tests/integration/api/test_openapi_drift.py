from __future__ import annotations

import json
from pathlib import Path

from api_support import Api

from riskdesk.api.openapi import openapi_document, render

ROOT = Path(__file__).resolve().parents[3]
REGENERATE = ".venv/bin/python -m riskdesk.api.openapi > openapi.json"


def test_committed_openapi_document_matches_the_code() -> None:
    committed = (ROOT / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(), (
        f"openapi.json is out of date with the code; regenerate it with: {REGENERATE}")


def test_document_lists_every_endpoint() -> None:
    paths = openapi_document()["paths"]
    expected = {
        ("get", "/api/capital/state"), ("get", "/api/capital/history"),
        ("get", "/api/capital/leverage/optimal/{symbol}"), ("get", "/api/capital/margin/status"),
        ("get", "/api/capital/strategy/scaling"), ("get", "/api/capital/drawdown/status"),
        ("get", "/api/capital/allocation/multi-tier"),
        ("get", "/api/capital/analysis/complete"),
        ("post", "/api/capital/position-size/kelly"),
        ("post", "/api/capital/allocation/risk-parity"),
        ("post", "/api/capital/recommendation/position"), ("post", "/api/orders/plan"),
        ("post", "/api/reservations/{reservation_id}/confirm"),
        ("post", "/api/reservations/{reservation_id}/release"), ("get", "/api/journal"),
        ("post", "/api/reconcile"), ("post", "/api/admin/trading-state"),
        ("get", "/metrics"), ("get", "/healthz"),
    }
    have = {(m, p) for p, ops in paths.items() for m in ops}
    assert expected <= have, expected - have
    secured = [op for p, ops in paths.items() for op in ops.values()
               if p.startswith("/api/")]
    assert all(op.get("security") for op in secured)


def test_committed_document_is_valid_json() -> None:
    doc = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert doc["info"]["title"] == "riskdesk"


def test_committed_document_describes_every_operation_the_service_serves(api: Api) -> None:
    live = api.client.get("/openapi.json").json()["paths"]
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))["paths"]

    def operations(paths: dict[str, dict[str, object]]) -> set[tuple[str, str]]:
        return {(m, p) for p, ops in paths.items() for m in ops}

    assert operations(committed) == operations(live), \
        operations(live) ^ operations(committed)
