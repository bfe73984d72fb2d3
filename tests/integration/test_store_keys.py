from __future__ import annotations

import pytest
import sqlalchemy as sa
from store_support import T0

from riskdesk.errors import InvalidInputError
from riskdesk.store import Store
from riskdesk.store import _tables as t


def test_create_verify_revoke(store: Store) -> None:
    key_id, plaintext = store.create_api_key("bot-1", ["trade"])
    key = store.verify_api_key(plaintext)
    assert key is not None
    assert (key.key_id, key.name, key.scopes) == (key_id, "bot-1", frozenset({"trade"}))
    assert key.created_at == T0
    assert key.allows("read")
    assert key.allows("trade")
    assert not key.allows("admin")
    revoked = store.revoke_api_key(key_id)
    assert revoked.revoked_at == T0
    assert not revoked.allows("read")
    assert store.verify_api_key(plaintext) is None
    assert store.revoke_api_key(key_id) == revoked
    assert [k.key_id for k in store.list_api_keys()] == [key_id]
    assert store.list_api_keys(include_revoked=False) == []


def test_only_a_digest_is_stored(store: Store) -> None:
    _, plaintext = store.create_api_key("dash", ["read", "admin"])
    secret = plaintext.split("_", 2)[2]
    assert len(secret) >= 40
    with store.engine.connect() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(sa.select(t.api_keys))]
    assert rows
    assert not any(secret in cell for row in rows for cell in row)
    assert store.list_api_keys()[0].scopes == frozenset({"read", "admin"})


def test_wrong_and_malformed_keys(store: Store) -> None:
    key_id, plaintext = store.create_api_key("bot", ["read"])
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    for bad in (tampered, "", "rdk_", f"rdk_{key_id}", "nonsense", f"xyz_{key_id}_abc",
                f"rdk_{'0' * 16}_{plaintext.split('_', 2)[2]}", None, 42):
        assert store.verify_api_key(bad) is None  # type: ignore[arg-type]
    assert store.verify_api_key(plaintext) is not None


@pytest.mark.parametrize(("scopes", "field"), [
    ([], "scopes"), (["root"], "scopes"), (["read", "write"], "scopes")])
def test_bad_scopes(sqlite_store: Store, scopes: list[str], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        sqlite_store.create_api_key("x", scopes)
    assert info.value.field == field
    assert sqlite_store.list_api_keys() == []


@pytest.mark.parametrize("name", ["bot\nadmin", "bot\r", "a\tb", "bell\x07", "", "  "])
def test_a_key_name_must_be_one_printable_line(sqlite_store: Store, name: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        sqlite_store.create_api_key(name, ["read"])
    assert info.value.field == "name"
    assert sqlite_store.list_api_keys() == []


def test_unknown_key_and_scope(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="key_id"):
        store.revoke_api_key("nope")
    _, plaintext = store.create_api_key("x", "admin")
    key = store.verify_api_key(plaintext)
    assert key is not None
    assert key.allows("trade")
    with pytest.raises(InvalidInputError, match="scope"):
        key.allows("superuser")
