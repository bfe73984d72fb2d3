"""Kelly sizing (seed 002), the drawdown haircut, and seed 001's Kelly adjustments."""

from __future__ import annotations

from riskdesk.config import Kelly
from riskdesk.domain import ReasonCode
from riskdesk.sizing._checks import INF, bad

# A Kelly fraction this small is float noise (0.4 - 0.6 / 1.5 is not exactly 0): it is no
# edge, and a positive lower clip must not turn it into a bet.
_NO_EDGE = 1e-12


def _check_common(risk_aversion: float, clip: tuple[float, float]) -> tuple[float, float]:
    if not 0.0 < risk_aversion < INF:
        bad("risk_aversion", risk_aversion, "a finite number > 0")
    lo, hi = clip
    if not 0.0 <= lo <= hi <= 1.0:
        bad("clip", clip, "(lo, hi) with 0 <= lo <= hi <= 1")
    return lo, hi


def kelly_binary(win_rate: float, win_loss_ratio: float, *, risk_aversion: float = 1.0,
                 clip: tuple[float, float] = (0.0, 0.2)) -> float:
    """Kelly fraction of a bet that wins ``win_loss_ratio`` or loses 1.

    ``f = (b p - (1 - p)) / b / risk_aversion`` with ``p = win_rate`` and
    ``b = win_loss_ratio``, clipped to ``clip``. Without an edge (``b p - (1 - p) <= 0``) the
    fraction is 0 whatever ``clip`` says: a positive lower clip never buys a losing bet. A
    fraction within 1e-12 of zero counts as no edge (float noise).

    Parameters
    ----------
    win_rate
        Probability of a win, in [0, 1].
    win_loss_ratio
        Average win over average loss, > 0.
    risk_aversion
        Divides the Kelly fraction (2.0 gives half-Kelly), > 0.
    clip
        ``(lo, hi)`` bounds of the result, ``0 <= lo <= hi <= 1``.

    Returns
    -------
    float
        The fraction of equity to commit.

    Raises
    ------
    InvalidInputError
        Naming the argument out of range.

    Examples
    --------
    Seed 001's 58% win rate and 1.75 win/loss ratio (the formula's answer, 34%):

    >>> round(kelly_binary(0.58, 1.75, clip=(0.0, 1.0)), 10)
    0.34
    """
    if not 0.0 <= win_rate <= 1.0:
        bad("win_rate", win_rate, "a fraction in [0, 1]")
    if not 0.0 < win_loss_ratio < INF:
        bad("win_loss_ratio", win_loss_ratio, "a finite number > 0")
    lo, hi = _check_common(risk_aversion, clip)
    # (b p - (1 - p)) / b, written so that p = 1 gives 1 for any b.
    full = win_rate - (1.0 - win_rate) / win_loss_ratio
    if full <= _NO_EDGE:
        return 0.0
    f = full / risk_aversion
    return lo if f < lo else hi if f > hi else f


def kelly_mu_sigma(mu: float, sigma: float, *, risk_aversion: float = 1.0,
                   clip: tuple[float, float] = (0.0, 0.2)) -> float:
    """Continuous-return Kelly fraction ``mu / sigma**2 / risk_aversion``, clipped.

    Parameters
    ----------
    mu
        Expected return per period (0.001 = 0.1%), finite. ``mu <= 0`` gives 0.
    sigma
        Return standard deviation per period, > 0.
    risk_aversion
        Divides the fraction, > 0.
    clip
        ``(lo, hi)`` bounds of the result, ``0 <= lo <= hi <= 1``.

    Returns
    -------
    float
        The fraction of equity to commit; never grows with ``sigma``.

    Raises
    ------
    InvalidInputError
        Naming the argument out of range.
    """
    if not -INF < mu < INF:
        bad("mu", mu, "a finite number")
    if not 0.0 < sigma < INF:
        bad("sigma", sigma, "a finite number > 0")
    lo, hi = _check_common(risk_aversion, clip)
    if mu <= 0.0:
        return 0.0
    f = mu / (sigma * sigma) / risk_aversion
    return lo if f < lo else hi if f > hi else f


def half_kelly(f: float) -> float:
    """Half of a Kelly fraction (seed 001's "safer" half-Kelly).

    Parameters
    ----------
    f
        A Kelly fraction, finite and >= 0.

    Returns
    -------
    float
        ``0.5 x f``.
    """
    if not 0.0 <= f < INF:
        bad("f", f, "a finite number >= 0")
    return 0.5 * f


def dd_haircut_factor(drawdown: float, *, start: float = 0.05, full: float = 0.20,
                      floor: float = 0.25) -> float:
    """Multiplier that shrinks a size as drawdown deepens (seed 002).

    1 at or below ``start``, falling linearly to ``floor`` at ``full``, ``floor`` beyond.
    Non-increasing in ``drawdown``.

    Parameters
    ----------
    drawdown
        Drawdown from the high-water mark as a positive fraction (0.12 = 12% down), >= 0.
    start
        Drawdown where the haircut begins, in [0, 1].
    full
        Drawdown where it reaches ``floor``, ``start <= full <= 1``.
    floor
        Smallest multiplier, in [0, 1].

    Returns
    -------
    float
        The multiplier, in ``[floor, 1]``.

    Raises
    ------
    InvalidInputError
        Naming the argument out of range.

    Examples
    --------
    >>> round(dd_haircut_factor(0.125), 12)
    0.625
    """
    if not 0.0 <= drawdown < INF:
        bad("drawdown", drawdown, "a finite fraction >= 0")
    if not 0.0 <= start <= full <= 1.0:
        bad("start", start, f"0 <= start <= full ({full}) <= 1")
    if not 0.0 <= floor <= 1.0:
        bad("floor", floor, "a fraction in [0, 1]")
    if drawdown <= start:
        return 1.0
    if drawdown >= full:
        return floor
    return 1.0 - (1.0 - floor) * (drawdown - start) / (full - start)


def apply_dd_haircut(f: float, drawdown: float, *, start: float = 0.05, full: float = 0.20,
                     floor: float = 0.25) -> float:
    """A Kelly fraction after the drawdown haircut: ``f x dd_haircut_factor(drawdown)``.

    Parameters
    ----------
    f
        The fraction, finite and >= 0.
    drawdown, start, full, floor
        As for :func:`dd_haircut_factor`.

    Returns
    -------
    float
        The reduced fraction.
    """
    if not 0.0 <= f < INF:
        bad("f", f, "a finite number >= 0")
    return f * dd_haircut_factor(drawdown, start=start, full=full, floor=floor)


def heat_multiplier(portfolio_heat: float, cfg: Kelly) -> float:
    """Seed 001's portfolio-heat multiplier; never increases with heat.

    Above ``heat_high`` it is ``heat_high_multiplier``, below ``heat_low``
    ``heat_low_multiplier``. In between, ``heat_mode="linear"`` interpolates between the two
    (no cliff at ``heat_high``); ``heat_mode="step"`` keeps ``heat_low_multiplier`` up to and
    including ``heat_high``, the seed's literal reading.

    Parameters
    ----------
    portfolio_heat
        Open risk as a percentage of equity on seed 001's 0-100 scale, >= 0.
    cfg
        The ``kelly`` configuration section.

    Returns
    -------
    float
        The multiplier.
    """
    if not 0.0 <= portfolio_heat < INF:
        bad("portfolio_heat", portfolio_heat, "a finite number >= 0")
    high, low = cfg.heat_high, cfg.heat_low
    if portfolio_heat > high:
        return cfg.heat_high_multiplier
    if portfolio_heat <= low or cfg.heat_mode == "step":
        return cfg.heat_low_multiplier
    # low < heat <= high, so high > low here.
    t = (portfolio_heat - low) / (high - low)
    return cfg.heat_low_multiplier + t * (cfg.heat_high_multiplier - cfg.heat_low_multiplier)


def kelly_adjustments(*, account_tier: str | None, regime: str | None,
                      portfolio_heat: float | None,
                      cfg: Kelly) -> list[tuple[ReasonCode, float, str]]:
    """Seed 001's multiplicative adjustments of a Kelly size, each with its reason.

    Always returns three entries, in this order: ``ACCOUNT_SIZE`` (``small`` tier x
    ``small_account_multiplier``, ``large`` x ``large_account_multiplier``, any other tier
    x 1), ``REGIME`` (``regime_multipliers[regime]``, 1 for a regime the mapping does not
    list) and ``PORTFOLIO_HEAT`` (:func:`heat_multiplier`). A missing input gives 1 and says
    so in the note.

    Parameters
    ----------
    account_tier
        Name of the account tier (``"small"``, ``"medium"``, ``"large"``), or ``None``.
    regime
        Market regime (a :class:`~riskdesk.domain.Regime` or its name, any case), or ``None``.
    portfolio_heat
        Open risk on seed 001's 0-100 scale, or ``None``.
    cfg
        The ``kelly`` configuration section.

    Returns
    -------
    list of (ReasonCode, float, str)
        ``(code, multiplier, note)`` per adjustment.
    """
    if account_tier is None:
        acct, acct_note = 1.0, "account tier not given"
    elif account_tier == "small":
        acct = cfg.small_account_multiplier
        acct_note = f"small account x{acct:g}"
    elif account_tier == "large":
        acct = cfg.large_account_multiplier
        acct_note = f"large account x{acct:g}"
    else:
        acct, acct_note = 1.0, f"{account_tier} account x1"
    if regime is None:
        reg, reg_note = 1.0, "regime not given"
    else:
        key = regime.upper()
        reg = cfg.regime_multipliers.get(key, 1.0)
        reg_note = f"regime {key} x{reg:g}"
    if portfolio_heat is None:
        heat, heat_note = 1.0, "portfolio heat not given"
    else:
        heat = heat_multiplier(portfolio_heat, cfg)
        heat_note = f"portfolio heat {portfolio_heat:g} x{heat:.4g}"
    return [(ReasonCode.ACCOUNT_SIZE, acct, acct_note),
            (ReasonCode.REGIME, reg, reg_note),
            (ReasonCode.PORTFOLIO_HEAT, heat, heat_note)]
