"""Brokers behind one small protocol: a paper account, any ccxt exchange, Alpaca.

Each broker turns its venue's replies into :mod:`riskdesk.domain` values (``AccountState``,
``Position``, ``MarketRules``) plus :class:`OpenOrder` and :class:`OrderBook`, validating every
number on the way in; a failed or untrustworthy reply raises
:class:`~riskdesk.errors.BrokerError`, an unlisted symbol
:class:`~riskdesk.errors.UnknownSymbolError`.
"""

from __future__ import annotations

from riskdesk.brokers._alpaca import AlpacaBroker, equity_tick
from riskdesk.brokers._ccxt import CcxtBroker, precision_to_step
from riskdesk.brokers._ledger import Fill, FillEffect, apply_fill, signed_quantity
from riskdesk.brokers._paper import FillJournal, PaperBroker, PaperFill
from riskdesk.brokers._protocol import Broker, KeyValueStore, OpenOrder, OrderBook
from riskdesk.brokers._synthetic import SyntheticBook

__all__ = [
    "AlpacaBroker",
    "Broker",
    "CcxtBroker",
    "Fill",
    "FillEffect",
    "FillJournal",
    "KeyValueStore",
    "OpenOrder",
    "OrderBook",
    "PaperBroker",
    "PaperFill",
    "SyntheticBook",
    "apply_fill",
    "equity_tick",
    "precision_to_step",
    "signed_quantity",
]
