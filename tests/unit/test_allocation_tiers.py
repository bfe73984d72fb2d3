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
)
from riskdesk.errors import InvalidInputError

T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
ON_TARGET = {"CORE": 0.50, "GROWTH": 0.30, "OPPORTUNITY": 0.15}


# --- specs ---------------------------------------------------------------------------------


def test_default_tiers_follow_seed_001() -> None:
    by_name = {t.name: t for t in DEFAULT_TIERS}
    assert [t.name for t in DEFAULT_TIERS] == ["CORE", "GROWTH", "OPPORTUNITY", "RESERVE"]
    assert by_name["CORE"].target_pct == Decimal("0.50")
    assert (by_name["CORE"].min_leverage, by_name["CORE"].max_leverage) == (3.0, 5.0)
    assert by_name["CORE"].symbols == frozenset({"BTC", "ETH"})
    assert by_name["GROWTH"].target_pct == Decimal("0.30")
    assert (by_name["GROWTH"].min_leverage, by_name["GROWTH"].max_leverage) == (5.0, 10.0)
    assert by_name["OPPORTUNITY"].target_pct == Decimal("0.15")
    assert (by_name["OPPORTUNITY"].min_leverage, by_name["OPPORTUNITY"].max_leverage) == (
        3.0, 8.0)
    assert by_name["RESERVE"].target_pct == Decimal("0.05")
    assert by_name["RESERVE"].is_reserve
    assert sum(t.target_pct for t in DEFAULT_TIERS) == 1
    assert check_tiers(DEFAULT_TIERS) == DEFAULT_TIERS


def test_float_targets_read_as_their_decimal_spelling() -> None:
    spec = TierSpec("X", 0.3, 1, 2, frozenset({"sol"}))  # type: ignore[arg-type]
    assert spec.target_pct == Decimal("0.3")
    assert spec.symbols == frozenset({"SOL"})
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
    [("BTC", "CORE"), ("BTCUSDT", "CORE"), ("btc/usdt:usdt", "CORE"), ("ETH-PERP", "CORE"),
     ("ETHUSDC", "CORE"), ("SOLUSDT", "GROWTH"), ("DOGE/USDT", "GROWTH")],
)
def test_tier_for_symbol(symbol: str, tier: str) -> None:
    assert tier_for_symbol(symbol, default="GROWTH").name == tier


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
        {"BTCUSDT": Decimal("1000"), "ETHUSDT": Decimal("500"), "SOLUSDT": Decimal("250")},
        default="OPPORTUNITY",
    )
    assert used == {"CORE": Decimal("1500"), "GROWTH": Decimal("0"),
                    "OPPORTUNITY": Decimal("250"), "RESERVE": Decimal("0")}
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
