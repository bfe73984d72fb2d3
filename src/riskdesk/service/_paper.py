"""The paper account's setup (markets and starting cash), kept in the store beside its state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from riskdesk.brokers import PaperBroker, SyntheticBook
from riskdesk.domain import MarketRules, to_decimal
from riskdesk.errors import InvalidInputError, StateError

SETUP_KEY = "riskdesk:paper-setup"
DEFAULT_CASH = Decimal(10000)


@dataclass(frozen=True, slots=True)
class PaperSetup:
    """Which markets the paper account trades and what it starts with.

    Parameters
    ----------
    markets
        Market rules by symbol.
    starting_cash
        Cash of a new account, > 0.
    account_id
        The paper account's name.
    book
        A synthetic order book quoted around each mark (paper simulation: see
        :class:`~riskdesk.brokers.SyntheticBook`), or ``None`` for no book.
    """

    markets: Mapping[str, MarketRules]
    starting_cash: Decimal = DEFAULT_CASH
    account_id: str = "default"
    book: SyntheticBook | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (decimals as strings)."""
        return {"starting_cash": str(self.starting_cash), "account_id": self.account_id,
                "markets": [_rules_to(r) for r in self.markets.values()],
                "book": None if self.book is None else self.book.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaperSetup:
        """Inverse of :meth:`to_dict`."""
        rules = [_rules_from(m, i) for i, m in enumerate(data.get("markets", []))]
        book = data.get("book")
        return cls(markets={r.symbol: r for r in rules},
                   starting_cash=to_decimal(data.get("starting_cash", DEFAULT_CASH),
                                            "paper.starting_cash", allow_zero=False),
                   account_id=str(data.get("account_id", "default")),
                   book=None if book is None else SyntheticBook.from_dict(book))


def _rules_to(r: MarketRules) -> dict[str, Any]:
    return {"symbol": r.symbol, "step": str(r.step), "tick": str(r.tick),
            "min_qty": str(r.min_qty), "max_qty": None if r.max_qty is None else str(r.max_qty),
            "min_notional": str(r.min_notional), "contract_size": str(r.contract_size),
            "max_leverage": str(r.max_leverage)}


def _rules_from(m: Mapping[str, Any], i: int) -> MarketRules:
    if not isinstance(m, Mapping) or "symbol" not in m:
        raise InvalidInputError(f"paper.markets[{i}]", m, "market rules with a symbol")
    return MarketRules(symbol=m["symbol"], step=m["step"], tick=m["tick"],
                       min_qty=m.get("min_qty", 0), max_qty=m.get("max_qty"),
                       min_notional=m.get("min_notional", 0),
                       contract_size=m.get("contract_size", 1),
                       max_leverage=m.get("max_leverage", 1))


def save_setup(store: Any, setup: PaperSetup) -> None:
    """Store the setup where :func:`open_paper_broker` finds it."""
    store.put_kv(SETUP_KEY, setup.to_dict())


class NoAccount:
    """The broker of a service whose database has no paper account set up.

    Every call raises :class:`~riskdesk.errors.StateError` (fail closed, nothing is written).
    """

    name = "none"

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)

        def refuse(*args: object, **kwargs: object) -> NoReturn:
            raise StateError("no paper account is set up in this database: run "
                             "`python -m riskdesk.demo` or seed one with "
                             "riskdesk.demo.paper_service")

        return refuse


def open_paper_broker(store: Any) -> PaperBroker | NoAccount:
    """The paper broker the stored setup describes, or :class:`NoAccount` without one."""
    raw = store.get_kv(SETUP_KEY)
    if raw is None:
        return NoAccount()
    setup = PaperSetup.from_dict(raw)
    return PaperBroker(store, setup.markets, starting_cash=setup.starting_cash,
                       account_id=setup.account_id, book=setup.book)


def seed_paper(store: Any, setup: PaperSetup, prices: Iterable[tuple[str, Decimal]]
               ) -> PaperBroker:
    """Store ``setup``, open its broker and mark each symbol at its price."""
    save_setup(store, setup)
    broker = PaperBroker(store, setup.markets, starting_cash=setup.starting_cash,
                         account_id=setup.account_id, book=setup.book)
    for symbol, price in prices:
        broker.set_price(symbol, price)
    return broker
