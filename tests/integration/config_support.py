"""Risk configurations shared by the integration tests of several faces."""

from __future__ import annotations

#: An exits configuration with an ATR stop, a two-rung partial ladder and a time stop.
EXITS_LADDER_YAML = """\
name: atr-ladder
exits:
  stop_mode: atr
  stop_pct: null
  stop_atr_multiple: 1.5
  take_profit_r: 3.0
  partials: [{r_multiple: 1, fraction: 0.5}, {r_multiple: 2, fraction: 0.25}]
  time_stop_hours: 48
"""
