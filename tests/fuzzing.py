"""Hypothesis strategies for hostile JSON, shared by the readers' tests.

Each reader's test names the odd strings and keys that matter to it; these helpers build
arbitrary JSON from them and plant it anywhere in a valid input.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: Text that broke readers once: digits int() accepts and str.isdigit() misjudges, huge numbers.
ODD_TEXT = ("²", "٣", "9" * 5000, "\x00", "")
BIG_NUMBERS = (10**400, -(10**400), 1 << 64, 0)


def leaves(odd_text: tuple[str, ...], numbers: tuple[int, ...] = BIG_NUMBERS) -> Any:
    """Scalars: JSON's, plus huge numbers, floats (NaN, inf) and the given odd text."""
    return (
        st.none()
        | st.booleans()
        | st.integers()
        | st.sampled_from(numbers)
        | st.floats()
        | st.text(max_size=12)
        | st.sampled_from((*ODD_TEXT, *odd_text))
    )


def any_json(scalars: Any, keys: tuple[str, ...], max_leaves: int = 25) -> Any:
    """Nested lists and objects of ``scalars``, objects keyed mostly by ``keys``."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(keys) | st.text(max_size=4), inner, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def mutated(data: st.DataObject, skeleton: Any, keys: tuple[str, ...], scalars: Any) -> Any:
    """``skeleton`` with one or two values, anywhere in it, replaced by arbitrary JSON."""
    anything = scalars | scalars | any_json(scalars, keys)
    value = json.loads(json.dumps(skeleton))
    for _ in range(data.draw(st.integers(1, 2))):
        holder: Any = value
        while holder:
            if isinstance(holder, dict):
                own = st.sampled_from(sorted(holder))
                key: Any = data.draw(own | own | own | st.sampled_from(keys))
                inner = holder.get(key)
            else:
                key = data.draw(st.integers(0, len(holder) - 1))
                inner = holder[key]
            if isinstance(inner, dict | list) and inner and data.draw(st.integers(0, 11)):
                holder = inner  # down, most of the time
                continue
            holder[key] = data.draw(anything)
            break
    return value
