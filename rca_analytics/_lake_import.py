"""Import a Parquet lake (this store's, or another team's export) into a store.

Records are merged, never duplicated: events by ``(source, source_id)`` when they have
one, else by id; investigations by id. Both go through the bulk loader, so they are
validated exactly like any other input. A lake event whose source key is already
stored here under another id is the same event: the lake's links, reviews and
relations that name it are moved onto the stored id. Everything runs in one
transaction; everything not brought across is listed with its reason.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from . import _lake_read, _links, _loading
from ._data import Data
from ._reasons import Reason
from ._reports import Counts, OperationReport, rejects_frame
from .errors import CorruptStore, ReaderError
from .models import Event, Investigation, LinkMethod, utc_now

__all__ = ["LakeImport", "LakeImportReport", "import_lake"]

_METHODS = [m.value for m in LinkMethod]


#: Keys of the link, review and relation counts in earlier releases (still answered).
_RENAMED = {"imported": "stored", "existing": "unchanged", "rejected": "rejected_rows"}


@dataclass(kw_only=True, eq=False, repr=False)
class LakeImportReport(OperationReport):
    """What :meth:`Store.import_lake` did (the earlier name ``LakeImport`` still works).

    The counts (``stored``, ``updated``, ``unchanged``, ``rejected_rows``) are of records
    (events and investigations); links, reviews and relations have their own.

    Attributes:
        source: The lake folder.
        events: The events' :class:`~rca_analytics.LoadReport` (rows counted in the
            lake's scan order; ``record`` names the lake's id).
        investigations: The investigations' load report.
        remapped: Lake events that were already stored here under another id (same
            ``(source, source_id)``); what named them now names the stored event.
        links: ``read``, ``stored``, ``unchanged`` (the pair was linked here already:
            the stored link is kept), ``merged`` (another lake row names the same pair
            here once events are matched: the first is kept), ``refused`` (a reviewer
            here rejected the pair), ``rejected_rows`` (a side missing or not imported, a
            side soft-deleted on one side only, a bad value). They add up to ``read``.
        reviews: ``read``, ``stored``, ``unchanged`` (the pair was reviewed here: that
            verdict stays), ``merged``, ``conflicting`` (the lake rejects a pair that is
            linked here: the link stays), ``rejected_rows``.
        relations: ``read``, ``stored``, ``unchanged``, ``merged``, ``rejected_rows``.
        rejects: One row per record or link not brought across: ``where`` (``table row
            n``), ``record``, ``field``, ``code``, ``message``, ``value``, then ``table``,
            ``row`` (position in the lake table) and ``file`` (the Parquet file, for
            events).
        seconds: Wall time.
    """

    source: Path
    events: _loading.LoadReport
    investigations: _loading.LoadReport
    remapped: int = 0
    links: Counts
    reviews: Counts
    relations: Counts
    seconds: float = 0.0

    def _title(self) -> str:
        return f"imported lake {self.source}"

    def _label(self) -> str:
        return self.source.name

    def _lines(self) -> list[str]:
        lines = []
        for name, rep in (("investigations", self.investigations), ("events", self.events)):
            lines.append(
                f"  {name}: {rep.stored:,} stored, {rep.updated:,} updated, "
                f"{rep.unchanged:,} unchanged, {rep.rejected_rows:,} rejected"
            )
        if self.remapped:
            lines.append(f"  {self.remapped:,} events were stored here under another id")
        for name, counts in (
            ("links", self.links),
            ("reviews", self.reviews),
            ("relations", self.relations),
        ):
            lines.append(f"  {name}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        return lines

    def _repr_fields(self) -> dict[str, Any]:
        return {"links_stored": self.links["stored"]}


#: The earlier name of :class:`LakeImportReport`.
LakeImport = LakeImportReport


@contextlib.contextmanager
def _reading(root: Path) -> Iterator[None]:
    """Errors reading the rows of the lake's files, as a CorruptStore.

    A damaged page (the footers were checked), or values that do not convert to the
    types of the table's first file.
    """
    try:
        yield
    except (OSError, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
        raise CorruptStore(
            f"{root}: a lake file could not be read ({str(err)[:300]}); nothing was "
            "imported: export the lake again",
            path=root,
        ) from None


def _scanned(batches: Iterator[Any], root: Path) -> Iterator[Any]:
    """The batches of a scan of the lake (see :func:`_reading`)."""
    with _reading(root):
        yield from batches


def _batches(
    dataset: Any, model: Any, rows: int, files: list[tuple[int, str]], *, root: Path
) -> Iterator[tuple[int, pa.Table]]:
    """The lake table's stored fields in tables of about ``rows`` rows, numbered on.

    ``files`` gets ``(first row, file)`` each time the file the rows come from changes.
    """
    columns = [c for c in model.stored_fields() if c in dataset.schema.names]
    pending: list[pa.Table] = []
    size = first = 0
    scan = dataset.to_batches(columns=[*columns, "__filename"], batch_size=rows)
    for batch in _scanned(scan, root):
        names = batch.column(len(columns)).to_numpy(zero_copy_only=False)
        at = first + size
        for i in np.flatnonzero(np.r_[True, names[1:] != names[:-1]]) if len(names) else ():
            if not files or files[-1][1] != names[i]:
                files.append((at + int(i), str(names[i])))
        pending.append(pa.Table.from_batches([batch]).drop_columns(["__filename"]))
        size += batch.num_rows
        if size >= rows:
            yield first, _plain(pa.concat_tables(pending))
            first, size, pending = first + size, 0, []
    if pending or first == 0:
        schema = dataset.schema
        table = (
            pa.concat_tables(pending)
            if pending
            else pa.schema([schema.field(c) for c in columns]).empty_table()
        )
        yield first, _plain(table)


def _plain(table: pa.Table) -> pa.Table:
    """Partition keys come back dictionary-encoded: plain strings for the loader."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def _conformed(data: Data, name: str, dataset: Any) -> pa.Table:
    """A small lake table in the store's own column types, each row numbered (``_row``).

    Missing columns become NULL (the checks then name what is required); a column of
    another type is cast safely or refused; times without a zone are not guessed: the
    rows holding one are marked (``_naive``) and rejected.
    """
    table = _plain(dataset.to_table())
    want = data.arrow(f"SELECT * FROM {name} LIMIT 0").schema  # noqa: S608 - our tables
    columns: dict[str, Any] = {}
    naive = np.zeros(table.num_rows, bool)
    for target in want:
        if target.name not in table.schema.names:
            columns[target.name] = pa.nulls(table.num_rows, target.type)
            continue
        column = table.column(target.name)
        if pa.types.is_timestamp(column.type) and column.type.tz is None:
            naive |= ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), bool)
            columns[target.name] = pa.nulls(table.num_rows, target.type)
            continue
        try:
            if _lake_read.value_kind(column.type) != _lake_read.value_kind(target.type):
                raise TypeError("not the same kind of value")
            # sub-microsecond parts are dropped, as for events
            columns[target.name] = column.cast(target.type, safe=not pa.types.is_timestamp(
                target.type))  # fmt: skip
        except (TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise ReaderError(
                f"lake table {name}: column {target.name} is {column.type}, expected "
                f"{target.type} ({err}); nothing was imported"
            ) from None
    columns["_naive"] = pa.array(naive)
    columns["_row"] = pa.array(np.arange(table.num_rows), pa.int64())
    return pa.table(columns)


def _states(dataset: Any) -> pa.Table:
    """Each lake record's id once, and whether it is soft-deleted there."""
    names = dataset.schema.names if dataset is not None else []
    if "id" not in names:  # no ids: nothing can name these records
        return pa.table({"id": pa.array([], pa.string()), "deleted": pa.array([], pa.bool_())})
    table = _plain(dataset.to_table(columns=[c for c in ("id", "deleted_at") if c in names]))
    deleted = (
        table.column("deleted_at").is_valid()
        if "deleted_at" in names
        else pa.array([False] * table.num_rows)
    )
    return pa.table({"id": table.column("id").cast(pa.string()), "deleted": deleted})


def _file_finder(files: list[tuple[int, str]], root: Path) -> Any:
    """A function: event row → the lake file (relative to the lake) it came from."""
    starts = [f[0] for f in files]
    base = Path(os.path.abspath(root))

    def find(row: int) -> str | None:
        if not files:
            return None
        found = Path(files[max(bisect.bisect_right(starts, row) - 1, 0)][1])
        return str(found.relative_to(base)) if found.is_relative_to(base) else str(found)

    return find


def import_lake(
    data: Data,
    path: str | os.PathLike[str],
    *,
    on_duplicate: _loading.OnDuplicate = "skip",
    progress: bool | None = None,
) -> LakeImportReport:
    """See :meth:`Store.import_lake`."""
    started = time.perf_counter()
    root = Path(path)
    lake = _lake_read.lake_tables(root, doing="import it")
    now = utc_now()
    empty = _loading.LoadReport()
    reports = {"investigations": empty, "events": empty}
    rejects: list[tuple[Any, ...]] = []
    counts: dict[str, dict[str, int]] = {}
    files: list[tuple[int, str]] = []
    with _reading(root):
        states = {t: _states(lake[t]) for t in ("events", "investigations")}
    with data.transaction():
        for table, model in (("investigations", Investigation), ("events", Event)):
            data.execute(
                f"CREATE OR REPLACE TEMP TABLE _rca_map_{table} "
                "(input_id VARCHAR, stored_id VARCHAR, existed BOOLEAN)"
            )
            dataset = lake[table]
            if dataset is not None:
                reports[table] = _loading.load_chunks(
                    data,
                    model,
                    _batches(
                        dataset,
                        model,
                        _loading.BATCH_ROWS,
                        files if table == "events" else [],
                        root=root,
                    ),
                    total=dataset.count_rows(),
                    on_duplicate=on_duplicate,
                    progress=progress,
                    id_map=f"_rca_map_{table}",
                )
        [row] = data.rows(
            "SELECT count(*) AS n FROM _rca_map_events "
            "WHERE stored_id IS NOT NULL AND stored_id <> input_id"
        )
        with _reading(root):
            small = {
                f"_rca_lake_{t}": _conformed(data, t, lake[t])
                for t in ("links", "link_reviews", "investigation_relations")
                if lake[t] is not None
            }
        with data.registered(
            _rca_lake_event_states=states["events"],
            _rca_lake_investigation_states=states["investigations"],
            **small,
        ):
            data.execute(_SIDES_SQL)
            if "_rca_lake_link_reviews" in small:
                counts["reviews"] = _import_reviews(data, rejects)
            if "_rca_lake_links" in small:
                counts["links"] = _import_links(data, rejects, now)
            if "_rca_lake_investigation_relations" in small:
                counts["relations"] = _import_relations(data, rejects, now)
        for temp in ("_rca_map_events", "_rca_map_investigations", "_rca_sides"):
            data.execute(f"DROP TABLE temp.{temp}")
        data.log(
            "batch",
            str(root.resolve()),
            "bulk_insert",
            {
                "import_lake": str(root.resolve()),
                "events": reports["events"].stored,
                "investigations": reports["investigations"].stored,
                **{k: v["imported"] for k, v in counts.items()},
            },
        )
    file_of = _file_finder(files, root)
    problems = [  # (table, row, file, record, field, code, message, value)
        (*r, None) for r in rejects
    ]
    for table in ("investigations", "events"):
        loaded = reports[table].rejects
        for at, record, field_, code, message, value in zip(
            loaded["row"].tolist(),
            *(loaded[c].tolist() for c in ("record", "field", "code", "message", "value")),
            strict=True,
        ):
            file = file_of(int(at)) if table == "events" else None
            problems.append((table, int(at), file, record, field_, code, message, value))
    zero = dict.fromkeys(("read", "imported", "existing", "merged", "rejected"), 0)
    both = (reports["events"], reports["investigations"])
    return LakeImportReport(
        stored=sum(r.stored for r in both),
        updated=sum(r.updated for r in both),
        unchanged=sum(r.unchanged for r in both),
        rejected_rows=sum(r.rejected_rows for r in both),
        rejects=rejects_frame(
            (
                (f"{t} row {n}", rec, fld, code, msg, value, t, n, file)
                for t, n, file, rec, fld, code, msg, value in problems
            ),
            {"table": "str", "row": "Int64", "file": "str"},
        ).sort_values(["table", "row"], kind="stable", ignore_index=True),
        source=root,
        events=reports["events"],
        investigations=reports["investigations"],
        remapped=int(row["n"]),
        links=Counts.renamed_from(counts.get("links", {**zero, "refused": 0}), _RENAMED),
        reviews=Counts.renamed_from(counts.get("reviews", {**zero, "conflicting": 0}), _RENAMED),
        relations=Counts.renamed_from(counts.get("relations", zero), _RENAMED),
        seconds=time.perf_counter() - started,
    )


#: Every lake record's side here: the id it is stored as (NULL when it was not
#: imported), whether it is soft-deleted in the lake, and whether here.
_SIDES_SQL = """
    CREATE OR REPLACE TEMP TABLE _rca_sides AS
    SELECT 'event' AS kind, l.id AS lake_id, l.deleted AS lake_deleted,
           e.id AS here_id, e.deleted_at IS NOT NULL AS here_deleted, m.existed
    FROM (SELECT id, bool_or(deleted) AS deleted FROM _rca_lake_event_states
          WHERE id IS NOT NULL GROUP BY id) l
    LEFT JOIN (SELECT DISTINCT ON (input_id) * FROM _rca_map_events
               ORDER BY input_id, stored_id NULLS LAST) m ON m.input_id = l.id
    LEFT JOIN events e ON e.id = m.stored_id
    UNION ALL
    SELECT 'investigation', l.id, l.deleted, i.id, i.deleted_at IS NOT NULL, m.existed
    FROM (SELECT id, bool_or(deleted) AS deleted FROM _rca_lake_investigation_states
          WHERE id IS NOT NULL GROUP BY id) l
    LEFT JOIN (SELECT DISTINCT ON (input_id) * FROM _rca_map_investigations
               ORDER BY input_id, stored_id NULLS LAST) m ON m.input_id = l.id
    LEFT JOIN investigations i ON i.id = m.stored_id
"""


def _side_problem(column: str, kind: str, alias: str) -> str:
    """Why one side of a lake pair cannot come across, as ``code|message``."""
    name = f"'{kind} ''' || x.{column} || '''"
    return f"""
        WHEN x.{column} IS NULL THEN 'invalid_value|{column} is missing'
        WHEN {alias}.lake_id IS NULL THEN 'dangling_link|' || {name} is not in the lake'
        WHEN {alias}.here_id IS NULL
            THEN 'dangling_link|' || {name} was not imported (see its own row)'
        WHEN {alias}.lake_deleted AND NOT {alias}.here_deleted
            THEN 'deleted_in_lake|' || {name} is soft-deleted in the lake, active here'
        WHEN {alias}.here_deleted AND NOT {alias}.lake_deleted
            THEN 'deleted_here|' || {name} is soft-deleted here; restore it and import again'
    """


def _stage_pairs(data: Data, lake: str, left: str, right: str, extra: str) -> None:
    """Stage a lake pair table mapped onto ids here, with each row's problem (if any)."""
    kind = "event" if left == "event_id" else "investigation"
    data.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _rca_pairs AS
        SELECT x.*, a.here_id AS here_left, b.here_id AS here_right,
               a.existed AS left_existed, b.existed AS right_existed,
               CASE
                   WHEN x._naive THEN 'naive_datetime|a time has no time zone; write '
                       || 'UTC-aware timestamps'
                   {_side_problem(left, kind, "a")}
                   {_side_problem(right, "investigation", "b")}
                   {extra}
               END AS problem
        FROM {lake} x
        LEFT JOIN _rca_sides a ON a.kind = '{kind}' AND a.lake_id = x.{left}
        LEFT JOIN _rca_sides b ON b.kind = 'investigation' AND b.lake_id = x.{right}
        """  # noqa: S608 - names from this module
    )


def _report(data: Data, table: str, sql: str, rejects: list[tuple[Any, ...]]) -> int:
    """Add the rows of ``sql`` to the rejects of ``table``; return how many.

    ``sql`` selects ``_row, file, record, field, code, message``.
    """
    rows = data.rows(sql)
    rejects.extend((table, *r.values()) for r in rows)
    return len(rows)


def _take_bad(data: Data, table: str, record: str, rejects: list[tuple[Any, ...]]) -> int:
    """Report the staged rows with a problem; return how many."""
    return _report(
        data,
        table,
        f"SELECT _row, NULL AS file, {record} AS record, NULL AS field, "  # noqa: S608
        "split_part(problem, '|', 1) AS code, "
        "substr(problem, length(split_part(problem, '|', 1)) + 2) AS message "
        "FROM _rca_pairs WHERE problem IS NOT NULL ORDER BY _row",
        rejects,
    )


def _take_merged(
    data: Data, table: str, record: str, order: str, rejects: list[tuple[Any, ...]]
) -> int:
    """Keep one good row per pair here (the first by ``order``); report the others."""
    data.execute(
        "CREATE OR REPLACE TEMP TABLE _rca_good AS SELECT *, row_number() OVER ("  # noqa: S608
        f"PARTITION BY here_left, here_right ORDER BY {order}, _row) AS _k "
        "FROM _rca_pairs WHERE problem IS NULL"
    )
    merged = _report(
        data,
        table,
        f"SELECT _row, NULL AS file, {record} AS record, NULL AS field, "  # noqa: S608
        "'same_pair' AS code, 'another row of the lake names the same pair here (once "
        "events are matched by source key); the first was taken' AS message "
        "FROM _rca_good WHERE _k > 1 ORDER BY _row",
        rejects,
    )
    data.execute("DELETE FROM _rca_good WHERE _k > 1")
    return merged


_LINK_RECORD = "event_id || ' -> ' || investigation_id"
_G_RECORD = "g.event_id || ' -> ' || g.investigation_id"
_METHOD_LIST = ", ".join(f"'{m}'" for m in _METHODS)
#: Checks of a link's or review's own values (NULLs are checked where required).
_VALUE_CHECKS = f"""
    WHEN x.method IS NOT NULL AND x.method NOT IN ({_METHOD_LIST})
        THEN 'invalid_value|method must be one of {", ".join(_METHODS)}'
    WHEN x.confidence IS NOT NULL AND NOT x.confidence BETWEEN 0 AND 1
        THEN 'invalid_value|confidence must be between 0 and 1'
"""


def _staged_links(
    data: Data, table: str, rejects: list[tuple[Any, ...]], checks: str, order: str
) -> tuple[int, int, int, int]:
    """Stage the lake's links or reviews in ``_rca_good``: (read, existing, bad, merged).

    ``existing``: good pairs already in ``table`` here.
    """
    _stage_pairs(data, f"_rca_lake_{table}", "event_id", "investigation_id",
                 _VALUE_CHECKS + checks)  # fmt: skip
    bad = _take_bad(data, table, _LINK_RECORD, rejects)
    merged = _take_merged(data, table, _LINK_RECORD, order, rejects)
    [row] = data.rows(
        "SELECT (SELECT count(*) FROM _rca_pairs) AS read, (SELECT count(*) FROM _rca_good g "  # noqa: S608
        f"SEMI JOIN {table} t ON t.event_id = g.here_left "
        "AND t.investigation_id = g.here_right) AS existing"
    )
    return int(row["read"]), int(row["existing"]), bad, merged


def _import_reviews(data: Data, rejects: list[tuple[Any, ...]]) -> dict[str, int]:
    table = "link_reviews"
    read, existing, bad, merged = _staged_links(
        data,
        table,
        rejects,
        "WHEN x.accepted IS NULL THEN 'invalid_value|accepted must be true or false' "
        "WHEN x.reviewed_at IS NULL THEN 'invalid_value|reviewed_at is missing'",
        "reviewed_at DESC",  # the latest verdict
    )
    conflicting = _report(
        data,
        table,
        f"SELECT g._row, NULL AS file, {_G_RECORD} AS record, NULL AS field, "  # noqa: S608
        "'review_conflicts_link' AS code, "
        "'the lake rejects a link that is kept here (method ' || l.method || "
        "'); review it here with label_link()' AS message "
        "FROM _rca_good g JOIN links l ON l.event_id = g.here_left "
        "AND l.investigation_id = g.here_right "
        "WHERE NOT g.accepted AND NOT EXISTS (SELECT 1 FROM link_reviews r "
        "WHERE r.event_id = g.here_left AND r.investigation_id = g.here_right) "
        "ORDER BY g._row",
        rejects,
    )
    [before] = data.rows("SELECT count(*) AS n FROM link_reviews")
    data.execute(
        "INSERT INTO link_reviews (event_id, investigation_id, accepted, reviewed_at, "
        "reviewed_by, note, confidence, method, reasons) "
        "SELECT here_left, here_right, accepted, reviewed_at, reviewed_by, note, "
        "confidence, method, coalesce(reasons, []) FROM _rca_good g "
        "WHERE NOT EXISTS (SELECT 1 FROM link_reviews r WHERE r.event_id = g.here_left "
        "AND r.investigation_id = g.here_right) "
        "AND (g.accepted OR NOT EXISTS (SELECT 1 FROM links l "
        "WHERE l.event_id = g.here_left AND l.investigation_id = g.here_right))"
    )
    [after] = data.rows("SELECT count(*) AS n FROM link_reviews")
    for temp in ("_rca_good", "_rca_pairs"):
        data.execute(f"DROP TABLE temp.{temp}")
    return {
        "read": read,
        "imported": int(after["n"]) - int(before["n"]),
        "existing": existing,
        "merged": merged,
        "conflicting": conflicting,
        "rejected": bad,
    }


def _import_links(data: Data, rejects: list[tuple[Any, ...]], now: Any) -> dict[str, int]:
    table = "links"
    read, existing, bad, merged = _staged_links(
        data,
        table,
        rejects,
        "WHEN x.method IS NULL THEN 'invalid_value|method is missing' "
        "WHEN x.confidence IS NULL THEN 'invalid_value|confidence is missing' "
        "WHEN x.linked_at IS NULL THEN 'invalid_value|linked_at is missing'",
        "linked_at",  # the first link
    )
    # Through the one link writer: a stored link is kept, a reviewer's rejection holds,
    # records that were here before the import gain the link (their updated_at moves).
    written = _links.write_links(
        data,
        'SELECT _row AS "row", here_left AS event_id, here_right AS investigation_id, '
        "confidence, method, coalesce(reasons, []) AS reasons, linked_at, "
        "left_existed AS touch_event, right_existed AS touch_investigation FROM _rca_good",
        who="bulk",
        now=now,
    )
    refused = written.rows[written.rows["outcome"] == "refused"]
    names = {
        int(r["_row"]): r["record"]
        for r in data.rows(
            f"SELECT _row, {_G_RECORD} AS record FROM _rca_good g "  # noqa: S608
            "WHERE list_contains(?, _row)",
            [[int(x) for x in refused["row"]]],
        )
    }
    rejects.extend(
        (
            table,
            int(row),
            None,
            names[int(row)],
            None,
            Reason.REJECTED_BY_REVIEW,
            "a reviewer rejected this pair"
            + (f" ({by})" if isinstance(by, str) else "")
            + "; accept it with label_link() to link it",
        )
        for row, by in zip(refused["row"], refused["reviewed_by"], strict=True)
    )
    for temp in ("_rca_good", "_rca_pairs"):
        data.execute(f"DROP TABLE temp.{temp}")
    return {
        "read": read,
        "imported": written.counts["linked"],
        "existing": existing,
        "merged": merged,
        "refused": len(refused),
        "rejected": bad,
    }


def _touch(data: Data, now: Any, *sides: tuple[str, str, str]) -> None:
    """Records that were here before and gained a link or relation changed (their lists)."""
    for table, column, existed in sides:
        data.execute(
            f"UPDATE {table} SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, "  # noqa: S608
            f"$now) WHERE id IN (SELECT {column} FROM _rca_new WHERE {existed})",
            {"now": now},
        )


def _import_relations(data: Data, rejects: list[tuple[Any, ...]], now: Any) -> dict[str, int]:
    table = "investigation_relations"
    record = "investigation_id || ' ~ ' || related_investigation_id"
    _stage_pairs(
        data,
        "_rca_lake_investigation_relations",
        "investigation_id",
        "related_investigation_id",
        "WHEN a.here_id = b.here_id "
        "THEN 'invalid_value|an investigation cannot be related to itself'",
    )
    bad = _take_bad(data, table, record, rejects)
    data.execute(  # a relation has no direction: (a, b) and (b, a) are one pair
        "UPDATE _rca_pairs SET here_left = least(here_left, here_right), "
        "here_right = greatest(here_left, here_right), "
        "left_existed = CASE WHEN here_left <= here_right THEN left_existed "
        "ELSE right_existed END, "
        "right_existed = CASE WHEN here_left <= here_right THEN right_existed "
        "ELSE left_existed END"
    )
    merged = _take_merged(data, table, record, "related_at", rejects)
    [read] = data.rows("SELECT count(*) AS n FROM _rca_pairs")
    [existing] = data.rows(
        "SELECT count(*) AS n FROM _rca_good g SEMI JOIN investigation_relations r "
        "ON r.investigation_id = g.here_left AND r.related_investigation_id = g.here_right"
    )
    data.execute(
        "CREATE OR REPLACE TEMP TABLE _rca_new AS SELECT * FROM _rca_good g "
        "WHERE NOT EXISTS (SELECT 1 FROM investigation_relations r "
        "WHERE r.investigation_id = g.here_left AND r.related_investigation_id = g.here_right)"
    )
    data.execute(
        "INSERT INTO investigation_relations (investigation_id, related_investigation_id, "
        "related_at) SELECT here_left, here_right, coalesce(related_at, $now) FROM _rca_new",
        {"now": now},
    )
    _touch(data, now, ("investigations", "here_left", "left_existed"),
           ("investigations", "here_right", "right_existed"))  # fmt: skip
    [new] = data.rows("SELECT count(*) AS n FROM _rca_new")
    for temp in ("_rca_new", "_rca_good", "_rca_pairs"):
        data.execute(f"DROP TABLE temp.{temp}")
    return {
        "read": int(read["n"]),
        "imported": int(new["n"]),
        "existing": int(existing["n"]),
        "merged": merged,
        "rejected": bad,
    }
