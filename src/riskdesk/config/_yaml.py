"""YAML as riskdesk reads its files: the safe loader, refusing a mapping that repeats a key.

``yaml.safe_load`` keeps the last of repeated keys, so a second ``position_sizing:`` section
or ``target_weight:`` would drop the first without a word. Keys brought in by a merge
(``<<: *anchor``) may still be overridden: that is what a merge is for.
"""

from __future__ import annotations

from typing import Any

import yaml


class StrictLoader(yaml.SafeLoader):
    """The safe loader; a repeated key is a :class:`yaml.constructor.ConstructorError`."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False
                          ) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable: the safe loader refuses it in its own words
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} repeated (first at line {first})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """Parse ``text`` with :class:`StrictLoader` (raises :class:`yaml.YAMLError`)."""
    return yaml.load(text, Loader=StrictLoader)
