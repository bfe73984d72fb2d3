"""The exception hierarchy, grouped by what the caller should do.

A denial is never an exception: it is a ``Decision`` with a reason code. Exceptions are for
bad input (fix the request), bad configuration (fix the file), unavailable or stale state
(fetch fresh state and retry) and failed computations (the caller sees the failure instead of
silent numbers).
"""

from __future__ import annotations


class RiskdeskError(Exception):
    """Base class of every error riskdesk raises on purpose."""


class InvalidInputError(RiskdeskError, ValueError):
    """A value handed to riskdesk is unusable: fix the input and call again.

    Parameters
    ----------
    field
        Dotted path of the offending field, for example ``"market.rules.step"``.
    value
        The value that was rejected.
    expected
        What would have been accepted, in words.
    """

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: got {value!r}, expected {expected}")


class ConfigError(RiskdeskError, ValueError):
    """A configuration file, preset or override is invalid: fix the configuration.

    Parameters
    ----------
    message
        The full message, naming the source, the key path, the value and what was expected.
    source
        The file, preset or environment variable the bad value came from.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        super().__init__(message)


class StateError(RiskdeskError):
    """Account or market state is missing or stale: refresh it before deciding."""


class StaleStateError(StateError):
    """State is older than the configured maximum age."""


class StoreUnavailableError(StateError):
    """The database cannot be reached or cannot take the operation now: retry shortly.

    Raised by :class:`riskdesk.store.Store` for a database that is down, unreachable, locked
    past the busy timeout, read-only, out of disk or that dropped the connection. The
    transaction the operation ran in was rolled back: nothing of it was written.

    Parameters
    ----------
    reason
        One line from the database driver saying why (no SQL, no parameters, no
        credentials), for example ``"database is locked"``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"store unavailable: {reason}")


class UnknownSymbolError(StateError, KeyError):
    """No market rules or price are known for the symbol."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown symbol"


class ConflictError(RiskdeskError):
    """The request conflicts with stored state (for example a reused idempotency key)."""


class ComputationError(RiskdeskError):
    """A numerical procedure did not converge or produced unusable output."""


class BrokerError(RiskdeskError):
    """A broker call failed or returned data that cannot be trusted: retry or alert."""
