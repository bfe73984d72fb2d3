"""A preset with some of its values replaced, for tests that vary one setting."""

from __future__ import annotations

from typing import Any

from riskdesk.config import RiskConfig


def _nested(over: dict[str, Any]) -> dict[str, Any]:
    """``over`` with dotted keys spelled as nested mappings."""
    out: dict[str, Any] = {}
    for key, val in over.items():
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = _nested(val) if isinstance(val, dict) else val
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, val in over.items():
        old = out.get(key)
        out[key] = _merge(old, val) if isinstance(val, dict) and isinstance(old, dict) else val
    return out


def preset_with(name: str, **sections: dict[str, Any]) -> RiskConfig:
    """The preset ``name`` with keys of some sections replaced.

    Nested mappings merge into the preset's, and a dotted key (``"stabilizer.enabled"``)
    reaches into one, so ``preset_with("aurora-kelly", kelly={"stabilizer.enabled": False})``
    changes that one value.
    """
    data = _merge(RiskConfig.preset(name, env={}).model_dump(), _nested(sections))
    return RiskConfig.from_mapping(data, env={})
