"""What the CLI tests share: a runner, a recommend command line, databases to run against."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner, Result

from riskdesk.demo import PAPER_BOOK, paper_service

runner = CliRunner()
REC = ["recommend", "--symbol", "AAPL", "--price", "430.47", "--equity", "100000",
       "--score", "75", "--bid", "430.46", "--ask", "430.48"]


def cli_db(tmp_path: Path, *, book: bool = True, name: str = "cli.db") -> str:
    """A migrated SQLite database with a paper account marking AAPL and MSFT."""
    url = f"sqlite:///{tmp_path / name}"
    paper_service(url, {"AAPL": Decimal("430.47"), "MSFT": Decimal("27.95")},
                  book=PAPER_BOOK if book else None).close()
    return url


def broker_holds_unknown_position(url: str) -> None:
    """Fill 10 AAPL at the paper broker of ``url`` without the service's book knowing it."""
    service = paper_service(url, {"AAPL": Decimal("430.47")})
    try:
        service.broker.fill("AAPL", "BUY", 10, "430.47", fee_rate=0, fill_id="f1",
                            now=datetime.now(UTC))
    finally:
        service.close()


def one_error_line(r: Result) -> str:
    """The single line a refused command printed on stderr (and nothing on stdout)."""
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.stdout == "", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]
