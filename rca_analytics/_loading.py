"""Bulk loading: validated batches into the store, columnar, in one transaction.

Each batch is validated by :mod:`rca_analytics._bulk`, registered with DuckDB as an
Arrow table, classified in one SQL pass (new, duplicate of a stored record, duplicate
within the input, conflicting id, unknown linked record) and written with one
``INSERT ... SELECT`` per table. Uniqueness of ``id`` and ``(source, source_id)`` is
enforced here, inside the write transaction, instead of by DuckDB indexes.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _bulk, _links
from ._data import Data
from ._reasons import Reason
from ._reports import OperationReport, rejects_frame
from ._summaries import derived_sql
from .errors import DuplicateRecord, Failure
from .models import Event, Investigation, LinkMethod, Record, utc_now
from .schema import quote

__all__ = ["LoadReport", "OnDuplicate", "load"]

OnDuplicate = Literal["skip", "raise", "update"]

#: Rows per validated batch; bounds the memory a load needs beyond its input.
BATCH_ROWS = 500_000
#: Loads at least this large show a progress bar unless told otherwise.
PROGRESS_ROWS = 50_000

_DUPLICATE_TYPES = {"row": "int64", "existing_id": "str", "first_row": "Int64"}


def _empty_duplicates() -> pd.DataFrame:
    return pd.DataFrame({"row": [], "existing_id": [], "first_row": []}).astype(_DUPLICATE_TYPES)


@dataclass(kw_only=True, eq=False, repr=False)
class LoadReport(OperationReport):
    """What a bulk load did (``Store.add_events``, ``Store.add_investigations``).

    Every input row is counted once: ``stored + updated + unchanged + rejected_rows`` is
    the number of input rows.

    Attributes:
        stored: Records stored (new).
        updated: Input rows that changed a stored record (``on_duplicate="update"``).
        unchanged: Input rows whose key was already stored or appeared elsewhere in the
            input, and that changed nothing (duplicates).
        rejected_rows: Input rows rejected (a row may have several problems).
        skipped_rows: Always 0 (a load leaves nothing out on purpose).
        rejects: One row per problem of every rejected input row: ``where`` (the row
            number, as text), ``record`` (id or key when known), ``field``, ``code``,
            ``message``, ``value``, and ``row`` (the position in the input, a number).
            Valid rows were stored regardless.
        duplicate_rows: ``row``, ``existing_id`` (the stored record, or None) and
            ``first_row`` (the earlier input row with the same key, or None).
        links_refused: Links the rows name that were not made because a reviewer
            rejected those pairs (see ``Store.reviews()``; the rows themselves were
            stored).
    """

    duplicate_rows: pd.DataFrame = field(default_factory=_empty_duplicates, repr=False)
    links_refused: int = 0

    @property
    def inserted(self) -> int:
        """Deprecated: ``stored``."""
        warnings.warn(
            "LoadReport.inserted is now LoadReport.stored", DeprecationWarning, stacklevel=2
        )
        return self.stored

    @property
    def duplicates(self) -> int:
        """Deprecated: ``unchanged``."""
        warnings.warn(
            "LoadReport.duplicates is now LoadReport.unchanged", DeprecationWarning, stacklevel=2
        )
        return self.unchanged

    @property
    def rejected(self) -> pd.DataFrame:
        """The earlier name of ``rejects`` (the same frame)."""
        return self.rejects

    def _title(self) -> str:
        return "load"

    def _repr_fields(self) -> dict[str, Any]:
        return {"links_refused": self.links_refused} if self.links_refused else {}


def progress_bar(total: int | None, enabled: bool | None, what: str) -> Any:
    """A tqdm bar: forced on or off, or (None) on for large loads in a terminal or notebook."""
    if enabled is None and (
        os.environ.get("RCA_PROGRESS", "1") == "0" or (total or 0) < PROGRESS_ROWS
    ):
        return None
    if enabled is False:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm.auto may warn about missing ipywidgets
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="rows", desc=what, disable=None if enabled is None else False)


def _validated(
    model: type[Record], chunks: Iterable[tuple[int, Any]], now: Any
) -> Iterator[_bulk.Validated]:
    """Validated batches, the next one validated while the caller stores this one.

    DuckDB works without the GIL, so validation and storage overlap on two cores.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rca-validate") as pool:
        pending = None
        for first, chunk in chunks:
            job = pool.submit(_bulk.validate, model, chunk, now=now, first_row=first)
            if pending is not None:
                yield pending.result()
            pending = job
        if pending is not None:
            yield pending.result()


def load(
    data: Data,
    model: type[Record],
    records: Any,
    *,
    on_duplicate: OnDuplicate = "skip",
    progress: bool | None = None,
    batch_rows: int | None = None,
) -> LoadReport:
    """Validate and store many records; see :meth:`Store.add_events`."""
    return load_chunks(
        data,
        model,
        _bulk.chunks(records, batch_rows or BATCH_ROWS),
        total=_bulk.row_count(records),
        on_duplicate=on_duplicate,
        progress=progress,
    )


def load_chunks(
    data: Data,
    model: type[Record],
    chunks: Iterable[tuple[int, Any]],
    *,
    total: int | None = None,
    on_duplicate: OnDuplicate = "skip",
    progress: bool | None = None,
    link_method: str = "manual",
    on_batch: Callable[[list[Failure]], None] | None = None,
    id_map: str | None = None,
) -> LoadReport:
    """:func:`load` for input that arrives in batches: ``(first row, batch)`` pairs.

    Rows are numbered across batches (``first row`` of each batch counts on from the
    rows before it), as if the batches were one input. Links the rows name are written
    with ``link_method`` (confidence 1). With ``on_batch``, each batch's problems go to
    it once the batch is stored (in input order) instead of into the report, whose
    ``rejected`` and ``duplicate_rows`` then stay empty (``duplicates`` still counts):
    memory does not grow with the input. With ``id_map`` (a temp table with columns
    ``input_id``, ``stored_id``, ``existed``), every stored or duplicate row's input id
    is added with the id of the record it is stored as (NULL when it was refused) and
    whether that record was stored before.
    """
    if on_duplicate not in ("skip", "raise", "update"):
        raise ValueError(f"on_duplicate must be 'skip', 'raise' or 'update', not {on_duplicate!r}")
    now = utc_now()
    failures: list[Failure] = []
    dup_frames: list[pd.DataFrame] = []
    inserted = updated = duplicates = refused = 0
    bar = progress_bar(total, progress, f"add_{model.__name__.lower()}s")
    try:
        with data.write():
            for batch in _validated(model, chunks, now):
                problems = list(batch.failures)
                if batch.table.num_rows:
                    ins, upd, dups, rejects, no_link = _store_batch(
                        data,
                        model,
                        batch.table,
                        on_duplicate,
                        now,
                        batch.given,
                        link_method,
                        id_map,
                    )
                    refused += no_link
                    inserted += ins
                    updated += upd
                    duplicates += len(dups)
                    problems.extend(rejects)
                    if on_batch is None:
                        dup_frames.append(dups)
                if on_batch is None:
                    failures.extend(problems)
                else:
                    on_batch(problems)
                if bar is not None:
                    bar.update(batch.table.num_rows + len({f.record for f in batch.failures}))
    finally:
        if bar is not None:
            bar.close()
    problems_frame = rejects_frame(
        ((f.row, f.record, f.field, f.code, f.message, f.value, f.row) for f in failures),
        {"row": "int64"},
    ).sort_values("row", kind="stable", ignore_index=True)
    duplicate_rows = (
        pd.concat(dup_frames, ignore_index=True).astype(_DUPLICATE_TYPES)
        if dup_frames
        else _empty_duplicates()
    )
    return LoadReport(
        stored=inserted,
        updated=updated,
        unchanged=duplicates,
        rejected_rows=int(problems_frame["row"].nunique()),
        rejects=problems_frame,
        duplicate_rows=duplicate_rows,
        links_refused=refused,
    )


def printable(value: Any) -> Any:
    """Text that can be shown and stored: lone surrogates become backslash escapes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _store_batch(
    data: Data,
    model: type[Record],
    table: pa.Table,
    on_duplicate: OnDuplicate,
    now: Any,
    given: frozenset[str],
    link_method: str = "manual",
    id_map: str | None = None,
) -> tuple[int, int, pd.DataFrame, list[Failure], int]:
    """Write one batch; returns (inserted, updated, duplicates, rejects, links refused)."""
    name = "events" if model is Event else "investigations"
    link_columns = [c for c in _LINK_CHECKS[model] if _has_items(table, c[0])]
    rejects: list[Failure] = []
    if link_columns:  # rows naming unknown records leave the batch before anything else
        with data.registered(_rca_batch=table):
            rejects = _unknown_links(data, link_columns)
        if rejects:
            bad = pa.array(sorted({f.row for f in rejects if f.row is not None}), pa.int64())
            table = table.filter(pc.invert(pc.is_in(table.column("_row"), value_set=bad)))
    if model is Event:
        table = _with_summaries(data, table)
    with data.registered(_rca_batch=table):
        repeats = data.frame(_repeats_sql(model))["n"].iloc[0] > 0
        data.execute(_plan_sql(model, name, on_duplicate, repeats=bool(repeats)))
        odd = data.frame(
            "SELECT _row, id, action, existing_id, existing_deleted, winner FROM _rca_plan "
            "ORDER BY _row"
        )
        conflicts = odd[odd["action"] == "conflict"]
        rejects += [
            Failure(
                str(i),
                "id",
                Reason.DUPLICATE_ID,
                f"id {i!r} is taken by another record (stored, or earlier in the input); "
                "leave id empty to get a new one",
                i,
                row=int(r),
            )
            for r, i in conflicts[["_row", "id"]].itertuples(index=False)
        ]
        dup = odd[odd["action"].isin(["duplicate", "update"])]
        if on_duplicate == "raise" and len(dup):
            first = dup.iloc[0]
            owner = first["existing_id"] if pd.notna(first["existing_id"]) else None
            raise DuplicateRecord(
                f"{len(dup)} input row(s) duplicate stored records or earlier rows (first: "
                f"row {int(first['_row'])}, "
                + (f"stored as {owner!r})" if owner else f"same as row {int(first['winner'])})")
                + "; nothing was stored. Use on_duplicate='skip' or 'update'",
                existing_id=owner or "",
                key={"row": int(first["_row"])},
                deleted=bool(first["existing_deleted"]),
            )
        in_order = model is not Event or _ascending(table.column("timestamp"))
        inserted = _insert(data, model, name, table.num_rows - len(odd), in_order)
        changed: set[int] = set()
        if (dup["action"] == "update").any():
            changed = _update(data, model, name, now, given)
        refused = 0
        if link_columns:
            refused = _write_links(data, model, now, link_method)
        if id_map is not None:
            data.execute(_ID_MAP_SQL.format(table=id_map))
        data.execute("DROP TABLE IF EXISTS temp._rca_plan")  # leave no working tables
    if inserted or changed:
        data.log(
            "batch",
            str(uuid.uuid4()),
            "bulk_insert",
            {
                "table": name,
                "inserted": inserted,
                "updated": len(changed),
                "duplicates": len(dup) - len(changed),
                "links_refused": refused,
            },
        )
    dup = dup[~dup["_row"].isin(changed)]  # rows that changed a stored record are updates
    in_input = dup["existing_id"].isna()
    dups = pd.DataFrame(
        {
            "row": dup["_row"].astype("int64"),
            "existing_id": dup["existing_id"],
            "first_row": dup["winner"].where(in_input).astype("Int64"),
        }
    )
    return inserted, len(changed), dups, rejects, refused


#: Each batch row's id → the stored record it became (see ``load_chunks(id_map=)``).
_ID_MAP_SQL = """
    INSERT INTO {table} (input_id, stored_id, existed)
    SELECT b.id,
           CASE
               WHEN p._row IS NULL THEN b.id                      -- inserted
               WHEN p.action = 'conflict' THEN NULL               -- refused
               WHEN p.existing_id IS NOT NULL THEN p.existing_id  -- already stored
               WHEN w.action = 'conflict' THEN NULL
               ELSE coalesce(w.existing_id, wb.id)                -- as an earlier row
           END,
           p.existing_id IS NOT NULL
    FROM _rca_batch b
    LEFT JOIN _rca_plan p ON p._row = b._row
    LEFT JOIN _rca_batch wb ON wb._row = p.winner
    LEFT JOIN _rca_plan w ON w._row = p.winner
"""

_LINK_CHECKS: dict[type[Record], list[tuple[str, str]]] = {
    Event: [("investigation_ids", "investigations")],
    Investigation: [("event_ids", "events"), ("related_investigation_ids", "investigations")],
}


def _ascending(times: pa.ChunkedArray) -> bool:
    """Whether a timestamp column is already in non-decreasing order."""
    us = times.cast(pa.int64()).to_numpy()
    return bool(len(us) < 2 or (us[1:] >= us[:-1]).all())


def _has_items(table: pa.Table, column: str) -> bool:
    lengths = pc.list_value_length(table.column(column))
    return bool((pc.sum(lengths).as_py() or 0) > 0)


def _partition(model: type[Record]) -> str:
    """The key rows are matched on: (source, source_id) for events that have one, else id."""
    if model is Event:
        return "source_id IS NULL, CASE WHEN source_id IS NULL THEN id ELSE source END, source_id"
    return "id"


def _repeats_sql(model: type[Record]) -> str:
    """SQL counting keys that occur more than once in the batch (usually none)."""
    return (
        f"SELECT count(*) AS n FROM (SELECT 1 FROM _rca_batch GROUP BY {_partition(model)} "  # noqa: S608
        "HAVING count(*) > 1)"
    )


def _plan_sql(
    model: type[Record], table: str, on_duplicate: OnDuplicate, *, repeats: bool = True
) -> str:
    """SQL that finds the batch rows not to insert, into the temp table ``_rca_plan``.

    ``action`` is duplicate (skipped), update, or conflict (an id taken by another
    record). Events are matched on ``(source, source_id)`` when they have one, else on
    id; investigations on id. The first occurrence in the input wins, or the last one
    for updates. Ids generated by the load itself are not looked up.
    """
    order = "DESC" if on_duplicate == "update" else "ASC"
    dup_action = "'update'" if on_duplicate == "update" else "'duplicate'"
    partition = _partition(model)
    if model is Event:
        keyed = "r.source_id IS NOT NULL"
        key_owner = (
            "SELECT r._row, s.id, s.deleted_at FROM ranked r "
            "JOIN events s ON s.source = r.source AND s.source_id = r.source_id"
        )
        columns = "_row, id, source, source_id, _generated_id"
    else:
        keyed, columns = "FALSE", "_row, id, _generated_id"
        key_owner = "SELECT NULL::BIGINT AS _row, NULL AS id, NULL::TIMESTAMPTZ AS deleted_at"
    if repeats:
        ranked = (
            f"SELECT {columns}, row_number() OVER w AS rank, first_value(_row) OVER w AS winner "  # noqa: S608
            f"FROM _rca_batch WINDOW w AS (PARTITION BY {partition} ORDER BY _row {order})"
        )
    else:  # every key occurs once: each row is the first of its key
        ranked = f"SELECT {columns}, 1 AS rank, _row AS winner FROM _rca_batch"  # noqa: S608
    return f"""
        CREATE OR REPLACE TEMP TABLE _rca_plan AS
        WITH ranked AS ({ranked}),
        key_owner AS ({key_owner}),
        id_owner AS (
            SELECT r._row, s.id, s.deleted_at FROM ranked r JOIN {table} s ON s.id = r.id
            WHERE NOT r._generated_id
        ),
        id_reused AS (  -- an id may appear once among the rows that will be stored
            SELECT _row FROM (
                SELECT _row, row_number() OVER (PARTITION BY id ORDER BY _row) AS k
                FROM ranked WHERE rank = 1 AND NOT _generated_id
            ) WHERE k > 1
        ),
        classified AS (
            SELECT r._row, r.id, r.winner,
                   CASE WHEN {keyed} THEN k.id ELSE i.id END AS existing_id,
                   CASE WHEN {keyed} THEN k.deleted_at ELSE i.deleted_at END IS NOT NULL
                       AS existing_deleted,
                   CASE
                       WHEN r.rank > 1 THEN 'duplicate'
                       WHEN {keyed} AND i.id IS NOT NULL AND i.id IS DISTINCT FROM k.id
                           THEN 'conflict'
                       WHEN u._row IS NOT NULL THEN 'conflict'
                       -- a soft-deleted record keeps its key; restoring it is the way back
                       WHEN (CASE WHEN {keyed} THEN k.deleted_at ELSE i.deleted_at END)
                           IS NOT NULL THEN 'duplicate'
                       WHEN (CASE WHEN {keyed} THEN k.id ELSE i.id END) IS NOT NULL
                           THEN {dup_action}
                       ELSE 'insert'
                   END AS action
            FROM ranked r
            LEFT JOIN key_owner k ON k._row = r._row
            LEFT JOIN id_owner i ON i._row = r._row
            LEFT JOIN id_reused u ON u._row = r._row
        )
        SELECT _row, id, winner, existing_id, existing_deleted,
               -- one update per stored record: the last row that names it
               CASE WHEN action = 'update' AND row_number() OVER (
                        PARTITION BY existing_id, action ORDER BY _row DESC) > 1
                    THEN 'duplicate' ELSE action END AS action
        FROM classified WHERE action <> 'insert'
    """  # noqa: S608 - table names from the schema whitelist


def _with_summaries(data: Data, table: pa.Table) -> pa.Table:
    """The batch with a derived summary on each row that came without one.

    One statement for the whole batch; the insert and the update then write the
    column as it is (a large expression in them would be planned again each time).
    """
    given = table.column("summary")
    if given.null_count == 0:
        return table
    with data.registered(_rca_batch=table):
        derived = data.arrow(derived_sql("_rca_batch")).column("summary")
    summary = pc.coalesce(given, derived)
    return table.set_column(table.schema.get_field_index("summary"), "summary", summary)


def _columns(model: type[Record]) -> list[str]:
    return list(model.stored_fields())


def _insert(data: Data, model: type[Record], table: str, count: int, in_order: bool) -> int:
    """Insert the batch rows the plan does not hold back, in time order.

    Events are stored clustered by time, which keeps time-window queries fast (DuckDB
    skips row groups by their min/max); input already in order is not sorted again.
    """
    if count:
        cols = _columns(model)
        select = ", ".join(_cast(model, c) for c in cols)
        order = "ORDER BY b.timestamp" if model is Event and not in_order else ""
        data.execute(
            f"INSERT INTO {table} ({', '.join(quote(c) for c in cols)}) "  # noqa: S608
            f"SELECT {select} FROM _rca_batch b ANTI JOIN _rca_plan p ON p._row = b._row "
            f"{order}"
        )
    return count


def _cast(model: type[Record], column: str) -> str:
    if column in _bulk.json_fields(model):
        return f"b.{quote(column)}::JSON"
    return f"b.{quote(column)}"


def _update(
    data: Data, model: type[Record], table: str, now: Any, given: frozenset[str]
) -> set[int]:
    """Overwrite stored records with the batch rows that duplicate them.

    Only the fields the input carries are written (a column missing from the input
    keeps its stored values); each record keeps its id, creation and deletion times.
    When both the stored record and the row carry a ``revision`` (the record's version
    in its source), only a greater revision replaces it: an older or the same export
    read again changes nothing, and edits made since are kept.
    Returns the input rows that changed a record.
    """
    keep = {"id", "created_at", "updated_at", "deleted_at"}
    if model is Event and given & {"data", "event_type"}:
        given |= {"summary"}  # what the summary is derived from changes
    cols = [c for c in _columns(model) if c not in keep and c in given]
    if not cols:
        return set()
    json_cols = _bulk.json_fields(model)

    def differs(c: str) -> str:
        if c in json_cols:
            return f"json(t.{quote(c)}) IS DISTINCT FROM json(b.{quote(c)})"
        return f"t.{quote(c)} IS DISTINCT FROM {_cast(model, c)}"

    # parsed_at moves on every read of the same input: alone it is no change
    changed_rows = " OR ".join(differs(c) for c in cols if c != "parsed_at") or "FALSE"
    if "revision" in given:
        changed_rows = (
            f"({changed_rows}) AND (t.revision IS NULL OR b.revision IS NULL "
            "OR b.revision > t.revision)"
        )
    changed = data.frame(
        f"SELECT p._row FROM {table} t, _rca_plan p JOIN _rca_batch b "  # noqa: S608
        f"ON b._row = p._row WHERE p.action = 'update' AND p.existing_id = t.id "
        f"AND ({changed_rows})"
    )["_row"]
    if changed.empty:
        return set()
    sets = ", ".join(f"{quote(c)} = {_cast(model, c)}" for c in cols)
    data.execute(
        f"UPDATE {table} AS t SET {sets}, updated_at = greatest(t.updated_at + "  # noqa: S608
        "INTERVAL 1 MICROSECOND, ?) FROM _rca_plan p JOIN _rca_batch b ON b._row = p._row "
        f"WHERE p.action = 'update' AND p.existing_id = t.id AND ({changed_rows})",
        [now],
    )
    return {int(r) for r in changed}


def _unknown_links(data: Data, checks: list[tuple[str, str]]) -> list[Failure]:
    """Rows naming linked records that do not exist (or are deleted) are rejected."""
    failures = []
    for column, target in checks:
        missing = data.frame(
            f"SELECT x._row, x.ref FROM (SELECT _row, unnest({quote(column)}) AS ref "  # noqa: S608
            f"FROM _rca_batch) x WHERE NOT EXISTS (SELECT 1 FROM {target} t "
            "WHERE t.id = x.ref AND t.deleted_at IS NULL) ORDER BY x._row"
        )
        failures += [
            Failure(
                None,
                column,
                Reason.DANGLING_LINK,
                f"no active {target[:-1].replace('_', ' ')} with id {ref!r}",
                ref,
                row=int(row),
            )
            for row, ref in missing.itertuples(index=False)
        ]
    return failures


def _write_links(data: Data, model: type[Record], now: Any, method: str) -> int:
    """Links (and relations) named by the rows stored or updated, each pair once.

    Returns the number of named pairs not linked because a reviewer rejected them.
    """
    target = (
        "FROM _rca_batch b LEFT JOIN _rca_plan p ON p._row = b._row "
        "WHERE p.action IS NULL OR p.action = 'update'"
    )
    own_id = "coalesce(p.existing_id, b.id)"
    link = "1.0::DOUBLE AS confidence, $method AS method, []::VARCHAR[] AS reasons"
    if model is Event:
        pairs = (
            f'SELECT b._row AS "row", {own_id} AS event_id, '
            "unnest(b.investigation_ids) AS investigation_id, "
            "coalesce(b.linked_at, $now) AS linked_at, FALSE AS touch_event, "
            f"TRUE AS touch_investigation, {link} {target}"
        )
    else:
        pairs = (
            f'SELECT b._row AS "row", unnest(b.event_ids) AS event_id, '
            f"{own_id} AS investigation_id, $now AS linked_at, TRUE AS touch_event, "
            f"FALSE AS touch_investigation, {link} {target}"
        )
    # Through the one link writer: a pair a reviewer rejected is not linked again by a
    # load (store.link() can), a stored link is kept, one history entry per link.
    written = _links.write_links(
        data,
        pairs,
        params={"now": now, "method": LinkMethod(method).value},
        who="bulk",
        now=now,
    )
    if model is Investigation:
        data.execute(
            "INSERT INTO investigation_relations (investigation_id, "  # noqa: S608
            "related_investigation_id, related_at) "
            "SELECT DISTINCT least(a, o), greatest(a, o), $now FROM ("
            f"  SELECT {own_id} AS a, unnest(b.related_investigation_ids) AS o {target}) x "
            "WHERE a <> o AND NOT EXISTS (SELECT 1 FROM investigation_relations r "
            "WHERE r.investigation_id = least(a, o) "
            "AND r.related_investigation_id = greatest(a, o))",
            {"now": now},
        )
    return written.counts["refused"]
