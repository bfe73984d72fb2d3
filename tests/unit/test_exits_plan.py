from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from riskdesk.config import Exits, PartialTakeProfit, RiskConfig
from riskdesk.domain import Action, Decision, Intent, MarketRules, Position, Rounding, Side
from riskdesk.errors import ConfigError, InvalidInputError
from riskdesk.exits import ExitEngine, ExitPlan, build_plan, favourable_rounding

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
RULES = MarketRules("X", step=D("0.001"), tick=D("0.1"))


def plan(cfg: Exits, side: str, entry: str = "100", qty: str = "1", **kw: object) -> ExitPlan:
    return build_plan(cfg, symbol="X", side=side, entry=D(entry), quantity=D(qty), rules=RULES,
                      **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("side", "mode"), [(Side.LONG, Rounding.CEILING),
                                            (Side.SHORT, Rounding.FLOOR)])
def test_favourable_rounding(side: Side, mode: Rounding) -> None:
    assert favourable_rounding(side) is mode


# stop: (config kwargs, plan kwargs, side, expected stop)
STOPS = [
    ({"stop_pct": 0.0234}, {}, "LONG", "97.7"),        # 97.66 rounds up, toward the entry
    ({"stop_pct": 0.0234}, {}, "SHORT", "102.3"),      # 102.34 rounds down, toward the entry
    ({"stop_pct": 0.02}, {}, "LONG", "98.0"),          # on the grid: unchanged
    ({"stop_mode": "atr", "stop_atr_multiple": 2.0}, {"atr": D("1.23")}, "LONG", "97.6"),
    ({"stop_mode": "atr", "stop_atr_multiple": 2.0}, {"atr": D("1.23")}, "SHORT", "102.4"),
    ({}, {"stop_price": D("97.55")}, "LONG", "97.6"),
    ({}, {"stop_price": D("102.45")}, "SHORT", "102.4"),
    ({"stop_enabled": False}, {"stop_price": D("95")}, "LONG", "95.0"),  # a given stop wins
]


@pytest.mark.parametrize(("cfg", "kw", "side", "expected"), STOPS)
def test_initial_stop_rounds_toward_entry(cfg: dict[str, object], kw: dict[str, object],
                                          side: str, expected: str) -> None:
    p = plan(Exits(**cfg), side, **kw)  # type: ignore[arg-type]
    assert p.stop == D(expected)
    assert p.risk_per_unit == abs(D("100") - D(expected))
    assert p.risk_budget == p.quantity * abs(D("100") - D(expected))


def test_no_stop_when_disabled() -> None:
    p = plan(Exits(stop_enabled=False, take_profit_enabled=False), "LONG")
    assert p.stop is None
    assert p.risk_per_unit is None
    assert p.risk_budget is None
    assert p.targets == ()


@pytest.mark.parametrize(("side", "stop"), [("LONG", "100"), ("LONG", "101"),
                                            ("SHORT", "100"), ("SHORT", "99")])
def test_stop_on_the_wrong_side_is_rejected(side: str, stop: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        plan(Exits(), side, stop_price=D(stop))
    assert exc.value.field == "stop_price"


def test_stop_that_rounds_onto_the_entry_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as exc:
        plan(Exits(stop_pct=0.0001), "LONG")  # 99.99 rounds up to 100.0
    assert exc.value.field == "exits.stop_pct"


def test_atr_stop_needs_an_atr() -> None:
    with pytest.raises(InvalidInputError) as exc:
        plan(Exits(stop_mode="atr", stop_atr_multiple=2.0), "LONG")
    assert exc.value.field == "atr"


# take-profit: (config kwargs, side, expected final target)
TARGETS = [
    ({"take_profit_r": 2.0}, "LONG", "104.0"),
    ({"take_profit_r": 2.0}, "SHORT", "96.0"),
    ({"take_profit_r": 1.55}, "LONG", "103.1"),   # 103.10 exact
    ({"take_profit_r": 1.57}, "LONG", "103.2"),   # 103.14 rounds up, away from the entry
    ({"take_profit_r": 1.57}, "SHORT", "96.8"),   # 96.86 rounds down, away from the entry
    ({"take_profit_mode": "percent", "take_profit_pct": 0.0123}, "LONG", "101.3"),   # 101.23
    ({"take_profit_mode": "percent", "take_profit_pct": 0.0123}, "SHORT", "98.7"),   # 98.77
]


@pytest.mark.parametrize(("cfg", "side", "expected"), TARGETS)
def test_take_profit_rounds_away_from_entry(cfg: dict[str, object], side: str,
                                            expected: str) -> None:
    p = plan(Exits(stop_pct=0.02, **cfg), side)
    assert p.take_profit == D(expected)
    assert p.targets[-1].final
    assert p.targets[-1].quantity == p.quantity


def test_seed_002_preset_bracket() -> None:
    cfg = RiskConfig.preset("aurora-kelly", env={}).exits
    long = plan(cfg, "LONG", entry="50000")
    short = plan(cfg, "SHORT", entry="50000")
    assert long.stop is None
    assert short.stop is None
    assert long.take_profit == D("50000.5")   # 50000 x (1 + 0.00001)
    assert short.take_profit == D("49999.5")  # the short mirror
    odd = plan(cfg, "LONG", entry="12345.6")  # 12345.723456 rounds up
    assert odd.take_profit == D("12345.8")


@pytest.mark.parametrize(("cfg", "field"), [
    ({"stop_enabled": False, "take_profit_r": 2.0}, "stop_price"),
    ({"stop_enabled": False, "take_profit_enabled": False, "break_even_enabled": True},
     "stop_price"),
    ({"stop_enabled": False, "take_profit_enabled": False,
      "partials": [PartialTakeProfit(r_multiple=1, fraction=0.5)]}, "stop_price"),
    ({"stop_enabled": False, "take_profit_enabled": False, "trailing_enabled": True,
      "trailing_activation_r": 1.0}, "stop_price"),
    ({"stop_enabled": False, "take_profit_enabled": False, "pyramiding_enabled": True,
      "pyramid_max_adds": 1}, "stop_price"),
    ({"trailing_enabled": True, "trailing_mode": "chandelier"}, "atr"),
    ({"trailing_enabled": True, "trailing_mode": "atr"}, "atr"),
    ({"time_stop_hours": 4.0}, "opened_at"),
])
def test_rules_that_need_missing_inputs_fail_closed(cfg: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        plan(Exits(**cfg), "LONG")
    assert exc.value.field == field


def test_trailing_without_stop_is_fine_when_active_from_entry() -> None:
    p = plan(Exits(stop_enabled=False, take_profit_enabled=False, trailing_enabled=True,
                   trailing_activation_r=0.0), "LONG")
    assert p.stop is None


@pytest.mark.parametrize(("field", "value"), [("entry", "0"), ("entry", "nan"),
                                              ("quantity", "-1"), ("atr", "-1")])
def test_bad_numbers_name_the_field(field: str, value: str) -> None:
    kw: dict[str, object] = {"symbol": "X", "side": "LONG", "entry": D("100"),
                             "quantity": D("1"), "rules": RULES}
    kw[field] = value
    with pytest.raises(InvalidInputError) as exc:
        build_plan(Exits(), **kw)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_symbol_mismatch_and_naive_time_are_rejected() -> None:
    with pytest.raises(InvalidInputError) as exc:
        build_plan(Exits(), symbol="Y", side="LONG", entry=D(100), quantity=D(1), rules=RULES)
    assert exc.value.field == "symbol"
    with pytest.raises(InvalidInputError) as exc:
        plan(Exits(), "LONG", opened_at=datetime(2024, 1, 1))
    assert exc.value.field == "opened_at"


# ladder: qty 0.007, step 0.001, rungs 50% at 1R and 25% at 2R, final at 3R
def test_partial_ladder_quantities_round_down_and_sum_to_the_position() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_r=3.0,
                partials=(PartialTakeProfit(r_multiple=1, fraction=0.5),
                          PartialTakeProfit(r_multiple=2, fraction=0.25)))
    for side, prices in (("LONG", ["102.0", "104.0", "106.0"]),
                         ("SHORT", ["98.0", "96.0", "94.0"])):
        p = plan(cfg, side, qty="0.007")
        assert [t.price for t in p.targets] == [D(x) for x in prices]
        assert [t.quantity for t in p.targets] == [D("0.003"), D("0.001"), D("0.003")]
        assert [t.final for t in p.targets] == [False, False, True]
        assert sum(t.quantity for t in p.targets) == p.quantity


def test_ladder_summing_to_one_closes_on_its_last_rung() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False,
                partials=(PartialTakeProfit(r_multiple=1, fraction=0.5),
                          PartialTakeProfit(r_multiple=2, fraction=0.5)))
    p = plan(cfg, "LONG", qty="0.003")
    assert [t.quantity for t in p.targets] == [D("0.001"), D("0.002")]
    assert p.targets[-1].final
    assert p.take_profit == D("104.0")


def test_levels_beyond_the_final_target_are_dropped() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_r=1.5,
                partials=(PartialTakeProfit(r_multiple=1, fraction=0.5),
                          PartialTakeProfit(r_multiple=2, fraction=0.25)))
    p = plan(cfg, "LONG")
    assert [(t.price, t.final) for t in p.targets] == [(D("102.0"), False), (D("103.0"), True)]
    assert p.targets[-1].quantity == D("0.500")


def test_plan_for_decision_and_position() -> None:
    eng = ExitEngine(Exits(stop_pct=0.02))
    dec = Decision(Action.ENTER, "X", Side.SHORT, Intent.OPEN, quantity=D("2"),
                   price=D("200"), decided_at=T0)
    p = eng.plan_for_decision(dec, RULES)
    assert (p.side, p.entry, p.quantity, p.stop, p.opened_at) == \
        (Side.SHORT, D(200), D(2), D("204.0"), T0)
    rejected = Decision(Action.REJECT, "X", Side.LONG, Intent.OPEN)
    with pytest.raises(InvalidInputError) as exc:
        eng.plan_for_decision(rejected, RULES)
    assert exc.value.field == "decision.action"
    pos = Position("X", Side.LONG, D("3"), D("50"), stop_price=D("48.05"), opened_at=T0)
    pp = eng.plan_for_position(pos, RULES)
    assert (pp.stop, pp.quantity, pp.opened_at) == (D("48.1"), D(3), T0)
    with pytest.raises(InvalidInputError) as exc:
        eng.plan_for_position(Position("X", Side.LONG, D(1), D(50), contract_size=D(100)),
                              RULES)
    assert exc.value.field == "position.contract_size"


def test_plan_to_dict_keeps_every_digit() -> None:
    d = plan(Exits(stop_pct=0.02), "LONG", qty="0.123").to_dict()
    assert d["stop"] == "98.0"
    assert d["quantity"] == "0.123"
    assert d["risk_budget"] == "0.2460"
    assert d["targets"][0]["price"] == "104.0"


@pytest.mark.parametrize("cfg", [
    {"partials": [{"r_multiple": 2, "fraction": 0.5}, {"r_multiple": 1, "fraction": 0.2}]},
    {"partials": [{"r_multiple": 1, "fraction": 0.6}, {"r_multiple": 2, "fraction": 0.6}]},
    {"stop_mode": "atr"},
    {"stop_pct": None},
    {"take_profit_mode": "percent"},
    {"take_profit_r": None},
    {"pyramiding_enabled": True},
    {"intrabar": "sometimes"},
    {"unknown": 1},
])
def test_exits_config_is_strict(cfg: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Exits(**cfg)
    with pytest.raises(ConfigError):
        RiskConfig.from_mapping({"exits": cfg}, env={})


@pytest.mark.parametrize(("name", "stop", "tp_mode", "tp_on"), [
    ("default", True, "r", True),
    ("aurora-kelly", False, "percent", True),
    ("aurora-capital-scaling", False, "r", False),
    ("crypto-capital-manager", False, "r", False),
    ("equity-conviction", False, "r", False),
    ("equity-conviction-live", False, "r", False),
    ("phased-options", False, "r", False),
])
def test_preset_exit_blocks(name: str, stop: bool, tp_mode: str, tp_on: bool) -> None:
    ex = RiskConfig.preset(name, env={}).exits
    assert (ex.stop_enabled, ex.take_profit_mode, ex.take_profit_enabled) == \
        (stop, tp_mode, tp_on)
    assert not (ex.trailing_enabled)
    assert not (ex.break_even_enabled)
    assert not (ex.pyramiding_enabled)
    assert ex.partials == ()
    if name == "aurora-kelly":
        assert ex.take_profit_pct == 0.00001
    if name == "default":
        assert (ex.stop_pct, ex.take_profit_r, ex.intrabar) == (0.02, 2.0, "stop_first")
