"""Watching the recommendation fast lane hand requests over to the rest of the app."""

from __future__ import annotations

from typing import Any

from riskdesk.api._fast import FastRecommendation


def fast_lane_handovers(app: Any) -> list[str]:
    """A list that records (``"METHOD /path"``) every request the app's fast lane hands on."""
    seen: list[str] = []
    layer = app.middleware_stack
    while not isinstance(layer, FastRecommendation):
        layer = layer.app
    inner = layer.app

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        seen.append(f"{scope['method']} {scope['path']}")
        await inner(scope, receive, send)

    layer.app = counted
    return seen
