"""JSON objects that remember a key given twice.

``json.loads`` keeps the last of two equal keys without a word; for a profile that silently changes the
entity (``"所在城市": "沈阳", …, "所在城市": "阜新"``). ``loads`` parses as usual but an object with a
repeated key comes back as a ``KeyedDict`` whose ``repeated`` names those keys, so the profile parser can
refuse it with a field-level message (event objects included).
"""

from __future__ import annotations

import json
from typing import Any


class KeyedDict(dict):
    """A JSON object whose source repeated some keys (the last value is kept, as json does)."""

    repeated: tuple[str, ...] = ()


def object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads``: a plain dict, or a KeyedDict when a key repeats."""
    result: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in result and key not in repeated:
            repeated.append(key)
        result[key] = value
    if not repeated:
        return result
    keyed = KeyedDict(result)
    keyed.repeated = tuple(repeated)
    return keyed


def loads(text: str) -> Any:
    """``json.loads`` that marks objects with repeated keys (see ``repeated_keys``)."""
    return json.loads(text, object_pairs_hook=object_pairs)


def repeated_keys(data: Any) -> tuple[str, ...]:
    """The keys ``data`` repeated in its JSON source; () for anything else."""
    return getattr(data, "repeated", ())
