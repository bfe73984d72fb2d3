from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from riskdesk.allocation import (
    DEFAULT_TIERS,
    TierSpec,
    check_tiers,
    rebalance_due,
    tier_budgets,
    tier_exposures,
    tier_for_symbol,
    tier_members,
    tier_rooms,
    tiers_from_config,
)
from riskdesk.config import CapitalTiers, RiskConfig
from riskdesk.errors import ConfigError, InvalidInputError

T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
ON_TARGET = {"CORE": 0.50, "GROWTH": 0.30, "OPPORTUNITY": 0.15}


# --- specs ---------------------------------------------------------------------------------


def test_default_tiers_follow_seed_001() -> None:
    by_name = {t.name: t for t in DEFAULT_TIERS}
    assert [t.name for t in DEFAULT_TIERS] == ["CORE", "GROWTH", "OPPORTUNITY", "RESERVE"]
    assert by_name["CORE"].target_pct == Decimal("0.50")
    assert (by_name["CORE"].min_leverage, by_name["CORE"].max_leverage) == (3.0, 5.0)
    assert by_name["CORE"].symbols == frozenset({"BTCUSDT", "ETHUSDT"})
    assert by_name["GROWTH"].target_pct == Decimal("0.30")
    assert (by_name["GROWTH"].min_leverage, by_name["GROWTH"].max_leverage) == (5.0, 10.0)
    assert by_name["OPPORTUNITY"].target_pct == Decimal("0.15")
    assert (by_name["OPPORTUNITY"].min_leverage, by_name["OPPORTUNITY"].max_leverage) == (
        3.0, 8.0)
    assert by_name["RESERVE"].target_pct == Decimal("0.05")
    assert by_name["RESERVE"].is_reserve
    assert sum(t.target_pct for t in DEFAULT_TIERS) == 1
    assert check_tiers(DEFAULT_TIERS) == DEFAULT_TIERS


def test_default_tiers_are_the_default_config_section() -> None:
    assert tiers_from_config(CapitalTiers()) == DEFAULT_TIERS


def test_float_targets_read_as_their_decimal_spelling() -> None:
    spec = TierSpec("X", 0.3, 1, 2, frozenset({"sol"}))  # type: ignore[arg-type]
    assert spec.target_pct == Decimal("0.3")
    assert spec.symbols == frozenset({"sol"})  # kept exactly as written
    assert spec.min_leverage == 1.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "tier.name"),
        ({"target_pct": Decimal("1.5")}, "tiers.T.target_pct"),
        ({"target_pct": Decimal("-0.1")}, "tiers.T.target_pct"),
        ({"target_pct": Decimal("NaN")}, "tiers.T.target_pct"),
        ({"target_pct": "0.5"}, "tiers.T.target_pct"),
        ({"min_leverage": 0.0}, "tiers.T.min_leverage"),
        ({"max_leverage": float("inf")}, "tiers.T.max_leverage"),
        ({"min_leverage": 6.0}, "tiers.T.min_leverage"),
        ({"symbols": "BTC"}, "tiers.T.symbols"),
        ({"symbols": frozenset({""})}, "tiers.T.symbols"),
        ({"symbols": frozenset({" BTCUSDT"})}, "tiers.T.symbols"),
        ({"is_reserve": True, "symbols": frozenset({"BTC"})}, "tiers.T.symbols"),
        ({"is_reserve": 1}, "tiers.T.is_reserve"),
    ],
)
def test_tier_spec_rejects_bad_fields(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"name": "T", "target_pct": Decimal("0.5"), "min_leverage": 1.0,
                               "max_leverage": 5.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        TierSpec(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def _tier(name: str, pct: str, symbols: set[str] | None = None,
          reserve: bool = False) -> TierSpec:
    return TierSpec(name, Decimal(pct), 1.0, 2.0, frozenset(symbols or set()), reserve)


@pytest.mark.parametrize(
    "tiers",
    [
        [],
        [_tier("A", "0.5"), _tier("A", "0.5")],
        [_tier("A", "0.5"), _tier("B", "0.4")],
        [_tier("A", "0.5", reserve=True), _tier("B", "0.5", reserve=True)],
        [_tier("A", "0.5", {"BTC"}), _tier("B", "0.5", {"BTC"})],
    ],
)
def test_check_tiers_rejects_incoherent_sets(tiers: list[TierSpec]) -> None:
    with pytest.raises(InvalidInputError):
        check_tiers(tiers)


def test_clamp_leverage() -> None:
    core = DEFAULT_TIERS[0]
    assert core.clamp_leverage(10) == 5.0
    assert core.clamp_leverage(1) == 3.0
    assert core.clamp_leverage(4.2) == 4.2
    with pytest.raises(InvalidInputError):
        core.clamp_leverage(float("nan"))
    with pytest.raises(InvalidInputError):
        DEFAULT_TIERS[3].clamp_leverage(2.0)


# --- membership ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "tier"),
    # Exact symbols only: another spelling or instrument of BTC is not CORE's BTCUSDT.
    [("BTCUSDT", "CORE"), ("ETHUSDT", "CORE"), ("BTC", "GROWTH"), ("btcusdt", "GROWTH"),
     ("BTC/USDT:USDT", "GROWTH"), ("ETH-PERP", "GROWTH"), ("ETHUSDC", "GROWTH"),
     ("SOLUSDT", "GROWTH"), ("DOGE/USDT", "GROWTH")],
)
def test_tier_for_symbol(symbol: str, tier: str) -> None:
    assert tier_for_symbol(symbol, default="GROWTH").name == tier


def test_every_spelling_a_tier_lists_belongs_to_it() -> None:
    tiers = [_tier("CORE", "0.6", {"BTCUSDT", "BTC/USDT:USDT", "BTC-PERP"}), _tier("B", "0.4")]
    for sym in ("BTCUSDT", "BTC/USDT:USDT", "BTC-PERP"):
        assert tier_for_symbol(sym, tiers).name == "CORE"
    assert tier_members(tiers) == {"BTCUSDT": "CORE", "BTC/USDT:USDT": "CORE",
                                   "BTC-PERP": "CORE"}
    assert tier_for_symbol("BTCUSDC", tiers, default="B").name == "B"


def test_tier_members_indexes_the_listed_symbols() -> None:
    assert tier_members() == {"BTCUSDT": "CORE", "ETHUSDT": "CORE"}
    with pytest.raises(InvalidInputError):
        tier_members([_tier("A", "0.5", {"X"}), _tier("B", "0.5", {"X"})])


def test_unlisted_symbol_needs_a_default() -> None:
    with pytest.raises(InvalidInputError) as info:
        tier_for_symbol("SOLUSDT")
    assert info.value.field == "symbol"
    with pytest.raises(InvalidInputError, match="reserve"):
        tier_for_symbol("SOLUSDT", default="RESERVE")
    with pytest.raises(InvalidInputError):
        tier_for_symbol("SOLUSDT", default="NOPE")
    with pytest.raises(InvalidInputError):
        tier_for_symbol("  ")


def test_tier_exposures_sum_per_tier() -> None:
    used = tier_exposures(
        {"BTCUSDT": Decimal("1000"), "ETHUSDT": Decimal("500"), "SOLUSDT": Decimal("250"),
         "BTC-PERP": Decimal("70")},
        default="OPPORTUNITY",
    )
    assert used == {"CORE": Decimal("1500"), "GROWTH": Decimal("0"),
                    "OPPORTUNITY": Decimal("320"), "RESERVE": Decimal("0")}
    with pytest.raises(InvalidInputError) as info:
        tier_exposures({"SOLUSDT": Decimal("1")})  # unlisted and no default
    assert info.value.field == "symbol"
    with pytest.raises(InvalidInputError):
        tier_exposures({"BTCUSDT": Decimal("-1")})
    with pytest.raises(InvalidInputError):
        tier_exposures({"BTCUSDT": 1.5})  # type: ignore[dict-item]


# --- budgets -------------------------------------------------------------------------------


def test_budgets_of_an_empty_account() -> None:
    budgets = tier_budgets(Decimal("10000"), {})
    assert {k: b.target for k, b in budgets.items()} == {
        "CORE": Decimal("5000"), "GROWTH": Decimal("3000"), "OPPORTUNITY": Decimal("1500"),
        "RESERVE": Decimal("500")}
    assert budgets["CORE"].remaining == Decimal("5000")
    assert budgets["RESERVE"].remaining == 0
    assert budgets["RESERVE"].is_reserve


def test_remaining_budget_subtracts_usage() -> None:
    budgets = tier_budgets(Decimal("10000"), {"CORE": Decimal("4200"), "GROWTH": Decimal("3500")})
    assert budgets["CORE"].remaining == Decimal("800")
    assert budgets["GROWTH"].remaining == 0  # over target: nothing left, never negative
    assert budgets["OPPORTUNITY"].remaining == Decimal("1500")


def test_a_tier_never_eats_into_the_reserve() -> None:
    # GROWTH and OPPORTUNITY overran their targets: only 9500 - 9400 = 100 is free
    budgets = tier_budgets(
        Decimal("10000"),
        {"CORE": Decimal("3000"), "GROWTH": Decimal("4000"), "OPPORTUNITY": Decimal("2400")},
    )
    assert budgets["CORE"].remaining == Decimal("100")
    total = sum(b.used + b.remaining for b in budgets.values())
    assert total <= Decimal("10000") * Decimal("0.95")


@pytest.mark.parametrize(
    ("equity", "exposures", "field"),
    [
        (Decimal("0"), {}, "equity"),
        (10000.0, {}, "equity"),
        (Decimal("Infinity"), {}, "equity"),
        (Decimal("10000"), {"CORE": Decimal("-1")}, "exposures_by_tier.CORE"),
        (Decimal("10000"), {"CORE": 100.0}, "exposures_by_tier.CORE"),
        (Decimal("10000"), {"MOON": Decimal("1")}, "exposures_by_tier"),
        (Decimal("10000"), {"RESERVE": Decimal("1")}, "exposures_by_tier.RESERVE"),
    ],
)
def test_budgets_reject_bad_inputs(equity: object, exposures: dict[str, object],
                                   field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        tier_budgets(equity, exposures)  # type: ignore[arg-type]
    assert info.value.field == field


# --- rebalancing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "elapsed", "due", "cadence"),
    [
        (ON_TARGET, timedelta(days=1), False, "weekly"),
        (ON_TARGET, timedelta(days=7), True, "weekly"),
        ({"CORE": 0.39, "GROWTH": 0.30, "OPPORTUNITY": 0.15}, timedelta(hours=23), False,
         "daily"),
        ({"CORE": 0.39, "GROWTH": 0.30, "OPPORTUNITY": 0.15}, timedelta(days=1), True, "daily"),
        # 20% exactly is not "more than 20%": CORE at 0.40 and 0.60, GROWTH at 0.24
        ({"CORE": 0.40, "GROWTH": 0.24, "OPPORTUNITY": 0.15}, timedelta(days=3), False,
         "weekly"),
        ({"CORE": 0.60, "GROWTH": 0.30, "OPPORTUNITY": 0.15}, timedelta(days=3), False,
         "weekly"),
        ({"CORE": 0.50, "GROWTH": 0.30, "OPPORTUNITY": 0.19}, timedelta(days=2), True, "daily"),
        ({"CORE": 0.0, "GROWTH": 0.0, "OPPORTUNITY": 0.0}, timedelta(days=1), True, "daily"),
    ],
)
def test_rebalance_schedule(weights: dict[str, float], elapsed: timedelta, due: bool,
                            cadence: str) -> None:
    check = rebalance_due(weights, T0, T0 + elapsed)
    assert check.due is due
    assert check.cadence == cadence
    assert check.next_due == T0 + (timedelta(days=1) if cadence == "daily" else
                                   timedelta(days=7))
    assert set(check.deviations) == {"CORE", "GROWTH", "OPPORTUNITY"}


def test_deviations_are_relative_to_target() -> None:
    check = rebalance_due({"CORE": 0.35, "GROWTH": 0.33, "OPPORTUNITY": 0.15}, T0, T0)
    assert check.deviations["CORE"] == pytest.approx(0.30)
    assert check.deviations["GROWTH"] == pytest.approx(0.10)
    assert check.deviations["OPPORTUNITY"] == pytest.approx(0.0)
    with pytest.raises(TypeError):
        check.deviations["CORE"] = 0.0  # type: ignore[index]


def test_rebalance_accepts_other_timezones_and_decimals() -> None:
    est = timezone(timedelta(hours=-5))
    check = rebalance_due({"CORE": Decimal("0.5"), "GROWTH": Decimal("0.3"),
                           "OPPORTUNITY": Decimal("0.15"), "RESERVE": 0},
                          T0.astimezone(est), T0 + timedelta(days=7))
    assert check.due


@pytest.mark.parametrize(
    ("weights", "last", "now", "field"),
    [
        (ON_TARGET, datetime(2024, 3, 1), T0, "last_rebalance"),
        (ON_TARGET, T0, datetime(2024, 3, 2), "now"),
        (ON_TARGET, T0, T0 - timedelta(seconds=1), "now"),
        (ON_TARGET, "2024-03-01", T0, "last_rebalance"),
        ({"CORE": 0.5, "GROWTH": 0.3}, T0, T0, "weights_now"),
        ({**ON_TARGET, "MOON": 0.1}, T0, T0, "weights_now"),
        ({**ON_TARGET, "RESERVE": 0.05}, T0, T0, "weights_now.RESERVE"),
        ({**ON_TARGET, "CORE": -0.1}, T0, T0, "weights_now.CORE"),
        ({**ON_TARGET, "CORE": float("nan")}, T0, T0, "weights_now.CORE"),
        ({**ON_TARGET, "CORE": "0.5"}, T0, T0, "weights_now.CORE"),
    ],
)
def test_rebalance_rejects_bad_inputs(weights: dict[str, object], last: object, now: object,
                                      field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        rebalance_due(weights, last, now)  # type: ignore[arg-type]
    assert info.value.field == field


def test_custom_threshold_and_tiers() -> None:
    tiers = [_tier("A", "0.6"), _tier("B", "0.4")]
    assert rebalance_due({"A": 0.55, "B": 0.45}, T0, T0, tiers, threshold=0.05).cadence == "daily"
    assert rebalance_due({"A": 0.55, "B": 0.45}, T0, T0, tiers).cadence == "weekly"
    with pytest.raises(InvalidInputError):
        rebalance_due({"A": 0.55, "B": 0.45}, T0, T0, tiers, threshold=-1)


def test_never_rebalanced_tiers_are_due_now() -> None:
    check = rebalance_due(ON_TARGET, None, T0)
    assert check.due
    assert check.cadence == "weekly"
    assert check.next_due == T0
    off = rebalance_due({"CORE": 0.30, "GROWTH": 0.30, "OPPORTUNITY": 0.15}, None, T0)
    assert (off.due, off.cadence) == (True, "daily")
    with pytest.raises(InvalidInputError) as info:
        rebalance_due(ON_TARGET, None, datetime(2024, 3, 1))
    assert info.value.field == "now"


# --- the free balance and the float twin ------------------------------------------------------


def test_available_balance_also_keeps_the_reserve_free() -> None:
    # 10,000 equity, 2,000 committed, but only 6,000 free (margin held elsewhere): 6,000 - 500
    budgets = tier_budgets(Decimal("10000"), {"CORE": Decimal("2000")},
                           available=Decimal("6000"))
    assert budgets["CORE"].remaining == Decimal("3000")  # its own headroom binds first
    assert budgets["GROWTH"].remaining == Decimal("3000")
    assert budgets["OPPORTUNITY"].remaining == Decimal("1500")
    tight = tier_budgets(Decimal("10000"), {"CORE": Decimal("2000")}, available=Decimal("2100"))
    assert tight["CORE"].remaining == Decimal("1600")  # 2,100 - 500 of reserve
    assert tight["GROWTH"].remaining == Decimal("1600")
    broke = tier_budgets(Decimal("10000"), {}, available=Decimal("300"))
    assert all(b.remaining == 0 for b in broke.values())
    with pytest.raises(InvalidInputError) as info:
        tier_budgets(Decimal("10000"), {}, available=300.0)  # type: ignore[arg-type]
    assert info.value.field == "available"


@pytest.mark.parametrize(
    ("equity", "used", "available"),
    [("10000", {}, None), ("10000", {"CORE": "4200", "GROWTH": "3500"}, None),
     ("10000", {"CORE": "3000", "GROWTH": "4000", "OPPORTUNITY": "2400"}, None),
     ("10000", {"CORE": "2000"}, "2100"), ("10000", {}, "300"), ("2500.5", {"GROWTH": "1"}, "0")],
)
def test_tier_rooms_are_the_float_twin_of_tier_budgets(equity: str, used: dict[str, str],
                                                       available: str | None) -> None:
    exact = tier_budgets(Decimal(equity), {k: Decimal(v) for k, v in used.items()},
                         available=None if available is None else Decimal(available))
    rooms = tier_rooms(float(equity), {k: float(v) for k, v in used.items()}, DEFAULT_TIERS,
                       available=None if available is None else float(available))
    assert list(rooms) == list(exact)
    for name, budget in exact.items():
        assert rooms[name] == pytest.approx(float(budget.remaining), abs=1e-9)


# --- from the configuration ------------------------------------------------------------------


def test_tiers_from_a_preset_keep_its_order_symbols_and_targets() -> None:
    ct = RiskConfig.preset("crypto-capital-manager", env={}).capital_tiers
    specs = tiers_from_config(ct)
    assert [t.name for t in specs] == list(ct.tiers)
    growth = specs[1]
    assert growth.symbols == frozenset({"BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"})
    assert (growth.target_pct, growth.min_leverage, growth.max_leverage) == (
        Decimal("0.3"), 5.0, 10.0)
    assert specs[2].target_pct == Decimal("0.15")
    assert specs[3].is_reserve
    assert tier_for_symbol("SOLUSDT", specs, default=ct.default_tier).name == "GROWTH"
    assert tier_for_symbol("DOGEUSDT", specs, default=ct.default_tier).name == "OPPORTUNITY"


@pytest.mark.parametrize(
    ("update", "key"),
    [({"tiers": {"A": {"target_pct": 0.5, "symbols": ["X"]},
                 "B": {"target_pct": 0.5, "symbols": ["X"]}}, "default_tier": "A"},
      "capital_tiers.tiers.B.symbols"),
     ({"tiers": {"A": {"target_pct": 0.9}, "R": {"target_pct": 0.1, "reserve": True,
                                                   "symbols": ["X"]}}, "default_tier": "A"},
      "capital_tiers.tiers.R.symbols"),
     ({"tiers": {"A": {"target_pct": 0.9}, "R": {"target_pct": 0.1, "reserve": True}},
       "default_tier": "R"}, "capital_tiers.default_tier"),
     ({"tiers": {"A": {"target_pct": 0.8}, "R": {"target_pct": 0.1, "reserve": True},
                 "S": {"target_pct": 0.1, "reserve": True}}, "default_tier": "A"},
      "capital_tiers.tiers")],
)
def test_incoherent_configured_tiers_are_a_config_error(update: dict[str, object],
                                                        key: str) -> None:
    section = CapitalTiers.model_validate(update)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        tiers_from_config(section)
    with pytest.raises(InvalidInputError):
        tiers_from_config({"tiers": {}})  # type: ignore[arg-type]
