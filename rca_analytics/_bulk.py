"""Columnar validation of record batches, with exactly the models' rules.

A batch is checked column by column with Arrow, numpy and pandas. Rows whose values the
vectorised rules fully understand are normalised in bulk. Every other row (a *slow*
row: an odd type, a value that needs the model's judgement, anything invalid) is
validated by the pydantic model itself, which either normalises it or rejects it with
the model's own failures. So the bulk path never accepts what the model rejects, and
it reports exactly what the model would report; ``tests/test_bulk.py`` checks that the
two agree on random rows.

The vectorised rules are chosen per field from the validator in the field's
annotation (``BeforeValidator(v.to_utc)`` and so on), so a new field is covered by the
rule of its kind; a field with an unknown validator sends every row to the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pydantic_core
from pydantic import BeforeValidator, JsonValue, TypeAdapter, ValidationError

from . import _validate as v
from ._reasons import Reason
from .errors import Failure, ValidationFailed
from .models import Record

__all__ = ["ROW", "Validated", "from_models", "validate"]

#: Name of the column carrying each row's position in the input.
ROW = "_row"
#: Name of the column saying the row's id was generated here (so it cannot clash).
GENERATED = "_generated_id"

TIME = pa.timestamp("us", tz="UTC")
STR = pa.string()
STR_LIST = pa.list_(pa.string())

# Python's str.strip()/split() whitespace: every character for which isspace() is True.
_WS_CHARS = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
_ASCII_WS_CHARS = "".join(c for c in _WS_CHARS if ord(c) < 128)
_WS_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WS_CHARS) + "]"
_EDGE_WS = f"^{_WS_CLASS}|{_WS_CLASS}$"
#: Text that is not one line of single spaces: folding white space would change it.
_UNCLEAN_LINE = "^ | $|  |[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WS_CHARS if c != " ") + "]"
_ANY_WS_OR_DASH = f"[-{_WS_CLASS[1:-1]}]"
_ISO = (
    r"^\d{4}-\d{2}-\d{2}[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_ONE_US = dt.timedelta(microseconds=1)
# Python datetimes cover the years 1..9999; as epoch microseconds:
_MIN_US = -62135596800 * 1_000_000
_MAX_US = 253402300799 * 1_000_000 + 999_999

_JSON_CHECK = TypeAdapter(list[dict[str, JsonValue]])


@dataclass
class Validated:
    """A validated batch: normalised rows ready to store, and the rejected ones."""

    table: pa.Table
    failures: list[Failure]
    #: The fields the input carried (a bulk update writes only these).
    given: frozenset[str] = frozenset()


@dataclass
class _Column:
    """One field's vectorised outcome: values, rows the model must judge, rows missing."""

    values: pa.Array
    slow: np.ndarray
    missing: np.ndarray


# --- input ------------------------------------------------------------------------------


def _series(values: Any, n: int) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(values, dtype=object) if n else pd.Series([], dtype=object)


def _frame_columns(data: Any) -> tuple[int, dict[str, pd.Series], Callable[[int], Any]]:
    """Columns of the input and a way to fetch one original row (for the model)."""
    if isinstance(data, pa.Table):
        data = data.to_pandas(types_mapper=pd.ArrowDtype)
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        cols = {str(c): frame[c] for c in frame.columns}
        if len(cols) != len(frame.columns):
            twice = sorted(
                {str(c) for c in frame.columns if list(map(str, frame.columns)).count(str(c)) > 1}
            )
            raise ValidationFailed(
                [
                    Failure(
                        None, name, Reason.DUPLICATE_COLUMN, "the column appears twice; keep one"
                    )
                    for name in twice
                ],
                "DataFrame",
            )

        def row(i: int) -> Any:
            return {k: s.iat[i] for k, s in cols.items()}

        return len(frame), cols, row
    rows = data if isinstance(data, list) else list(data)
    keys: dict[str, None] = {}
    shapes = set(map(tuple, (r for r in rows if type(r) is dict)))
    for shape in shapes:
        keys.update(dict.fromkeys(shape))
    for r in rows:
        if isinstance(r, Mapping) and type(r) is not dict:
            keys.update(dict.fromkeys(r))
    if all(type(r) is dict for r in rows):
        cols = {str(k): _series([r.get(k) for r in rows], len(rows)) for k in keys}
    else:
        cols = {
            str(k): _series([r.get(k) if isinstance(r, Mapping) else None for r in rows], len(rows))
            for k in keys
        }
    return len(rows), cols, rows.__getitem__


# --- string helpers -----------------------------------------------------------------------


def _arrow(s: pd.Series, type_: pa.DataType | None = None) -> pa.Array:
    arr = pa.array(s, from_pandas=True) if type_ is None else pa.array(s, type_, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _is_text_dtype(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.ArrowDtype):
        type_ = s.dtype.pyarrow_dtype
        return bool(pa.types.is_string(type_) or pa.types.is_large_string(type_))
    return isinstance(s.dtype, pd.StringDtype)


def _strings(s: pd.Series) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Arrow strings for the str elements; ``ok`` marks them, ``missing`` the gaps."""
    missing = s.isna().to_numpy(dtype=bool)
    n = len(s)
    if _is_text_dtype(s):
        return _arrow(s).cast(STR), ~missing, missing
    if s.dtype != object:
        return pa.nulls(n, STR), np.zeros(n, bool), missing
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        try:  # (Arrow would also take bytes as text: only str elements come this way)
            return _arrow(s, STR), ~missing, missing
        except (pa.ArrowException, UnicodeError, TypeError, ValueError):
            pass
    ok = np.fromiter((isinstance(x, str) and _encodable(x) for x in s), bool, n)
    values = [x if good else None for x, good in zip(s, ok, strict=True)]
    return pa.array(values, STR), ok, missing


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _mask(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _where(mask: np.ndarray, values: pa.Array, type_: pa.DataType) -> pa.Array:
    """``values`` where ``mask``, else null."""
    return pc.if_else(pa.array(mask), values, pa.nulls(len(values), type_))


# --- rules, one per kind of field ---------------------------------------------------------


def _name(s: pd.Series, *, required: bool) -> _Column:
    """``v.clean_name``: text stripped (empty is missing), whole numbers as text."""
    n = len(s)
    missing = s.isna().to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(s.dtype):
        return _Column(pa.nulls(n, STR), ~missing, missing)
    if pd.api.types.is_integer_dtype(s.dtype):
        values = _arrow(s).cast(STR)
        return _Column(values, missing & required, missing)
    if pd.api.types.is_float_dtype(s.dtype):
        f = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(f) & (f == np.floor(f)) & (np.abs(f) <= 2**53)
        ints = pa.array(np.where(whole, f, 0).astype(np.int64)).cast(STR)
        return _Column(
            _where(whole, ints, STR), (~whole & ~missing) | (missing & required), missing
        )
    values, ok, missing = _strings(s)
    if s.dtype == object and not ok[~missing].all():
        # Numbers and UUIDs among the strings: the model's rule, element by element.
        texts = [
            x if good else (_exact_name(x) if not gap else None)
            for x, good, gap in zip(s, ok, missing, strict=True)
        ]
        ok = np.fromiter((t is not None for t in texts), bool, n) | missing
        values = pa.array([t if isinstance(t, str) else None for t in texts], STR)
    trimmed = pc.utf8_trim(values, characters=_WS_CHARS)
    empty = _mask(pc.equal(pc.utf8_length(trimmed), 0))
    values = _where(~empty, trimmed, STR)
    missing = missing | empty
    slow = (~ok & ~missing) | (missing & required)
    return _Column(values, slow, missing)


def _exact_name(x: Any) -> str | None:
    """The model's text for a number or UUID; None when the model must decide."""
    if isinstance(x, str):
        return None
    try:
        text = v.clean_name(x)
    except ValueError:
        return None
    return text if text is not None and _encodable(text) else None


def _event_type(s: pd.Series) -> _Column:
    """``v.event_type_name``: lower-case; anything needing more than that goes slow."""
    col = _name(s, required=True)
    simple = _mask(pc.string_is_ascii(col.values)) & ~_mask(
        pc.match_substring_regex(col.values, _ANY_WS_OR_DASH)
    )
    return _Column(pc.utf8_lower(col.values), col.slow | ~simple, col.missing)


def _record_id(s: pd.Series) -> _Column:
    """``v.record_id``: like a required name; a missing id is generated later."""
    col = _name(s, required=False)
    original_missing = s.isna().to_numpy(dtype=bool)
    blank = col.missing & ~original_missing  # "" or "  ": the model says "empty"
    return _Column(col.values, col.slow | blank, original_missing)


def _text(s: pd.Series, max_length: int | None) -> _Column:
    """``v.text``: kept verbatim; longer than ``max_length`` goes to the model."""
    values, ok, missing = _strings(s)
    slow = ~ok & ~missing
    if max_length is not None:
        slow |= _mask(pc.greater(pc.utf8_length(values), max_length))
    return _Column(values, slow, missing)


def _summary(s: pd.Series) -> _Column:
    """``v.summary_text``: one line of single spaces, at most 200 characters.

    Clean text passes as it is; anything the model would change (white space to fold,
    over-long, not text) goes to the model.
    """
    values, ok, missing = _strings(s)
    unclean = _mask(pc.match_substring_regex(values, _UNCLEAN_LINE))
    long = _mask(pc.greater(pc.utf8_length(values), v.MAX_SUMMARY))
    empty = _mask(pc.equal(pc.utf8_length(values), 0))
    slow = (~ok | unclean | long | empty) & ~missing
    return _Column(values, slow, missing)


def _enum(s: pd.Series, choices: Sequence[str], upper: bool) -> _Column:
    """``v.enum_lower``/``v.enum_upper``: exact values, or ASCII needing only case/trim."""
    values, ok, missing = _strings(s)
    allowed = pa.array(list(choices), STR)
    exact = _mask(pc.is_in(values, value_set=allowed))
    folded = pc.utf8_trim(values, characters=_ASCII_WS_CHARS)
    folded = pc.utf8_upper(folded) if upper else pc.utf8_lower(folded)
    fold_ok = _mask(pc.string_is_ascii(values)) & _mask(pc.is_in(folded, value_set=allowed))
    good = ok & (exact | fold_ok)
    return _Column(_where(good, folded, STR), ~good & ~missing, missing)


def _time(s: pd.Series, conn: duckdb.DuckDBPyConnection) -> _Column:
    """``v.to_utc``: aware datetimes, ISO strings with an offset, epoch seconds."""
    n = len(s)
    missing = s.isna().to_numpy(dtype=bool)
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or (
        isinstance(dtype, pd.ArrowDtype)
        and pa.types.is_timestamp(dtype.pyarrow_dtype)
        and dtype.pyarrow_dtype.tz is not None
    ):
        us = _micros(s)
        return _epoch_us(us, ~missing, missing)
    if pd.api.types.is_datetime64_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return _Column(pa.nulls(n, TIME), ~missing, missing)  # naive / bool: the model refuses
    if pd.api.types.is_float_dtype(dtype):
        return _from_numbers(s.to_numpy(dtype="float64", na_value=0), ~missing, missing)
    if pd.api.types.is_integer_dtype(dtype):
        unsigned = pd.api.types.is_unsigned_integer_dtype(dtype)
        raw = s.to_numpy(dtype="uint64" if unsigned else "int64", na_value=0)
        return _from_numbers(raw, ~missing, missing)
    if _is_text_dtype(s):
        return _from_strings(_arrow(s).cast(STR), ~missing, missing, conn)
    if dtype is not np.dtype(object):
        return _Column(pa.nulls(n, TIME), ~missing, missing)
    values = s.tolist()
    if set(map(type, values)) <= {dt.datetime, type(None)}:
        # Plain datetimes (as dicts carry them): exact integer arithmetic; a naive one
        # cannot be subtracted from the aware epoch, and sends the column the long way.
        try:
            exact = [0 if x is None else (x - v.EPOCH) // _ONE_US for x in values]
        except (TypeError, OverflowError):
            pass
        else:
            return _epoch_us(np.array(exact, dtype=np.int64), ~missing, missing)
    # Mixed Python objects: sort them by kind, convert each kind in bulk.
    kinds = np.fromiter((_time_kind(x) for x in values), np.int8, n)
    kinds[missing] = 0
    out = _Column(pa.nulls(n, TIME), kinds > 3, missing)
    parts = []
    if (kinds == 1).any():
        idx = kinds == 1
        parts.append(
            (
                idx,
                _from_strings(
                    pa.array([x if k == 1 else None for x, k in zip(s, kinds, strict=True)], STR),
                    idx,
                    missing,
                    conn,
                ),
            )
        )
    if (kinds == 2).any():
        idx = kinds == 2
        # Exact integer arithmetic: converters that go through float lose microseconds
        # far from 1970.
        us = np.array(
            [(x - v.EPOCH) // _ONE_US if k == 2 else 0 for x, k in zip(s, kinds, strict=True)],
            dtype=np.int64,
        )
        parts.append((idx, _epoch_us(us, idx, missing)))
    if (kinds == 3).any():
        idx = kinds == 3
        nums = [x if k == 3 else 0 for x, k in zip(s, kinds, strict=True)]
        as_int = all(isinstance(x, int) for x in nums)
        arr = np.array(nums, dtype=np.int64 if as_int else np.float64)
        parts.append((idx, _from_numbers(arr, idx, missing)))
    if not parts:
        return out
    values = out.values
    slow = out.slow.copy()
    for idx, col in parts:
        values = pc.if_else(pa.array(idx), col.values, values)
        slow |= col.slow & idx
    return _Column(values, slow, missing)


def _time_kind(x: Any) -> int:
    """0 missing, 1 str, 2 aware datetime (µs), 3 int/float number, 4 the model decides."""
    if isinstance(x, str):
        return 1
    if isinstance(x, dt.datetime):
        if getattr(x, "nanosecond", 0) or x.tzinfo is None or x.utcoffset() is None:
            return 4
        return 2
    if type(x) is int or type(x) is float:
        return 3 if -(2**62) < x < 2**62 else 4
    return 4


def _micros(s: pd.Series) -> np.ndarray:
    """Epoch microseconds (floored) of an aware datetime Series."""
    if isinstance(s.dtype, pd.ArrowDtype):
        arr = _arrow(s).cast(pa.timestamp(s.dtype.pyarrow_dtype.unit, tz="UTC"))
        ts = pd.Series(arr.to_pandas()).dt.tz_convert("UTC")
    else:
        ts = s.dt.tz_convert("UTC")
    unit = np.datetime_data(ts.dt.tz_localize(None).to_numpy().dtype)[0]
    raw = ts.dt.tz_localize(None).to_numpy().view(np.int64)
    factor = {"s": -1_000_000, "ms": -1_000, "us": 1, "ns": 1_000}[unit]
    if factor > 0:
        return np.floor_divide(raw, factor)
    return raw * -factor


def _epoch_us(us: np.ndarray, candidate: np.ndarray, missing: np.ndarray) -> _Column:
    ok = candidate & (us >= _MIN_US) & (us <= _MAX_US)
    values = pa.array(np.where(ok, us, 0), pa.int64()).cast(TIME)
    return _Column(_where(ok, values, TIME), candidate & ~ok, missing)


def _from_numbers(arr: np.ndarray, candidate: np.ndarray, missing: np.ndarray) -> _Column:
    """Epoch seconds as the model reads them: exact for ints, ``round(x * 1e6)`` for floats."""
    if arr.dtype.kind in "iu":
        ok = candidate & (arr >= _MIN_US // 1_000_000) & (arr <= v.MAX_EPOCH_SECONDS)
        us = np.where(ok, arr, 0).astype(np.int64) * 1_000_000
    else:
        with np.errstate(invalid="ignore"):
            ok = candidate & np.isfinite(arr) & (np.abs(arr) <= v.MAX_EPOCH_SECONDS)
            ok &= arr >= _MIN_US / 1e6
        us = np.round(np.where(ok, arr, 0.0) * 1e6).astype(np.int64)
    col = _epoch_us(us, ok, missing)
    return _Column(col.values, col.slow | (candidate & ~ok), missing)


def _from_strings(
    arr: pa.Array, candidate: np.ndarray, missing: np.ndarray, conn: duckdb.DuckDBPyConnection
) -> _Column:
    """ISO 8601 strings with an offset; anything less regular goes to the model."""
    shaped = candidate & _mask(pc.match_substring_regex(arr, _ISO))
    text = _where(shaped, pc.replace_substring_regex(arr, r"(\.\d{6})\d+", r"\1"), STR)
    parsed = (
        conn.execute("SELECT TRY_CAST(t AS TIMESTAMPTZ) AS t FROM _rca_times", [])
        if False
        else None
    )  # placeholder replaced below
    del parsed
    table = pa.table({"t": text})
    conn.register("_rca_times", table)
    try:
        result = conn.sql("SELECT TRY_CAST(t AS TIMESTAMPTZ) AS t FROM _rca_times").to_arrow_table()
    finally:
        conn.unregister("_rca_times")
    values = result.column("t").combine_chunks().cast(TIME)
    parsed_ok = shaped & _mask(pc.is_valid(values))
    us = pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    col = _epoch_us(us, parsed_ok, missing)
    return _Column(col.values, (candidate & ~parsed_ok) | col.slow, missing)


def _str_list(s: pd.Series) -> _Column:
    """``v.clean_tags``: lists of clean, distinct strings; anything else to the model."""
    n = len(s)
    missing = s.isna().to_numpy(dtype=bool)
    if (
        isinstance(s.dtype, pd.ArrowDtype)
        and pa.types.is_list(s.dtype.pyarrow_dtype)
        and pa.types.is_string(s.dtype.pyarrow_dtype.value_type)
    ):
        arr = _arrow(s).cast(STR_LIST)
        candidate = ~missing
    elif s.dtype == object:
        values = s.tolist()
        if set(map(type, values)) <= {list, type(None)}:
            candidate = ~missing
        else:
            candidate = np.fromiter((type(x) in _SEQUENCES for x in values), bool, n)
            values = [x if c else None for x, c in zip(values, candidate, strict=True)]
        elements = set(map(type, itertools.chain.from_iterable(x for x in values if x is not None)))
        try:
            if not all(issubclass(t, str) for t in elements):
                raise TypeError("not all text")  # Arrow would take bytes as text
            arr = pa.array(values, STR_LIST)
        except (pa.ArrowException, UnicodeError, TypeError, ValueError):
            candidate &= np.fromiter(
                (
                    c and all(isinstance(t, str) and _encodable(t) for t in x)
                    for x, c in zip(values, candidate, strict=True)
                ),
                bool,
                n,
            )
            arr = pa.array(
                [x if c else None for x, c in zip(values, candidate, strict=True)], STR_LIST
            )
    else:
        return _Column(pa.nulls(n, STR_LIST), ~missing, missing)
    flat = pc.list_flatten(arr)
    if len(flat):
        parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
        bad = (
            _mask(pc.is_null(flat))
            | _mask(pc.equal(pc.utf8_length(flat), 0))
            | _mask(pc.not_equal(pc.utf8_trim(flat, characters=_WS_CHARS), flat))
        )
        dup = pd.DataFrame({"p": parents, "v": flat.to_pandas()}).duplicated().to_numpy()
        unclean = np.bincount(parents[bad | dup], minlength=n) > 0
    else:
        unclean = np.zeros(n, bool)
    good = candidate & ~unclean
    out = pc.if_else(pa.array(good), arr, _empty_lists(n))
    return _Column(out, ~good & ~missing, missing)


_SEQUENCES = (list, tuple, np.ndarray)


def _empty_lists(n: int) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], STR))


def _json(s: pd.Series, conn: duckdb.DuckDBPyConnection) -> _Column:
    """``v.to_json_object``: plain JSON objects (or JSON object text) as compact JSON text."""
    n = len(s)
    values = s.tolist()
    missing = s.isna().to_numpy(dtype=bool)
    kinds = set(map(type, values))
    if str in kinds:  # JSON text, as the earlier system stored it: read it like the model
        for i in np.flatnonzero([type(x) is str for x in values]).tolist():
            try:
                values[i] = json.loads(values[i])
            except ValueError:
                values[i] = None
        kinds = set(map(type, values))
    if kinds == {dict}:
        candidate = np.ones(n, bool)
    else:
        candidate = np.fromiter((type(x) is dict for x in values), bool, n)
    all_dicts = bool(candidate.all())
    if all_dicts and n >= _STRUCT_MIN_ROWS:
        texts = _json_by_columns(values, conn)
        if texts is not None:
            return _Column(texts, np.zeros(n, bool), missing)
    dicts = values if all_dicts else [values[i] for i in np.flatnonzero(candidate).tolist()]
    plain = _plain_kinds(dicts)
    if plain is None:
        # Nested or unusual values: pydantic's strict JSON check, in one call.
        idx = np.flatnonzero(candidate)
        try:
            _JSON_CHECK.validate_python(dicts, strict=True)
        except ValidationError as err:
            for e in err.errors(include_url=False):
                candidate[idx[int(e["loc"][0])]] = False
    raws: list[bytes | None]
    try:
        raws = (
            list(map(_to_json, values))
            if all_dicts
            else [_to_json(x) if c else None for x, c in zip(values, candidate, strict=True)]
        )
    except (ValueError, pydantic_core.PydanticSerializationError):
        raws = [None] * n
        for i in np.flatnonzero(candidate).tolist():
            try:
                raws[i] = _to_json(values[i])
            except (ValueError, pydantic_core.PydanticSerializationError):
                candidate[i] = False  # e.g. text that is not valid Unicode: the model says why
    texts = pa.array(raws, pa.binary()).cast(STR)
    if plain is None or float in plain:  # NaN becomes null and infinity is refused: model
        candidate &= ~(
            _mask(pc.match_substring(texts, "NaN")) | _mask(pc.match_substring(texts, "Infinity"))
        )
    if plain is None:  # nesting deeper than the model allows: the model says so
        depth = pc.add(pc.count_substring(texts, "{"), pc.count_substring(texts, "["))
        candidate &= ~_mask(pc.greater(depth, v.MAX_JSON_DEPTH))
    if not candidate.all():
        texts = pc.if_else(pa.array(candidate), texts, pa.scalar(None, STR))
    if missing.any():
        texts = pc.if_else(pa.array(missing), pa.scalar("{}", STR), texts)
    return _Column(texts, ~candidate & ~missing, missing)


_PLAIN = frozenset({str, int, float, bool, type(None)})
_STRUCT_MIN_ROWS = 1_000
_PLAIN_KEY = re.compile(r"[\w .:/@$-]+")
_STRUCT_TYPES = {str: pa.string(), int: pa.int64(), bool: pa.bool_()}


def _json_by_columns(
    dicts: list[dict[str, Any]], conn: duckdb.DuckDBPyConnection
) -> pa.Array | None:
    """JSON text of same-shaped flat dicts, made column by column by DuckDB.

    Applies when every dict has the same keys in the same order and each key holds
    one of str/int/bool (or None) throughout: then the text is exactly what encoding
    each dict would give. Floats are left to the per-row path (their text must
    round-trip exactly). Returns None when the shortcut does not apply.
    """
    shapes = set(map(tuple, dicts))
    if len(shapes) != 1:
        return None
    (keys,) = shapes
    if not keys or not all(type(k) is str and _PLAIN_KEY.fullmatch(k) for k in keys):
        return None  # DuckDB treats some field names (empty, NUL...) as unnamed
    arrays = []
    for key in keys:
        column = [d[key] for d in dicts]
        kinds = set(map(type, column)) - {type(None)}
        if len(kinds) != 1 or (kind := next(iter(kinds))) not in _STRUCT_TYPES:
            return None
        try:
            arrays.append(pa.array(column, _STRUCT_TYPES[kind]))
        except (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError):
            return None  # ints beyond 64 bits, text that is not Unicode: per row
    try:
        shaped = pa.table({"s": pa.StructArray.from_arrays(arrays, names=list(keys))})
        conn.register("_rca_json", shaped)
        try:
            out = conn.sql("SELECT to_json(s)::VARCHAR AS j FROM _rca_json").to_arrow_table()
        finally:
            conn.unregister("_rca_json")
    except (duckdb.Error, pa.ArrowException):
        return None
    texts = out.column("j").combine_chunks().cast(STR)
    first = json.loads(texts[0].as_py())
    if not isinstance(first, dict) or list(first) != list(keys):
        return None  # not the object we meant: leave it to the per-row path
    return texts


def _plain_kinds(dicts: list[dict[str, Any]]) -> set[type] | None:
    """The value types of flat dicts of plain values, else None.

    Plain means str keys and str/int/float/bool/None values; anything nested or
    unusual gives None.
    """
    keys = set(map(type, itertools.chain.from_iterable(dicts)))
    if keys - {str}:
        return None
    kinds = set(map(type, itertools.chain.from_iterable(map(dict.values, dicts))))
    return kinds if kinds <= _PLAIN else None


_to_json = functools.partial(pydantic_core.to_json, inf_nan_mode="constants")


# --- the per-field plan -------------------------------------------------------------------

Rule = Callable[[pd.Series, duckdb.DuckDBPyConnection], _Column]

#: Rules that judge each value on its own, so they may run on the distinct values only.
_ELEMENTWISE = frozenset(
    {
        v.clean_name,
        v.required_name,
        v.event_type_name,
        v.record_id,
        v.text,
        v.summary_text,
        v.enum_lower,
        v.enum_upper,
        v.to_utc,
        v.optional_utc,
    }
)


def _validator(model: type[Record], name: str) -> Any:
    funcs = [m.func for m in model.model_fields[name].metadata if isinstance(m, BeforeValidator)]
    return funcs[0] if len(funcs) == 1 else None


def _apply(
    model: type[Record], name: str, s: pd.Series, conn: duckdb.DuckDBPyConnection
) -> _Column:
    """Run a field's rule, on the distinct values only when a few values repeat a lot.

    Columns such as severity, source or component hold a handful of values; checking
    each once and spreading the verdicts is much cheaper than checking every row.
    """
    rule = _rule(model, name)
    n = len(s)
    if _validator(model, name) not in _ELEMENTWISE or n < 10_000 or not _few_values(s):
        return rule(s, conn)
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # unhashable values: the rule judges them one by one
        return rule(s, conn)
    if len(uniques) == 0 or len(uniques) * 4 > n:
        return rule(s, conn)
    col = rule(pd.Series(uniques), conn)
    gaps = codes < 0
    pick = np.where(gaps, 0, codes)
    values = col.values.take(pa.array(pick, pa.int64()))
    slow, missing = col.slow[pick], col.missing[pick]
    if gaps.any():  # every gap gets the verdict the rule gives one gap
        gap = rule(s[gaps].iloc[:1].reset_index(drop=True), conn)
        values = pc.if_else(pa.array(gaps), pa.nulls(n, values.type), values)
        slow = np.where(gaps, gap.slow[0], slow)
        missing = np.where(gaps, gap.missing[0], missing)
    return _Column(values, slow, missing)


def _few_values(s: pd.Series) -> bool:
    """Whether a column repeats few values, of one kind (so that equal means identical).

    Object columns qualify only when they hold text: factorizing would merge values that
    compare equal but mean different things to the model (``True``, ``1``, ``1.0``).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(s.cat.categories, skipna=True) == "string"
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) != "string":
        return False
    head = s.iloc[:2000]
    try:
        return bool(head.nunique(dropna=True) * 20 < len(head))
    except TypeError:
        return False


def _rule(model: type[Record], name: str) -> Rule:
    """The vectorised rule for a field, from the validator in its annotation."""
    info = model.model_fields[name]
    funcs = [m.func for m in info.metadata if isinstance(m, BeforeValidator)]
    max_length = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
    func = funcs[0] if len(funcs) == 1 else None
    annotation = info.annotation
    if func is v.clean_name:
        return lambda s, c: _name(s, required=False)
    if func is v.required_name:
        return lambda s, c: _name(s, required=True)
    if func is v.event_type_name:
        return lambda s, c: _event_type(s)
    if func is v.record_id:
        return lambda s, c: _record_id(s)
    if func is v.text:
        return lambda s, c: _text(s, max_length)
    if func is v.summary_text:
        return lambda s, c: _summary(s)
    if (
        func in (v.enum_lower, v.enum_upper)
        and isinstance(annotation, type)
        and issubclass(annotation, StrEnum)
    ):
        choices = [m.value for m in annotation]
        upper = func is v.enum_upper
        return lambda s, c: _enum(s, choices, upper)
    if func in (v.to_utc, v.optional_utc):
        return _time
    if func is v.clean_tags:
        return lambda s, c: _str_list(s)
    if func is v.to_json_object:
        return _json
    return _unknown


def _unknown(s: pd.Series, conn: duckdb.DuckDBPyConnection) -> _Column:
    missing = (
        s.isna().to_numpy(dtype=bool)
        if s.dtype != object
        else np.fromiter((v.is_missing(x) for x in s), bool, len(s))
    )
    return _Column(pa.nulls(len(s), STR), ~missing, missing)


def arrow_type(model: type[Record], name: str) -> pa.DataType:
    """Arrow type of a field in validated batches."""
    func = next(
        (m.func for m in model.model_fields[name].metadata if isinstance(m, BeforeValidator)),
        None,
    )
    if func in (v.to_utc, v.optional_utc):
        return TIME
    if func is v.clean_tags:
        return STR_LIST
    return STR


def _default(
    model: type[Record], name: str, n: int, now: dt.datetime, conn: duckdb.DuckDBPyConnection
) -> pa.Array | None:
    """Values for rows where the field is missing, or None when missing means slow."""
    info = model.model_fields[name]
    type_ = arrow_type(model, name)
    if name == "id":
        return _uuid4(n, conn)
    if name == "created_at":
        us = (now - v.EPOCH) // dt.timedelta(microseconds=1)
        return pa.array(np.full(n, us, np.int64)).cast(TIME)
    if info.default_factory is not None:
        if type_ == STR_LIST:
            return _empty_lists(n)
        if name in json_fields(model):
            return pa.array(["{}"] * n, STR)
        return None
    if info.is_required():
        return None
    default = info.default
    if isinstance(default, StrEnum):
        default = default.value
    return pa.array([default] * n, type_)


def json_fields(model: type[Record]) -> frozenset[str]:
    """Fields holding JSON objects (stored as JSON text)."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if any(isinstance(m, BeforeValidator) and m.func is v.to_json_object for m in info.metadata)
    )


def _uuid4(n: int, conn: duckdb.DuckDBPyConnection) -> pa.Array:
    """``n`` random version-4 UUIDs as text, made in bulk by DuckDB."""
    table = conn.sql("SELECT gen_random_uuid()::VARCHAR AS id FROM range($n)", params={"n": n})
    return table.to_arrow_table().column("id").combine_chunks().cast(STR)


# --- validation ---------------------------------------------------------------------------


def validate(model: type[Record], data: Any, *, now: dt.datetime, first_row: int = 0) -> Validated:
    """Validate a batch (DataFrame, Arrow table, or iterable of dicts/models).

    Returns the normalised rows as an Arrow table with one column per model field
    (stored and derived) plus ``_row`` (position in the input, counted from
    ``first_row``), and a :class:`Failure` for every problem of every rejected row.
    """
    if not isinstance(data, (pd.DataFrame, pa.Table)):
        data = data if isinstance(data, list) else list(data)
        if data and all(isinstance(r, model) for r in data):
            rows = np.arange(first_row, first_row + len(data))
            return Validated(from_models(model, data, rows), [], frozenset(model.model_fields))
        data = [r.model_dump() if isinstance(r, Record) else r for r in data]
    n, cols, original = _frame_columns(data)
    fields = list(model.model_fields)
    slow = np.zeros(n, bool)
    for name, s in cols.items():
        if name not in model.model_fields:
            present = ~(
                s.isna().to_numpy(dtype=bool)
                if s.dtype != object
                else np.fromiter((v.is_missing(x) for x in s), bool, n)
            )
            slow |= present  # unknown field: the model names it (and suggests the right one)
    if not isinstance(data, pd.DataFrame) and not isinstance(data, pa.Table):
        slow |= np.fromiter((not isinstance(r, Mapping) for r in data), bool, n)
    arrays: dict[str, pa.Array] = {}
    generated = np.ones(n, bool)
    conn = duckdb.connect(
        ":memory:",
        config={
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "enable_external_access": False,
        },
    )
    try:
        conn.execute("SET TimeZone = 'UTC'")
        for name in fields:
            type_ = arrow_type(model, name)
            if name not in cols:
                default = _default(model, name, n, now, conn)
                if default is None:
                    if name != "updated_at":
                        slow[:] = True  # a required field is absent: the model says so
                    arrays[name] = pa.nulls(n, type_)
                else:
                    arrays[name] = default
                continue
            col = _apply(model, name, _series(cols[name], n), conn)
            if name == "id":
                generated = col.missing
            values = col.values.cast(type_) if col.values.type != type_ else col.values
            slow |= col.slow
            if col.missing.any() and name != "updated_at":
                default = _default(model, name, n, now, conn)
                if default is None:
                    slow |= col.missing & model.model_fields[name].is_required()
                else:
                    values = pc.if_else(pa.array(col.missing), default, values)
            arrays[name] = values
    finally:
        conn.close()
    # updated_at defaults to the row's created_at (the model's default factory).
    upd = arrays.get("updated_at")
    if upd is not None:
        arrays["updated_at"] = pc.if_else(pc.is_null(upd), arrays["created_at"], upd)
    rows = np.arange(first_row, first_row + n)
    fast = ~slow
    if fast.all():
        table = pa.table({name: arrays[name] for name in fields})
    else:
        keep = pa.array(fast)
        table = pa.table({name: arrays[name].filter(keep) for name in fields})
    table = table.append_column(ROW, pa.array(rows[fast], pa.int64()))
    table = table.append_column(GENERATED, pa.array(generated[fast]))
    failures: list[Failure] = []
    good: list[Record] = []
    good_rows: list[int] = []
    for i in np.flatnonzero(slow):
        record = original(int(i))
        try:
            if not isinstance(record, Mapping):
                raise ValidationFailed(
                    [
                        Failure(
                            None,
                            None,
                            Reason.INVALID_TYPE,
                            f"expected a mapping or {model.__name__}, got {type(record).__name__}",
                        )
                    ],
                    model.__name__,
                )
            good.append(model.model_validate(record))
            good_rows.append(int(rows[i]))
        except ValidationFailed as err:
            failures.extend(dataclasses.replace(f, row=int(rows[i])) for f in err.failures)
    if good:
        table = pa.concat_tables([table, from_models(model, good, np.array(good_rows))])
        table = table.sort_by(ROW)
    return Validated(table, failures, frozenset(cols) & frozenset(fields))


def from_models(model: type[Record], records: Sequence[Record], rows: np.ndarray) -> pa.Table:
    """Arrow table of already-validated records (one column per field, plus ``_row``)."""
    arrays = {}
    for name in model.model_fields:
        type_ = arrow_type(model, name)
        values = [getattr(r, name) for r in records]
        if type_ == STR and values and isinstance(values[0], dict):
            arrays[name] = pa.array([pydantic_core.to_json(x).decode() for x in values], STR)
        elif type_ == STR:
            arrays[name] = pa.array([x.value if isinstance(x, StrEnum) else x for x in values], STR)
        else:
            arrays[name] = pa.array(values, type_)
    table = pa.table(arrays)
    table = table.append_column(ROW, pa.array(np.asarray(rows, dtype=np.int64), pa.int64()))
    return table.append_column(GENERATED, pa.array(np.zeros(len(records), bool)))


def chunks(data: Any, size: int) -> Iterable[tuple[int, Any]]:
    """Split input into batches of ``size`` rows: (first row, batch)."""
    if isinstance(data, (pd.DataFrame, pa.Table)):
        for start in range(0, max(len(data), 1), size):
            yield (
                start,
                data[start : start + size]
                if isinstance(data, pd.DataFrame)
                else (data.slice(start, size)),
            )
        return
    batch: list[Any] = []
    start = 0
    for item in data:
        batch.append(item)
        if len(batch) == size:
            yield start, batch
            start += size
            batch = []
    if batch or start == 0:
        yield start, batch


def row_count(data: Any) -> int | None:
    """Number of rows when known without consuming the input."""
    if isinstance(data, (pd.DataFrame, pa.Table, list, tuple)):
        return len(data)
    return None
