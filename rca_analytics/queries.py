"""DataFrame queries over a store: slices, the event–investigation join, timelines, counts.

Every helper builds one parameterised SQL statement: column and table names come from
the models (a whitelist), every value is a parameter. Filter arguments are checked
before any SQL runs; a bad one raises :class:`~rca_analytics.QueryError`.

Frames follow one convention: one row per record, columns named as the model fields
in model order, timestamps ``datetime64[us, UTC]``, enum columns as categoricals
(severity, impact severity, priority and status ordered so that ``>`` means more
severe / more urgent / further along), list columns (``tags``, ids, ``reasons``) as
``pandas.ArrowDtype(list<string>)`` whose cells read as Python lists (``.apply`` passes
numpy arrays; the ``.list`` accessor works), JSON columns
(``data``, ``metadata``) as Python dicts, and text as pandas' ``str`` dtype. Empty
results have the same columns and dtypes.

Time filters: ``since`` is inclusive, ``until`` exclusive. Bounds may be aware
datetimes, ISO strings with an offset, epoch seconds, or dates / naive datetimes /
naive strings, which are read as UTC (a convenience for people typing in notebooks;
stored records must be aware).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pydantic_core

from . import _connection
from . import _validate as v
from ._data import Data
from .errors import QueryError
from .models import (
    Event,
    EventSeverity,
    EventSource,
    ImpactSeverity,
    Investigation,
    InvestigationStatus,
    Link,
    LinkMethod,
    Priority,
    Record,
    Review,
)
from .schema import quote

if TYPE_CHECKING:
    from ._connection import Handle

__all__ = [
    "CATEGORIES",
    "counts",
    "event_investigations",
    "events",
    "investigations",
    "reviews",
    "timeline",
]

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
_LIST_TYPE = pa.list_(pa.string())
_TIME = pa.timestamp("us", tz="UTC")
_RELATIONS = pa.array(["linked", "component", "service", "other"])
_LIST = pd.ArrowDtype(_LIST_TYPE)


# --- argument checking -----------------------------------------------------------------


def _values(name: str, value: Any) -> list[Any]:
    if isinstance(value, (str, StrEnum)) or not isinstance(value, Iterable):
        return [value]
    values = list(value)
    if not values:
        raise QueryError(f"{name}: an empty list matches nothing; leave the filter out instead")
    return values


def _enum_values(name: str, value: Any, enum: type[StrEnum]) -> list[str]:
    normalise = v.enum_upper if enum is Priority else v.enum_lower
    out = []
    for item in _values(name, value):
        text = normalise(item)
        try:
            out.append(enum(text).value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise QueryError(f"{name}: {item!r} is not one of {allowed}") from None
    return out


def _names(name: str, value: Any, rule: Callable[[Any], Any] = v.clean_name) -> list[str]:
    out = []
    for item in _values(name, value):
        try:
            text = rule(item)
        except ValueError as err:
            raise QueryError(f"{name}: {item!r} is not usable: {err}") from None
        if text is None:
            raise QueryError(f"{name}: {item!r} is blank")
        out.append(text)
    return out


def _tags(name: str, value: Any) -> list[str]:
    try:
        tags = v.clean_tags(value)
    except ValueError as err:
        raise QueryError(f"{name}: {err}") from None
    if not tags:
        raise QueryError(f"{name}: give at least one tag")
    return tags


def utc_bound(name: str, value: Any) -> dt.datetime:
    """A time bound: aware values as given; dates and naive values read as UTC.

    A bound finer than a microsecond is moved up to the next microsecond, so that
    comparisons with stored (microsecond) times mean what they say.
    """
    bound = _utc_bound(name, value)
    if _sub_microsecond(value):
        try:
            bound += dt.timedelta(microseconds=1)
        except OverflowError:
            raise QueryError(
                f"{name}: {value!r} is past the last time that can be stored"
            ) from None
    return bound


def _sub_microsecond(value: Any) -> bool:
    if isinstance(value, str):
        match = re.search(r"\.\d{6}(\d+)", value)
        return bool(match and match.group(1).strip("0"))
    return bool(getattr(value, "nanosecond", 0))


def _utc_bound(name: str, value: Any) -> dt.datetime:
    if type(value).__module__ == "numpy" and "datetime64" in type(value).__name__:
        value = pd.Timestamp(value)  # naive, so read as UTC below
    if isinstance(value, dt.datetime) and (value.tzinfo is None or value.utcoffset() is None):
        value = value.replace(tzinfo=dt.UTC)
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text += "T00:00:00"
        try:
            return v.to_utc(text)
        except ValueError:
            try:
                return v.to_utc(text + "Z")  # naive text: read as UTC
            except ValueError:
                raise QueryError(
                    f"{name}: cannot read {value!r} as a time; use e.g. '2026-03-01', "
                    "'2026-03-01T10:00' (UTC) or '2026-03-01T10:00:00+01:00'"
                ) from None
    try:
        return v.to_utc(value)
    except ValueError as err:
        raise QueryError(f"{name}: {err}") from None
    except OverflowError:
        raise QueryError(f"{name}: {value!r} is outside the times that can be stored") from None


def _timedelta(name: str, text: str) -> pd.Timedelta:
    """``pd.Timedelta`` of a text, with "d" for days read as "D".

    A spelling pandas is retiring ("H", "T"...) is refused with pandas' advice rather
    than read today and broken tomorrow.
    """
    text = re.sub(r"(?<=\d)(\s*)d(?![a-z])", r"\1D", text.strip())  # pandas 3: "D" only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return pd.Timedelta(text)
        except Warning as advice:
            raise QueryError(f"{name}: {text!r}: {advice}") from None


def duration(name: str, value: Any) -> dt.timedelta:
    """A window length: ``"2h"``, ``"30m"``, ``"1d"``, a timedelta, or a number of seconds."""
    if isinstance(value, bool):
        raise QueryError(f"{name}: expected a duration such as '2h', not {value!r}")
    try:
        delta = (
            pd.Timedelta(seconds=value)
            if isinstance(value, (int, float))
            else _timedelta(name, value)
            if isinstance(value, str)
            else pd.Timedelta(value)
        )
    except QueryError:
        raise
    except (ValueError, TypeError, OverflowError):
        raise QueryError(
            f"{name}: cannot read {value!r} as a duration; use e.g. '2h', '30m'"
        ) from None
    if pd.isna(delta) or delta < pd.Timedelta(0):
        raise QueryError(f"{name}: {value!r} must be a positive duration")
    return delta.to_pytimedelta()


def _confidence(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise QueryError(f"{name}: expected a number between 0 and 1, got {value!r}")
    return float(value)


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- the SQL builder --------------------------------------------------------------------


@dataclass
class _Where:
    """Conditions and their parameters; identifiers are always whitelisted."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def one_of(self, column: str, values: Sequence[Any]) -> None:
        marks = ", ".join("?" for _ in values)
        self.add(f"{column} IN ({marks})", *values)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


def _rank_at_least(name: str, value: Any, enum: type[StrEnum]) -> list[str]:
    """The values at least as severe/urgent as ``value`` (enums list the most first)."""
    values = _enum_values(name, value, enum)
    if len(values) != 1:
        raise QueryError(f"{name}: give one value, not {len(values)}")
    order = [m.value for m in enum]
    return order[: order.index(values[0]) + 1]


EVENT_FILTERS = (
    "severity",
    "min_severity",
    "source",
    "event_type",
    "component",
    "service",
    "source_id",
    "tags",
    "match",
    "since",
    "until",
    "investigation_id",
)
INVESTIGATION_FILTERS = (
    "status",
    "priority",
    "min_priority",
    "impact_severity",
    "min_impact_severity",
    "component",
    "service",
    "assigned_to",
    "created_by",
    "tags",
    "match",
    "since",
    "until",
)

#: When an investigation happened, for time filters and counts.
INVESTIGATION_TIME = "coalesce({a}.detected_at, {a}.created_at)"


def _event_where(w: _Where, a: str, filters: Mapping[str, Any], prefix: str = "") -> None:
    """Event-side conditions on alias ``a``; ``prefix`` names the arguments in errors."""
    f = {k: val for k, val in filters.items() if val is not None}

    def col(name: str) -> str:
        return f"{a}.{quote(name)}"

    if "severity" in f:
        w.one_of(col("severity"), _enum_values(prefix + "severity", f["severity"], EventSeverity))
    if "min_severity" in f:
        w.one_of(
            col("severity"),
            _rank_at_least(prefix + "min_severity", f["min_severity"], EventSeverity),
        )
    if "source" in f:
        w.one_of(col("source"), _enum_values(prefix + "source", f["source"], EventSource))
    if "event_type" in f:
        w.one_of(
            col("event_type"), _names(prefix + "event_type", f["event_type"], v.event_type_name)
        )
    for name in ("component", "service", "source_id"):
        if name in f:
            w.one_of(col(name), _names(prefix + name, f[name]))
    _tag_where(w, col("tags"), f, prefix)
    _time_where(w, col("timestamp"), f, prefix)
    if "investigation_id" in f:
        ids = _names(prefix + "investigation_id", f["investigation_id"], v.record_id)
        marks = ", ".join("?" for _ in ids)
        w.add(f"{a}.id IN (SELECT event_id FROM links WHERE investigation_id IN ({marks}))", *ids)  # noqa: S608


def _investigation_where(w: _Where, a: str, filters: Mapping[str, Any], prefix: str = "") -> None:
    f = {k: val for k, val in filters.items() if val is not None}

    def col(name: str) -> str:
        return f"{a}.{quote(name)}"

    if "status" in f:
        w.one_of(col("status"), _enum_values(prefix + "status", f["status"], InvestigationStatus))
    if "priority" in f:
        w.one_of(col("priority"), _enum_values(prefix + "priority", f["priority"], Priority))
    if "min_priority" in f:
        w.one_of(
            col("priority"), _rank_at_least(prefix + "min_priority", f["min_priority"], Priority)
        )
    if "impact_severity" in f:
        w.one_of(
            col("impact_severity"),
            _enum_values(prefix + "impact_severity", f["impact_severity"], ImpactSeverity),
        )
    if "min_impact_severity" in f:
        w.one_of(
            col("impact_severity"),
            _rank_at_least(
                prefix + "min_impact_severity", f["min_impact_severity"], ImpactSeverity
            ),
        )
    for name, column in (
        ("component", "component_affected"),
        ("service", "service_affected"),
        ("assigned_to", "assigned_to"),
        ("created_by", "created_by"),
    ):
        if name in f:
            w.one_of(col(column), _names(prefix + name, f[name]))
    _tag_where(w, col("tags"), f, prefix)
    _time_where(w, INVESTIGATION_TIME.format(a=a), f, prefix)


def _tag_where(w: _Where, column: str, f: Mapping[str, Any], prefix: str) -> None:
    match = f.get("match", "any")
    if match not in ("any", "all"):
        raise QueryError(f"{prefix}match: 'any' or 'all', not {match!r}")
    if "tags" in f:
        tags = _tags(prefix + "tags", f["tags"])
        w.add(f"list_has_{match}({column}, ?::VARCHAR[])", tags)


def _time_where(w: _Where, column: str, f: Mapping[str, Any], prefix: str) -> None:
    if "since" in f:
        w.add(f"{column} >= ?", utc_bound(prefix + "since", f["since"]))
    if "until" in f:
        w.add(f"{column} < ?", utc_bound(prefix + "until", f["until"]))


def _check_names(given: Iterable[str], allowed: Sequence[str], call: str) -> None:
    for name in given:
        if name not in allowed:
            raise QueryError(
                f"{call}() has no filter {name!r}{_suggest(name, allowed)} "
                f"(filters: {', '.join(allowed)})"
            )


# --- frames -------------------------------------------------------------------------------


def _name_list(name: str, value: Any) -> list[str]:
    """A column name or a list of them; anything else is a QueryError."""
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise QueryError(
            f"{name}: expected a column name or a list of them, not {value!r}"
        ) from None
    for item in names:
        if not isinstance(item, str):
            raise QueryError(f"{name}: column names are text, not {item!r}")
    return names


def _fields(model: type[Record], columns: Sequence[str] | None) -> list[str]:
    names = list(model.model_fields)
    if columns is None:
        return names
    wanted = _name_list("columns", columns)
    if len(set(wanted)) != len(wanted):
        raise QueryError(f"columns: each column once, please (got {wanted})")
    for name in wanted:
        if name not in names:
            raise QueryError(
                f"no column {name!r}{_suggest(name, names)} (columns: {', '.join(names)})"
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
def _kinds(model: type[Record], prefix: str = "") -> dict[str, str]:
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


def _event_select(
    data: Data, a: str, fields: Sequence[str], include_deleted: bool, prefix: str = ""
) -> tuple[str, str]:
    """Select list of event fields (with derived lists), and the join that derives them."""
    derived = (
        "LEFT JOIN (SELECT l.event_id, "  # noqa: S608
        "list(l.investigation_id ORDER BY l.linked_at, l.investigation_id) AS ids, "
        "max(l.linked_at) AS last FROM links l JOIN investigations li "
        "ON li.id = l.investigation_id"
        + ("" if include_deleted else " WHERE li.deleted_at IS NULL")
        + f" GROUP BY l.event_id) {a}_l ON {a}_l.event_id = {a}.id"
    )
    parts = []
    for name in fields:
        if name == "investigation_ids":
            parts.append(f"coalesce({a}_l.ids, []::VARCHAR[]) AS {quote(prefix + name)}")
        elif name == "linked_at":
            parts.append(f"{a}_l.last AS {quote(prefix + name)}")
        else:
            parts.append(data.column(_MODEL[a], name, a, prefix + name))
    needs = {"investigation_ids", "linked_at"} & set(fields)
    return ", ".join(parts), derived if needs else ""


def _investigation_select(
    data: Data, a: str, fields: Sequence[str], include_deleted: bool, prefix: str = ""
) -> tuple[str, str]:
    active_e = "" if include_deleted else " WHERE le.deleted_at IS NULL"
    active_r = "" if include_deleted else " WHERE ri.deleted_at IS NULL"
    joins = []
    parts = []
    for name in fields:
        if name == "event_ids":
            joins.append(
                "LEFT JOIN (SELECT l.investigation_id, "  # noqa: S608
                "list(l.event_id ORDER BY l.linked_at, l.event_id) AS ids FROM links l "
                f"JOIN events le ON le.id = l.event_id{active_e} GROUP BY l.investigation_id) "
                f"{a}_e ON {a}_e.investigation_id = {a}.id"
            )
            parts.append(f"coalesce({a}_e.ids, []::VARCHAR[]) AS {quote(prefix + name)}")
        elif name == "related_investigation_ids":
            joins.append(
                "LEFT JOIN (SELECT r.me, list(r.other ORDER BY r.related_at, r.other) AS ids "  # noqa: S608
                "FROM (SELECT investigation_id AS me, related_investigation_id AS other, "
                "related_at FROM investigation_relations UNION ALL SELECT "
                "related_investigation_id, investigation_id, related_at "
                "FROM investigation_relations) r JOIN investigations ri ON ri.id = r.other"
                f"{active_r} GROUP BY r.me) {a}_r ON {a}_r.me = {a}.id"
            )
            parts.append(f"coalesce({a}_r.ids, []::VARCHAR[]) AS {quote(prefix + name)}")
        else:
            parts.append(data.column(_MODEL[a], name, a, prefix + name))
    return ", ".join(parts), " ".join(joins)


def _limit(limit: int | None) -> str:
    if limit is None:
        return ""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise QueryError(f"limit: expected a whole number >= 0, got {limit!r}")
    return f" LIMIT {int(limit)}"


# --- the queries ---------------------------------------------------------------------------


def events(
    data: Data,
    *,
    include_deleted: bool = False,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """See :meth:`Store.events`."""
    _check_names(filters, EVENT_FILTERS, "events")
    fields = _fields(Event, columns)
    w = _Where()
    if not include_deleted:
        w.add("e.deleted_at IS NULL")
    _event_where(w, "e", filters)
    select, derived = _event_select(data, "e", fields, include_deleted)
    sql = (
        f"SELECT {select} FROM events e {derived} WHERE {w.sql()} "  # noqa: S608 - whitelisted
        f"ORDER BY e.timestamp, e.id{_limit(limit)}"
    )
    return to_frame(data.arrow(sql, w.params), _kinds(Event))


def investigations(
    data: Data,
    *,
    include_deleted: bool = False,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """See :meth:`Store.investigations`."""
    _check_names(filters, INVESTIGATION_FILTERS, "investigations")
    fields = _fields(Investigation, columns)
    w = _Where()
    if not include_deleted:
        w.add("i.deleted_at IS NULL")
    _investigation_where(w, "i", filters)
    select, joins = _investigation_select(data, "i", fields, include_deleted)
    sql = (
        f"SELECT {select} FROM investigations i {joins} WHERE {w.sql()} "  # noqa: S608
        f"ORDER BY {INVESTIGATION_TIME.format(a='i')}, i.id{_limit(limit)}"
    )
    return to_frame(data.arrow(sql, w.params), _kinds(Investigation))


_LINK_FIELDS = ("confidence", "method", "reasons", "linked_at")
_MODEL: dict[str, type[Record]] = {"e": Event, "i": Investigation}


def event_investigations(
    data: Data,
    *,
    include_deleted: bool = False,
    min_confidence: float | None = None,
    method: Any = None,
    limit: int | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """See :meth:`Store.event_investigations`."""
    inv_names = (*("investigation_" + n for n in INVESTIGATION_FILTERS), "investigation_id")
    allowed = tuple(n for n in EVENT_FILTERS if n != "investigation_id") + inv_names
    _check_names(filters, allowed, "event_investigations")
    event_filters = {k: val for k, val in filters.items() if not k.startswith("investigation_")}
    inv_filters = {
        k.removeprefix("investigation_"): val
        for k, val in filters.items()
        if k.startswith("investigation_") and k != "investigation_id"
    }
    w = _Where()
    if not include_deleted:
        w.add("e.deleted_at IS NULL AND i.deleted_at IS NULL")
    _event_where(w, "e", event_filters)
    _investigation_where(w, "i", inv_filters, prefix="investigation_")
    if filters.get("investigation_id") is not None:
        w.one_of("i.id", _names("investigation_id", filters["investigation_id"], v.record_id))
    if min_confidence is not None:
        w.add("l.confidence >= ?", _confidence("min_confidence", min_confidence))
    if method is not None:
        w.one_of("l.method", _enum_values("method", method, LinkMethod))
    e_fields = list(Event.stored_fields())
    i_fields = list(Investigation.stored_fields())
    e_select = ", ".join(data.column(Event, f, "e", "event_" + f) for f in e_fields)
    i_select = ", ".join(data.column(Investigation, f, "i", "investigation_" + f) for f in i_fields)
    l_select = ", ".join(f"l.{quote(f)}" for f in _LINK_FIELDS)
    sql = (
        f"SELECT {e_select}, {i_select}, {l_select} FROM links l "  # noqa: S608 - whitelisted
        "JOIN events e ON e.id = l.event_id JOIN investigations i ON i.id = l.investigation_id "
        f"WHERE {w.sql()} ORDER BY e.timestamp, e.id, i.id{_limit(limit)}"
    )
    kinds = _kinds(Event, "event_") | _kinds(Investigation, "investigation_") | _kinds(Link)
    return to_frame(data.arrow(sql, w.params), kinds)


def reviews(data: Data, investigation_id: Any = None) -> pd.DataFrame:
    """Reviewers' verdicts as a DataFrame (see :meth:`Store.reviews`)."""
    fields = Review.stored_fields()
    kinds = {**_kinds(Review), "method": "method"}
    if not data.has_table("link_reviews"):  # an older file opened read-only
        empty = pa.table({f: pa.array([], type=_REVIEW_TYPES.get(f, pa.string())) for f in fields})
        return to_frame(empty, kinds)
    w = _Where()
    if investigation_id is not None:
        w.one_of("investigation_id", _names("investigation_id", investigation_id, v.record_id))
    cols = ", ".join(quote(f) for f in fields)
    sql = (
        f"SELECT {cols} FROM link_reviews WHERE {w.sql()} "  # noqa: S608 - whitelisted
        "ORDER BY reviewed_at, event_id, investigation_id"
    )
    return to_frame(data.arrow(sql, w.params), kinds)


_REVIEW_TYPES = {
    "accepted": pa.bool_(),
    "reviewed_at": pa.timestamp("us", tz="UTC"),
    "confidence": pa.float64(),
    "reasons": pa.list_(pa.string()),
}


#: Link tables up to this size are kept in memory, per store file, between writes.
LINK_INDEX_MAX = 200_000


class _LinkIndex:
    """The links of a store in memory: event -> investigations, investigation -> events.

    Rebuilt after any write through the store (the file has one writer, and every write
    goes through the store's handle); for very large link tables it asks DuckDB each
    time instead. It holds the shared connection handle, not a store, so it serves every
    store on the file.
    """

    def __init__(self, handle: Handle) -> None:
        self._handle = handle
        [(count,)] = self._fetch("SELECT count(*) FROM links")
        self.loaded = count <= LINK_INDEX_MAX
        self.by_event: dict[str, list[tuple[str, Any]]] = {}
        self.by_investigation: dict[str, dict[str, float]] = {}
        self.deleted: set[str] = set()
        if not self.loaded:
            return
        rows = self._fetch(
            "SELECT event_id, investigation_id, linked_at, confidence FROM links "
            "ORDER BY linked_at, investigation_id"
        )
        for event_id, investigation_id, at, confidence in rows:
            self.by_event.setdefault(event_id, []).append((investigation_id, at))
            self.by_investigation.setdefault(investigation_id, {})[event_id] = confidence
        self.deleted = self._deleted()

    def _fetch(self, sql: str, params: list[Any] | None = None) -> list[Any]:
        try:
            return self._handle.con.execute(sql, params or []).fetchall()
        except duckdb.Error as err:
            raise _connection.db_error(self._handle, err) from err

    def _deleted(self) -> set[str]:
        rows = self._fetch("SELECT id FROM investigations WHERE deleted_at IS NOT NULL")
        return {i for (i,) in rows}

    def own(self, investigation_id: str) -> dict[str, float]:
        """Event id -> confidence of the links of one investigation."""
        if self.loaded:
            return self.by_investigation.get(investigation_id, {})
        rows = self._fetch(
            "SELECT event_id, confidence FROM links WHERE investigation_id = ?",
            [investigation_id],
        )
        return dict(rows)

    def of(
        self, event_ids: Sequence[str], *, include_deleted: bool
    ) -> dict[str, tuple[list[str], Any]]:
        """Event id -> (linked investigation ids in link order, latest link time)."""
        out: dict[str, tuple[list[str], Any]] = {}
        if self.loaded:
            pairs: Iterable[tuple[str, str, Any]] = (
                (e, i, at) for e in event_ids for i, at in self.by_event.get(e, ())
            )
        else:
            pairs = self._fetch(
                "SELECT event_id, investigation_id, linked_at FROM links "
                "WHERE event_id IN (SELECT unnest(?::VARCHAR[])) "
                "ORDER BY linked_at, investigation_id",
                [list(event_ids)],
            )
            self.deleted = self._deleted()
        for event_id, investigation_id, at in pairs:
            if not include_deleted and investigation_id in self.deleted:
                continue
            ids, last = out.get(event_id, ([], at))
            ids.append(investigation_id)
            out[event_id] = (ids, max(last, at))
        return out


def _link_index(data: Data) -> _LinkIndex:
    """The store's link index, built again when the store has written since."""
    handle = data.handle
    with handle.lock:
        cached = handle.cache.get("links")
        if cached is not None and cached[0] == handle.writes:
            index: _LinkIndex = cached[1]
            return index
        data.connection()  # a closed store says so
        index = _LinkIndex(handle)
        handle.cache["links"] = (handle.writes, index)
        return index


def timeline(
    data: Data,
    investigation_id: Any,
    *,
    before: Any = "2h",
    after: Any = "30m",
    include_unrelated: bool = False,
    include_deleted: bool = False,
) -> pd.DataFrame:
    """See :meth:`Store.timeline`."""
    inv = data.peek(
        Investigation,
        investigation_id,
        ("detected_at", "started_at", "created_at", "component_affected", "service_affected"),
        include_deleted=include_deleted,
    )
    anchor = inv["detected_at"] or min(
        t for t in (inv["started_at"], inv["created_at"]) if t is not None
    )
    start = anchor - duration("before", before)
    end = anchor + duration("after", after)
    # Two small steps beat one query with joins here: the window (cut to related
    # events), and the links of its events, from the store's link index.
    index = _link_index(data)
    own = index.own(inv["id"])
    w = _Where()
    w.add("e.timestamp >= ? AND e.timestamp < ?", start, end)
    if not include_deleted:
        w.add("e.deleted_at IS NULL")
    if not include_unrelated:
        w.add(
            "(e.component = ? OR e.service = ? OR list_contains(?::VARCHAR[], e.id))",
            inv["component_affected"],
            inv["service_affected"],
            list(own),
        )
    stored = ", ".join(data.column(Event, c, "e") for c in Event.stored_fields())
    table = data.arrow(
        f"SELECT {stored} FROM events e WHERE {w.sql()} ORDER BY e.timestamp, e.id",  # noqa: S608
        w.params,
    )
    ids = table.column("id").to_pylist()
    linked = index.of(ids, include_deleted=include_deleted)
    comps = table.column("component").to_pylist()
    svcs = table.column("service").to_pylist()
    relation = [
        0
        if i in own
        else 1
        if c is not None and c == inv["component_affected"]
        else 2
        if s_ is not None and s_ == inv["service_affected"]
        else 3
        for i, c, s_ in zip(ids, comps, svcs, strict=True)
    ]
    anchor_us = (anchor - v.EPOCH) // dt.timedelta(microseconds=1)
    offsets = pc.subtract(table.column("timestamp").cast(pa.int64()), anchor_us)
    no_links: tuple[list[str], Any] = ([], None)  # (investigation ids, latest link time)
    extra = {
        "investigation_ids": pa.array([linked.get(i, no_links)[0] for i in ids], _LIST_TYPE),
        "linked_at": pa.array([linked.get(i, no_links)[1] for i in ids], _TIME),
        "relation": pa.DictionaryArray.from_arrays(pa.array(relation, pa.int8()), _RELATIONS),
        "offset": offsets.cast(pa.duration("us")),
        "confidence": pa.array([own.get(i) for i in ids], pa.float64()),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    frame = to_frame(table, _kinds(Event))
    frame.attrs.update({"investigation_id": inv["id"], "anchor": anchor, "window": (start, end)})
    return frame


_COUNT_BY = {
    "events": {
        "source": "source",
        "event_type": "event_type",
        "severity": "severity",
        "component": "component",
        "service": "service",
        "tags": "tags",
    },
    "investigations": {
        "status": "status",
        "priority": "priority",
        "impact_severity": "impact_severity",
        "component": "component_affected",
        "service": "service_affected",
        "assigned_to": "assigned_to",
        "created_by": "created_by",
        "tags": "tags",
    },
}
#: Calendar periods (matched exactly: "ms" is milliseconds, not month start).
_CALENDAR = {
    "W": "week",
    "M": "month",
    "MS": "month",
    "ME": "month",
    "Q": "quarter",
    "QS": "quarter",
    "QE": "quarter",
    "Y": "year",
    "YS": "year",
    "YE": "year",
}


def _bucket(
    freq: str, column: str
) -> tuple[str, str, Callable[[dt.datetime, dt.datetime], list[dt.datetime]]]:
    """The period a time falls in, labelled by its start.

    Returns SQL to group by, SQL that turns the group key into a timestamp, and a
    function listing all periods. Fixed periods group on whole microseconds (much
    faster than grouping on timestamps).
    """
    text = str(freq).strip()
    unit = _CALENDAR.get(text)
    if unit is not None:
        every = lambda lo, hi: _calendar(unit, lo, hi)  # noqa: E731
        return f"date_trunc('{unit}', {column})", "period", every
    weeks = re.fullmatch(r"(\d+)W", text)
    try:
        if weeks:  # n-week periods start on Mondays, like "W"
            step = dt.timedelta(weeks=int(weeks.group(1)))
        else:
            spec = text if re.match(r"^\d", text) else "1" + text
            step = _timedelta("freq", spec).to_pytimedelta()
    except QueryError:
        raise
    except (ValueError, OverflowError):
        raise QueryError(
            f"freq: cannot read {freq!r}; use e.g. '15min', '1h', '1D', 'W', '2W', 'M', 'Q', 'Y'"
        ) from None
    if step <= dt.timedelta(0):
        raise QueryError(f"freq: {freq!r} must be positive")
    origin = _MONDAY if weeks else v.EPOCH
    m = step // dt.timedelta(microseconds=1)
    o = (origin - v.EPOCH) // dt.timedelta(microseconds=1)
    shifted = f"(epoch_us({column}) - {o})"
    floor = f"({shifted} - ((({shifted} % {m}) + {m}) % {m}) + {o})"
    every = lambda lo, hi: _fixed(step, origin, lo, hi)  # noqa: E731
    return floor, "make_timestamp(period)::TIMESTAMPTZ", every


_MAX_PERIODS = 1_000_000


_MONDAY = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)


def _fixed(
    step: dt.timedelta, origin: dt.datetime, lo: dt.datetime, hi: dt.datetime
) -> list[dt.datetime]:
    t = (lo - origin) // step * step + origin
    if (hi - t) / step > _MAX_PERIODS:
        raise QueryError("freq: more than a million periods; use a coarser freq or a shorter span")
    out = []
    while t < hi:
        out.append(t)
        t += step
    return out


def _calendar(unit: str, lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
    lo = lo.astimezone(dt.UTC)
    if unit == "week":
        day = lo.date() - dt.timedelta(days=lo.weekday())
        t = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    else:
        month = {"month": lo.month, "quarter": 3 * ((lo.month - 1) // 3) + 1, "year": 1}[unit]
        t = dt.datetime(lo.year, month, 1, tzinfo=dt.UTC)
    months = {"month": 1, "quarter": 3, "year": 12}.get(unit, 0)
    out = []
    while t < hi:
        out.append(t)
        if unit == "week":
            t += dt.timedelta(days=7)
        else:
            index = t.year * 12 + t.month - 1 + months
            t = t.replace(year=index // 12, month=index % 12 + 1)
        if len(out) > _MAX_PERIODS:
            raise QueryError("freq: more than a million periods; use a coarser freq")
    return out


def counts(
    data: Data,
    table: str = "events",
    *,
    by: str | Sequence[str] = (),
    freq: str | None = None,
    include_deleted: bool = False,
    fill: bool = True,
    **filters: Any,
) -> pd.DataFrame:
    """See :meth:`Store.counts`."""
    if table not in _COUNT_BY:
        raise QueryError(f"counts(): table must be 'events' or 'investigations', not {table!r}")
    groups = _name_list("by", by)
    if len(set(groups)) != len(groups):
        raise QueryError(f"counts(): group by each column once (got {groups})")
    allowed = _COUNT_BY[table]
    for name in groups:
        if name not in allowed:
            raise QueryError(
                f"counts(): cannot group {table} by {name!r}{_suggest(name, allowed)} "
                f"(by: {', '.join(allowed)})"
            )
    w = _Where()
    if table == "events":
        _check_names(filters, EVENT_FILTERS, "counts")
        a, time_col = "e", "e.timestamp"
        if not include_deleted:
            w.add("e.deleted_at IS NULL")
        _event_where(w, a, filters)
    else:
        _check_names(filters, INVESTIGATION_FILTERS, "counts")
        a, time_col = "i", INVESTIGATION_TIME.format(a="i")
        if not include_deleted:
            w.add("i.deleted_at IS NULL")
        _investigation_where(w, a, filters)
    keys, inner, outer = [], ["1 AS one"], []
    if freq is not None:
        bucket, as_time, every = _bucket(freq, time_col)
        inner.append(f"{bucket} AS period")
        outer.append(f"{as_time} AS period")
        keys.append("period")
    for name in groups:
        column = allowed[name]
        expr = f"unnest({a}.tags)" if name == "tags" else f"{a}.{quote(column)}"
        inner.append(f"{expr} AS {quote(name)}")
        outer.append(quote(name))
        keys.append(quote(name))
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    order = f" ORDER BY {', '.join(keys)}" if keys else ""
    sql = (
        f"SELECT {', '.join([*outer, 'count'])} FROM ("  # noqa: S608 - whitelisted names
        f"SELECT {', '.join(keys) + ', ' if keys else ''}count(*) AS count FROM ("
        f"SELECT {', '.join(inner)} FROM {table} {a} WHERE {w.sql()}){group}){order}"
    )
    frame = to_frame(data.arrow(sql, w.params), {})
    frame["count"] = frame["count"].astype("int64")
    for name in groups:
        kind = "severity" if name == "severity" else name
        if kind in CATEGORIES:
            categories, ordered = CATEGORIES[kind]
            frame[name] = pd.Categorical(frame[name], categories=categories, ordered=ordered)
        else:
            frame[name] = frame[name].astype("str")
    if freq is not None:
        frame["period"] = frame["period"].astype("datetime64[us, UTC]")
        if fill:
            try:
                frame = _fill(frame, groups, every, filters)
            except (OverflowError, ValueError) as err:  # periods past the year 9999
                raise QueryError(
                    f"freq: the periods of this span reach past the last storable time ({err})"
                ) from None
    frame.attrs.update({"table": table, "by": groups, "freq": freq})
    return frame


def _fill(
    frame: pd.DataFrame,
    groups: list[str],
    every: Callable[[dt.datetime, dt.datetime], list[dt.datetime]],
    filters: Mapping[str, Any],
) -> pd.DataFrame:
    """Add zero rows for periods without records (between since/until, else the data)."""
    lo = utc_bound("since", filters["since"]) if filters.get("since") is not None else None
    hi = utc_bound("until", filters["until"]) if filters.get("until") is not None else None
    if lo is None or hi is None:
        if frame.empty:
            return frame
        lo = lo or frame["period"].min().to_pydatetime()
        hi = hi or frame["period"].max().to_pydatetime() + dt.timedelta(microseconds=1)
    periods = pd.DatetimeIndex(every(lo, hi)).astype("datetime64[us, UTC]")
    if groups:
        combos = frame[groups].drop_duplicates()
        if combos.empty:
            return frame
        grid = combos.merge(pd.DataFrame({"period": periods}), how="cross")
    else:
        grid = pd.DataFrame({"period": periods})
    keys = ["period", *groups]
    merged = grid.merge(frame, on=keys, how="left")
    merged["count"] = merged["count"].fillna(0).astype("int64")
    for name in groups:
        merged[name] = merged[name].astype(frame[name].dtype)
    return merged[[*keys, "count"]].sort_values(keys, ignore_index=True)
