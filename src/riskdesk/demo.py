"""``python -m riskdesk.demo``, what ``make run`` runs.

The service on SQLite with a paper account marked at real closing prices.

It creates ``./var/riskdesk.db``, migrates it, seeds a paper account from the ``default``
preset (100,000 USD; AAPL, MSFT, IBM and GOOG marked at their last close in the
bokeh-sampledata stock series, 2013-03-01, each quoted with a synthetic order book around
that close: :data:`PAPER_BOOK`, a paper simulation), records a first capital snapshot, creates two
API keys (admin for the API, read for the dashboard link; each printed once), prints the
dashboard URL and serves on 127.0.0.1:8000. Running it again keeps the database and the
account, and prints fresh keys.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from riskdesk.brokers import SyntheticBook
from riskdesk.domain import MarketRules
from riskdesk.errors import ConfigError, InvalidInputError, StoreUnavailableError

if TYPE_CHECKING:
    from riskdesk.service import Service

SYMBOLS = ("AAPL", "MSFT", "IBM", "GOOG")
STARTING_CASH = Decimal(100000)
#: The demo account's simulated book: best bid and ask 2 bps from the close, 10 levels a side
#: 1 bp apart, 250,000 USD resting at each (a liquid large-cap; not market data).
PAPER_BOOK = SyntheticBook(half_spread_bps=2.0, levels=10, level_step_bps=1.0,
                           level_notional=Decimal(250_000))


def last_closes(symbols: Sequence[str] = SYMBOLS) -> dict[str, tuple[str, Decimal]]:
    """The last date and closing price of each symbol in bokeh-sampledata's stock series.

    Parameters
    ----------
    symbols
        Tickers among AAPL, MSFT, IBM, GOOG (and FB).

    Returns
    -------
    dict
        ``{symbol: (date, close)}``, the close as an exact decimal of the published figure.

    Raises
    ------
    SystemExit
        When bokeh-sampledata is not installed (``pip install 'riskdesk[demo]'``).
    """
    try:
        from bokeh_sampledata import stocks
    except ImportError:
        raise SystemExit("the demo needs bokeh-sampledata: pip install 'riskdesk[demo]'"
                         ) from None
    out = {}
    for symbol in symbols:
        series = getattr(stocks, symbol)
        out[symbol] = (str(series["date"][-1]), Decimal(repr(series["close"][-1])))
    return out


def equity_rules(symbol: str) -> MarketRules:
    """Cash-equity rules: whole shares, one-cent ticks, no leverage."""
    return MarketRules(symbol=symbol, step=Decimal(1), tick=Decimal("0.01"),
                       min_qty=Decimal(1), min_notional=Decimal(1))


def paper_service(db_url: str, prices: Mapping[str, Decimal], *,
                  markets: Mapping[str, MarketRules] | None = None,
                  starting_cash: Decimal = STARTING_CASH, config: str = "default",
                  clock: Callable[[], datetime] | None = None,
                  book: SyntheticBook | None = None) -> Service:
    """A service on ``db_url`` whose paper account trades ``markets`` marked at ``prices``.

    Parameters
    ----------
    db_url
        Database URL; migrated if needed.
    prices
        Last price of each symbol.
    markets
        Market rules by symbol; cash-equity rules (:func:`equity_rules`) for every priced
        symbol when ``None``.
    starting_cash
        Cash of a new paper account (an existing account keeps its state).
    config
        Preset or YAML file.
    clock
        The service's clock (UTC now by default).
    book
        A synthetic order book the paper broker quotes around each price (a simulation), or
        ``None`` for none (requests must then bring their own quotes to pass a spread guard).

    Returns
    -------
    Service
        Open; close it when done.
    """
    from riskdesk.service import Service, Settings, utc_now
    from riskdesk.service._paper import PaperSetup, open_paper_broker, seed_paper

    service = Service.open(Settings(db_url=db_url, config=config), clock=clock or utc_now)
    rules = dict(markets) if markets is not None else {s: equity_rules(s) for s in prices}
    seed_paper(service.store, PaperSetup(markets=rules, starting_cash=starting_cash, book=book),
               prices.items())
    service.broker = open_paper_broker(service.store)
    return service


def prepare(db: Path | str, *, config: str = "default"
            ) -> tuple[str, str, str, dict[str, tuple[str, Decimal]]]:
    """Create or open the database, seed the paper account and make a key.

    Parameters
    ----------
    db
        The SQLite file, or a database URL (``postgresql+psycopg://...``).
    config
        Preset or YAML file of the risk configuration.

    Returns
    -------
    tuple
        The database URL, a new admin key, a new read key (for the dashboard link) and the
        prices used.
    """
    if isinstance(db, str) and "://" in db:
        url = db
    else:
        path = Path(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    prices = last_closes()
    service = paper_service(url, {s: p for s, (_, p) in prices.items()}, config=config,
                            book=PAPER_BOOK)
    try:
        _, admin_key = service.store.create_api_key("demo-admin", ["admin"])
        _, read_key = service.store.create_api_key("demo-dashboard", ["read"])
        # The first point of the equity curve.
        service.record_capital()
    finally:
        service.close()
    return url, str(admin_key), str(read_key), prices


def _refuse(message: str, code: int) -> int:
    """Print ``message`` as one line on stderr; ``code`` (2 bad input, 3 no database)."""
    print(" ".join(message.split()), file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the demo database and serve it (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m riskdesk.demo", description=__doc__)
    parser.add_argument("--db", default="var/riskdesk.db",
                        help="SQLite file or database URL (sqlite:///..., postgresql+psycopg://...)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--config", default="default", help="preset or YAML file")
    parser.add_argument("--no-serve", action="store_true", help="prepare and exit")
    args = parser.parse_args(argv)

    try:
        url, key, read_key, prices = prepare(args.db, config=args.config)
    except (InvalidInputError, ConfigError) as exc:
        return _refuse(f"error: {exc}", 2)
    except StoreUnavailableError as exc:
        return _refuse(str(exc), 3)
    base = f"http://{args.host}:{args.port}"
    print("riskdesk demo: paper account seeded from the 'default' preset", flush=True)
    for symbol, (day, close) in prices.items():
        print(f"  {symbol:5s} last close {close} ({day}, bokeh-sampledata)")
    print(f"  database   {url}")
    print(f"  API key    {key}   (admin scope; shown once)")
    print(f"  dashboard  {base}/#key={read_key}   (read-only key in the link)")
    print(f"  API docs   {base}/docs")
    print(f"  try        curl -s -H 'X-API-Key: {key}' {base}/api/capital/state")
    # The paper broker quotes the price and a simulated book: the request needs neither.
    print(f"             curl -s -H 'X-API-Key: {key}' -H 'Content-Type: application/json' "
          f"-d '{{\"symbol\": \"AAPL\", \"signal_score\": 75}}' "
          f"{base}/api/capital/recommendation/position", flush=True)
    if args.no_serve:
        return 0
    from riskdesk.cli._serve import run_server
    from riskdesk.service import Settings

    run_server(Settings(db_url=url, config=args.config), host=args.host, port=args.port,
               workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
