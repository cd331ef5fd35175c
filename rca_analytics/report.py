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

import base64
import datetime as dt
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import metrics, queries
from .errors import QueryError
from .models import utc_now

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Block", "Report", "postmortem", "review"]


@dataclass(frozen=True)
class Block:
    """One piece of a report: a heading, a paragraph, a table, a figure or a note."""

    kind: str  # heading | text | table | figure | pre
    content: Any
    level: int = 2


@dataclass
class Report:
    """A document made of blocks, rendered as Markdown or self-contained HTML.

    Attributes:
        title: The document's title.
        blocks: Its content, in order.
        figures: PNG bytes by name (referenced by ``figure`` blocks).
    """

    title: str
    blocks: list[Block] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)

    def add_figure(self, name: str, png: bytes | None, caption: str) -> None:
        """A figure, or (``png`` None: no matplotlib) a note saying how to get it."""
        if png is None:
            self.blocks.append(Block("text", f"(The {name} plot needs matplotlib: "
                                             "pip install 'rca-analytics[plots]'.)"))  # fmt: skip
        else:
            self.figures[name] = png
            self.blocks.append(Block("figure", (name, caption)))

    def to_markdown(self, *, figure_prefix: str = "") -> str:
        """Markdown; figures are linked as ``<figure_prefix><name>.png`` files."""
        out = [f"# {_md_text(self.title)}", ""]
        for block in self.blocks:
            if block.kind == "heading":
                out += ["#" * block.level + " " + _md_text(block.content), ""]
            elif block.kind == "text":
                out += [_md_text(block.content), ""]
            elif block.kind == "pre":
                out += ["```", str(block.content).replace("```", "`\u200b``"), "```", ""]
            elif block.kind == "table":
                out += [_md_table(block.content), ""]
            elif block.kind == "figure":
                name, caption = block.content
                target = f"{figure_prefix}{name}.png".replace("<", "%3C").replace(">", "%3E")
                out += [f"![{_md_text(caption)}](<{target}>)", ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """One HTML page: inline styles, figures embedded as PNG data; nothing fetched."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            if block.kind == "heading":
                level = min(block.level, 6)
                body.append(f"<h{level}>{html.escape(block.content)}</h{level}>")
            elif block.kind == "text":
                text = str(block.content).replace("\r\n", "\n").replace("\r", "\n")
                body.append("<p>" + html.escape(text).replace("\n", "<br>\n") + "</p>")
            elif block.kind == "pre":
                body.append(f"<pre>{html.escape(str(block.content))}</pre>")
            elif block.kind == "table":
                body.append(_html_table(block.content))
            elif block.kind == "figure":
                name, caption = block.content
                data = base64.b64encode(self.figures[name]).decode("ascii")
                body.append(
                    f'<figure><img id="{html.escape(name)}" alt="{html.escape(caption)}" '
                    f'src="data:image/png;base64,{data}"><figcaption>'
                    f"{html.escape(caption)}</figcaption></figure>"
                )
        fragment = f'<div class="rca-report"><style>{_CSS}</style>\n' + "\n".join(body)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title></head><body>\n"
            f"{fragment}\n</div>\n</body></html>\n"
        )

    def save(self, path: str | Path) -> Path:
        """Write ``.md`` (figures as PNG files beside it) or ``.html`` (self-contained)."""
        target = Path(path)
        if target.suffix.lower() in (".html", ".htm"):
            target.write_text(self.to_html(), encoding="utf-8")
        elif target.suffix.lower() in (".md", ".markdown"):
            prefix = f"{target.stem}-"
            for name, png in self.figures.items():
                (target.parent / f"{prefix}{name}.png").write_bytes(png)
            target.write_text(self.to_markdown(figure_prefix=prefix), encoding="utf-8")
        else:
            raise ValueError(f"{target}: save as .md or .html")
        return target

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        """The report in one ``div`` whose styles touch nothing else of the notebook."""
        page = self.to_html()
        return page[page.index('<div class="rca-report">') : page.rindex("</div>") + 6]


_CSS = (
    ".rca-report{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
    "padding:0 1rem;color:#1f2328}.rca-report table{border-collapse:collapse;margin:.5rem 0}"
    ".rca-report th,.rca-report td{border:1px solid #d0d7de;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top;font-size:.9rem}.rca-report th{background:#f6f8fa}"
    ".rca-report img{max-width:100%}.rca-report pre{white-space:pre-wrap;background:#f6f8fa;"
    "padding:.5rem}"
)


#: Characters that make Markdown (CommonMark and GitHub's tables) do something.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>&|~#!])")


def _md_escape(text: str) -> str:
    """One line shown literally: markup characters backslash-escaped."""
    out = _MD_SPECIAL.sub(r"\\\1", text)
    out = re.sub(r"^(\d+)([.)])", r"\1\\\2", out)  # "1. " starts a list
    out = re.sub(r"^([-+=])", r"\\\1", out)  # list items, setext underlines
    return re.sub(r"^( +)", lambda m: "&#32;" * len(m.group(1)), out)  # no code block


def _md_text(text: Any) -> str:
    """Text as Markdown shows it literally, line breaks kept: no links, tags or code."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    out = [_md_escape(line) if line.strip() else "" for line in lines]
    # A hard line break (a trailing backslash) between the lines of one paragraph.
    return "\n".join(
        line + ("\\" if i + 1 < len(out) and line and out[i + 1] else "")
        for i, line in enumerate(out)
    )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}Z"
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return _duration(pd.Timedelta(value))
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def _md_table(frame: pd.DataFrame) -> str:
    def esc(text: str) -> str:
        return _md_escape(" ".join(text.replace("\r", "\n").split("\n")))

    head = "| " + " | ".join(esc(str(c)) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(esc(_cell(v)) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _duration(value: pd.Timedelta | None) -> str:
    if value is None or pd.isna(value):
        return ""
    seconds = value.total_seconds()
    sign = "-" if seconds <= -30 else ""  # what rounds to 0 min has no sign
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{sign}{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours, rest = divmod(int(seconds), 3600)
        return f"{sign}{hours} h {rest // 60:02d} min"
    return f"{sign}{seconds / 86400:.1f} days"


def _summary_of(event: pd.Series) -> str:
    data = event.get("data")
    if isinstance(data, dict):
        for key in ("message", "summary", "title", "alertname", "name", "version", "key"):
            text = data.get(key)
            if isinstance(text, str) and text:
                return text[:120]
    return str(event.get("source_id") or "")


#: Incident marks drawn on the plot, in order, with their colours.
_MARKS = (
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


def _timeline_png(timeline: pd.DataFrame, inv: Any, title: str) -> bytes | None:
    """Events by source over time, the incident window shaded. None without matplotlib."""
    sources = sorted(timeline["source"].astype(str).unique()) if len(timeline) else []

    def draw(fig: Any, ax: Any) -> None:
        import matplotlib.dates as mdates

        start = inv.impact_started_at or inv.detected_at
        end = inv.mitigated_at or inv.resolved_at
        if start is not None and end is not None and end > start:
            ax.axvspan(start, end, color=WINDOW_COLOUR, zorder=0, label="incident")
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
        for name, label, colour in _MARKS:
            when = getattr(inv, name)
            if when is not None:
                ax.axvline(when, color=colour, linestyle="--", linewidth=1, label=label)
        ax.set_yticks(range(len(sources)), sources)
        ax.set_ylim(-0.8, max(len(sources), 1) - 0.2)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        locator = mdates.AutoDateLocator(tz=dt.UTC)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        concise = mdates.ConciseDateFormatter(locator, tz=dt.UTC)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(concise)
        ax.set_xlabel("UTC", fontsize=8)

    return _png(draw, 1.2 + 0.45 * max(len(sources), 1))


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
    when = utc_now() if as_of is None else queries.utc_bound("as_of", as_of)
    after_delta = queries.duration("after", after)
    anchor = inv.detected_at or inv.impact_started_at or inv.created_at
    if inv.resolved_at is not None and inv.resolved_at - anchor > after_delta:
        after_delta = inv.resolved_at - anchor + dt.timedelta(minutes=15)
    timeline = store.timeline(inv.id, before=before, after=after_delta)
    doc = Report(title=f"Postmortem: {inv.title}")
    add = doc.blocks.append
    add(Block("text", f"Investigation {inv.id}; report made {when:%Y-%m-%d %H:%M} UTC."))

    add(Block("heading", "Summary"))
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
    add(Block("table", pd.DataFrame([f for f in facts if f[1]], columns=["", "value"])))
    if inv.description:
        add(Block("text", inv.description))

    add(Block("heading", "Impact and timings"))
    times = [(label, getattr(inv, name)) for name, label, _ in _MARKS]
    add(Block("table", pd.DataFrame(
        [(label, t) for label, t in times if t is not None], columns=["", "time (UTC)"]
    )))  # fmt: skip
    spans = [
        ("time to detect", "impact_started_at", "detected_at"),
        ("time to mitigate", "detected_at", "mitigated_at"),
        ("time to resolve", "detected_at", "resolved_at"),
        ("impact duration", "impact_started_at", "mitigated_at"),
    ]
    rows = []
    for label, start, end in spans:
        a, b = getattr(inv, start), getattr(inv, end)
        if a is not None and b is not None:
            rows.append((label, pd.Timedelta(b - a), f"{end} - {start}"))
    if rows:
        add(Block("table", pd.DataFrame(rows, columns=["", "duration", "definition"])))
    else:
        add(Block("text", "Not enough times recorded to measure the incident."))

    add(Block("heading", "Timeline"))
    if plot and len(timeline):
        doc.add_figure(
            "timeline",
            _timeline_png(timeline, inv, inv.title),
            "Events by source; the incident window shaded",
        )
    if len(timeline):
        order = timeline.assign(
            _linked=timeline["relation"].astype(str) != "linked",
            _distance=timeline["offset"].abs(),
        ).sort_values(["_linked", "_distance"], kind="stable")
        shown = order.head(max_events).sort_values(["timestamp", "id"], kind="stable")
        table = pd.DataFrame(
            {
                "time (UTC)": shown["timestamp"],
                "from detection": shown["offset"],
                "source": shown["source"].astype(str),
                "type": shown["event_type"],
                "severity": shown["severity"].astype(str),
                "component": shown["component"].fillna(shown["service"]),
                "relation": shown["relation"].astype(str),
                "what": [_summary_of(r) for _, r in shown.iterrows()],
            }
        )
        if len(timeline) > max_events:
            add(Block("text", f"{max_events} of {len(timeline)} events: the linked ones first, "
                              "then the nearest to detection."))  # fmt: skip
        add(Block("table", table))
    else:
        add(Block("text", "No events around the incident."))

    add(Block("heading", "Linked events by source"))
    all_linked = store.events(investigation_id=inv.id, columns=["source", "event_type"])
    if len(all_linked):
        counts = (
            all_linked.assign(source=all_linked["source"].astype(str))
            .groupby(["source", "event_type"])
            .size()
            .reset_index(name="events")
        )
        add(Block("table", counts))
    else:
        add(Block("text", "No events are linked to this investigation yet."))

    add(Block("heading", "Suspected changes"))
    changes = store.changes_before(inv.id, window=changes_window).head(10)
    if len(changes):
        add(Block("table", pd.DataFrame({
            "time (UTC)": changes["timestamp"],
            "change": changes["source"].astype(str) + "/" + changes["event_type"],
            "id": changes["source_id"],
            "component": changes["component"].fillna(changes["service"]),
            "scope": changes["scope"].astype(str),
            "confidence": changes["confidence"],
            "why": [list(r[:3]) for r in changes["reasons"]],
        })))  # fmt: skip
        add(Block("text", "Confidence and reasons come from the event linker "
                          "(docs/linking.md); every change of the window is listed, "
                          "those of other components flagged by scope."))  # fmt: skip
    else:
        add(Block("text", f"No git, CI or deploy events in the {changes_window} before."))

    for heading, text in (
        ("Root cause", inv.root_cause),
        ("Remediation", inv.remediation),
        ("Lessons learned", inv.lessons_learned),
    ):
        add(Block("heading", heading))
        add(Block("text", text or "Not recorded yet."))

    add(Block("heading", "Related investigations"))
    if inv.related_investigation_ids:
        related = store.investigations(columns=["id", "title", "status", "detected_at"])
        related = related[related["id"].isin(inv.related_investigation_ids)]
        add(Block("table", related.assign(status=related["status"].astype(str))))
    else:
        add(Block("text", "None."))

    add(Block("heading", "Definitions"))
    mttr = metrics.mttr(store, as_of=when)
    d = mttr.attrs["definition"]
    figure = _duration(mttr["median"].iloc[0]) if len(mttr) else "not measurable"
    add(Block("text", "Durations are end time minus start time as named in each row, in "
                      f"UTC. For comparison, across the store: median time to resolve {figure} "
                      f"({d.describe()})."))  # fmt: skip
    return doc


def _trend_png(trend: pd.DataFrame, counts: pd.DataFrame, title: str, days: float) -> bytes | None:
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
    when = utc_now() if as_of is None else queries.utc_bound("as_of", as_of)
    end = when if until is None else min(when, queries.utc_bound("until", until))
    start = end - dt.timedelta(days=90) if since is None else queries.utc_bound("since", since)
    if start >= end:
        raise QueryError(f"since ({start:%Y-%m-%d}) must be before until ({end:%Y-%m-%d})")
    period: dict[str, Any] = {"since": start, "until": end}
    freq = freq or ("W" if (end - start).days <= 90 else "M")
    doc = Report(title=f"Reliability review {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    add = doc.blocks.append
    add(Block("text", f"Incidents detected (else created) from {start:%Y-%m-%d %H:%M} "
                      f"to {end:%Y-%m-%d %H:%M} UTC; figures as of "
                      f"{when:%Y-%m-%d %H:%M} UTC."))  # fmt: skip

    inv, _ = metrics.investigations_as_of(store, when, period)  # as they stood then
    add(Block("heading", "Incidents"))
    if inv.empty:
        add(Block("text", "No incidents in the period."))
    else:
        by_sev = (
            inv.groupby(["impact_severity", "status"], observed=True)
            .size()
            .unstack(fill_value=0)
            .reset_index()
        )
        by_sev["impact_severity"] = by_sev["impact_severity"].astype(str)
        by_sev.columns = [str(c) for c in by_sev.columns]
        add(Block("text", f"{len(inv)} incidents, by impact severity and status:"))
        add(Block("table", by_sev))
        comp = (
            inv.assign(component=inv["component_affected"].fillna("(none)"))
            .groupby("component")
            .size()
            .sort_values(ascending=False)
            .head(10)
            .reset_index(name="incidents")
        )
        add(Block("text", "Components with the most incidents:"))
        add(Block("table", comp))

    add(Block("heading", "Time to detect, mitigate, resolve"))
    rows = []
    definitions = []
    for label, fn in (("detect", metrics.mttd), ("mitigate", metrics.mttm),
                      ("resolve", metrics.mttr)):  # fmt: skip
        frame = fn(store, stat=["median", "p90", "mean"], as_of=when, **period)
        d = frame.attrs["definition"]
        definitions.append(f"time to {label}: {d.describe()}")
        if len(frame):
            rows.append((f"time to {label}", *frame[["n", "median", "p90", "mean"]].iloc[0]))
    if rows:
        add(Block("table", pd.DataFrame(rows, columns=["", "n", "median", "p90", "mean"])))
    else:
        add(Block("text", "No incident of the period has the times to measure."))
    trend = metrics.mttr(store, freq=freq, as_of=when, **period)
    counts = (
        inv.assign(period=metrics._period(inv["detected_at"].fillna(inv["created_at"]), freq))
        .groupby("period")
        .size()
        .reset_index(name="incidents")
        if len(inv)
        else pd.DataFrame({"period": [], "incidents": []})
    )
    if plot and (len(trend) or len(counts)):
        names = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
        days = {"D": 1, "W": 7, "M": 30, "Q": 91, "Y": 365}.get(freq, 30)
        png = _trend_png(
            trend, counts, f"Incidents and median time to resolve per {names.get(freq, freq)}", days
        )
        doc.add_figure("trend", png, "Incidents (bars) and median time to resolve (line)")
    if len(trend):
        add(Block("table", trend.rename(columns={"median": "median time to resolve"})))

    add(Block("heading", "DORA"))
    dora = metrics.dora(store, since=start, until=end, as_of=when)
    add(Block("table", dora[["metric", "shown", "rating", "n", "definition"]]))
    dd = dora.attrs["definition"]
    add(Block("text", f"Deploys: {dd['deploys']}; failures attributed within "
                      f"{_duration(pd.Timedelta(dd['window']))} of a deploy; ratings: "
                      f"{dd['bands']}."))  # fmt: skip

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

    add(Block("heading", "Data quality"))
    quality = metrics.data_quality(store, as_of=when)
    add(Block("table", pd.DataFrame(list(quality.attrs["counts"].items()),
                                    columns=["check", "problems"])))  # fmt: skip

    add(Block("heading", "Definitions"))
    for text in definitions:
        add(Block("text", text + "."))
    return doc
