"""The sections of a postmortem, each adding its blocks to the report.

:func:`rca_analytics.report.postmortem` calls them in the order the document reads:
preamble, summary, impact and timings, timeline, linked events by source, suspected
changes, the write-up (root cause, remediation, lessons), related investigations and
definitions.
"""

from __future__ import annotations

import datetime as dt
import numbers
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import metrics, queries
from ._floods import collapse
from ._linker_config import DEFAULT
from ._report_figures import INCIDENT_MARKS, timeline_png
from ._report_render import Block, Report, format_duration

if TYPE_CHECKING:
    from .models import Investigation
    from .store import Store

__all__ = [
    "add_definitions",
    "add_linked_sources",
    "add_preamble",
    "add_related",
    "add_summary",
    "add_suspected_changes",
    "add_timeline",
    "add_timings",
    "add_write_up",
    "collapse_timeline",
    "timeline_around",
]

#: The durations of the timings table: label, start time, end time.
_SPANS = (
    ("time to detect", "impact_started_at", "detected_at"),
    ("time to mitigate", "detected_at", "mitigated_at"),
    ("time to resolve", "detected_at", "resolved_at"),
    ("impact duration", "impact_started_at", "mitigated_at"),
)


def timeline_around(store: Store, inv: Investigation, *, before: Any, after: Any) -> pd.DataFrame:
    """The events around detection: ``before`` it to ``after`` it, at least to resolution."""
    after_delta = queries.duration("after", after)
    anchor = inv.detected_at or inv.impact_started_at or inv.created_at
    if inv.resolved_at is not None and inv.resolved_at - anchor > after_delta:
        after_delta = inv.resolved_at - anchor + dt.timedelta(minutes=15)
    return store.timeline(inv.id, before=before, after=after_delta)


def add_preamble(doc: Report, inv: Investigation, when: dt.datetime) -> None:
    """Which investigation, and when the report was made."""
    doc.blocks.append(
        Block("text", f"Investigation {inv.id}; report made {when:%Y-%m-%d %H:%M} UTC.")
    )


def add_summary(doc: Report, inv: Investigation) -> None:
    """The investigation's facts (those recorded) and its description."""
    facts = [
        ("status", inv.status.value),
        ("impact severity", inv.impact_severity.value),
        ("priority", inv.priority.value),
        ("component", inv.component_affected),
        ("service", inv.service_affected),
        ("created by", inv.created_by),
        ("assigned to", inv.assigned_to),
        ("tags", ", ".join(inv.tags)),
    ]
    doc.blocks.append(Block("heading", "Summary"))
    doc.blocks.append(
        Block("table", pd.DataFrame([f for f in facts if f[1]], columns=["", "value"]))
    )
    if inv.description:
        doc.blocks.append(Block("text", inv.description))


def add_timings(doc: Report, inv: Investigation) -> None:
    """The incident's times, and the durations between them with their definitions."""
    add = doc.blocks.append
    add(Block("heading", "Impact and timings"))
    times = [(label, getattr(inv, name)) for name, label, _ in INCIDENT_MARKS]
    add(Block("table", pd.DataFrame(
        [(label, t) for label, t in times if t is not None], columns=["", "time (UTC)"]
    )))  # fmt: skip
    rows = []
    for label, start, end in _SPANS:
        a, b = getattr(inv, start), getattr(inv, end)
        if a is not None and b is not None:
            rows.append((label, pd.Timedelta(b - a), f"{end} - {start}"))
    if rows:
        add(Block("table", pd.DataFrame(rows, columns=["", "duration", "definition"])))
    else:
        add(Block("text", "Not enough times recorded to measure the incident."))


def add_timeline(
    doc: Report, inv: Investigation, timeline: pd.DataFrame, *, plot: bool, max_events: int
) -> None:
    """The timeline plot (every event) and table (floods as one row, ``max_events`` rows)."""
    add = doc.blocks.append
    add(Block("heading", "Timeline"))
    if plot and len(timeline):
        doc.add_figure(
            "timeline",
            timeline_png(timeline, inv, inv.title),
            "Events by source; the incident window shaded",
        )
    if len(timeline):
        rows = collapse_timeline(timeline)
        notes = []
        if len(rows) < len(timeline):
            notes.append(
                f"{len(timeline)} events in {len(rows)} rows: repeated symptoms of one "
                "template, alert or summary are one row (events: how many, from its first "
                "to its last)."
            )
        if len(rows) > max_events:
            notes.append(
                f"{max_events} of {len(rows)} rows: the linked ones first, then the nearest "
                "to detection."
            )
        if notes:
            add(Block("text", " ".join(notes)))
        add(Block("table", _timeline_table(rows, max_events)))
    else:
        add(Block("text", "No events around the incident."))


def collapse_timeline(timeline: pd.DataFrame) -> pd.DataFrame:
    """A timeline (:meth:`Store.timeline`) with each flood as one row.

    See :func:`rca_analytics._floods.collapse`: a flood keeps its linked member (the most
    confident link), else its worst and earliest; ``relation`` is ``linked`` when any
    member is linked, and ``offset`` is from detection to the flood's first event.
    """
    linked = set(timeline.loc[timeline["relation"].astype(str) == "linked", "id"])
    rows = collapse(timeline)
    any_linked = [bool(linked.intersection(ids)) for ids in rows["event_ids"]]
    relation = rows["relation"].astype(object).where(~pd.Series(any_linked), "linked")
    rows["relation"] = pd.Categorical(relation, categories=timeline["relation"].cat.categories)
    anchor = timeline.attrs.get("anchor")
    if anchor is not None:
        rows["offset"] = rows["first_seen"] - pd.Timestamp(anchor)
    rows.attrs.update(timeline.attrs)
    return rows


def _timeline_table(rows: pd.DataFrame, max_events: int) -> pd.DataFrame:
    """The linked rows first, then the nearest to detection, shown in time order."""
    order = rows.assign(
        _linked=rows["relation"].astype(str) != "linked",
        _distance=rows["offset"].abs(),
    ).sort_values(["_linked", "_distance"], kind="stable")
    shown = order.head(max_events).sort_values(["first_seen", "id"], kind="stable")
    return pd.DataFrame(
        {
            "time (UTC)": shown["first_seen"],
            "from detection": [_side(o) for o in shown["offset"]],
            "source": shown["source"].astype(str),
            "type": shown["event_type"],
            "severity": shown["worst_severity"].astype(str),
            "component": shown["component"].fillna(shown["service"]),
            "relation": shown["relation"].astype(str),
            "events": [_events(r) for _, r in shown.iterrows()],
            "what": [_summary_of(r) for _, r in shown.iterrows()],
        }
    )


def _events(row: pd.Series) -> str:
    """How many events a row stands for: ``1``, or ``8 over 21 min``."""
    count = int(row["count"])
    if count == 1:
        return "1"
    return f"{count} over {format_duration(row['last_seen'] - row['first_seen'])}"


def _summary_of(event: pd.Series) -> str:
    """What an event is, in one line: its ``summary``, else its data's words, else its id.

    A flood's words are its template when it has one (``pool exhausted after <*> ms``).
    """
    data = event.get("data")
    count = event.get("count")
    if isinstance(data, dict) and isinstance(count, numbers.Integral) and int(count) > 1:
        template = data.get("template")
        if isinstance(template, str) and template:
            return template[:120]
    summary = event.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()[:120]
    keys = ("message", "summary", "title", "alertname", "name", "version", "key", "span")
    if isinstance(data, dict):
        for key in keys:
            text = data.get(key)
            if isinstance(text, str) and text:
                return text[:120]
    return str(event.get("source_id") or "")


def add_linked_sources(doc: Report, store: Store, inv: Investigation) -> None:
    """How many events of each source and type are linked to the investigation."""
    doc.blocks.append(Block("heading", "Linked events by source"))
    all_linked = store.events(investigation_id=inv.id, columns=["source", "event_type"])
    if len(all_linked):
        counts = (
            all_linked.assign(source=all_linked["source"].astype(str))
            .groupby(["source", "event_type"])
            .size()
            .reset_index(name="events")
        )
        doc.blocks.append(Block("table", counts))
    else:
        doc.blocks.append(Block("text", "No events are linked to this investigation yet."))


def _anchor(inv: Investigation) -> tuple[dt.datetime, str]:
    """The linker's anchor of an investigation and its name (``impact start``...)."""
    for name, when in (
        ("impact start", inv.impact_started_at),
        ("detection", inv.detected_at),
        ("start", inv.started_at),
    ):
        if when is not None:
            return when, name
    return inv.created_at, "creation"


def _side(offset: Any) -> str:
    """An offset from detection as people say it: ``47 min before``, ``3 min after``."""
    if offset is None or pd.isna(offset):
        return ""
    shown = format_duration(abs(pd.Timedelta(offset)))
    if shown == "0 min":
        return "at detection"
    return f"{shown} {'before' if offset < pd.Timedelta(0) else 'after'}"


def _before(when: Any, anchor: dt.datetime, name: str) -> str:
    """``47 min before impact start`` (or ``after``)."""
    delta = pd.Timestamp(anchor) - pd.Timestamp(when)
    side = "before" if delta >= pd.Timedelta(0) else "after"
    return f"{format_duration(abs(delta))} {side} {name}"


def add_suspected_changes(doc: Report, store: Store, inv: Investigation, window: Any) -> None:
    """The changes of the ``window`` before, suspects first, with confidence and reasons.

    A *suspect* is a change at or above the linker's threshold
    (:func:`rca_analytics.linking.is_suspect`); CI runs (builds, test runs) are no
    changes and are left out.
    """
    add = doc.blocks.append
    add(Block("heading", "Suspected changes"))
    every = store.changes_before(inv.id, window=window)
    changes = every[every["role"].astype(str) == "change"].head(10)
    threshold = DEFAULT.min_confidence
    if len(changes):
        anchor, name = _anchor(inv)
        top = changes.iloc[0]
        if bool(top["suspect"]):
            add(Block("text", f"Top suspect: {_summary_of(top)} ({top['source']}/"
                              f"{top['event_type']}, {_before(top['timestamp'], anchor, name)}, "
                              f"confidence {top['confidence']:.2f})."))  # fmt: skip
        else:
            add(Block("text", "No change reaches the linker's threshold "
                              f"({threshold:.2f}): none is a suspect; the changes of the "
                              "window are listed for completeness."))  # fmt: skip
        add(Block("table", pd.DataFrame({
            "time (UTC)": changes["timestamp"],
            "when": [_before(t, anchor, name) for t in changes["timestamp"]],
            "change": changes["source"].astype(str) + "/" + changes["event_type"],
            "what": [_summary_of(r) for _, r in changes.iterrows()],
            "id": changes["source_id"],
            "component": changes["component"].fillna(changes["service"]),
            "scope": changes["scope"].astype(str),
            "suspect": ["yes" if s else "" for s in changes["suspect"]],
            "confidence": changes["confidence"],
            "why": [list(r[:3]) for r in changes["reasons"]],
        })))  # fmt: skip
        add(Block("text", "Confidence and reasons come from the event linker "
                          "(docs/linking.md); suspects (changes at or above its threshold, "
                          f"{threshold:.2f}) first, then every other change of the window, "
                          "those of other components flagged by scope."))  # fmt: skip
    else:
        add(Block("text", f"No git, deploy or config changes in the {window} before."))


def add_write_up(doc: Report, inv: Investigation) -> None:
    """Root cause, remediation and lessons learned, or that they are not recorded yet."""
    for heading, text in (
        ("Root cause", inv.root_cause),
        ("Remediation", inv.remediation),
        ("Lessons learned", inv.lessons_learned),
    ):
        doc.blocks.append(Block("heading", heading))
        doc.blocks.append(Block("text", text or "Not recorded yet."))


def add_related(doc: Report, store: Store, inv: Investigation) -> None:
    """The investigations related to this one."""
    doc.blocks.append(Block("heading", "Related investigations"))
    if inv.related_investigation_ids:
        related = store.investigations(columns=["id", "title", "status", "detected_at"])
        related = related[related["id"].isin(inv.related_investigation_ids)]
        doc.blocks.append(Block("table", related.assign(status=related["status"].astype(str))))
    else:
        doc.blocks.append(Block("text", "None."))


def add_definitions(doc: Report, store: Store, when: dt.datetime) -> None:
    """What the durations mean, and the store's median time to resolve to compare with."""
    doc.blocks.append(Block("heading", "Definitions"))
    mttr = metrics.mttr(store, as_of=when)
    d = mttr.attrs["definition"]
    figure = format_duration(mttr["median"].iloc[0]) if len(mttr) else "not measurable"
    text = (
        "Durations are end time minus start time as named in each row, in UTC. For "
        f"comparison, across the store: median time to resolve {figure} ({d.describe()})."
    )
    doc.blocks.append(Block("text", text))
