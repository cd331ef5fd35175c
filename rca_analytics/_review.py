"""The sections of a reliability review, each adding its blocks to the report.

:func:`rca_analytics.report.review` calls them in the order the document reads:
preamble, incidents, timings and their trend, DORA, repeat incidents, data quality and
definitions. Every figure is computed as the data stood at the review's ``as_of``, shows
the number of incidents (or deploys) it was computed over, and a figure that was not
measured says so, and why, rather than reading "0 min": a duration whose two ends the
source wrote together (``metrics.SAME_TIME``) is left out, and a DORA rating below its
minimum sample (``metrics.MIN_DEPLOYS`` ...) is withheld.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import metrics, queries
from ._report_figures import trend_png
from ._report_render import Block, Report, format_duration
from .errors import QueryError

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "add_data_quality",
    "add_definitions",
    "add_dora",
    "add_incidents",
    "add_preamble",
    "add_repeats",
    "add_timings",
    "add_trend",
    "period_bounds",
]

#: Names and approximate lengths in days of the trend's periods, by frequency code.
_PERIOD_NAMES = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
_PERIOD_DAYS = {"D": 1, "W": 7, "M": 30, "Q": 91, "Y": 365}


def period_bounds(when: dt.datetime, since: Any, until: Any) -> tuple[dt.datetime, dt.datetime]:
    """The reviewed period: ``until`` (at most ``when``) and ``since`` (default 90 days before)."""
    end = when if until is None else min(when, queries.utc_bound("until", until))
    start = end - dt.timedelta(days=90) if since is None else queries.utc_bound("since", since)
    if start >= end:
        raise QueryError(f"since ({start:%Y-%m-%d}) must be before until ({end:%Y-%m-%d})")
    return start, end


def add_preamble(doc: Report, start: dt.datetime, end: dt.datetime, when: dt.datetime) -> None:
    """Which incidents the review counts, and as of when."""
    text = (
        f"Incidents detected (else created) from {start:%Y-%m-%d %H:%M} to "
        f"{end:%Y-%m-%d %H:%M} UTC; figures as of {when:%Y-%m-%d %H:%M} UTC."
    )
    doc.blocks.append(Block("text", text))


def add_incidents(doc: Report, inv: pd.DataFrame) -> None:
    """The period's incidents by impact severity and status, and the top components."""
    add = doc.blocks.append
    add(Block("heading", "Incidents"))
    if inv.empty:
        add(Block("text", "No incidents in the period."))
        return
    add(Block("text", f"{len(inv)} incidents, by impact severity and status:"))
    add(Block("table", _by_severity_and_status(inv)))
    add(Block("text", "Components with the most incidents:"))
    add(Block("table", _top_components(inv)))


def _by_severity_and_status(inv: pd.DataFrame) -> pd.DataFrame:
    by_sev = (
        inv.groupby(["impact_severity", "status"], observed=True)
        .size()
        .unstack(fill_value=0)
        .reset_index()
    )
    by_sev["impact_severity"] = by_sev["impact_severity"].astype(str)
    by_sev.columns = [str(c) for c in by_sev.columns]
    return by_sev


def _top_components(inv: pd.DataFrame) -> pd.DataFrame:
    return (
        inv.assign(component=inv["component_affected"].fillna("(none)"))
        .groupby("component")
        .size()
        .sort_values(ascending=False)
        .head(10)
        .reset_index(name="incidents")
    )


def add_timings(doc: Report, store: Store, when: dt.datetime, period: dict[str, Any]) -> list[str]:
    """Time to detect, mitigate and resolve over the period; returns their definitions.

    One row each, with ``n`` (incidents measured) and ``not measured`` (incidents whose
    two times the source wrote together); a timing with no measured incident reads
    "not measured (why)" instead of a figure.
    """
    doc.blocks.append(Block("heading", "Time to detect, mitigate, resolve"))
    rows: list[tuple[Any, ...]] = []
    definitions = []
    for label, fn in (("detect", metrics.mttd), ("mitigate", metrics.mttm),
                      ("resolve", metrics.mttr)):  # fmt: skip
        frame = fn(store, stat=["median", "p90", "mean"], as_of=when, **period)
        d = frame.attrs["definition"]
        definitions.append(f"time to {label}: {d.describe()}")
        together = d.excluded.get("not_measured", 0)
        if len(frame):
            figures = frame[["n", "median", "p90", "mean"]].iloc[0]
            rows.append((f"time to {label}", *figures, together))
        else:
            rows.append((f"time to {label}", 0, d.not_measured, None, None, together))
    table = pd.DataFrame(rows, columns=["", "n", "median", "p90", "mean", "not measured"])
    doc.blocks.append(Block("table", table))
    return definitions


def add_trend(
    doc: Report,
    store: Store,
    inv: pd.DataFrame,
    *,
    when: dt.datetime,
    period: dict[str, Any],
    freq: str,
    plot: bool,
) -> None:
    """The median time to resolve per period (table), over incident counts (plot)."""
    trend = metrics.mttr(store, freq=freq, as_of=when, **period)
    counts = _incident_counts(inv, freq)
    if plot and (len(trend) or len(counts)):
        title = f"Incidents and median time to resolve per {_PERIOD_NAMES.get(freq, freq)}"
        png = trend_png(trend, counts, title, _PERIOD_DAYS.get(freq, 30))
        doc.add_figure("trend", png, "Incidents (bars) and median time to resolve (line)")
    if len(trend):
        doc.blocks.append(
            Block("table", trend.rename(columns={"median": "median time to resolve"}))
        )
    else:
        why = trend.attrs["definition"].not_measured
        doc.blocks.append(Block("text", f"Median time to resolve per period: {why}."))


def _incident_counts(inv: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Incidents per period of their detection (else creation)."""
    if not len(inv):
        return pd.DataFrame({"period": [], "incidents": []})
    # the same periods as the trend's (metrics.period_starts)
    starts = metrics.period_starts(inv["detected_at"].fillna(inv["created_at"]), freq)
    return inv.assign(period=starts).groupby("period").size().reset_index(name="incidents")


def add_dora(
    doc: Report, store: Store, start: dt.datetime, end: dt.datetime, when: dt.datetime
) -> None:
    """The four DORA metrics of the period, their ratings and definitions.

    A rating withheld for want of a sample reads "not rated: 2 deploys, needs ≥ 10".
    """
    doc.blocks.append(Block("heading", "DORA"))
    dora = metrics.dora(store, since=start, until=end, as_of=when)
    rating = [
        r if r is not None else f"not rated: {why}"
        for r, why in zip(dora["rating"], dora["not_rated"], strict=True)
    ]
    table = dora[["metric", "shown", "n", "definition"]].copy()
    table.insert(2, "rating", pd.Series(rating, index=dora.index, dtype=object))
    doc.blocks.append(Block("table", table))
    dd = dora.attrs["definition"]
    window = format_duration(pd.Timedelta(dd["window"]))
    least = dd["minimums"]
    text = (
        f"Deploys: {dd['deploys']}; failures attributed within {window} of a deploy; "
        f"ratings: {dd['bands']}, given from {least['deploys']} deploys in the period "
        f"(lead time: also {least['commits']} commits; recovery time: also "
        f"{least['recoveries']} recovered failed deploys)."
    )
    doc.blocks.append(Block("text", text))


def add_repeats(doc: Report, store: Store, when: dt.datetime, period: dict[str, Any]) -> None:
    """Components with another incident within 30 days; root causes that read alike."""
    add = doc.blocks.append
    add(Block("heading", "Repeat incidents"))
    repeats = metrics.recurrence(store, by="component", within="30d", as_of=when, **period)
    repeats = repeats[repeats["repeats"] > 0].head(10)
    if len(repeats):
        add(Block("text", "Components that had another incident within 30 days:"))
        add(Block("table", repeats))
    else:
        add(Block("text", "No component had two incidents within 30 days."))
    groups = metrics.recurrence(store, by="root_cause", within="90d", as_of=when, **period)
    if len(groups):
        add(Block("text", "Incidents whose root causes read alike:"))
        add(Block("table", groups))


def add_data_quality(doc: Report, store: Store, when: dt.datetime) -> None:
    """How many problems each data-quality check finds in the store.

    Times written together are counted per pair of times ("not measured: detected_at
    equals impact_started_at").
    """
    doc.blocks.append(Block("heading", "Data quality"))
    quality = metrics.data_quality(store, as_of=when)
    rows = list(quality.attrs["counts"].items())
    rows += [(label, n) for label, n in quality.attrs["not_measured"].items() if n]
    table = pd.DataFrame(rows, columns=["check", "problems"])
    doc.blocks.append(Block("table", table))


def add_definitions(doc: Report, definitions: list[str]) -> None:
    """The definition of every timing of the review."""
    doc.blocks.append(Block("heading", "Definitions"))
    for text in definitions:
        doc.blocks.append(Block("text", text + "."))
