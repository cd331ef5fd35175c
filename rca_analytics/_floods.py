"""Floods: many symptoms of one kind, shown as one row.

An error that repeats 23 times in ten minutes is one fact to a person reading an
incident ("23 × upstream failed: *, 09:01-09:40, worst high"), not 23. A **flood** is a
set of symptoms (role ``symptom``, see :func:`rca_analytics.linking.role`) with the same
*flood key*: source, event type, component and service (compared by
:func:`rca_analytics._names.key`) and what the event says, the first of:

1. ``data.fingerprint`` (the logs reader's digest of the message template; an alert's
   Alertmanager fingerprint);
2. ``data.template`` (a log message's template);
3. a span's operation and outcome (``data.name`` or ``data.span``, and its status: the
   durations of failing spans differ, the operation does not);
4. ``summary`` (the event's one-line summary);
5. ``data.message``, ``data.status_message``, ``data.alertname``, ``data.name`` or
   ``data.span``.

Changes and context never collapse, nor do symptoms with nothing of the above.
:func:`collapse` keeps one row per flood (its *representative*: the member with the
highest ``confidence`` when the frame has one, then the worst severity, then the
earliest) and adds ``count``, ``first_seen``, ``last_seen``, ``worst_severity`` and
``event_ids`` (every member, in time order); rows that are no flood get count 1 and
their own values.

>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "id": ["a", "b", "c"], "source": ["logs"] * 3, "event_type": ["error"] * 3,
...     "severity": ["high", "critical", "high"], "component": ["payments"] * 3,
...     "service": [None] * 3,
...     "timestamp": pd.to_datetime(["2026-03-03 09:01", "2026-03-03 09:05",
...                                  "2026-03-03 09:40"], utc=True),
...     "data": [{"template": "upstream failed: *"}] * 3})
>>> row = collapse(frame).iloc[0]
>>> int(row["count"]), row["worst_severity"], row["event_ids"], str(row["last_seen"])
(3, 'critical', ['a', 'b', 'c'], '2026-03-03 09:40:00+00:00')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._linker_config import DEFAULT, LinkerConfig, roles
from ._names import key as name_key

__all__ = ["FLOOD_COLUMNS", "SEVERITIES", "collapse", "flood_keys"]

#: The columns :func:`collapse` adds.
FLOOD_COLUMNS: tuple[str, ...] = ("count", "first_seen", "last_seen", "worst_severity", "event_ids")

#: Event severities, worst first.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

#: Keys of ``data`` that say what a symptom is, after the fingerprint and template.
_DATA_TEXT = ("message", "status_message", "alertname", "name", "span")


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _operation(d: Mapping[str, Any]) -> str | None:
    """A span's operation and outcome (its duration differs from span to span)."""
    if "duration_ms" not in d:
        return None
    name = _text(d.get("name")) or _text(d.get("span")) or _text(d.get("operation"))
    if name is None:
        return None
    outcome = _text(d.get("status_code")) or _text(d.get("status")) or ""
    return f"{name} {outcome.lower()}".rstrip()


def _what(data: Any, summary: Any) -> str | None:
    """What a symptom says, for its flood key (None: nothing to compare)."""
    d: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    for name, text in (
        ("fingerprint", _text(d.get("fingerprint"))),
        ("template", _text(d.get("template"))),
        ("operation", _operation(d)),
        ("summary", _text(summary)),
        *((n, _text(d.get(n))) for n in _DATA_TEXT),
    ):
        if text is not None:
            return f"{name}:{text}"
    return None


def flood_keys(frame: pd.DataFrame, config: LinkerConfig = DEFAULT) -> pd.Series:
    """The flood key of every row (None for rows that never collapse: see the module).

    The frame has the columns of events (``source``, ``event_type``, ``severity``,
    ``component``, ``service``, ``data`` and ``summary``; those missing count as empty),
    or a ``role`` column already.
    """
    n = len(frame)
    role = frame["role"] if "role" in frame else roles(frame, config)

    def column(name: str) -> list[Any]:
        return frame[name].astype(object).tolist() if name in frame else [None] * n

    out: list[str | None] = []
    for r, source, kind, comp, svc, data, summary in zip(
        role.astype(object).tolist(),
        column("source"),
        column("event_type"),
        column("component"),
        column("service"),
        column("data"),
        column("summary"),
        strict=True,
    ):
        what = _what(data, summary) if r == "symptom" else None
        if what is None:
            out.append(None)
            continue
        parts = (str(source), str(kind), name_key(_text(comp)), name_key(_text(svc)), what)
        out.append("\x1f".join("" if p is None else p for p in parts))
    return pd.Series(out, index=frame.index, dtype=object, name="flood_key")


def _severity_rank(values: pd.Series) -> np.ndarray:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return np.array(
        [rank.get(str(v), len(SEVERITIES)) for v in values.astype(object).tolist()], dtype=int
    )


def collapse(frame: pd.DataFrame, *, config: LinkerConfig = DEFAULT) -> pd.DataFrame:
    """One row per flood (and every other row as it is), in the frame's order.

    Each flood stands where its first row stood; it keeps its representative's columns
    (the highest ``confidence``, then the worst severity, then the earliest member) and
    gets ``count`` (members), ``first_seen`` and ``last_seen`` (their earliest and
    latest ``timestamp``), ``worst_severity`` and ``event_ids`` (the members' ids, from
    ``event_id`` or ``id``, in time order). Rows that are no flood get count 1, their
    own time twice, their severity and their id. Apply it once: the members of a
    collapsed frame's floods are no longer in it.
    """
    f = frame.reset_index(drop=True)
    id_column = "event_id" if "event_id" in f else "id"
    keys = flood_keys(f, config)
    group = np.array(
        [k if k is not None else f"\x00{i}" for i, k in enumerate(keys.tolist())], dtype=object
    )
    severity = (
        _severity_rank(f["severity"])
        if "severity" in f
        else np.full(len(f), len(SEVERITIES), dtype=int)
    )
    times = f["timestamp"] if "timestamp" in f else pd.Series(pd.NaT, index=f.index)
    confidence = (
        pd.to_numeric(f["confidence"], errors="coerce").fillna(-1.0).to_numpy(dtype=float)
        if "confidence" in f
        else np.zeros(len(f))
    )
    helper = pd.DataFrame(
        {
            "_group": group,
            "_position": np.arange(len(f)),
            "_confidence": -confidence,
            "_severity": severity,
            "_time": times.to_numpy(),
            "_id": f[id_column].astype(object).tolist(),
        }
    )
    best = helper.sort_values(
        ["_confidence", "_severity", "_time", "_id"], kind="stable", na_position="last"
    ).drop_duplicates("_group")
    in_time = helper.sort_values(["_time", "_id"], kind="stable", na_position="last")
    grouped = in_time.groupby("_group", sort=False)
    first = helper.groupby("_group", sort=False)["_position"].min()
    facts = pd.DataFrame(
        {
            "count": grouped.size(),
            "first_seen": grouped["_time"].min(),
            "last_seen": grouped["_time"].max(),
            "worst": grouped["_severity"].min(),
            "event_ids": grouped["_id"].agg(list),
            "first": first,
        }
    )
    chosen = best.set_index("_group").join(facts).sort_values("first", kind="stable")
    out = f.iloc[chosen["_position"].to_numpy()].reset_index(drop=True)
    out["count"] = chosen["count"].to_numpy(dtype="int64")
    out["first_seen"] = pd.Series(chosen["first_seen"].to_numpy(), dtype=times.dtype)
    out["last_seen"] = pd.Series(chosen["last_seen"].to_numpy(), dtype=times.dtype)
    labels = [*SEVERITIES, None]
    out["worst_severity"] = pd.Categorical(
        [labels[int(w)] for w in chosen["worst"].to_numpy()], categories=list(SEVERITIES)
    )
    out["event_ids"] = pd.Series(list(chosen["event_ids"]), dtype=object)
    return out
