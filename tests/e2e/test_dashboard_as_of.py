"""The capital card says when the broker's account state was read, and marks it if stale.

An account the broker reports with an old date would otherwise look current. The age is
taken against the server's time of the answer (its HTTP ``Date`` header), so a browser whose
clock is wrong neither hides an old account nor flags a current one; without that header,
against the browser's clock. Older (or further ahead) than 60 s, or undated, is stale.

The analysis is edited on its way to the page to date the account (and the answer) as each
case needs; the fixture's service clock stands still in 2024.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest
from e2e_support import START, Live
from playwright.sync_api import Route, expect, sync_playwright

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
MARKUP = '<img src=x onerror="window.__ran=1"><b>bold</b>'

#: How the next answers are edited: the account's as_of from the answer's server time, and
#: the Date header to send (``None``: none at all). No entry: the answer as the API gave it.
Edit = tuple[Callable[[datetime], str | None], Callable[[datetime], datetime | None]]


def _shown(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_the_account_state_time_is_shown_and_an_old_one_is_marked_stale(
        live_service: Live) -> None:
    live = live_service
    edit: list[Edit] = []

    def route(route: Route) -> None:
        answer = route.fetch()
        if not edit:
            route.fulfill(response=answer)
            return
        as_of, date = edit[0]
        server = parsedate_to_datetime(answer.headers["date"])
        body: dict[str, Any] = answer.json()
        body["capital_state"]["as_of"] = as_of(server)
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() not in ("date", "content-length")}
        sent = date(server)
        if sent is not None:
            headers["date"] = format_datetime(sent, usegmt=True)
        route.fulfill(response=answer, headers=headers, body=json.dumps(body))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.route("**/api/capital/analysis/complete*", route)
            page.goto(f"{live.base_url}/#key={live.read_key}")
            as_of = page.get_by_test_id("cap-as-of")

            def shows(*texts: str, stale: bool) -> None:
                for text in texts:
                    expect(as_of).to_contain_text(text, timeout=10000)
                expect(as_of).to_have_attribute("data-stale", str(stale).lower())
                if stale:
                    expect(as_of).to_contain_text("STALE")
                    expect(as_of).to_have_class("bad stale-state")
                else:
                    expect(as_of).not_to_contain_text("STALE")

            # As the API answers: the paper account is dated by the service's clock (2024),
            # the answer by the server's real time.
            shows(_shown(START), "days old", stale=True)

            # Read 5 s before the answer: current.
            edit[:] = [(lambda s: (s - timedelta(seconds=5)).isoformat(), lambda s: s)]
            shows("5 s old", stale=False)

            # Read 5 minutes before the answer: stale.
            edit[:] = [(lambda s: (s - timedelta(minutes=5)).isoformat(), lambda s: s)]
            shows("5 min old", stale=True)

            # The server's time decides, not the browser's clock (years later than START).
            edit[:] = [(lambda s: START.isoformat(), lambda s: START + timedelta(seconds=10))]
            shows(_shown(START), "10 s old", stale=False)

            # Dated ahead of the server's time by more than 60 s: stale as well.
            edit[:] = [(lambda s: (s + timedelta(minutes=3)).isoformat(), lambda s: s)]
            shows("3 min ahead", stale=True)

            # No Date header: the browser's clock.
            edit[:] = [(lambda s: (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                        lambda s: None)]
            shows("5 min old", stale=True)

            # Undated, or a time that cannot be read: stale, and the text shown as text.
            edit[:] = [(lambda s: None, lambda s: s)]
            shows("not dated", stale=True)
            edit[:] = [(lambda s: MARKUP, lambda s: s)]
            shows(MARKUP, stale=True)
            assert page.locator("img").count() == 0
            assert page.evaluate("window.__ran") is None
        finally:
            browser.close()
