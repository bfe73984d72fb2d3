"""API keys for the service: only a SHA-256 digest of each key is stored.

A key reads ``rdk_<key_id>_<secret>`` where the secret is 32 random bytes (256 bits), so a
fast digest is as good as a slow password hash here: there is nothing to guess. The key id
finds the row; the digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._base import StoreBase, check_text

_A = t.api_keys
_PREFIX = "rdk"
#: Scopes a key may hold. ``admin`` implies ``trade``, and ``trade`` implies ``read``.
SCOPES = ("read", "trade", "admin")
_RANK = {s: i for i, s in enumerate(SCOPES)}
#: Most verified keys remembered per store (see ``max_age`` of ``verify_api_key``).
_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored API key (never its secret)."""

    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """Whether the key grants ``scope`` (directly or through a higher scope)."""
        if scope not in _RANK:
            raise InvalidInputError("scope", scope, f"one of {', '.join(SCOPES)}")
        return self.active and any(_RANK[s] >= _RANK[scope] for s in self.scopes)


class RevokedKeyError(ConflictError):
    """The API key a write was made for was revoked before the write committed."""


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _scopes(scopes: Iterable[str]) -> list[str]:
    if isinstance(scopes, str):
        scopes = [scopes]
    given = list(scopes)
    if not given or any(not isinstance(s, str) or s not in _RANK for s in given):
        raise InvalidInputError("scopes", given, f"a non-empty subset of {', '.join(SCOPES)}")
    return sorted(set(given), key=lambda s: _RANK[s])


class KeyOps(StoreBase):
    """Create, list, revoke and verify API keys."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keys verified against the database: digest -> (key, when, monotonic seconds).
        self._key_cache: dict[str, tuple[ApiKey, float]] = {}
        self._key_cache_lock = threading.Lock()

    def create_api_key(self, name: str, scopes: Iterable[str]) -> tuple[str, str]:
        """Create a key.

        Parameters
        ----------
        name
            What the key is for: printable characters on one line (it names the caller in
            logs and tables), at most 200.
        scopes
            Some of ``read``, ``trade``, ``admin``.

        Returns
        -------
        tuple of (str, str)
            The key id and the plaintext key. The plaintext is shown only here.
        """
        name = check_text(name, "name")
        if not name.isprintable():  # a line break or a control character
            raise InvalidInputError("name", name, "printable characters on one line")
        granted = _scopes(scopes)
        key_id = secrets.token_hex(8)
        plaintext = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        with self._write() as conn:
            conn.execute(sa.insert(_A).values(key_id=key_id, name=name,
                                              key_hash=_digest(plaintext), scopes=granted,
                                              created_at=self._now()))
        return key_id, plaintext

    def list_api_keys(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Keys, oldest first."""
        stmt = sa.select(_A).order_by(_A.c.created_at, _A.c.key_id)
        if not include_revoked:
            stmt = stmt.where(_A.c.revoked_at.is_(None))
        with self._read() as conn:
            return [_key(r) for r in conn.execute(stmt)]

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key (revoking twice keeps the first time).

        Raises
        ------
        InvalidInputError
            For an unknown key id.
        """
        with self._write() as conn:
            row = conn.execute(sa.select(_A).where(_A.c.key_id == key_id)).first()
            if row is None:
                raise InvalidInputError("key_id", key_id, "the id of an existing API key")
            if row.revoked_at is None:
                conn.execute(sa.update(_A).where(_A.c.key_id == key_id)
                             .values(revoked_at=self._now()))
            row = conn.execute(sa.select(_A).where(_A.c.key_id == key_id)).one()
        cache = self._key_cache
        with self._key_cache_lock:
            for digest in [d for d, (k, _) in cache.items() if k.key_id == key_id]:
                del cache[digest]
        return _key(row)

    def cached_api_key(self, plaintext: str, *, max_age: float) -> ApiKey | None:
        """The key matching ``plaintext`` if this store verified it within ``max_age`` seconds.

        Reads nothing: ``None`` means "not known here", not "invalid" (then call
        :meth:`verify_api_key`).
        """
        if max_age <= 0 or not isinstance(plaintext, str):
            return None
        hit = self._key_cache.get(_digest(plaintext))
        if hit is None or time.monotonic() - hit[1] >= max_age:
            return None
        return hit[0]

    def verify_api_key(self, plaintext: str, *, max_age: float = 0.0) -> ApiKey | None:
        """The active key matching ``plaintext``, or ``None`` (unknown, malformed, revoked).

        Parameters
        ----------
        plaintext
            The key as the caller sent it.
        max_age
            Seconds a key verified against the database by this store may be trusted
            without reading it again. ``0`` reads it every time. A key revoked through this
            store stops at once; one revoked by another process (``riskdesk keys revoke``)
            stops within ``max_age``.
        """
        if not isinstance(plaintext, str):
            return None
        parts = plaintext.split("_", 2)
        if len(parts) != 3 or parts[0] != _PREFIX or len(parts[1]) != 16:
            return None
        cached = self.cached_api_key(plaintext, max_age=max_age)
        if cached is not None:
            return cached
        digest = _digest(plaintext)
        cache = self._key_cache
        with self._read() as conn:
            row = conn.execute(sa.select(_A).where(_A.c.key_id == parts[1])).first()
        if row is None:
            # Spend the same work as a real comparison.
            hmac.compare_digest(digest, _digest(""))
            return None
        if not hmac.compare_digest(digest, row.key_hash) or row.revoked_at is not None:
            return None
        key = _key(row)
        if max_age > 0:
            with self._key_cache_lock:
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[digest] = (key, time.monotonic())
        return key


def _key(row: Any) -> ApiKey:
    return ApiKey(row.key_id, row.name, frozenset(row.scopes), row.created_at, row.revoked_at)
