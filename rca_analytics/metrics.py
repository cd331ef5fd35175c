"""Incident metrics whose definition is part of the answer.

Every peer hard-codes one definition of "time to resolve" (created → resolved, deploy →
resolved, a mean over the last 100...). Here the caller picks the start and end fields
and the statistic, and every result says how it was computed: ``frame.attrs["definition"]``
is a :class:`Definition` with the fields, statistic, filters, grouping, the as-of time,
how many investigations were used and how many were left out, and why (still open,
missing a time, negative duration, deleted...). ``Definition.describe()`` writes it as a
sentence for a report.

A duration whose two ends the source wrote together (at most ``same_time``, one second by
default, apart: a status page that stamps impact start, detection and acknowledgement in
one write) was not measured: it is left out as ``not_measured``, never counted as zero.

>>> import rca_analytics as rca
>>> store = rca.connect(":memory:")
>>> for minutes in (30, 90):
...     _ = store.add_investigation({"title": "t", "status": "resolved",
...         "detected_at": "2026-03-01T10:00:00Z", "created_at": "2026-03-01T10:05:00Z",
...         "resolved_at": f"2026-03-01T{10 + minutes // 60}:{minutes % 60:02d}:00Z"})
>>> _ = store.add_investigation({"title": "still open", "detected_at": "2026-03-02T10:00:00Z",
...                                "created_at": "2026-03-02T10:05:00Z"})
>>> frame = rca.metrics.mttr(store, stat=["median", "max"], as_of="2026-04-01")
>>> frame[["n", "median", "max"]].values.tolist()
[[2, Timedelta('0 days 01:00:00'), Timedelta('0 days 01:30:00')]]
>>> print(frame.attrs["definition"].describe())  # doctest: +NORMALIZE_WHITESPACE
median, max of resolved_at - detected_at over 2 investigations (1 left out: 1 still
open), as of 2026-04-01 00:00 UTC
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _arguments, _data, queries
from ._dora import BANDS, MIN_COMMITS, MIN_DEPLOYS, MIN_RECOVERIES, dora, dora_sensitivity
from .errors import QueryError
from .models import utc_now

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "BANDS",
    "GROUPS",
    "MIN_COMMITS",
    "MIN_DEPLOYS",
    "MIN_RECOVERIES",
    "SAME_TIME",
    "STATS",
    "TIME_FIELDS",
    "Definition",
    "data_quality",
    "dora",
    "dora_sensitivity",
    "mtta",
    "mttd",
    "mttm",
    "mttr",
    "recurrence",
    "similar_root_causes",
    "time_to",
]

#: The investigation times a duration can start or end at.
TIME_FIELDS = (
    "impact_started_at",
    "detected_at",
    "started_at",
    "mitigated_at",
    "resolved_at",
    "created_at",
)
#: What results can be grouped by (``component``/``service`` are the affected ones;
#: ``period`` needs ``freq``).
GROUPS = {
    "impact_severity": "impact_severity",
    "priority": "priority",
    "status": "status",
    "component": "component_affected",
    "service": "service_affected",
    "component_affected": "component_affected",
    "service_affected": "service_affected",
    "assigned_to": "assigned_to",
    "period": "period",
}
#: Statistics: ``median``, ``mean``, ``min``, ``max`` and percentiles ``p50`` ... ``p99``.
STATS = ("median", "mean", "min", "max", "p50", "p75", "p90", "p95", "p99")
_FREQS = {"D": "D", "W": "W", "M": "M", "Q": "Q", "Y": "Y", "day": "D", "week": "W",
          "month": "M", "quarter": "Q", "year": "Y"}  # fmt: skip
_CLOSED = ("resolved", "closed")

#: Two times at most this far apart were written together by the source (one write
#: stamping several fields): the duration between them was not measured.
SAME_TIME = dt.timedelta(seconds=1)

#: Why investigations are left out of a duration, in the order they are checked.
REASONS = {
    "recorded_later": "recorded after the as-of time",
    "later": "began after the as-of time",
    "deleted": "deleted",
    "no_start": "missing {start}",
    "open": "still open",
    "no_end": "closed without {end}",
    "not_measured": "not measured: {end} written together with {start}",
    "negative": "{end} before {start}",
}


@dataclass(frozen=True)
class Definition:
    """How a metric was computed.

    Attributes:
        metric: The function's name (``mttr``, ``time_to`` ...).
        start: Field the durations start at.
        end: Field they end at.
        stats: The statistics.
        by: The grouping (as asked).
        freq: The period length when grouped by period (by the start time).
        filters: The investigation filters used.
        as_of: The time the data is taken as it stood at.
        used: Investigations whose duration went into the figures.
        excluded: Investigations left out, by reason (see :data:`REASONS`);
            ``not_measured`` counts those whose two times the source wrote together.
        excluded_ids: Their ids, by reason.
        same_time: How close the two times had to be to count as written together
            (``None``: not checked).
    """

    metric: str
    start: str
    end: str
    stats: tuple[str, ...]
    by: tuple[str, ...]
    freq: str | None
    filters: Mapping[str, Any]
    as_of: dt.datetime
    used: int
    excluded: Mapping[str, int]
    excluded_ids: Mapping[str, tuple[str, ...]] = field(repr=False)
    same_time: dt.timedelta | None = SAME_TIME

    @property
    def not_measured(self) -> str | None:
        """Why there is no figure (``"not measured (...)"``), or None when there is one."""
        if self.used:
            return None
        together = self.excluded.get("not_measured", 0)
        if together:
            return (
                f"not measured ({together} investigations with {self.end} written together "
                f"with {self.start}, {_apart(self.same_time)})"
            )
        return f"not measured (no investigation with both {self.start} and {self.end})"

    def describe(self) -> str:
        """The definition as one sentence, for reports."""
        stats = ", ".join(self.stats)
        text = f"{stats} of {self.end} - {self.start} over {self.used} investigations"
        together = self.excluded.get("not_measured", 0)
        if together:
            text += (
                f" ({together} not measured: {self.end} written together with {self.start}, "
                f"{_apart(self.same_time)})"
            )
        left = {k: n for k, n in self.excluded.items() if n and k != "not_measured"}
        if left:
            why = ", ".join(
                f"{n} {REASONS[k].format(start=self.start, end=self.end)}" for k, n in left.items()
            )
            text += f" ({sum(left.values())} left out: {why})"
        if self.by:
            text += ", by " + ", ".join(self.by) + (f" ({self.freq})" if self.freq else "")
        if self.filters:
            text += ", where " + ", ".join(f"{k}={_shown(v)}" for k, v in self.filters.items())
        return text + f", as of {self.as_of:%Y-%m-%d %H:%M} UTC"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["filters"] = {
            k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in self.filters.items()
        }
        out["excluded_ids"] = {k: list(v) for k, v in self.excluded_ids.items()}
        out["same_time"] = None if self.same_time is None else self.same_time.total_seconds()
        return out


def _apart(tolerance: dt.timedelta | None) -> str:
    """How close two times written together are, for people ("at most 1 s apart")."""
    if tolerance is None:
        return "not checked"
    seconds = tolerance.total_seconds()
    if seconds == 0:
        return "equal"
    if seconds < 1:
        return f"at most {seconds * 1000:g} ms apart"
    return f"at most {seconds:g} s apart"


def _same_time(value: Any) -> dt.timedelta | None:
    return None if value is None else queries.duration("same_time", value)


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return repr(value)


def _as_of(value: Any) -> dt.datetime:
    return utc_now() if value is None else queries.utc_bound("as_of", value)


def _field(name: str, value: Any) -> str:
    if value not in TIME_FIELDS:
        raise QueryError(f"{name}: {value!r} is not a time of an investigation ({TIME_FIELDS})")
    return str(value)


def _stats(value: Any) -> tuple[str, ...]:
    stats = (value,) if isinstance(value, str) else tuple(value)
    for s in stats:
        if s not in STATS:
            raise QueryError(f"stat: {s!r} is not one of {STATS}")
    if not stats:
        raise QueryError("stat: give at least one statistic")
    return stats


def _by(value: Any, freq: Any) -> tuple[tuple[str, ...], str | None]:
    by = () if value is None else (value,) if isinstance(value, str) else tuple(value)
    for b in by:
        if b not in GROUPS:
            raise QueryError(f"by: {b!r} is not one of {sorted(GROUPS)}")
    code = None
    if freq is not None:
        if freq not in _FREQS:
            raise QueryError(f"freq: {freq!r} is not one of {sorted(_FREQS)}")
        code = _FREQS[freq]
        if "period" not in by:
            by = (*by, "period")
    elif "period" in by:
        raise QueryError("by='period' needs freq= (e.g. 'M' for months)")
    return by, code


def period_starts(times: pd.Series, freq: str) -> pd.Series:
    """The start of each time's period (UTC), as an aware timestamp."""
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None)
    starts = naive.dt.to_period(freq).dt.start_time.dt.tz_localize("UTC")
    out: pd.Series = starts.astype("datetime64[us, UTC]")
    return out


def _began(frame: pd.DataFrame) -> pd.Series:
    """When each investigation's incident became known: its earliest time."""
    began: pd.Series = frame[["impact_started_at", "detected_at", "started_at", "created_at"]].min(
        axis=1
    )
    return began


def _as_it_stood(frame: pd.DataFrame, as_of: dt.datetime) -> pd.DataFrame:
    """Times after ``as_of`` had not happened yet; nor had a resolution after it."""
    out = frame.copy()
    unresolved = out["resolved_at"] > as_of
    for name in (*TIME_FIELDS, "deleted_at"):
        if name in out:
            later = out[name] > as_of
            out.loc[later, name] = pd.NaT
    # Resolved later: it was not closed then (its status then is not kept; in progress).
    out.loc[unresolved & out["status"].isin(_CLOSED), "status"] = "in_progress"
    return out


def investigations_as_of(
    store: Store, as_of: dt.datetime, filters: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The investigations as they stood at ``as_of``, and the ids left out by reason.

    Left out: those recorded (``created_at``) or begun (earliest time) after it, and
    those deleted by then. Times after it are cleared, and one resolved later is
    ``in_progress`` (its status then is not kept).
    """
    _arguments.check_names(filters, queries.INVESTIGATION_FILTERS, "metrics")
    frame = store.investigations(include_deleted=True, **filters)
    excluded: dict[str, list[str]] = {k: [] for k in REASONS}
    recorded = frame["created_at"] > as_of
    excluded["recorded_later"] = frame.loc[recorded, "id"].tolist()
    later = (_began(frame) > as_of) & ~recorded
    excluded["later"] = frame.loc[later, "id"].tolist()
    frame = _as_it_stood(frame[~recorded & ~later], as_of)
    deleted = frame["deleted_at"].notna()
    excluded["deleted"] = frame.loc[deleted, "id"].tolist()
    return frame[~deleted].copy(), excluded


def _written_together(
    frame: pd.DataFrame, start: str, end: str, same_time: dt.timedelta | None
) -> pd.Series:
    """Rows whose ``start`` and ``end`` are at most ``same_time`` apart (either way)."""
    if same_time is None or start == end:
        return pd.Series(False, index=frame.index)
    gap = (frame[end] - frame[start]).abs()
    together: pd.Series = gap.notna() & (gap <= pd.Timedelta(same_time))
    return together


def _durations(
    store: Store,
    start: str,
    end: str,
    as_of: dt.datetime,
    filters: Mapping[str, Any],
    same_time: dt.timedelta | None = SAME_TIME,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Investigations with a measured duration, and the ids left out by reason.

    Two ends written together (at most ``same_time`` apart) are ``not_measured``: the
    source did not record when each happened, so their difference is no duration.
    """
    frame, excluded = investigations_as_of(store, as_of, filters)
    checks = [
        ("no_start", frame[start].isna()),
        ("open", frame[end].isna() & ~frame["status"].isin(_CLOSED)),
        ("no_end", frame[end].isna()),
        ("not_measured", _written_together(frame, start, end, same_time)),
        ("negative", frame[end] < frame[start]),
    ]
    left = pd.Series(False, index=frame.index)
    for reason, hit in checks:
        hit = hit.fillna(False).astype(bool) & ~left
        excluded[reason] = frame.loc[hit, "id"].tolist()
        left |= hit
    used = frame[~left].copy()
    used["duration"] = (used[end] - used[start]).astype("timedelta64[us]")
    return used, excluded


def _aggregate(durations: pd.Series, stats: tuple[str, ...]) -> dict[str, Any]:
    """``n`` and each statistic of measured durations (there is at least one)."""
    seconds = durations.dt.total_seconds().to_numpy(dtype=float)
    if not len(seconds):
        raise ValueError("no measured duration to aggregate")
    out: dict[str, Any] = {"n": len(seconds)}
    for s in stats:
        if s == "mean":
            value = float(np.mean(seconds))
        elif s == "min":
            value = float(np.min(seconds))
        elif s == "max":
            value = float(np.max(seconds))
        else:
            q = 0.5 if s == "median" else int(s[1:]) / 100
            value = float(np.quantile(seconds, q))
        out[s] = pd.Timedelta(seconds=round(value, 6))
    return out


def time_to(
    store: Store,
    *,
    start: str = "detected_at",
    end: str = "resolved_at",
    stat: str | Sequence[str] = "median",
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    as_of: Any = None,
    metric: str = "time_to",
    same_time: Any = SAME_TIME,
    **filters: Any,
) -> pd.DataFrame:
    """A statistic of ``end - start`` over investigations, grouped as asked.

    Args:
        store: The store.
        start: The time the durations start at (one of :data:`TIME_FIELDS`).
        end: The time they end at.
        stat: One or several of :data:`STATS`.
        by: Grouping: ``impact_severity``, ``priority``, ``status``, ``component``,
            ``service``, ``assigned_to``, ``period``.
        freq: Period length when grouping by time (``D``, ``W``, ``M``, ``Q``, ``Y``),
            by the start time in UTC; implies ``by=[..., "period"]``.
        as_of: Compute as the data stood then: incidents that began later (by their
            earliest time), times later than it and deletions later than it do not
            count (default: now).
        metric: The name the definition gives (the ``mtt*`` helpers set it).
        same_time: Two ends at most this far apart (default :data:`SAME_TIME`, one
            second; a duration, ``"500ms"`` or seconds) were written together by the
            source: that duration was not measured, and is left out (``not_measured``
            in the definition) rather than counted as zero. ``0``: only equal times;
            ``None``: no check.
        **filters: Any filter of :meth:`Store.investigations` (``component=``,
            ``min_impact_severity=``, ``since=`` ...).

    Returns:
        One row per group: the group columns, ``n`` (investigations measured) and one
        ``Timedelta`` column per statistic; ``attrs["definition"]`` is the
        :class:`Definition`. Groups with no measured investigation are left out. With
        none at all the frame is empty and ``definition.not_measured`` says why.
    """
    start, end = _field("start", start), _field("end", end)
    stats = _stats(stat)
    groups, code = _by(by, freq)
    when = _as_of(as_of)
    tolerance = _same_time(same_time)
    used, excluded = _durations(store, start, end, when, filters, tolerance)
    if code is not None:
        used["period"] = period_starts(used[start], code)
    columns = [GROUPS[g] for g in groups]
    if columns and len(used):
        rows = [
            {**dict(zip(columns, key if isinstance(key, tuple) else (key,), strict=True)),
             **_aggregate(part["duration"], stats)}
            for key, part in used.groupby(columns, observed=True, sort=True, dropna=False)
        ]  # fmt: skip
        out = pd.DataFrame(rows, columns=[*columns, "n", *stats])
        for c in columns:
            if isinstance(used[c].dtype, pd.CategoricalDtype):
                out[c] = out[c].astype(used[c].dtype)
    elif len(used):
        out = pd.DataFrame([_aggregate(used["duration"], stats)], columns=["n", *stats])
    else:
        out = pd.DataFrame({c: [] for c in [*columns, "n", *stats]})
        out = out.astype({"n": "int64", **dict.fromkeys(stats, "timedelta64[us]")})
    out.attrs["definition"] = Definition(
        metric=metric,
        start=start,
        end=end,
        stats=stats,
        by=groups,
        freq=code,
        filters=dict(filters),
        as_of=when,
        used=len(used),
        excluded={k: len(v) for k, v in excluded.items()},
        excluded_ids={k: tuple(v) for k, v in excluded.items()},
        same_time=tolerance,
    )
    return out


def mttd(
    store: Store,
    *,
    stat: str | Sequence[str] = "median",
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    as_of: Any = None,
    start: str = "impact_started_at",
    end: str = "detected_at",
    same_time: Any = SAME_TIME,
    **filters: Any,
) -> pd.DataFrame:
    """Time to detect: ``impact_started_at`` → ``detected_at`` (arguments as :func:`time_to`)."""
    return time_to(
        store,
        start=start,
        end=end,
        stat=stat,
        by=by,
        freq=freq,
        as_of=as_of,
        same_time=same_time,
        metric="mttd",
        **filters,
    )


def mtta(
    store: Store,
    *,
    stat: str | Sequence[str] = "median",
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    as_of: Any = None,
    start: str = "detected_at",
    end: str = "started_at",
    same_time: Any = SAME_TIME,
    **filters: Any,
) -> pd.DataFrame:
    """Time to start work (acknowledge): ``detected_at`` → ``started_at`` (see :func:`time_to`)."""
    return time_to(
        store,
        start=start,
        end=end,
        stat=stat,
        by=by,
        freq=freq,
        as_of=as_of,
        same_time=same_time,
        metric="mtta",
        **filters,
    )


def mttm(
    store: Store,
    *,
    stat: str | Sequence[str] = "median",
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    as_of: Any = None,
    start: str = "detected_at",
    end: str = "mitigated_at",
    same_time: Any = SAME_TIME,
    **filters: Any,
) -> pd.DataFrame:
    """Time to mitigate: ``detected_at`` → ``mitigated_at`` (arguments as :func:`time_to`)."""
    return time_to(
        store,
        start=start,
        end=end,
        stat=stat,
        by=by,
        freq=freq,
        as_of=as_of,
        same_time=same_time,
        metric="mttm",
        **filters,
    )


def mttr(
    store: Store,
    *,
    stat: str | Sequence[str] = "median",
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    as_of: Any = None,
    start: str = "detected_at",
    end: str = "resolved_at",
    same_time: Any = SAME_TIME,
    **filters: Any,
) -> pd.DataFrame:
    """Time to resolve: ``detected_at`` → ``resolved_at`` (arguments as :func:`time_to`)."""
    return time_to(
        store,
        start=start,
        end=end,
        stat=stat,
        by=by,
        freq=freq,
        as_of=as_of,
        same_time=same_time,
        metric="mttr",
        **filters,
    )


# --- data quality -------------------------------------------------------------------------

_ORDER = ("impact_started_at", "detected_at", "mitigated_at", "resolved_at")
#: The (start, end) of the durations :func:`mttd`, :func:`mtta`, :func:`mttm` and
#: :func:`mttr` measure by default.
_MEASURED = (
    ("impact_started_at", "detected_at"),
    ("detected_at", "started_at"),
    ("detected_at", "mitigated_at"),
    ("detected_at", "resolved_at"),
)


def _gap(seconds: float) -> str:
    return (
        "0 ms" if seconds == 0 else f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:g} s"
    )


def data_quality(store: Store, *, as_of: Any = None, same_time: Any = SAME_TIME) -> pd.DataFrame:
    """What would skew the metrics: one row per problem found.

    Checks: ``times_out_of_order`` (impact start ≤ detection ≤ mitigation ≤
    resolution), ``closed_without_resolved_at``, ``resolved_at_but_open``,
    ``times_in_the_future`` (after ``as_of``), ``no_events`` (active investigations
    with no linked event), ``orphan_links`` (links to a missing or deleted record) and
    ``times_written_together``: the two ends of a duration :func:`mttd`, :func:`mtta`,
    :func:`mttm` or :func:`mttr` measure that are at most ``same_time`` (default
    :data:`SAME_TIME`, one second) apart, written together by the source, so that
    duration was not measured (detail e.g. ``not measured: detected_at equals
    impact_started_at (8 ms apart)``).

    Returns:
        Columns ``check``, ``record_id``, ``detail``; ``attrs["counts"]`` has the number
        of problems per check (zero included), ``attrs["not_measured"]`` the number of
        investigations per pair of times written together (``"not measured:
        detected_at equals impact_started_at"``: 124, zero included) and
        ``attrs["as_of"]`` the time used.
    """
    when = _as_of(as_of)
    tolerance = _same_time(same_time)
    inv = store.investigations()
    rows: list[tuple[str, str, str]] = []
    for a_i, a in enumerate(_ORDER):
        for b in _ORDER[a_i + 1 :]:
            bad = inv[a].notna() & inv[b].notna() & (inv[b] < inv[a])
            rows += [
                ("times_out_of_order", i, f"{b} {tb:%Y-%m-%d %H:%M} before {a} {ta:%Y-%m-%d %H:%M}")
                for i, ta, tb in inv.loc[bad, ["id", a, b]].itertuples(index=False)
            ]  # fmt: skip
    closed = inv["status"].isin(_CLOSED)
    rows += [
        ("closed_without_resolved_at", i, f"status {s} but no resolved_at")
        for i, s in inv.loc[closed & inv["resolved_at"].isna(), ["id", "status"]].itertuples(
            index=False
        )
    ]
    rows += [
        ("resolved_at_but_open", i, f"resolved_at set but status {s}")
        for i, s in inv.loc[~closed & inv["resolved_at"].notna(), ["id", "status"]].itertuples(
            index=False
        )
    ]
    for name in TIME_FIELDS:
        future = inv[name].notna() & (inv[name] > when)
        rows += [
            ("times_in_the_future", i, f"{name} {t:%Y-%m-%d %H:%M} is after {when:%Y-%m-%d %H:%M}")
            for i, t in inv.loc[future, ["id", name]].itertuples(index=False)
        ]  # fmt: skip
    rows += [
        ("no_events", i, "no linked event") for i in inv.loc[inv["event_ids"].map(len) == 0, "id"]
    ]
    orphans = _data.of(store).frame(
        "SELECT l.event_id, l.investigation_id, e.id IS NULL AS no_event, "
        "e.deleted_at IS NOT NULL AS event_deleted, i.id IS NULL AS no_inv, "
        "i.deleted_at IS NOT NULL AS inv_deleted FROM links l "
        "LEFT JOIN events e ON e.id = l.event_id "
        "LEFT JOIN investigations i ON i.id = l.investigation_id "
        "WHERE e.id IS NULL OR i.id IS NULL OR e.deleted_at IS NOT NULL "
        "OR i.deleted_at IS NOT NULL"
    )
    for r in orphans.itertuples(index=False):
        what = (
            "event missing" if r.no_event else "event deleted" if r.event_deleted
            else "investigation missing" if r.no_inv else "investigation deleted"
        )  # fmt: skip
        rows.append(("orphan_links", f"{r.event_id} -> {r.investigation_id}", what))
    not_measured: dict[str, int] = {}
    for a, b in _MEASURED:
        label = f"not measured: {b} equals {a}"
        together = _written_together(inv, a, b, tolerance)
        not_measured[label] = int(together.sum())
        gaps = (inv.loc[together, b] - inv.loc[together, a]).abs().dt.total_seconds()
        rows += [
            ("times_written_together", i, f"{label} ({_gap(g)} apart)")
            for i, g in zip(inv.loc[together, "id"], gaps, strict=True)
        ]
    out = pd.DataFrame(rows, columns=["check", "record_id", "detail"])
    checks = (
        "times_out_of_order",
        "closed_without_resolved_at",
        "resolved_at_but_open",
        "times_in_the_future",
        "times_written_together",
        "no_events",
        "orphan_links",
    )
    out.attrs["counts"] = {c: int((out["check"] == c).sum()) for c in checks}
    out.attrs["not_measured"] = not_measured
    out.attrs["same_time"] = None if tolerance is None else tolerance.total_seconds()
    out.attrs["as_of"] = when
    return out


# --- recurrence ---------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]{2,}")
_STOP = frozenset(
    {
        "the", "and", "for", "with", "was", "were", "this", "that", "from", "into", "after",
        "before", "when", "then", "than", "our", "not", "but", "are", "has", "had", "have",
        "which", "while", "during", "about", "over", "under", "due", "its",
    }
)  # fmt: skip


def _words(text: Any) -> frozenset[str]:
    if not isinstance(text, str):
        return frozenset()
    words = (w.strip("._-") for w in _WORD.findall(text.lower()))
    return frozenset(w for w in words if len(w) >= 3 and w not in _STOP)


def similar_root_causes(store: Store, *, min_similarity: float = 0.5) -> pd.DataFrame:
    """Pairs of investigations whose root causes say much the same.

    Similarity is the Jaccard index of the root causes' words (three letters or more,
    common words left out). Returns ``a``, ``b`` (ids), ``similarity``, ``shared``
    (the common words), ``a_title``, ``b_title``; most similar first.
    """
    if not 0 < min_similarity <= 1:
        raise QueryError(f"min_similarity: expected a number in (0, 1], got {min_similarity!r}")
    inv = store.investigations(columns=["id", "title", "root_cause"])
    words = [(i, t, _words(r)) for i, t, r in inv.itertuples(index=False)]
    words = [w for w in words if w[2]]
    rows = []
    for k, (a, ta, wa) in enumerate(words):
        for b, tb, wb in words[k + 1 :]:
            shared = wa & wb
            if not shared:
                continue
            similarity = len(shared) / len(wa | wb)
            if similarity >= min_similarity:
                rows.append((a, b, similarity, sorted(shared), ta, tb))
    out = pd.DataFrame(rows, columns=["a", "b", "similarity", "shared", "a_title", "b_title"])
    return out.sort_values(["similarity", "a", "b"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def recurrence(
    store: Store,
    *,
    by: str = "component",
    within: Any = "30d",
    min_similarity: float = 0.5,
    as_of: Any = None,
    **filters: Any,
) -> pd.DataFrame:
    """Repeat incidents: how often each component (service, ...) has one again soon.

    Args:
        store: The store.
        by: A grouping of :data:`GROUPS` (not ``period``), or ``"root_cause"``: groups
            of investigations whose root causes are similar (see
            :func:`similar_root_causes`), named by their most common words.
        within: An incident counts as a repeat when the group had another one at most
            this long before it (by detection, else creation).
        min_similarity: For ``by="root_cause"``.
        as_of: Only incidents that began by then.
        **filters: Filters of :meth:`Store.investigations`.

    Returns:
        One row per group with at least one incident: the group, ``incidents``,
        ``repeats``, ``first``, ``last``, ``median_gap``; most repeats first.
        ``attrs["definition"]`` says how (``by``, ``within``, ``as_of``, filters) and
        how many investigations were used and left out, by reason (no value for the
        grouping, a root cause like no other, recorded or begun after ``as_of``,
        deleted).
    """
    span = queries.duration("within", within)
    when = _as_of(as_of)
    if by != "root_cause" and (by not in GROUPS or by == "period"):
        raise QueryError(f"by: {by!r} is not one of {sorted(set(GROUPS) - {'period'})} "
                         "or 'root_cause'")  # fmt: skip
    inv, excluded = investigations_as_of(store, when, filters)
    inv["at"] = inv["detected_at"].fillna(inv["created_at"])
    left_out = {k: len(v) for k, v in excluded.items() if v}
    if by == "root_cause":
        column = "root_cause_group"
        pairs = similar_root_causes(store, min_similarity=min_similarity)
        parent = {i: i for i in inv["id"]}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in pairs[["a", "b"]].itertuples(index=False):
            if a in parent and b in parent:
                parent[find(a)] = find(b)
        roots = inv["id"].map(find)
        sizes = roots.map(roots.value_counts())
        left_out["root cause like no other"] = int((sizes <= 1).sum())
        inv = inv[sizes > 1].copy()
        roots = roots[sizes > 1]
        names = {}
        for root, part in inv.groupby(roots):
            counts: dict[str, int] = {}
            for text in part["root_cause"]:
                for w in _words(text):
                    counts[w] = counts.get(w, 0) + 1
            top = sorted(counts, key=lambda w: (-counts[w], w))[:4]
            names[root] = " ".join(top)
        inv[column] = roots.map(names)
    else:
        column = GROUPS[by]
        left_out[f"no {column}"] = int(inv[column].isna().sum())
    rows = []
    grouped = inv.dropna(subset=[column])
    for key, part in grouped.groupby(column, observed=True, sort=True):
        times = part["at"].sort_values()
        gaps = times.diff().dropna()
        rows.append(
            {
                column: key,
                "incidents": len(times),
                "repeats": int((gaps <= span).sum()),
                "first": times.iloc[0],
                "last": times.iloc[-1],
                "median_gap": gaps.median() if len(gaps) else pd.NaT,
            }
        )
    out = pd.DataFrame(
        rows, columns=[column, "incidents", "repeats", "first", "last", "median_gap"]
    )
    out = out.sort_values(["repeats", "incidents", column], ascending=[False, False, True])
    out = out.reset_index(drop=True)
    out.attrs["definition"] = {
        "by": by,
        "within": span,
        "as_of": when,
        "filters": dict(filters),
        "used": len(grouped),
        "excluded": {k: n for k, n in left_out.items() if n},
    }
    return out
