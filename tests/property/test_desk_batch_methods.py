"""recommend_batch equals recommend for the sizing methods the preset tests leave scalar.

The presets' batch property (test_desk_batch.py) never runs the Kelly kernel (aurora-kelly
has the stabilizer on, which sends every row to the scalar pipeline) or volatility targeting;
these configurations do, with positive lower Kelly clips and break-even bets included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from preset_support import preset_with as _config
from riskdesk import AccountState, MarketRules, MarketSnapshot, Position, Signal
from riskdesk.desk import Desk

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
SYMBOLS = ["S0", "S1", "S2"]


CONFIGS = {
    "kelly": _config("aurora-kelly", kelly={"stabilizer.enabled": False}),
    "kelly-clipped": _config("aurora-kelly", kelly={"stabilizer.enabled": False,
                                                    "clip_min": 0.02, "risk_aversion": 2.0,
                                                    "fraction": 0.5}),
    "kelly-crypto": _config("crypto-capital-manager", position_sizing={"method": "kelly"},
                            kelly={"stabilizer.enabled": False, "clip_min": 0.01}),
    "volatility": _config("default", position_sizing={"method": "volatility_target"}),
}
# Break-even bets (b p = 1 - p exactly on paper; in float a hair above or below 0) and the
# ends of the win rate, next to random ones.
BETS = [(0.4, 1.5), (0.3, 7 / 3), (0.25, 3.0), (0.6, 2 / 3), (0.0, 2.0), (1.0, 0.7)]


@st.composite
def rows(draw: st.DrawFn) -> tuple[Signal, MarketSnapshot]:
    sym = draw(st.sampled_from(SYMBOLS))
    price = round(draw(st.floats(0.5, 60_000)), 2)
    rules = MarketRules(sym, step=draw(st.sampled_from(["1", "0.001", "0.00001"])),
                        tick="0.01", contract_size=draw(st.sampled_from(["1", "100"])),
                        max_leverage=draw(st.sampled_from(["1", "20"])))
    p = Decimal(repr(price))
    market = MarketSnapshot(rules, price=p, bid=p, ask=p, as_of=NOW,
                            atr=Decimal(repr(round(price * 0.02, 4))),
                            volatility=draw(st.one_of(st.none(), st.floats(0.005, 0.1))))
    wr, wlr = draw(st.one_of(st.sampled_from(BETS),
                             st.tuples(st.floats(0.0, 1.0), st.floats(0.2, 4.0))))
    return Signal(sym, draw(st.sampled_from(["LONG", "SHORT"])), win_rate=wr,
                  win_loss_ratio=wlr, regime=draw(st.sampled_from([None, "TRENDING"]))), market


@st.composite
def accounts(draw: st.DrawFn) -> AccountState:
    equity = draw(st.floats(500, 2_000_000))
    used = draw(st.floats(0, 0.45))
    held = draw(st.lists(st.sampled_from(SYMBOLS), max_size=2, unique=True))
    return AccountState(
        equity=Decimal(repr(equity)), available=Decimal(repr(equity * (1 - used))),
        margin_used=Decimal(repr(equity * used)), as_of=NOW,
        high_water_mark=Decimal(repr(equity * draw(st.sampled_from([1.0, 1.08])))),
        positions=tuple(Position(s, "LONG", Decimal("0.5"), Decimal(100)) for s in held))


@given(st.sampled_from(sorted(CONFIGS)), accounts(), st.lists(rows(), min_size=1, max_size=6))
def test_batch_rows_equal_scalar_decisions_for_kelly_and_volatility_targeting(name, account,
                                                                              batch):
    cfg = CONFIGS[name]
    sigs = [s for s, _ in batch]
    mkts = [m for _, m in batch]
    out = Desk(cfg).recommend_batch(sigs, account, mkts, now=NOW)
    for i, (s, m) in enumerate(batch):
        d = Desk(cfg).recommend(s, account, m, now=NOW)
        assert out.action_of(i) is d.action, (i, d.trail)
        assert out.reasons_of(i) == d.reasons, (i, d.trail)
        assert out.binding_of(i) == d.binding_cap, (i, d.trail)
        assert out.quantity[i] == float(d.quantity), (i, d.trail)
