"""Arrow results as pandas frames with the package's dtypes.

One row per record, columns named as the model fields in model order, timestamps
``datetime64[us, UTC]``, enum columns as categoricals (severity, impact severity,
priority and status ordered so that ``>`` means more severe / more urgent / further
along), list columns as ``pandas.ArrowDtype(list<string>)``, JSON columns as Python
dicts, and text as pandas' ``str`` dtype. Empty results have the same columns and
dtypes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pydantic_core

from . import _validate as v
from ._arguments import column_names, suggest
from .errors import QueryError
from .models import (
    EventSeverity,
    EventSource,
    ImpactSeverity,
    InvestigationStatus,
    LinkMethod,
    Priority,
    Record,
)

__all__ = ["CATEGORIES", "LIST_TYPE", "TIME", "fields", "kinds", "to_frame"]

#: Categories of the enum columns, least to most (so ``df.severity >= "high"`` works).
CATEGORIES: dict[str, tuple[list[str], bool]] = {
    "severity": ([s.value for s in reversed(EventSeverity)], True),
    "impact_severity": ([s.value for s in reversed(ImpactSeverity)], True),
    "priority": ([p.value for p in reversed(Priority)], True),
    "status": ([s.value for s in InvestigationStatus], True),
    "source": ([s.value for s in EventSource], False),
    "method": ([m.value for m in LinkMethod], False),
}

_CAT_DTYPES = {k: pd.CategoricalDtype(c, ordered=o) for k, (c, o) in CATEGORIES.items()}
_CAT_VALUES = {k: pa.array(c, pa.string()) for k, (c, _) in CATEGORIES.items()}
_SPECIAL = {"json", *CATEGORIES}
#: Arrow types of the list and time columns.
LIST_TYPE = pa.list_(pa.string())
TIME = pa.timestamp("us", tz="UTC")
_LIST = pd.ArrowDtype(LIST_TYPE)


def fields(model: type[Record], columns: Sequence[str] | None) -> list[str]:
    """The model fields a query returns: all, or the ``columns`` asked for (checked)."""
    names = list(model.model_fields)
    if columns is None:
        return names
    wanted = column_names("columns", columns)
    if len(set(wanted)) != len(wanted):
        raise QueryError(f"columns: each column once, please (got {wanted})")
    for name in wanted:
        if name not in names:
            raise QueryError(
                f"no column {name!r}{suggest(name, names)} (columns: {', '.join(names)})"
            )
    return wanted


def _json_cells(values: pa.ChunkedArray) -> list[Any]:
    return [pydantic_core.from_json(x) if x is not None else {} for x in values.to_pylist()]


def to_frame(table: pa.Table, kinds: Mapping[str, str]) -> pd.DataFrame:
    """An Arrow result as a DataFrame with the package's dtypes.

    ``kinds`` maps a column to ``json``, ``list`` or a CATEGORIES key; other columns
    keep Arrow's conversion (timestamps as ``datetime64[us, UTC]``, text as ``str``).
    """
    special = {n: kinds[n] for n in table.column_names if kinds.get(n) in _SPECIAL}
    plain = table.drop_columns(list(special)) if special else table
    frame: pd.DataFrame = plain.to_pandas(
        types_mapper=lambda t: _LIST if pa.types.is_list(t) else None,
        ignore_metadata=True,
    )
    if not special:
        return frame
    columns: dict[str, Any] = {}
    for name in table.column_names:
        kind = special.get(name)
        if kind is None:
            columns[name] = frame[name]
        elif kind == "json":
            columns[name] = pd.Series(_json_cells(table.column(name)), dtype=object)
        else:  # categories, by their codes (far cheaper than re-hashing the values)
            codes = pc.fill_null(pc.index_in(table.column(name), value_set=_CAT_VALUES[kind]), -1)
            columns[name] = pd.Categorical.from_codes(
                codes.to_numpy(zero_copy_only=False), dtype=_CAT_DTYPES[kind]
            )
    return pd.DataFrame(columns, copy=False)


@functools.cache
def kinds(model: type[Record], prefix: str = "") -> dict[str, str]:
    """The :func:`to_frame` kinds of a model's fields (``prefix`` before each name)."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        funcs = [getattr(m, "func", None) for m in info.metadata]
        if v.to_json_object in funcs:
            out[prefix + name] = "json"
        elif (
            name in CATEGORIES and isinstance(annotation, type) and issubclass(annotation, StrEnum)
        ):
            out[prefix + name] = name
        elif annotation is str or annotation == (str | None):
            out[prefix + name] = "str"
    return out
