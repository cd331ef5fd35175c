"""Record counts grouped by columns and/or time periods (see :meth:`Store.counts`).

Component and service groups are the names as the team writes them (through the
store's aliases), so ``Payments`` and ``payments-api`` count as ``payments`` once an
alias says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from . import _arguments as arg
from . import _validate as v
from ._aliases import Vocabulary
from ._data import Data
from ._filters import EVENT_FILTERS, INVESTIGATION_FILTERS
from ._frames import CATEGORIES, to_frame
from ._where import Where, column_sql, investigation_time, where
from .errors import QueryError
from .schema import quote

__all__ = ["COUNT_BY", "counts"]

#: The columns each table's counts group by: group name -> column.
COUNT_BY = {
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
_ALIAS = {"events": "e", "investigations": "i"}
_FILTER_NAMES = {"events": EVENT_FILTERS, "investigations": INVESTIGATION_FILTERS}
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
_MAX_PERIODS = 1_000_000
_MONDAY = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)

#: All periods from one time to another.
_Every = Callable[[dt.datetime, dt.datetime], list[dt.datetime]]


def _bucket(freq: str, column: str) -> tuple[str, str, _Every]:
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
            step = arg.pandas_timedelta("freq", spec).to_pytimedelta()
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


def _groups(table: str, by: str | Sequence[str]) -> list[str]:
    groups = arg.column_names("by", by)
    if len(set(groups)) != len(groups):
        raise QueryError(f"counts(): group by each column once (got {groups})")
    allowed = COUNT_BY[table]
    for name in groups:
        if name not in allowed:
            raise QueryError(
                f"counts(): cannot group {table} by {name!r}{arg.suggest(name, allowed)} "
                f"(by: {', '.join(allowed)})"
            )
    return groups


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
    if table not in COUNT_BY:
        raise QueryError(f"counts(): table must be 'events' or 'investigations', not {table!r}")
    groups = _groups(table, by)
    arg.check_names(filters, _FILTER_NAMES[table], "counts")
    a = _ALIAS[table]
    time_col = column_sql(a, ("timestamp",)) if table == "events" else investigation_time(a)
    w = Where()
    if not include_deleted:
        w.add(f"{a}.deleted_at IS NULL")
    names = Vocabulary(data)
    where(w, a, table, filters, names=names)
    keys, inner, outer = [], ["1 AS one"], []
    params: list[Any] = []
    if freq is not None:
        bucket, as_time, every = _bucket(freq, time_col)
        inner.append(f"{bucket} AS period")
        outer.append(f"{as_time} AS period")
        keys.append("period")
    for name in groups:
        column = COUNT_BY[table][name]
        expr = f"unnest({a}.tags)" if name == "tags" else f"{a}.{quote(column)}"
        if name in ("component", "service"):
            expr, shown = names.group_sql(table, column, expr)
            params += shown
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
    frame = _typed(to_frame(data.arrow(sql, [*params, *w.params]), {}), groups)
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
    return names.finish(frame)


def _typed(frame: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Counts as int64, enum groups as categoricals, other groups as text."""
    frame["count"] = frame["count"].astype("int64")
    for name in groups:
        if name in CATEGORIES:
            categories, ordered = CATEGORIES[name]
            frame[name] = pd.Categorical(frame[name], categories=categories, ordered=ordered)
        else:
            frame[name] = frame[name].astype("str")
    return frame


def _fill(
    frame: pd.DataFrame,
    groups: list[str],
    every: _Every,
    filters: Mapping[str, Any],
) -> pd.DataFrame:
    """Add zero rows for periods without records (between since/until, else the data)."""
    lo = arg.utc_bound("since", filters["since"]) if filters.get("since") is not None else None
    hi = arg.utc_bound("until", filters["until"]) if filters.get("until") is not None else None
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
