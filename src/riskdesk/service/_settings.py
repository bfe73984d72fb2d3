"""Service settings: where the database is, which configuration and broker to use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from riskdesk.errors import ConfigError

#: Environment variables the service reads (single underscore: ``RISKDESK__`` with two is
#: reserved for risk-configuration overrides).
ENV_DB = "RISKDESK_DB_URL"
ENV_CONFIG = "RISKDESK_CONFIG"
ENV_BROKER = "RISKDESK_BROKER"
ENV_RESERVATION_TTL = "RISKDESK_RESERVATION_TTL"
ENV_LOG_LEVEL = "RISKDESK_LOG_LEVEL"
ENV_ACCESS_LOG = "RISKDESK_ACCESS_LOG"
ENV_SNAPSHOT = "RISKDESK_CAPITAL_SNAPSHOT_SECONDS"
ENV_KEY_CACHE = "RISKDESK_KEY_CACHE_SECONDS"

DEFAULT_DB = "sqlite:///var/riskdesk.db"


#: The longest lifetime of a reservation the settings accept (a day), in seconds.
MAX_RESERVATION_TTL_SECONDS = 86400.0


@dataclass(frozen=True, slots=True)
class Settings:
    """How to run the service.

    Parameters
    ----------
    db_url
        SQLAlchemy URL of the store (``sqlite:///path.db`` or ``postgresql://...``).
    config
        A preset name or a YAML file path for the risk configuration.
    broker
        Which broker supplies account and market state; ``"paper"`` is the only one the
        service builds on its own (others are wired in code through :class:`Service`).
    reservation_ttl_seconds
        How long a reservation made on an ENTER decision holds its notional before it lapses.
    log_level
        Python logging level name for the JSON logs.
    access_log
        Write one JSON log line per request.
    capital_snapshot_seconds
        How often each worker records a capital snapshot (the equity curve); 0 turns it off.
    key_cache_seconds
        How long a worker trusts an API key it verified without reading it again: a key
        revoked by another process stops being accepted within this time (deciding calls
        check it again when they commit); 0 reads it on every request.
    """

    db_url: str = DEFAULT_DB
    config: str = "default"
    broker: str = "paper"
    reservation_ttl_seconds: float = 300.0
    log_level: str = "INFO"
    access_log: bool = True
    capital_snapshot_seconds: float = 10.0
    key_cache_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not self.db_url:
            raise ConfigError("settings.db_url: a database URL is required", ENV_DB)
        if not (0 < self.reservation_ttl_seconds <= MAX_RESERVATION_TTL_SECONDS):
            raise ConfigError(
                f"settings.reservation_ttl_seconds: got {self.reservation_ttl_seconds!r}, "
                f"expected seconds in (0, {MAX_RESERVATION_TTL_SECONDS:g}]",
                ENV_RESERVATION_TTL)
        if not (0 <= self.capital_snapshot_seconds <= 86400):
            raise ConfigError(
                f"settings.capital_snapshot_seconds: got {self.capital_snapshot_seconds!r}, "
                "expected seconds in [0, 86400]", ENV_SNAPSHOT)
        if not (0 <= self.key_cache_seconds <= 3600):
            raise ConfigError(
                f"settings.key_cache_seconds: got {self.key_cache_seconds!r}, "
                "expected seconds in [0, 3600]", ENV_KEY_CACHE)
        if self.broker != "paper":
            raise ConfigError(f"settings.broker: got {self.broker!r}, expected 'paper'",
                              ENV_BROKER)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment.

        The variables are ``RISKDESK_DB_URL``, ``RISKDESK_CONFIG``, ``RISKDESK_BROKER``,
        ``RISKDESK_RESERVATION_TTL``, ``RISKDESK_LOG_LEVEL``, ``RISKDESK_ACCESS_LOG``,
        ``RISKDESK_CAPITAL_SNAPSHOT_SECONDS`` and ``RISKDESK_KEY_CACHE_SECONDS``.

        Parameters
        ----------
        env
            The environment; ``os.environ`` when ``None``.

        Returns
        -------
        Settings
            Defaults where a variable is unset.
        """
        e = os.environ if env is None else env
        ttl = _seconds(e, ENV_RESERVATION_TTL, "300")
        snapshot = _seconds(e, ENV_SNAPSHOT, "10")
        key_cache = _seconds(e, ENV_KEY_CACHE, "1")
        return cls(
            db_url=e.get(ENV_DB, DEFAULT_DB),
            config=e.get(ENV_CONFIG, "default"),
            broker=e.get(ENV_BROKER, "paper"),
            reservation_ttl_seconds=ttl,
            log_level=e.get(ENV_LOG_LEVEL, "INFO"),
            access_log=e.get(ENV_ACCESS_LOG, "1").lower() not in ("0", "false", "no", "off"),
            capital_snapshot_seconds=snapshot,
            key_cache_seconds=key_cache,
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` return these settings."""
        return {
            ENV_DB: self.db_url,
            ENV_CONFIG: self.config,
            ENV_BROKER: self.broker,
            ENV_RESERVATION_TTL: repr(self.reservation_ttl_seconds),
            ENV_LOG_LEVEL: self.log_level,
            ENV_ACCESS_LOG: "1" if self.access_log else "0",
            ENV_SNAPSHOT: repr(self.capital_snapshot_seconds),
            ENV_KEY_CACHE: repr(self.key_cache_seconds),
        }

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _seconds(env: Mapping[str, str], name: str, default: str) -> float:
    text = env.get(name, default)
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name}: got {text!r}, expected seconds", name) from None
