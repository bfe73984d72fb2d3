"""The desk's trading state: ACTIVE, REDUCING or HALTED, and what each lets through."""

from __future__ import annotations

from riskdesk.domain import Intent, ReasonCode, TradingState

_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def effective_trading_state(operator_state: TradingState, *, breaker_active: bool,
                            margin_red: bool) -> tuple[TradingState, tuple[ReasonCode, ...]]:
    """Combine the operator's state with the automatic halts; the most severe wins.

    The drawdown circuit breaker and margin RED each halt new risk; an operator may set
    REDUCING or HALTED at any time.

    Parameters
    ----------
    operator_state
        The state an operator set (ACTIVE unless changed).
    breaker_active
        The circuit breaker blocks new risk now.
    margin_red
        Margin use is in the RED zone.

    Returns
    -------
    tuple of (TradingState, tuple of ReasonCode)
        The state and the reasons behind it: ``TRADING_HALTED`` or ``TRADING_REDUCING``
        first, then ``BREAKER_TRIPPED`` and ``MARGIN_RED`` where they apply. ACTIVE has no
        reasons.

    Examples
    --------
    >>> effective_trading_state(TradingState.ACTIVE, breaker_active=True, margin_red=False)
    (<TradingState.HALTED: 'HALTED'>, (<ReasonCode.TRADING_HALTED: 'TRADING_HALTED'>, \
<ReasonCode.BREAKER_TRIPPED: 'BREAKER_TRIPPED'>))
    """
    state = TradingState(operator_state)
    extra: list[ReasonCode] = []
    if breaker_active:
        extra.append(ReasonCode.BREAKER_TRIPPED)
    if margin_red:
        extra.append(ReasonCode.MARGIN_RED)
    if extra:
        state = TradingState.HALTED
    if state is TradingState.ACTIVE:
        return state, ()
    head = ReasonCode.TRADING_HALTED if state is TradingState.HALTED \
        else ReasonCode.TRADING_REDUCING
    return state, (head, *extra)


def admits(state: TradingState, intent: Intent) -> bool:
    """True when ``state`` lets an order of ``intent`` through.

    ACTIVE admits everything; REDUCING and HALTED admit only orders that reduce a position
    (a stop or a close is never blocked).
    """
    return state is TradingState.ACTIVE or intent is Intent.REDUCE


def severity(state: TradingState) -> int:
    """0 for ACTIVE, 1 for REDUCING, 2 for HALTED."""
    return _SEVERITY[state]
