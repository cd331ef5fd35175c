"""The reports' plots as PNG bytes: a postmortem's timeline, a review's trend.

Each returns None when matplotlib is not installed (``pip install
'rca-analytics[plots]'``); the report then says so in the figure's place.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = ["INCIDENT_MARKS", "WINDOW_COLOUR", "timeline_png", "trend_png"]

#: Incident marks drawn on the plot, in order, with their colours.
INCIDENT_MARKS = (
    ("impact_started_at", "impact start", "#d62728"),
    ("detected_at", "detected", "#ff7f0e"),
    ("mitigated_at", "mitigated", "#2ca02c"),
    ("resolved_at", "resolved", "#1f77b4"),
)
#: The shaded incident window (a colour the tests look for in a screenshot).
WINDOW_COLOUR = "#ffd6d6"


def _png(draw: Callable[[Any, Any], None], height: float) -> bytes | None:
    """A 9-inch-wide figure drawn by ``draw(fig, ax)`` as PNG; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(9, height), dpi=100)
    try:
        draw(fig, ax)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)


def timeline_png(timeline: pd.DataFrame, inv: Any, title: str) -> bytes | None:
    """Events by source over time, the incident window shaded. None without matplotlib."""
    sources = sorted(timeline["source"].astype(str).unique()) if len(timeline) else []

    def draw(fig: Any, ax: Any) -> None:
        _shade_incident(ax, inv)
        _scatter_events(ax, timeline, sources)
        _mark_incident_times(ax, inv)
        ax.set_yticks(range(len(sources)), sources)
        ax.set_ylim(-0.8, max(len(sources), 1) - 0.2)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        _utc_time_axis(ax)

    return _png(draw, 1.2 + 0.45 * max(len(sources), 1))


def _shade_incident(ax: Any, inv: Any) -> None:
    """The incident window (impact start, else detection, to mitigation, else resolution)."""
    start = inv.impact_started_at or inv.detected_at
    end = inv.mitigated_at or inv.resolved_at
    if start is not None and end is not None and end > start:
        ax.axvspan(start, end, color=WINDOW_COLOUR, zorder=0, label="incident")


def _scatter_events(ax: Any, timeline: pd.DataFrame, sources: list[str]) -> None:
    """One row of dots per source, coloured by the events' relation to the incident."""
    y = {s: i for i, s in enumerate(sources)}
    colours = {"linked": "#d62728", "component": "#7f7f7f", "service": "#bcbd22"}
    for relation, part in timeline.groupby("relation", observed=True, sort=True):
        ax.scatter(
            part["timestamp"],
            part["source"].astype(str).map(y),
            s=24,
            color=colours.get(str(relation), "#9467bd"),
            label=str(relation),
            zorder=3,
        )


def _mark_incident_times(ax: Any, inv: Any) -> None:
    """A dashed vertical line at each incident time recorded."""
    for name, label, colour in INCIDENT_MARKS:
        when = getattr(inv, name)
        if when is not None:
            ax.axvline(when, color=colour, linestyle="--", linewidth=1, label=label)


def _utc_time_axis(ax: Any) -> None:
    """Concise date ticks on the x axis, in UTC."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=dt.UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    concise = mdates.ConciseDateFormatter(locator, tz=dt.UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(concise)
    ax.set_xlabel("UTC", fontsize=8)


def trend_png(trend: pd.DataFrame, counts: pd.DataFrame, title: str, days: float) -> bytes | None:
    """Median time to resolve per period (line) over incident counts (bars)."""

    def draw(fig: Any, ax: Any) -> None:
        if len(counts):
            ax.bar(counts["period"], counts["incidents"], width=0.8 * days, align="edge",
                   color="#c6dbef", label="incidents")  # fmt: skip
        ax.set_ylabel("incidents")
        if len(trend):
            ax2 = ax.twinx()
            hours = trend["median"].dt.total_seconds() / 3600
            ax2.plot(trend["period"], hours, marker="o", color="#d62728", label="median TTR")
            ax2.set_ylabel("median time to resolve (h)")
        ax.set_title(title, fontsize=10)
        fig.autofmt_xdate()

    return _png(draw, 3.2)
