"""DataFrame queries over a store: slices, the event–investigation join, timelines, counts.

Every query builds one parameterised SQL statement: column and table names come from
the models and the filter tables of :mod:`._filters` (a whitelist), every value is a
parameter. Arguments are checked (:mod:`._arguments`) before any SQL runs; a bad one
raises :class:`~rca_analytics.QueryError`. The pieces live in their own modules:
the filter tables (:mod:`._filters`), the WHERE builder (:mod:`._where`), the frames
(:mod:`._frames`), the link index of timelines (:mod:`._linkindex`) and counts
(:mod:`._counts`); this module keeps the names the rest of the package uses.

Frames follow one convention: one row per record, columns named as the model fields
in model order, timestamps ``datetime64[us, UTC]``, enum columns as categoricals
(severity, impact severity, priority and status ordered so that ``>`` means more
severe / more urgent / further along), list columns (``tags``, ids, ``reasons``) as
``pandas.ArrowDtype(list<string>)`` whose cells read as Python lists (``.apply`` passes
numpy arrays; the ``.list`` accessor works), JSON columns
(``data``, ``metadata``) as Python dicts, and text as pandas' ``str`` dtype. Empty
results have the same columns and dtypes.

Names: ``component=`` and ``service=`` match any case and spacing, and through the
store's aliases (an alias stands for its name); frames show component and service
names as the team writes them when an alias is declared (records keep the spelling
stored). A name filter that matches no name in the store leaves a note in the frame's
``attrs["notes"]``, and an :class:`~rca_analytics.errors.UnknownNameWarning` when a
near name exists (:mod:`._aliases`).

Time filters: ``since`` is inclusive, ``until`` exclusive. Bounds may be aware
datetimes, ISO strings with an offset, epoch seconds, or dates / naive datetimes /
naive strings, which are read as UTC (a convenience for people typing in notebooks;
stored records must be aware).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _arguments as arg
from . import _frames
from . import _validate as v
from ._aliases import NAME_FIELDS, Vocabulary
from ._arguments import duration as duration
from ._arguments import utc_bound as utc_bound
from ._counts import counts as counts
from ._data import Data
from ._filters import EVENT_FILTERS as EVENT_FILTERS
from ._filters import INVESTIGATION_FILTERS as INVESTIGATION_FILTERS
from ._frames import CATEGORIES as CATEGORIES
from ._frames import LIST_TYPE, TIME, fields
from ._frames import to_frame as to_frame
from ._linkindex import link_index
from ._where import Where, event_where, investigation_time, investigation_where
from .models import Event, Investigation, Link, LinkMethod, Record, Review
from .schema import quote

__all__ = [
    "CATEGORIES",
    "counts",
    "event_investigations",
    "events",
    "investigations",
    "reviews",
    "timeline",
]

_RELATIONS = pa.array(["linked", "component", "service", "other"])
_LINK_FIELDS = ("confidence", "method", "reasons", "linked_at")
_MODEL: dict[str, type[Record]] = {"e": Event, "i": Investigation}
_REVIEW_TYPES = {
    "accepted": pa.bool_(),
    "reviewed_at": pa.timestamp("us", tz="UTC"),
    "confidence": pa.float64(),
    "reasons": pa.list_(pa.string()),
}


# --- select lists -----------------------------------------------------------------------------


def event_select(
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
    arg.check_names(filters, EVENT_FILTERS, "events")
    wanted = fields(Event, columns)
    w = Where()
    if not include_deleted:
        w.add("e.deleted_at IS NULL")
    names = Vocabulary(data)
    event_where(w, "e", filters, names=names)
    select, derived = event_select(data, "e", wanted, include_deleted)
    sql = (
        f"SELECT {select} FROM events e {derived} WHERE {w.sql()} "  # noqa: S608 - whitelisted
        f"ORDER BY e.timestamp, e.id{arg.limit_sql(limit)}"
    )
    table = names.show(data.arrow(sql, w.params), NAME_FIELDS[Event])
    return names.finish(to_frame(table, _frames.kinds(Event)))


def investigations(
    data: Data,
    *,
    include_deleted: bool = False,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """See :meth:`Store.investigations`."""
    arg.check_names(filters, INVESTIGATION_FILTERS, "investigations")
    wanted = fields(Investigation, columns)
    w = Where()
    if not include_deleted:
        w.add("i.deleted_at IS NULL")
    names = Vocabulary(data)
    investigation_where(w, "i", filters, names=names)
    select, joins = _investigation_select(data, "i", wanted, include_deleted)
    sql = (
        f"SELECT {select} FROM investigations i {joins} WHERE {w.sql()} "  # noqa: S608
        f"ORDER BY {investigation_time('i')}, i.id{arg.limit_sql(limit)}"
    )
    table = names.show(data.arrow(sql, w.params), NAME_FIELDS[Investigation])
    return names.finish(to_frame(table, _frames.kinds(Investigation)))


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
    arg.check_names(filters, allowed, "event_investigations")
    event_filters = {k: val for k, val in filters.items() if not k.startswith("investigation_")}
    inv_filters = {
        k.removeprefix("investigation_"): val
        for k, val in filters.items()
        if k.startswith("investigation_") and k != "investigation_id"
    }
    w = Where()
    if not include_deleted:
        w.add("e.deleted_at IS NULL AND i.deleted_at IS NULL")
    names = Vocabulary(data)
    event_where(w, "e", event_filters, names=names)
    investigation_where(w, "i", inv_filters, prefix="investigation_", names=names)
    if filters.get("investigation_id") is not None:
        w.one_of(
            "i.id", arg.name_values("investigation_id", filters["investigation_id"], v.record_id)
        )
    if min_confidence is not None:
        w.add("l.confidence >= ?", arg.confidence("min_confidence", min_confidence))
    if method is not None:
        w.one_of("l.method", arg.enum_values("method", method, LinkMethod))
    e_fields = list(Event.stored_fields())
    i_fields = list(Investigation.stored_fields())
    e_select = ", ".join(data.column(Event, f, "e", "event_" + f) for f in e_fields)
    i_select = ", ".join(data.column(Investigation, f, "i", "investigation_" + f) for f in i_fields)
    l_select = ", ".join(f"l.{quote(f)}" for f in _LINK_FIELDS)
    sql = (
        f"SELECT {e_select}, {i_select}, {l_select} FROM links l "  # noqa: S608 - whitelisted
        "JOIN events e ON e.id = l.event_id JOIN investigations i ON i.id = l.investigation_id "
        f"WHERE {w.sql()} ORDER BY e.timestamp, e.id, i.id{arg.limit_sql(limit)}"
    )
    kinds = (
        _frames.kinds(Event, "event_")
        | _frames.kinds(Investigation, "investigation_")
        | _frames.kinds(Link)
    )
    shown = [*("event_" + n for n in NAME_FIELDS[Event])]
    shown += ["investigation_" + n for n in NAME_FIELDS[Investigation]]
    return names.finish(to_frame(names.show(data.arrow(sql, w.params), shown), kinds))


def reviews(data: Data, investigation_id: Any = None) -> pd.DataFrame:
    """Reviewers' verdicts as a DataFrame (see :meth:`Store.reviews`)."""
    fields = Review.stored_fields()
    kinds = {**_frames.kinds(Review), "method": "method"}
    if not data.has_table("link_reviews"):  # an older file opened read-only
        empty = pa.table({f: pa.array([], type=_REVIEW_TYPES.get(f, pa.string())) for f in fields})
        return to_frame(empty, kinds)
    w = Where()
    if investigation_id is not None:
        w.one_of(
            "investigation_id", arg.name_values("investigation_id", investigation_id, v.record_id)
        )
    cols = ", ".join(quote(f) for f in fields)
    sql = (
        f"SELECT {cols} FROM link_reviews WHERE {w.sql()} "  # noqa: S608 - whitelisted
        "ORDER BY reviewed_at, event_id, investigation_id"
    )
    return to_frame(data.arrow(sql, w.params), kinds)


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
    start = anchor - arg.duration("before", before)
    end = anchor + arg.duration("after", after)
    # Two small steps beat one query with joins here: the window (cut to related
    # events), and the links of its events, from the store's link index.
    index = link_index(data)
    own = index.own(data, inv["id"])
    names = Vocabulary(data)
    # the investigation's component and service, as the events spell them
    same_c = names.same("events", "component", inv["component_affected"])
    same_s = names.same("events", "service", inv["service_affected"])
    w = Where()
    w.add("e.timestamp >= ? AND e.timestamp < ?", start, end)
    if not include_deleted:
        w.add("e.deleted_at IS NULL")
    if not include_unrelated:
        w.add(
            "(list_contains(?::VARCHAR[], e.component) OR list_contains(?::VARCHAR[], "
            "e.service) OR list_contains(?::VARCHAR[], e.id))",
            same_c,
            same_s,
            list(own),
        )
    stored = ", ".join(data.column(Event, c, "e") for c in Event.stored_fields())
    table = data.arrow(
        f"SELECT {stored} FROM events e WHERE {w.sql()} ORDER BY e.timestamp, e.id",  # noqa: S608
        w.params,
    )
    ids = table.column("id").to_pylist()
    linked = index.of(data, ids, include_deleted=include_deleted)
    comps = table.column("component").to_pylist()
    svcs = table.column("service").to_pylist()
    in_c, in_s = set(same_c), set(same_s)
    relation = [
        0 if i in own else 1 if c in in_c else 2 if s_ in in_s else 3
        for i, c, s_ in zip(ids, comps, svcs, strict=True)
    ]
    anchor_us = (anchor - v.EPOCH) // dt.timedelta(microseconds=1)
    offsets = pc.subtract(table.column("timestamp").cast(pa.int64()), anchor_us)
    no_links: tuple[list[str], int | None] = ([], None)  # (investigation ids, latest link)
    extra = {
        "investigation_ids": pa.array([linked.get(i, no_links)[0] for i in ids], LIST_TYPE),
        "linked_at": pa.array([linked.get(i, no_links)[1] for i in ids], pa.int64()).cast(TIME),
        "relation": pa.DictionaryArray.from_arrays(pa.array(relation, pa.int8()), _RELATIONS),
        "offset": offsets.cast(pa.duration("us")),
        "confidence": pa.array([own.get(i) for i in ids], pa.float64()),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    frame = to_frame(names.show(table, NAME_FIELDS[Event]), _frames.kinds(Event))
    frame.attrs.update({"investigation_id": inv["id"], "anchor": anchor, "window": (start, end)})
    return frame
