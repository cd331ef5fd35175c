"""Import of the earlier system's SQLite store into a store, in one transaction.

Records go through the bulk loader (same validation as everything else; duplicates
skipped, so a second import adds nothing); links and relations named by either side are
deduplicated and written with method ``import``; everything that could not come across
is listed in the returned report and in the store's ``import_rejects`` table.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from . import _links, _loading
from ._data import Data
from ._reports import Counts, OperationReport, rejects_frame
from .errors import Failure
from .ingest.sqlite_legacy import LegacyFile, Table
from .models import Event, ImportReject, Investigation, LinkMethod, utc_now

__all__ = ["ImportReport", "SqliteImportReport", "import_sqlite"]

#: Rows read from the earlier store at a time.
BATCH_ROWS = 100_000


#: Keys of the per-table and per-link counts in earlier releases (still answered).
_RENAMED_TABLE = {"imported": "stored", "duplicates": "unchanged", "rejected": "rejected_rows"}
_RENAMED_PAIRS = {
    "named": "read",
    "imported": "stored",
    "existing": "unchanged",
    "dangling": "rejected_rows",
}


@dataclass(kw_only=True, eq=False, repr=False)
class SqliteImportReport(OperationReport):
    """What :meth:`Store.import_sqlite` did (the earlier name ``ImportReport`` still works).

    The counts (``stored``, ``unchanged``, ``rejected_rows``) are of records (events and
    investigations); links and relations have their own.

    Attributes:
        source: The file imported.
        tables: Per table (``events``, ``investigations``): rows ``read``, ``stored``,
            ``unchanged`` (already in the store), ``rejected_rows``.
        links: ``read`` (distinct pairs named by either side), ``stored``, ``unchanged``
            (already in the store), ``rejected_rows`` (a side is missing: dropped).
        relations: The same for relations between investigations.
        naive_times: Timestamps without an offset, taken as UTC.
        rejects: One row per problem: ``where`` (the table of the earlier file),
            ``record`` (its id there), ``field``, ``code``, ``message``, ``value``, and the
            earlier columns ``table`` and ``id`` (also kept in the store's
            ``import_rejects`` table).
    """

    source: str
    tables: dict[str, Counts]
    links: Counts
    relations: Counts
    naive_times: int = 0

    def _title(self) -> str:
        return f"imported {self.source}"

    def _label(self) -> str:
        return Path(self.source).name

    def _lines(self) -> list[str]:
        lines = [
            f"  {table}: {c['read']:,} read, {c['stored']:,} stored, "
            f"{c['unchanged']:,} unchanged, {c['rejected_rows']:,} rejected"
            for table, c in self.tables.items()
        ]
        for name, c in (("links", self.links), ("relations", self.relations)):
            lines.append(
                f"  {name}: {c['read']:,} named, {c['stored']:,} stored, "
                f"{c['unchanged']:,} unchanged, {c['rejected_rows']:,} dangling (dropped)"
            )
        if self.naive_times:
            lines.append(f"  {self.naive_times:,} timestamps had no offset and were taken as UTC")
        return lines

    def _repr_fields(self) -> dict[str, Any]:
        return {"links_stored": self.links["stored"]}


#: The earlier name of :class:`SqliteImportReport`.
ImportReport = SqliteImportReport


def import_sqlite(
    data: Data, path: str | os.PathLike[str], *, progress: bool | None = None
) -> SqliteImportReport:
    """See :meth:`Store.import_sqlite`."""
    source = str(Path(path).resolve())
    now = utc_now()
    with LegacyFile(path) as old:
        totals = {t: old.estimate(t) for t in ("investigations", "events")}
        bar = _loading.progress_bar(sum(totals.values()), progress, "import_sqlite")
        read = _Read()
        try:
            with data.transaction():
                order: tuple[tuple[Table, type[Investigation] | type[Event]], ...] = (
                    ("investigations", Investigation),
                    ("events", Event),
                )
                for table, model in order:
                    if table in old.columns:  # a first-generation file has no events table
                        read.tables[table] = _load_table(data, old, table, model, read, bar)
                link_counts = _import_links(data, read.links, now, read.rejects, read.fresh)
                relation_counts = _relations(data, read.relations, now, read.rejects)
                _keep_rejects(data, source, read.rejects, now)
        finally:
            if bar is not None:
                bar.close()
    tables = {t: Counts.renamed_from(c, _RENAMED_TABLE) for t, c in read.tables.items()}
    return SqliteImportReport(
        stored=sum(c["stored"] for c in tables.values()),
        unchanged=sum(c["unchanged"] for c in tables.values()),
        rejected_rows=sum(c["rejected_rows"] for c in tables.values()),
        rejects=rejects_frame(
            (
                (t, f.record, f.field, f.code, f.message, f.value, t, f.record)
                for t, f in read.rejects
            ),
            {"table": "str", "id": "str"},
        ),
        source=source,
        tables=tables,
        links=Counts.renamed_from(link_counts, _RENAMED_PAIRS),
        relations=Counts.renamed_from(relation_counts, _RENAMED_PAIRS),
        naive_times=read.naive,
    )


@dataclass
class _Read:
    """What the import has gathered so far."""

    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects: list[tuple[str, Failure]] = field(default_factory=list)
    links: dict[tuple[str, str], Any] = field(default_factory=dict)
    relations: set[tuple[str, str]] = field(default_factory=set)
    #: The records this import stored (not those it found already stored).
    fresh: set[str] = field(default_factory=set)
    naive: int = 0


def _load_table(
    data: Data,
    old: LegacyFile,
    table: Table,
    model: type[Event] | type[Investigation],
    read: _Read,
    bar: Any,
) -> dict[str, int]:
    """Load one table through the bulk loader (read, validate and store overlap)."""
    ids: list[str] = []  # the earlier id of every row handed to the loader, in order
    rejected: set[str] = set()
    links: list[tuple[str, str, Any]] = []
    relations: list[tuple[str, str]] = []
    rows = 0

    def chunks() -> Iterator[tuple[int, pd.DataFrame]]:
        nonlocal rows
        for batch in old.batches(table, BATCH_ROWS):
            first = len(ids)
            ids.extend(batch.ids)
            rows += batch.rows
            read.naive += batch.naive_times
            rejected.update(f.record for f in batch.rejects if isinstance(f.record, str))
            read.rejects.extend((table, f) for f in batch.rejects)
            links.extend(batch.links)
            relations.extend(batch.relations)
            if bar is not None:
                bar.update(batch.rows)
            yield first, batch.frame

    report = _loading.load_chunks(data, model, chunks(), on_duplicate="skip", progress=False)
    for row, fld, code, message, value in zip(
        report.rejects["row"].tolist(),
        report.rejects["field"].tolist(),
        report.rejects["code"].tolist(),
        report.rejects["message"].tolist(),
        report.rejects["value"].tolist(),
        strict=True,
    ):
        legacy_id = ids[int(row)]
        rejected.add(legacy_id)
        field_name = fld if isinstance(fld, str) else None
        shown = value if isinstance(value, str) else None
        read.rejects.append((table, Failure(legacy_id, field_name, str(code), str(message), shown)))
    stored_before = set(report.duplicate_rows["row"].tolist())
    read.fresh.update(x for i, x in enumerate(ids) if i not in stored_before and x not in rejected)
    side = 0 if table == "events" else 1  # which side of a link this table's row is
    for event_id, inv_id, at in links:
        if (event_id, inv_id)[side] in rejected:
            continue
        if read.links.get((event_id, inv_id)) is None:  # a time wins over none
            read.links[(event_id, inv_id)] = at
    read.relations.update(
        (a, b) if a < b else (b, a) for a, b in relations if a not in rejected and a != b
    )
    return {
        "read": rows,
        "imported": report.stored,
        "duplicates": report.unchanged,
        "rejected": len(rejected),
    }


def _existing(data: Data, table: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` are records of ``table`` (soft-deleted ones too)."""
    if not ids:
        return set()
    con = data.connection()
    con.register("_rca_ids", pa.table({"id": pa.array(sorted(ids), pa.string())}))
    try:
        rows = data.rows(
            f"SELECT t.id FROM {table} t SEMI JOIN _rca_ids i ON i.id = t.id"  # noqa: S608
        )
    finally:
        con.unregister("_rca_ids")
    return {r["id"] for r in rows}


def _import_links(
    data: Data,
    pairs: dict[tuple[str, str], Any],
    now: dt.datetime,
    rejects: list[tuple[str, Failure]],
    fresh: set[str],
) -> dict[str, int]:
    """Write the links named by either side (once), dropping those with a missing side.

    ``fresh``: the records this import stored (their ``updated_at`` is not moved).
    """
    events = _existing(data, "events", {e for e, _ in pairs})
    investigations = _existing(data, "investigations", {i for _, i in pairs})
    good: list[tuple[str, str, Any]] = []
    dangling = 0
    for (event_id, inv_id), at in pairs.items():
        missing = []
        if event_id not in events:
            missing.append(f"event {event_id!r}")
        if inv_id not in investigations:
            missing.append(f"investigation {inv_id!r}")
        if missing:
            dangling += 1
            rejects.append(
                (
                    "links",
                    Failure(
                        f"{event_id}->{inv_id}",
                        None,
                        "dangling_link",
                        f"{' and '.join(missing)} not found; link dropped",
                    ),
                )
            )
            continue
        good.append((event_id, inv_id, at))
    existing = 0
    imported = 0
    if good:
        table = pa.table(
            {
                "event_id": pa.array([g[0] for g in good], pa.string()),
                "investigation_id": pa.array([g[1] for g in good], pa.string()),
                "linked_at": pa.array([g[2] for g in good], pa.string()),
                # records this import has just written keep the times they carry
                "touch_event": pa.array([g[0] not in fresh for g in good], pa.bool_()),
                "touch_investigation": pa.array([g[1] not in fresh for g in good], pa.bool_()),
            }
        )
        with data.registered(_rca_import_links=table):
            written = _links.write_links(
                data,
                'SELECT row_number() OVER () AS "row", event_id, investigation_id, '
                "1.0::DOUBLE AS confidence, $method AS method, "
                "['imported from the earlier store'] AS reasons, "
                "coalesce(TRY_CAST(linked_at AS TIMESTAMPTZ), $now) AS linked_at, "
                "touch_event, touch_investigation FROM _rca_import_links",
                params={"method": LinkMethod.IMPORT.value, "now": now},
                who="bulk",
                now=now,
            )
        imported = written.counts["linked"]
        existing = len(good) - imported
    return {
        "named": len(pairs),
        "imported": imported,
        "existing": int(existing),
        "dangling": dangling,
    }


def _relations(
    data: Data, pairs: set[tuple[str, str]], now: dt.datetime, rejects: list[tuple[str, Failure]]
) -> dict[str, int]:
    investigations = _existing(data, "investigations", {x for p in pairs for x in p})
    good = [p for p in sorted(pairs) if p[0] in investigations and p[1] in investigations]
    for a, b in sorted(set(pairs) - set(good)):
        rejects.append(
            (
                "investigations",
                Failure(
                    a,
                    "related_investigation_ids",
                    "dangling_link",
                    f"related investigation {b!r} or {a!r} not found; relation dropped",
                    b,
                ),
            )
        )
    existing = 0
    if good:
        con = data.connection()
        con.register(
            "_rca_import_rel",
            pa.table({"a": [p[0] for p in good], "b": [p[1] for p in good]}),
        )
        try:
            existing = data.rows(
                "SELECT count(*) AS n FROM _rca_import_rel n SEMI JOIN investigation_relations r "
                "ON r.investigation_id = n.a AND r.related_investigation_id = n.b"
            )[0]["n"]
            data.execute(
                "INSERT INTO investigation_relations SELECT n.a, n.b, ? FROM _rca_import_rel n "
                "ANTI JOIN investigation_relations r ON r.investigation_id = n.a "
                "AND r.related_investigation_id = n.b",
                [now],
            )
        finally:
            con.unregister("_rca_import_rel")
    return {
        "named": len(pairs),
        "imported": len(good) - int(existing),
        "existing": int(existing),
        "dangling": len(pairs) - len(good),
    }


def _keep_rejects(
    data: Data, source: str, rejects: list[tuple[str, Failure]], now: dt.datetime
) -> None:
    """Store the rejects (a reject already kept from an earlier run is not kept twice)."""
    if not rejects:
        return
    rows = [
        ImportReject(
            source=source,
            table_name=t,
            record_id=f.record,
            field=f.field,
            code=f.code,
            message=f.message,
            imported_at=now,
        )
        for t, f in rejects
    ]
    con = data.connection()
    con.register(
        "_rca_rejects",
        pa.table(
            {
                "source": [r.source for r in rows],
                "table_name": [r.table_name for r in rows],
                "record_id": pa.array([r.record_id for r in rows], pa.string()),
                "field": pa.array([r.field for r in rows], pa.string()),
                "code": [r.code for r in rows],
                "message": [r.message for r in rows],
                "imported_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    try:
        data.execute(
            "INSERT INTO import_rejects SELECT n.* FROM _rca_rejects n ANTI JOIN import_rejects "
            "o ON o.source = n.source AND o.table_name = n.table_name "
            "AND o.record_id IS NOT DISTINCT FROM n.record_id "
            "AND o.field IS NOT DISTINCT FROM n.field AND o.code = n.code"
        )
    finally:
        con.unregister("_rca_rejects")
