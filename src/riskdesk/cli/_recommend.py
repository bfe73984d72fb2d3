"""``riskdesk recommend``: one decision from flags, offline (no database, no broker)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import typer
from rich.table import Table

from riskdesk.cli._app import EXIT_DENIED, EXIT_OK, app
from riskdesk.cli._common import (
    ConfigFileOption,
    JsonOption,
    MinNotionalOption,
    MinQtyOption,
    PresetOption,
    StepOption,
    TickOption,
    config_ref,
    exits,
    flag_names,
    out,
    plain_number,
    print_json,
)
from riskdesk.config import RiskConfig
from riskdesk.desk import Desk
from riskdesk.domain import (
    AccountState,
    Decision,
    MarketRules,
    MarketSnapshot,
    Regime,
    Side,
    Signal,
    to_decimal,
)
from riskdesk.errors import InvalidInputError


def render_decision(decision: Decision) -> None:
    """Print a decision and its trail as tables."""
    d = decision.to_dict()
    head = Table(show_header=False, title=f"{d['action']} {d['side']} {d['symbol']}")
    head.add_column("", style="dim")
    head.add_column("", justify="right")
    for key in ("quantity", "price", "notional", "leverage", "margin_required",
                "execution_method", "binding_cap"):
        head.add_row(key.replace("_", " "), str(d[key] if d[key] is not None else "–"))
    head.add_row("risk", f"{decision.risk_pct * 100:.4f}% of equity")
    if d["reasons"]:
        head.add_row("reasons", ", ".join(d["reasons"]))
    out.print(head)
    trail = Table("step", "code", "before", "after", "note", title="trail")
    for a in d["trail"]:
        trail.add_row(a["step"], a["code"], plain_number(a["before"]),
                      plain_number(a["after"]), a["note"])
    out.print(trail)


#: The fields the flags of ``recommend`` fill, named in refusals by their flags.
FLAGS = {
    "rules.symbol": "--symbol", "signal.symbol": "--symbol", "rules.step": "--step",
    "rules.tick": "--tick", "rules.min_qty": "--min-qty", "rules.min_notional": "--min-notional",
    "rules.max_leverage": "--max-leverage", "market.price": "--price", "market.bid": "--bid",
    "market.ask": "--ask", "market.atr": "--atr", "market.vix": "--vix",
    "account.equity": "--equity", "account.available": "--available",
    "account.buying_power": "--available", "account.margin_used": "--margin-used",
    "signal.score": "--score", "signal.strength": "--strength",
    "signal.expected_return_pct": "--expected-return-pct",
    "signal.win_rate": "--win-rate", "signal.win_loss_ratio": "--win-loss-ratio",
    "signal.stop_price": "--stop",
}


#: The ranges ``POST /api/capital/recommendation/position`` takes these flags' fields in
#: (``signal_score``, ``expected_return_pct``, ``strength``, ``win_loss_ratio``,
#: ``market.vix``): the command line sizes nothing the API refuses. A weight is a fraction
#: (``--strength 50`` is not 50 %), its direction is ``--side``.
RANGES = {"--score": (-1000.0, 1000.0), "--expected-return-pct": (-1000.0, 1000.0),
          "--strength": (0.0, 1.0), "--win-loss-ratio": (0.0, 1000.0), "--vix": (0.0, 200.0)}


def _in_range(value: float | None, flag: str) -> None:
    """Refuse a finite ``value`` outside ``flag``'s range.

    NaN and infinities are refused in their own words where the field is checked.
    """
    if value is None or not math.isfinite(value):
        return
    low, high = RANGES[flag]
    if not low <= value <= high:
        raise InvalidInputError(flag, str(value), f"a number within [{low:g}, {high:g}]")


def _regime(text: str | None) -> Regime | None:
    if text is None:
        return None
    try:
        return Regime(text.strip().upper())
    except ValueError:
        raise InvalidInputError("--regime", text, f"one of {', '.join(Regime)}") from None


@app.command("recommend")
@exits
def recommend(
    symbol: str = typer.Option(..., help="Instrument."),
    side: str = typer.Option("LONG", help="LONG/SHORT (BUY/SELL accepted)."),
    price: str = typer.Option(..., help="Last or mark price."),
    equity: str = typer.Option(..., help="Account equity."),
    available: str | None = typer.Option(None, help="Free balance (default: equity)."),
    margin_used: str = typer.Option("0", help="Margin tied up by open positions."),
    score: float | None = typer.Option(None, help="Signal score (caller's scale), within "
                                                  "[-1000, 1000]."),
    strength: float | None = typer.Option(None, help="Target weight as a fraction in [0, 1]; "
                                                     "--side gives its direction."),
    expected_return_pct: float | None = typer.Option(None, help="Expected return, percent, "
                                                                "within [-1000, 1000]."),
    regime: str | None = typer.Option(None, help="STRONG_TREND, TRENDING, NEUTRAL, RANGING, "
                                                 "VOLATILE."),
    win_rate: float | None = typer.Option(None, help="Hit rate in [0, 1]."),
    win_loss_ratio: float | None = typer.Option(None, help="Average win / average loss."),
    stop: str | None = typer.Option(None, help="Planned stop price."),
    strategy: str | None = typer.Option(None, help="Strategy name."),
    reduce_only: bool = typer.Option(False, "--reduce-only",
                                     help="The order only reduces a position."),
    bid: str | None = typer.Option(None, help="Best bid."),
    ask: str | None = typer.Option(None, help="Best ask."),
    atr: str | None = typer.Option(None, help="Average true range, price units."),
    vix: float | None = typer.Option(None, help="VIX level."),
    step: str = StepOption, tick: str = TickOption,
    min_qty: str = MinQtyOption, min_notional: str = MinNotionalOption,
    max_leverage: str = typer.Option("1", help="Highest leverage the market allows."),
    preset: str | None = PresetOption, config: str | None = ConfigFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Decide one order from flags; exit 0 when an order may be sent, 1 when denied."""
    cfg = RiskConfig.load(config_ref(preset, config))
    now = datetime.now(UTC)
    for flag, value in (("--score", score), ("--expected-return-pct", expected_return_pct),
                        ("--strength", strength), ("--win-loss-ratio", win_loss_ratio),
                        ("--vix", vix)):
        _in_range(value, flag)

    def num(value: str | None, flag: str) -> Decimal | None:
        return None if value is None else to_decimal(value, flag)

    with flag_names(FLAGS):
        rules = MarketRules(symbol=symbol, step=to_decimal(step, "--step"),
                            tick=to_decimal(tick, "--tick"),
                            min_qty=to_decimal(min_qty, "--min-qty"),
                            min_notional=to_decimal(min_notional, "--min-notional"),
                            max_leverage=to_decimal(max_leverage, "--max-leverage"))
        market = MarketSnapshot(rules=rules, price=to_decimal(price, "--price"), as_of=now,
                                bid=num(bid, "--bid"), ask=num(ask, "--ask"),
                                atr=num(atr, "--atr"), vix=vix)
        eq = to_decimal(equity, "--equity")
        free = num(available, "--available")
        account = AccountState(equity=eq, available=eq if free is None else free,
                               margin_used=to_decimal(margin_used, "--margin-used"), as_of=now)
        signal = Signal(symbol=symbol, side=Side.parse(side, "--side"), score=score,
                        strength=strength, expected_return_pct=expected_return_pct,
                        regime=_regime(regime), win_rate=win_rate,
                        win_loss_ratio=win_loss_ratio, stop_price=num(stop, "--stop"),
                        strategy=strategy, reduce_only=reduce_only)
        decision = Desk(cfg).recommend(signal, account, market, now=now)
    if as_json:
        print_json(decision.to_dict())
    else:
        render_decision(decision)
    raise typer.Exit(EXIT_OK if decision.approved else EXIT_DENIED)
