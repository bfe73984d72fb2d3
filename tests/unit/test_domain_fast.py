"""The faster constructors and the memo slot keep the value types' contracts."""

from __future__ import annotations

import copy
import inspect
import pickle
from dataclasses import MISSING, FrozenInstanceError, fields, replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    Decision,
    Intent,
    MarketRules,
    Position,
    ReasonCode,
    RulesFloats,
    Side,
)
from riskdesk.limits import BreakerState, DrawdownLevel, DrawdownStatus, Exposure, exposure

NOW = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
HAND_WRITTEN_INITS = [Adjustment, Decision, Exposure, DrawdownStatus]


@pytest.mark.parametrize("cls", HAND_WRITTEN_INITS)
def test_init_signature_mirrors_the_dataclass_fields(cls: type) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields(cls)]
    for p, f in zip(params, fields(cls), strict=True):
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if f.default is not MISSING:
            assert p.default == f.default, f.name
        elif f.default_factory is not MISSING:
            assert p.default == f.default_factory(), f.name
        else:
            assert p.default is inspect.Parameter.empty, f.name


@pytest.mark.parametrize("cls", HAND_WRITTEN_INITS)
def test_init_writes_each_argument_to_its_own_field(cls: type) -> None:
    values = [object() for _ in fields(cls)]
    by_position = cls(*values)
    by_name = cls(**{f.name: v for f, v in zip(fields(cls), values, strict=True)})
    for f, v in zip(fields(cls), values, strict=True):
        assert getattr(by_position, f.name) is v
        assert getattr(by_name, f.name) is v


def _decision() -> Decision:
    step = Adjustment("cap", ReasonCode.CAP_SYMBOL, 10.0, 8.0, "max_pos_pct")
    return Decision(Action.ENTER, "BTCUSDT", Side.LONG, Intent.OPEN, Decimal("0.5"),
                    Decimal("100"), Decimal("50.0"), Decimal(5), Decimal("10.0"),
                    binding_cap=ReasonCode.CAP_SYMBOL, trail=(step,), risk_pct=0.01,
                    decided_at=NOW)


@pytest.mark.parametrize("value", [
    _decision(),
    Adjustment("adjust", ReasonCode.VIX, 1.0, 0.5),
    exposure(AccountState(equity=1000, available=900, as_of=NOW)),
    DrawdownStatus(DrawdownLevel.LIGHT, 0.06, 0.7, 2.0, False, BreakerState(), 0.0, 0.0),
])
def test_hand_written_inits_keep_the_value_frozen_comparable_and_copyable(value: object) -> None:
    first = fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(FrozenInstanceError):
        setattr(value, first, None)
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value
    assert replace(value) == value  # type: ignore[type-var]
    if not isinstance(value, Exposure):  # Exposure holds dicts: unhashable, as before
        assert hash(value) == hash(replace(value))  # type: ignore[type-var]


def test_decision_defaults_and_keywords_match_the_field_defaults() -> None:
    d = Decision(Action.REJECT, "X", Side.SHORT, Intent.OPEN)
    assert (d.quantity, d.price, d.notional, d.leverage, d.margin_required) == \
        (Decimal(0), Decimal(0), Decimal(0), Decimal(1), Decimal(0))
    assert (d.trail, d.reasons, d.close_symbols, d.binding_cap, d.decided_at) == \
        ((), (), (), None, None)
    assert Decision(symbol="X", side=Side.SHORT, intent=Intent.OPEN, action=Action.REJECT) == d


def _account() -> AccountState:
    return AccountState(
        equity=Decimal("10000"), available=Decimal("9000"), margin_used=Decimal("400"),
        as_of=NOW, high_water_mark=Decimal("10500"), day_start_equity=Decimal("10100"),
        positions=(Position("AAA", "LONG", Decimal("2"), Decimal("100"), leverage=4,
                            strategy="wheel"),
                   Position("BBB", "SHORT", Decimal("3"), Decimal("50"),
                            mark_price=Decimal("60"), contract_size=10),
                   Position("CCC", "SHORT", Decimal("1"), Decimal("100"), strategy="Wheel")))


def test_account_figures_are_computed_once_and_match_the_decimal_figures() -> None:
    a = _account()
    f = a.figures
    assert a.figures is f
    assert f.net == 200.0 - 1800.0 - 100.0
    assert f.gross == 200.0 + 1800.0 + 100.0
    assert f.by_symbol == {"AAA": 200.0, "BBB": -1800.0, "CCC": -100.0}
    assert f.margin_by_symbol == {"AAA": 50.0, "BBB": 1800.0, "CCC": 100.0}
    assert f.by_strategy == {"WHEEL": 2}
    assert (f.drawdown, f.daily_pnl_pct, f.weekly_pnl_pct) == \
        (a.drawdown, a.daily_pnl_pct, a.weekly_pnl_pct)


def test_the_memo_slot_is_not_part_of_the_value() -> None:
    a = _account()
    a.figures  # noqa: B018  (fill the memo)
    assert "_memo" not in {f.name for f in fields(a)}
    assert "_memo" not in repr(a)
    assert a == _account()
    assert hash(a) == hash(_account())
    changed = replace(a, equity=Decimal("20000"))
    assert changed.figures.equity == 20000.0  # a replaced copy starts with an empty memo
    for other in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert other == a
        assert other.figures == a.figures  # recomputed on a copy that arrived without it
    with pytest.raises((AttributeError, TypeError)):
        a._memo = None  # type: ignore[misc]


def test_rules_floats_and_memo_on_copies() -> None:
    r = MarketRules("X", step="0.001", tick="0.01", min_qty="0.002", max_qty="50",
                    min_notional="5", contract_size="10", max_leverage=20)
    assert r.floats == RulesFloats(step=0.001, contract_size=10.0, max_leverage=20.0,
                                   max_qty=50.0)
    assert r.floats is r.floats
    assert MarketRules("X", step="1", tick="1").floats.max_qty == float("inf")
    q = pickle.loads(pickle.dumps(r))
    assert q == r
    assert q.floats == r.floats
    assert q.quantize_qty_down(7.5) == r.quantize_qty_down(7.5) == Decimal("7.500")
