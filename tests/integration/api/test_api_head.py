"""HEAD answers every GET endpoint as GET does, without the body (RFC 9110, section 9.3.2).

Load balancers and uptime probes send ``HEAD /healthz``; a 405 there reads as an outage.
HEAD is not a second operation in the OpenAPI document.
"""

from __future__ import annotations

import pytest
from api_support import Api

from riskdesk.api.openapi import openapi_document

READ_PATHS = [
    "/api/capital/state",
    "/api/capital/history?hours=24",
    "/api/capital/leverage/optimal/AAPL",
    "/api/capital/margin/status",
    "/api/capital/strategy/scaling",
    "/api/capital/drawdown/status",
    "/api/capital/allocation/multi-tier",
    "/api/capital/analysis/complete",
    "/api/journal?limit=5",
]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_head_on_an_open_endpoint_answers_as_get_without_a_body(api: Api, path: str) -> None:
    get = api.client.get(path)
    head = api.client.head(path)
    assert get.status_code == 200
    assert head.status_code == 200, head.text
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.content == b""


@pytest.mark.parametrize("path", READ_PATHS)
def test_head_on_a_read_endpoint_answers_as_get(api: Api, path: str) -> None:
    rd = api.headers(api.keys.read)
    get = api.client.get(path, headers=rd)
    head = api.client.head(path, headers=rd)
    assert get.status_code == 200, get.text
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/json"
    assert head.content == b""


@pytest.mark.parametrize("path", READ_PATHS)
def test_head_checks_the_key_as_get_does(api: Api, path: str) -> None:
    assert api.client.head(path).status_code == 401
    assert api.client.head(path, headers=api.headers(api.keys.revoked)).status_code == 401


def test_head_validates_query_parameters_as_get_does(api: Api) -> None:
    rd = api.headers(api.keys.read)
    assert api.client.head("/api/capital/history?hours=-1", headers=rd).status_code == 422
    assert api.client.head("/api/journal?limit=0", headers=rd).status_code == 422


def test_head_on_a_post_endpoint_is_still_405(api: Api) -> None:
    r = api.client.head("/api/capital/recommendation/position", headers=api.headers())
    assert r.status_code == 405
    assert "POST" in r.headers["allow"]


def test_head_is_not_an_operation_of_the_openapi_document() -> None:
    paths = openapi_document()["paths"]
    assert not [p for p, ops in paths.items() if "head" in ops]
