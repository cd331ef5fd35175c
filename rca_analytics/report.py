"""Postmortem documents people can paste into a review.

``rca.report.postmortem(store, inv_id)`` gathers one investigation's story — summary,
impact and timings (with their definitions), a timeline plot and table, the linked
events by source, the suspected changes with the linker's confidence and reasons, the
root cause, remediation and lessons, related investigations — into a :class:`Report`
that renders as Markdown (``to_markdown()``) or a self-contained HTML page
(``to_html()``: styles inline, the plot embedded as a PNG, nothing fetched), saves by
file suffix (``save("pm.md")`` also writes the plot next to it) and shows itself in
Jupyter. The plot needs matplotlib (``pip install 'rca-analytics[plots]'``); without
it the report says so and carries everything else.

>>> import rca_analytics as rca
>>> store = rca.connect(":memory:")
>>> inv = store.add_investigation({"title": "Checkout 500s", "detected_at": "2026-03-01T10:00:00Z",
...     "resolved_at": "2026-03-01T11:30:00Z", "status": "resolved"})
>>> doc = rca.report.postmortem(store, inv.id, plot=False, as_of="2026-03-02")
>>> doc.to_markdown().splitlines()[0]
'# Postmortem: Checkout 500s'
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from . import _postmortem, _review, metrics, queries
from ._report_figures import WINDOW_COLOUR as WINDOW_COLOUR  # the plot's incident window
from ._report_render import Block, Report
from .models import utc_now

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Block", "Report", "postmortem", "review"]

# The document classes live in a private module; they belong to this one (reprs, pickles).
Block.__module__ = Report.__module__ = __name__


def postmortem(
    store: Store,
    investigation_id: str,
    *,
    before: Any = "6h",
    after: Any = "1h",
    changes_window: Any = "6h",
    max_events: int = 60,
    plot: bool = True,
    as_of: Any = None,
) -> Report:
    """A postmortem of one investigation.

    Args:
        store: The store.
        investigation_id: The investigation.
        before: How far before detection the timeline starts.
        after: How far after detection it goes (at least to the resolution).
        changes_window: How far back "suspected changes" look (see
            :meth:`Store.changes_before`).
        max_events: Rows of the timeline table (linked events first, then the nearest
            to detection); the plot shows every event.
        plot: Draw the timeline plot (needs matplotlib).
        as_of: The time the report says it was made (default: now).

    Returns:
        A :class:`Report`.
    """
    inv = store.get_investigation(investigation_id)
    when = _report_time(as_of)
    timeline = _postmortem.timeline_around(store, inv, before=before, after=after)
    doc = Report(title=f"Postmortem: {inv.title}")
    _postmortem.add_preamble(doc, inv, when)
    _postmortem.add_summary(doc, inv)
    _postmortem.add_timings(doc, inv)
    _postmortem.add_timeline(doc, inv, timeline, plot=plot, max_events=max_events)
    _postmortem.add_linked_sources(doc, store, inv)
    _postmortem.add_suspected_changes(doc, store, inv, changes_window)
    _postmortem.add_write_up(doc, inv)
    _postmortem.add_related(doc, store, inv)
    _postmortem.add_definitions(doc, store, when)
    return doc


def review(
    store: Store,
    *,
    since: Any = None,
    until: Any = None,
    freq: str | None = None,
    plot: bool = True,
    as_of: Any = None,
) -> Report:
    """A reliability review of a period: incidents, timings and their trend, DORA, repeats.

    Args:
        store: The store.
        since: Start of the period (default: 90 days before ``until``).
        until: End of the period (default: now, or ``as_of``).
        freq: Trend periods (``W``, ``M`` ...; default: weeks for up to 90 days, else
            months).
        plot: Draw the trend plot (needs matplotlib).
        as_of: Compute as the data stood then (default: now).

    Returns:
        A :class:`Report`; every figure in it states its definition.
    """
    when = _report_time(as_of)
    start, end = _review.period_bounds(when, since, until)
    period: dict[str, Any] = {"since": start, "until": end}
    freq = freq or ("W" if (end - start).days <= 90 else "M")
    doc = Report(title=f"Reliability review {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    _review.add_preamble(doc, start, end, when)
    inv, _ = metrics.investigations_as_of(store, when, period)  # as they stood then
    _review.add_incidents(doc, inv)
    definitions = _review.add_timings(doc, store, when, period)
    _review.add_trend(doc, store, inv, when=when, period=period, freq=freq, plot=plot)
    _review.add_dora(doc, store, start, end, when)
    _review.add_repeats(doc, store, when, period)
    _review.add_data_quality(doc, store, when)
    _review.add_definitions(doc, definitions)
    return doc


def _report_time(as_of: Any) -> dt.datetime:
    """When the report is made: ``as_of``, else now (UTC)."""
    return utc_now() if as_of is None else queries.utc_bound("as_of", as_of)
