"""Fixtures of the HTTP API tests: a service on each database, a test client and keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import Api, Clock, Keys, TestClient, build_service

from riskdesk.api import create_app


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    clock = Clock()
    service = build_service(db_url, clock)
    store = service.store
    _, read = store.create_api_key("reader", ["read"])
    _, trade = store.create_api_key("bot", ["trade"])
    _, admin = store.create_api_key("operator", ["admin"])
    revoked_id, revoked = store.create_api_key("old", ["admin"])
    store.revoke_api_key(revoked_id)
    service.record_capital()
    with TestClient(create_app(service, access_log=False)) as client:
        yield Api(client, service, clock, Keys(read, trade, admin, revoked, revoked_id))
    service.close()
