"""Running a reader: its records into a store (or a preview), with a report.

Records go through the bulk loader in batches, inside one transaction: the same
validation as ``add_events``, duplicates of stored records skipped (or updated where a
reader says later input is better), so running the same ingest twice adds nothing.
Rows the store rejects are reported with the file and line (or JSON path) they came
from, next to what the reader itself could not read.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _loading
from ._data import Data
from ._reasons import Reason
from ._reports import Counts, OperationReport, rejects_frame
from .errors import Failure, ReaderError
from .ingest import options as reader_options
from .ingest import reader
from .ingest._base import Context, Parsed, Reject
from .models import Event, Investigation, utc_now

__all__ = ["IngestReport", "Reading", "ingest", "read"]

#: Records stored per batch.
BATCH_ROWS = 100_000
#: Inputs at least this large (bytes, or commits for git) show a progress bar.
PROGRESS_UNITS = {"B": 32 << 20, "commits": 20_000}
Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


#: Notes of an ingest (or a reading) that read nothing: no input file found, or files
#: that gave no record, no reject and nothing skipped. Not errors (the Python API never
#: raises for them); ``rca ingest`` exits 1 on them unless ``--allow-empty``.
NOTHING_READ = ("no_input_files", "nothing_read")
#: What readers without a :data:`SUFFIXES` constant take (from folders).
_LOOKS_FOR = {
    "git": "the commits of a git repository in the range asked for",
    "logs": "log files from folders: *.log, *.jsonl, *.ndjson, *.json, *.txt, *.out, *.err, "
    "*.logfmt, rotated ones such as app.log.1, syslog, messages, and .gz of them",
}

#: Keys of the per-model counts in earlier releases (still answered).
_RENAMED_COUNTS = {"duplicates": "unchanged", "rejected": "rejected_rows"}


@dataclass(kw_only=True, eq=False, repr=False)
class IngestReport(OperationReport):
    """What :meth:`Store.ingest` did.

    Attributes:
        stored, updated, unchanged: Records (events and investigations) stored new,
            changed, or already stored as they are.
        rejected_rows: Input records the store rejected, plus input (lines, documents,
            files) the reader could not read.
        skipped_rows: Input left out on purpose (the sum of ``skipped``).
        kind: The reader (``git``, ``logs`` ...).
        inputs: The paths given.
        events: Event records ``read``, ``stored``, ``updated``, ``unchanged`` (already
            stored, or twice in the input), ``rejected_rows`` (by the store's validation).
        investigations: The same for investigations.
        skipped: Input left out on purpose, by reason (e.g. ``below_min_level``).
        notes: Things done to records that the caller should know, by kind (e.g.
            ``naive_time_as_utc``: times without an offset taken in the reader's ``tz``;
            ``zero_time_as_missing``: an "unset" time read as absent). ``no_input_files``
            (no file found) or ``nothing_read`` (no record, reject or skip) when nothing
            was read: never an exception; :attr:`nothing_read` says it in words.
        rejects: One row per problem: ``where`` (``file:line``, ``file#/json/path``),
            ``record``, ``field``, ``code``, ``message``, ``value``. Everything else was
            stored.
    """

    kind: str
    inputs: list[str]
    events: Counts
    investigations: Counts
    skipped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def nothing_read(self) -> str | None:
        """Why the ingest read nothing, for people; None when it read something.

        It names the paths and what the reader looks for. The notes say it too
        (``no_input_files``, ``nothing_read``); ``rca ingest`` prints it and exits 1,
        unless ``--allow-empty``.
        """
        return _nothing_message(self.kind, self.inputs, self.notes)

    def _title(self) -> str:
        return f"ingest {self.kind}: {', '.join(self.inputs)}"

    def _label(self) -> str:
        return self.kind

    def _lines(self) -> list[str]:
        lines = []
        for name, c in (("events", self.events), ("investigations", self.investigations)):
            if c["read"] or c["rejected_rows"]:
                lines.append(
                    f"  {name}: {c['read']:,} read, {c['stored']:,} stored, "
                    f"{c['updated']:,} updated, {c['unchanged']:,} unchanged, "
                    f"{c['rejected_rows']:,} rejected"
                )
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"  skipped: {n:,} × {reason}")
        for what, n in sorted(self.notes.items()):
            if what not in NOTHING_READ:
                lines.append(f"  note: {n:,} × {what}")
        if self.nothing_read is not None:
            lines.append(f"  {self.nothing_read}")
        return lines


@dataclass(frozen=True)
class Reading:
    """What a reader made of its input, without a store (:func:`rca_analytics.read`).

    Attributes:
        events: One row per event record as the reader made it (not yet validated).
        investigations: The same for investigations.
        skipped: Input left out on purpose, by reason.
        rejects: ``where``, ``record``, ``field``, ``code``, ``message``, ``value`` of what
            could not be read (the columns of every report's rejects).
        notes: Things done to records that the caller should know, by kind, as in
            :attr:`IngestReport.notes` (``naive_time_as_utc``, ``zero_time_as_missing``
            ...); ``no_input_files`` or ``nothing_read`` when nothing was read.
    """

    events: pd.DataFrame
    investigations: pd.DataFrame
    skipped: dict[str, int]
    rejects: pd.DataFrame
    notes: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        notes = "".join(f" {what}={n}" for what, n in sorted(self.notes.items()))
        return (
            f"<Reading events={len(self.events)} investigations={len(self.investigations)} "
            f"rejects={len(self.rejects)}{' notes:' + notes if notes else ''}>"
        )


def _note_nothing_read(ctx: Context, *, records: int, rejects: int) -> None:
    """Note an input that gave nothing.

    ``no_input_files``: no file found (git, which reads a repository, never says so);
    ``nothing_read``: no record, no reject and nothing skipped.
    """
    if ctx.unit == "B" and ctx.files == 0:
        ctx.note("no_input_files")
    elif not records and not rejects and not ctx.skipped:
        ctx.note("nothing_read")


def _looks_for(kind: str) -> str:
    """What the ``kind`` reader takes from a folder, for people."""
    suffixes = getattr(reader(kind), "SUFFIXES", None)
    if suffixes:
        return "files named " + ", ".join(f"*{s}" for s in suffixes) + " from folders"
    return _LOOKS_FOR.get(kind, "input files")


def _nothing_message(kind: str, inputs: list[str], notes: Mapping[str, int]) -> str | None:
    """What a ``no_input_files`` or ``nothing_read`` note means, naming the inputs."""
    paths = ", ".join(inputs) or "(no paths)"
    if notes.get("no_input_files"):
        return f"no input files in {paths}: the {kind} reader takes {_looks_for(kind)}"
    if notes.get("nothing_read"):
        return (
            f"nothing read from {paths}: no record, no reject, nothing skipped; "
            f"the {kind} reader takes {_looks_for(kind)}"
        )
    return None


def _records(kind: str, paths: Paths, ctx: Context, options: dict[str, Any]) -> Iterator[Parsed]:
    module = reader(kind)
    accepted = reader_options(kind)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        known = ", ".join(accepted) or "none"
        raise ReaderError(
            f"the {kind} reader has no option {', '.join(map(repr, unknown))}; its options: {known}"
        )
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    records: Iterator[Parsed] = module.read(list(paths), ctx, **options)
    return records


def _frame(rejects: Iterable[Reject]) -> pd.DataFrame:
    return rejects_frame((r.where, r.record, r.field, r.code, r.message, r.value) for r in rejects)


def read(kind: str, paths: Paths, **options: Any) -> Reading:
    """What a reader makes of some input, without storing anything: to look before ingesting.

    Args:
        kind: The reader (see :meth:`Store.ingest`).
        paths: Files or folders, or the repository for ``git``.
        **options: The reader's options.

    Returns:
        A :class:`Reading`: the records as DataFrames (with a ``where`` column naming
        ``file:line`` or ``file#/json/path``), what was skipped, what was rejected and
        the notes (``no_input_files`` or ``nothing_read`` when nothing was read: never
        an exception).
    """
    ctx = Context()
    rows: dict[str, list[dict[str, Any]]] = {"event": [], "investigation": []}
    for parsed in _records(kind, paths, ctx, options):
        rows[parsed.model].append({**parsed.record, "where": parsed.where})
    records = len(rows["event"]) + len(rows["investigation"])
    _note_nothing_read(ctx, records=records, rejects=len(ctx.rejects))
    return Reading(
        _records_frame(rows["event"]),
        _records_frame(rows["investigation"]),
        dict(ctx.skipped),
        _frame(ctx.rejects),
        dict(ctx.notes),
    )


def _records_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as a DataFrame; text that is not Unicode (lone surrogates) stays as is."""
    try:
        return pd.DataFrame(rows)
    except UnicodeError:  # pandas' Arrow-backed text refuses it; the store would reject it
        return pd.DataFrame(rows, dtype=object)


class _Bar:
    """A progress bar that appears once the input turns out to be large."""

    def __init__(self, enabled: bool | None, kind: str) -> None:
        if enabled is None and os.environ.get("RCA_PROGRESS", "1") == "0":
            enabled = False
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
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tqdm.auto may warn about missing ipywidgets
                from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total,
                unit=unit,
                unit_scale=unit == "B",
                unit_divisor=1024,
                desc=self.kind,
                disable=None if self.enabled is None else False,  # None: only on a terminal
            )
        if self.bar.total != total:
            self.bar.total = total
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _refused_note(notes: dict[str, int], refused: int) -> dict[str, int]:
    """The notes, with the links a reviewer's rejection kept from being made."""
    if refused:
        notes["link_rejected_by_review"] = refused
    return notes


@dataclass
class _Model:
    """What one kind of record (events, or investigations) went through."""

    model: type[Event] | type[Investigation]
    policy: _loading.OnDuplicate
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    links_refused: int = 0
    #: ``(first row, where of each row)`` of the batches handed to the loader, not stored yet.
    batches: deque[tuple[int, list[str]]] = field(default_factory=deque)
    rows: int = 0

    def split(
        self, records: list[dict[str, Any]], wheres: list[str]
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Numbered batches for the loader, their places remembered.

        Updates write the fields a batch carries, so records with other fields are
        given their own batch (a record without ``impact_severity`` must not have it
        set to the default because its neighbour had one).
        """
        groups: dict[frozenset[str], tuple[list[dict[str, Any]], list[str]]] = {}
        if self.policy == "update":
            for record, place in zip(records, wheres, strict=True):
                recs, places = groups.setdefault(frozenset(record), ([], []))
                recs.append(record)
                places.append(place)
        else:
            groups[frozenset()] = (records, wheres)
        for recs, places in groups.values():
            self.batches.append((self.rows, places))
            yield self.rows, recs
            self.rows += len(recs)

    def stored_batch(self, failures: list[Failure], problems: list[Reject]) -> None:
        """The loader stored the oldest batch: name its rejected rows by place."""
        first, places = self.batches.popleft()
        self.rejected += len({f.row for f in failures})
        for f in failures:
            name = None if f.field in (None, "") else str(f.field)
            row = first if f.row is None else f.row
            problems.append(
                Reject(
                    places[row - first],
                    Reason(f.code),
                    f.message,
                    name,
                    value=f.value,
                    record=None if f.record is None else str(f.record),
                )
            )

    def add(self, report: _loading.LoadReport) -> None:
        self.stored += report.stored
        self.updated += report.updated
        self.duplicates += report.unchanged
        self.links_refused += report.links_refused

    def counts(self) -> Counts:
        return Counts(
            {
                "read": self.read,
                "stored": self.stored,
                "updated": self.updated,
                "unchanged": self.duplicates,
                "rejected_rows": self.rejected,
            },
            renamed=_RENAMED_COUNTS,
        )


def ingest(
    data: Data,
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
    policy: dict[str, _loading.OnDuplicate] = dict(getattr(reader(kind), "ON_DUPLICATE", {}))
    events = _Model(Event, on_duplicate or policy.get("event", "skip"))
    investigations = _Model(Investigation, on_duplicate or policy.get("investigation", "skip"))
    problems: list[Reject] = []
    pending: list[dict[str, Any]] = []
    pending_where: list[str] = []
    now = utc_now()

    def store_investigations() -> None:
        if pending:
            report = _loading.load_chunks(
                data,
                Investigation,
                investigations.split(list(pending), list(pending_where)),
                on_duplicate=investigations.policy,
                progress=False,
                link_method="import",
                on_batch=lambda failures: investigations.stored_batch(failures, problems),
            )
            investigations.add(report)
            pending.clear()
            pending_where.clear()

    def event_batches() -> Iterator[tuple[int, list[dict[str, Any]]]]:
        batch: list[dict[str, Any]] = []
        places: list[str] = []
        for parsed in records:
            if parsed.model == "investigation":
                investigations.read += 1
                pending.append(parsed.record)
                pending_where.append(parsed.where)
                if len(pending) >= BATCH_ROWS:
                    store_investigations()
                continue
            events.read += 1
            record = parsed.record
            record.setdefault("parsed_at", now)
            batch.append(record)
            places.append(parsed.where)
            if len(batch) >= BATCH_ROWS:
                store_investigations()  # events may link to them
                yield from events.split(batch, places)
                batch, places = [], []
        store_investigations()
        if batch:
            yield from events.split(batch, places)

    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived records; cycles are collected afterwards
    try:
        with data.transaction():
            events.add(
                _loading.load_chunks(
                    data,
                    Event,
                    event_batches(),
                    on_duplicate=events.policy,
                    progress=False,
                    link_method="import",
                    on_batch=lambda failures: events.stored_batch(failures, problems),
                )
            )
    finally:
        if collecting:
            gc.enable()
        bar.close()
    both = (events, investigations)
    _note_nothing_read(
        ctx, records=events.read + investigations.read, rejects=len(ctx.rejects) + len(problems)
    )
    return IngestReport(
        stored=sum(m.stored for m in both),
        updated=sum(m.updated for m in both),
        unchanged=sum(m.duplicates for m in both),
        rejected_rows=sum(m.rejected for m in both) + len(ctx.rejects),
        skipped_rows=sum(ctx.skipped.values()),
        rejects=_frame([*ctx.rejects, *problems]),
        kind=kind,
        inputs=inputs,
        events=events.counts(),
        investigations=investigations.counts(),
        skipped=dict(ctx.skipped),
        notes=_refused_note(dict(ctx.notes), events.links_refused + investigations.links_refused),
    )
