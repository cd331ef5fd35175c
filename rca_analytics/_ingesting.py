"""Running a reader: its records into a store (or a preview), with a report.

Records go through the bulk loader in batches, inside one transaction: the same
validation as ``add_events``, duplicates of stored records skipped (or updated where a
reader says later input is better), so running the same ingest twice adds nothing.
Rows the store rejects are reported with the file and line (or JSON path) they came
from, next to what the reader itself could not read.
"""

from __future__ import annotations

import html
import inspect
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _loading
from .errors import ReaderError
from .ingest import reader
from .ingest._base import Context, Parsed, Reject
from .models import Event, Investigation, utc_now

if TYPE_CHECKING:
    from .store import Store

__all__ = ["IngestReport", "Reading", "ingest", "read"]

#: Records stored per batch.
BATCH_ROWS = 100_000
#: Inputs at least this large (bytes, or commits for git) show a progress bar.
PROGRESS_UNITS = {"B": 32 << 20, "commits": 20_000}
_REJECT_COLUMNS = ["where", "field", "code", "message"]
Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


@dataclass(frozen=True)
class IngestReport:
    """What :meth:`Store.ingest` did.

    Attributes:
        kind: The reader (``git``, ``logs`` ...).
        inputs: The paths given.
        events: Event records ``read``, ``stored``, ``updated``, ``duplicates`` (already
            stored, or twice in the input), ``rejected`` (by the store's validation).
        investigations: The same for investigations.
        skipped: Input left out on purpose, by reason (e.g. ``below_min_level``).
        notes: Things done to records that the caller should know, by kind (e.g.
            ``naive_time_as_utc``: times without an offset taken in the reader's ``tz``).
        rejects: One row per problem: ``where`` (``file:line``, ``file#/json/path``),
            ``field``, ``code``, ``message``. Everything else was stored.
    """

    kind: str
    inputs: list[str]
    events: dict[str, int]
    investigations: dict[str, int]
    skipped: dict[str, int]
    notes: dict[str, int]
    rejects: pd.DataFrame = field(repr=False)

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return self.rejects.empty

    def summary(self) -> str:
        """A few lines for people: counts, skips, rejects by reason."""
        lines = [f"ingest {self.kind}: {', '.join(self.inputs)}"]
        for name, c in (("events", self.events), ("investigations", self.investigations)):
            if c["read"] or c["rejected"]:
                lines.append(
                    f"  {name}: {c['read']} read, {c['stored']} stored, {c['updated']} updated, "
                    f"{c['duplicates']} already there, {c['rejected']} rejected"
                )
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"  skipped: {n} × {reason}")
        for what, n in sorted(self.notes.items()):
            lines.append(f"  note: {n} × {what}")
        if not self.rejects.empty:
            for code, n in self.rejects.groupby("code").size().items():
                lines.append(f"  rejected: {n} × {code}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<IngestReport {self.kind}: events {self.events['stored']}/{self.events['read']}, "
            f"investigations {self.investigations['stored']}/{self.investigations['read']}, "
            f"rejects {len(self.rejects)}>"
        )

    def _repr_html_(self) -> str:
        text = f"<pre>{html.escape(self.summary())}</pre>"
        if not self.rejects.empty:
            text += self.rejects.head(20).to_html(index=False)
        return text


@dataclass(frozen=True)
class Reading:
    """What a reader made of its input, without a store (:func:`rca_analytics.read`).

    Attributes:
        events: One row per event record as the reader made it (not yet validated).
        investigations: The same for investigations.
        skipped: Input left out on purpose, by reason.
        rejects: ``where``, ``field``, ``code``, ``message`` of what could not be read.
    """

    events: pd.DataFrame
    investigations: pd.DataFrame
    skipped: dict[str, int]
    rejects: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"<Reading events={len(self.events)} investigations={len(self.investigations)} "
            f"rejects={len(self.rejects)}>"
        )


def _records(kind: str, paths: Paths, ctx: Context, options: dict[str, Any]) -> Iterator[Parsed]:
    module = reader(kind)
    params = inspect.signature(module.read).parameters
    unknown = sorted(set(options) - set(list(params)[2:]))
    if unknown:
        known = ", ".join(p for p in list(params)[2:]) or "none"
        raise ReaderError(
            f"the {kind} reader has no option {', '.join(map(repr, unknown))}; its options: {known}"
        )
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    records: Iterator[Parsed] = module.read(list(paths), ctx, **options)
    return records


def _frame(rejects: Iterable[Reject]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (_loading.printable(r.where), r.field, r.code, _loading.printable(r.message))
            for r in rejects
        ],
        columns=_REJECT_COLUMNS,
    ).astype({"where": "str", "code": "str", "message": "str"})


def read(kind: str, paths: Paths, **options: Any) -> Reading:
    """What a reader makes of some input, without storing anything: to look before ingesting.

    Args:
        kind: The reader (see :meth:`Store.ingest`).
        paths: Files or folders, or the repository for ``git``.
        **options: The reader's options.

    Returns:
        A :class:`Reading`: the records as DataFrames (with a ``where`` column naming
        ``file:line`` or ``file#/json/path``), what was skipped and what was rejected.
    """
    ctx = Context()
    rows: dict[str, list[dict[str, Any]]] = {"event": [], "investigation": []}
    for parsed in _records(kind, paths, ctx, options):
        rows[parsed.model].append({**parsed.record, "where": parsed.where})
    return Reading(
        pd.DataFrame(rows["event"]),
        pd.DataFrame(rows["investigation"]),
        dict(ctx.skipped),
        _frame(ctx.rejects),
    )


class _Bar:
    """A progress bar that appears once the input turns out to be large."""

    def __init__(self, enabled: bool | None, kind: str) -> None:
        self.enabled = enabled
        self.kind = kind
        self.ctx: Context | None = None
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if self.enabled is False or self.ctx is None:
                return
            unit = self.ctx.unit
            if self.enabled is None and total < PROGRESS_UNITS.get(unit, 0):
                return
            self.bar = _loading._progress(total, True if self.enabled else None, self.kind)
            if self.bar is None:
                self.enabled = False
                return
            self.bar.unit = unit
            if unit == "B":
                self.bar.unit_scale = True
                self.bar.unit_divisor = 1024
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh() if done >= total else None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def ingest(
    store: Store,
    kind: str,
    paths: Paths,
    *,
    progress: bool | None = None,
    on_duplicate: _loading.OnDuplicate | None = None,
    **options: Any,
) -> IngestReport:
    """See :meth:`Store.ingest`."""
    bar = _Bar(progress, f"ingest {kind}")
    ctx = Context(bar)
    bar.ctx = ctx
    inputs = [os.fspath(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    records = _records(kind, inputs, ctx, options)
    module = reader(kind)
    policy: dict[str, _loading.OnDuplicate] = dict(getattr(module, "ON_DUPLICATE", {}))
    where: dict[str, list[str]] = {"event": [], "investigation": []}
    reports: dict[str, list[_loading.LoadReport]] = {"event": [], "investigation": []}
    pending_investigations: list[dict[str, Any]] = []
    now = utc_now()

    def store_investigations() -> None:
        if pending_investigations:
            first = len(where["investigation"]) - len(pending_investigations)
            reports["investigation"].append(
                _loading.load_chunks(
                    store,
                    Investigation,
                    [(first, list(pending_investigations))],
                    on_duplicate=on_duplicate or policy.get("investigation", "skip"),
                    progress=False,
                    link_method="import",
                )
            )
            pending_investigations.clear()

    def event_batches() -> Iterator[tuple[int, list[dict[str, Any]]]]:
        batch: list[dict[str, Any]] = []
        first = 0
        for parsed in records:
            where[parsed.model].append(parsed.where)
            if parsed.model == "investigation":
                pending_investigations.append(parsed.record)
                continue
            record = parsed.record
            record.setdefault("parsed_at", now)
            batch.append(record)
            if len(batch) >= BATCH_ROWS:
                store_investigations()  # events may link to them
                yield first, batch
                first += len(batch)
                batch = []
        store_investigations()
        if batch:
            yield first, batch

    try:
        with store.transaction():
            reports["event"].append(
                _loading.load_chunks(
                    store,
                    Event,
                    event_batches(),
                    on_duplicate=on_duplicate or policy.get("event", "skip"),
                    progress=False,
                    link_method="import",
                )
            )
    finally:
        bar.close()
    counts: dict[str, dict[str, int]] = {}
    problems = list(ctx.rejects)
    for model, done in reports.items():
        counts[model] = {
            "read": len(where[model]),
            "stored": sum(r.inserted for r in done),
            "updated": sum(r.updated for r in done),
            "duplicates": sum(r.duplicates for r in done),
            "rejected": sum(r.rejected_rows for r in done),
        }
        for r in done:
            rows = r.rejected[["row", "field", "code", "message"]]
            for n, name, code, message in rows.itertuples(index=False, name=None):
                field_name = None if name in ("", "None", "nan") else str(name)
                problems.append(Reject(where[model][int(n)], str(code), str(message), field_name))
    return IngestReport(
        kind,
        inputs,
        counts["event"],
        counts["investigation"],
        dict(ctx.skipped),
        dict(ctx.notes),
        _frame(problems),
    )
