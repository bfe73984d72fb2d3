"""Seed 002's SizingStabilizer: buckets, a hysteresis band and a minimum time between resizes."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime

from riskdesk.config import Stabilizer
from riskdesk.sizing._checks import INF, bad


class SizingStabilizer:
    """Keeps a per-symbol size fraction from oscillating.

    Each :meth:`update` snaps the new fraction down to the largest bucket not above it (never
    up), then keeps the previous value when the snapped one is within ``hysteresis`` of it
    (relative) or when fewer than ``min_interval_seconds`` have passed since the last change.
    A drop to zero, an exit, always goes through at once. The only state is the last accepted
    value and time per symbol; time is passed in.

    Parameters
    ----------
    hysteresis
        Relative change below which the previous value is kept (0.1 = 10%), in [0, 1].
    buckets
        Allowed fractions, each in [0, 1]; empty for no snapping. Zero is always allowed.
    min_interval_seconds
        Minimum seconds between two accepted changes, >= 0.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> t = datetime(2025, 1, 2, tzinfo=timezone.utc)
    >>> s = SizingStabilizer(0.1, [0.05, 0.1, 0.15], 60)
    >>> s.update("BTC", 0.12, t)
    0.1
    >>> s.update("BTC", 0.19, t + timedelta(seconds=10))  # too soon
    0.1
    >>> s.update("BTC", 0.0, t + timedelta(seconds=11))  # exits are never held back
    0.0
    """

    __slots__ = ("_buckets", "_last", "hysteresis", "min_interval_seconds")

    def __init__(self, hysteresis: float = 0.0, buckets: Iterable[float] = (),
                 min_interval_seconds: float = 0.0) -> None:
        if not 0.0 <= hysteresis <= 1.0:
            bad("hysteresis", hysteresis, "a fraction in [0, 1]")
        clean = []
        for i, b in enumerate(buckets):
            if not 0.0 <= b <= 1.0:
                bad(f"buckets[{i}]", b, "a fraction in [0, 1]")
            clean.append(float(b))
        if not 0.0 <= min_interval_seconds < INF:
            bad("min_interval_seconds", min_interval_seconds, "a finite number >= 0")
        self.hysteresis = float(hysteresis)
        self.min_interval_seconds = float(min_interval_seconds)
        self._buckets = tuple(sorted(set(clean) | {0.0})) if clean else ()
        self._last: dict[str, tuple[float, datetime]] = {}

    @classmethod
    def from_config(cls, cfg: Stabilizer) -> SizingStabilizer:
        """Build from the ``kelly.stabilizer`` section; a disabled section passes values through.

        Parameters
        ----------
        cfg
            The stabilizer configuration.

        Returns
        -------
        SizingStabilizer
            A stabilizer with the configured band, buckets and interval, or a pass-through
            one (no band, no buckets, no interval) when ``cfg.enabled`` is false.
        """
        if not cfg.enabled:
            return cls()
        return cls(cfg.hysteresis, cfg.buckets, cfg.min_interval_seconds)

    @property
    def buckets(self) -> tuple[float, ...]:
        """The allowed fractions in ascending order (empty when there is no snapping)."""
        return self._buckets

    def snap(self, fraction: float) -> float:
        """The largest bucket not above ``fraction`` (``fraction`` itself without buckets)."""
        if not self._buckets:
            return fraction
        return self._buckets[bisect_right(self._buckets, fraction) - 1]

    def update(self, symbol: str, fraction: float, now: datetime) -> float:
        """The stabilized fraction for ``symbol`` given a new target ``fraction`` at ``now``.

        Parameters
        ----------
        symbol
            Instrument; each symbol has its own state.
        fraction
            The new target fraction, finite and >= 0.
        now
            Decision time, timezone-aware, not before the last accepted change.

        Returns
        -------
        float
            The snapped new fraction, or the previous value when the change is within the
            hysteresis band or comes too soon. Zero always goes through.

        Raises
        ------
        InvalidInputError
            If ``fraction`` is negative or not finite, ``now`` is naive, or ``now`` is earlier
            than the last accepted change of the symbol.
        """
        if not 0.0 <= fraction < INF:
            bad("fraction", fraction, "a finite number >= 0")
        if now.tzinfo is None:
            bad("now", now, "a timezone-aware datetime")
        target = self.snap(fraction)
        last = self._last.get(symbol)
        if last is None:
            self._last[symbol] = (target, now)
            return target
        prev, when = last
        if now < when:
            bad("now", now, f"a time not before the last change ({when.isoformat()})")
        if target == prev:
            return prev
        if target != 0.0:
            if (now - when).total_seconds() < self.min_interval_seconds:
                return prev
            if prev > 0.0 and abs(target - prev) <= self.hysteresis * prev:
                return prev
        self._last[symbol] = (target, now)
        return target

    def last(self, symbol: str) -> float | None:
        """The last accepted fraction of ``symbol``, or ``None`` if it has none."""
        entry = self._last.get(symbol)
        return None if entry is None else entry[0]

    def reset(self, symbol: str | None = None) -> None:
        """Forget one symbol's state, or every symbol's when ``symbol`` is ``None``."""
        if symbol is None:
            self._last.clear()
        else:
            self._last.pop(symbol, None)
