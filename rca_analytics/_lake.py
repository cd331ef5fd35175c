"""Export a store as a Parquet lake that distributed engines read (see ``Store.export_lake``).

Layout (hive partitions; columns as the models' stored fields, timestamps UTC, tags
``LIST<STRING>``, JSON payloads as strings)::

    DIR/manifest.json
    DIR/events/source=git/day=2026-03-01/data_0.parquet
    DIR/investigations/data_0.parquet
    DIR/links/data_0.parquet
    DIR/link_reviews/data_0.parquet
    DIR/investigation_relations/data_0.parquet

An export writes what changed into a hidden staging folder (``DIR/.export-<hex>/new``),
then writes the manifest of the new lake with the moves still to make (``pending``):
that write is its commit point. It then moves each changed partition and table into
place (what was there into ``DIR/.export-<hex>/old``), writes the manifest again
without ``pending`` and removes the staging folder. Killed before the commit point,
the lake is as it was (the next export removes the staging folder); after it, the lake
reads as the new one (``rca.connect_lake`` and the import take a pending partition from
the staging folder) and the next export first finishes the moves. Each move is one
rename of a whole partition, and what it compares to find the changes is the store's
partitions with both the manifest and the folders on disk.

Nothing outside DIR is touched or read: the names in a manifest are checked before they
become paths, every path moved or removed is checked to lie inside DIR, and a lake
holding a symbolic link (or anything but folders and Parquet files) is refused (DIR
itself may be a link). A lake records the store it was exported from: another store
replaces it only when asked to.

The lake on disk (its manifest, paths, listings and moves) is in ``_lake_disk``, the
choice of layout in ``_lake_layout``, reading a lake in ``_lake_read``; the export is here.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from ._data import Data
from ._lake_disk import (
    FORMAT,
    MANIFEST,
    MODELS,
    PARTITIONS,
    TABLES,
    WHOLE,
    apply_pending,
    check_target,
    lake_folder,
    recover,
    remove,
    select_columns,
    table_listing,
    write_json,
)
from ._lake_disk import layout_name as _name
from ._lake_layout import Layout, pick_layout
from ._reports import OperationReport
from ._version import __version__
from .errors import QueryError, WriteFailed
from .models import Event, utc_now
from .schema import SCHEMA_VERSION, quote

__all__ = ["LakeExport", "LakeExportReport", "export_lake"]


@dataclass(kw_only=True, eq=False, repr=False)
class LakeExportReport(OperationReport):
    """What an export wrote (the earlier name ``LakeExport`` still works).

    An export counts event partitions: ``stored`` partitions (re)written, ``unchanged``
    partitions left as they were; it rejects and skips nothing.

    Attributes:
        path: The lake folder.
        partition_by: The event partition keys used.
        layout_reason: Why those (what ``"auto"`` found, or given by the caller).
        partitions_written: Event partitions (re)written by this export.
        partitions: Event partitions in the lake after it.
        events: Events in the lake (active and soft-deleted).
        tables: Rows per table in the lake.
        high_water: The latest ``updated_at`` exported, per table.
        seconds: Wall time.
        full: Whether every partition was written (first export, or a new layout).
    """

    unit: ClassVar[str] = "event partitions"

    path: Path
    partition_by: tuple[str, ...]
    layout_reason: str
    partitions_written: int
    partitions: int
    events: int
    tables: dict[str, int]
    high_water: dict[str, str | None]
    seconds: float
    full: bool

    def _title(self) -> str:
        return (
            f"exported {self.path} ({_name(self.partition_by)}: {self.layout_reason}), "
            f"{self.events:,} events, {'full' if self.full else 'changes only'}, "
            f"{self.seconds:.1f} s"
        )

    def _label(self) -> str:
        return f"{self.path} ({_name(self.partition_by)})"

    def _lines(self) -> list[str]:
        return [
            f"  event partitions: {self.stored:,} written, {self.unchanged:,} unchanged "
            f"(of {self.partitions:,})"
        ]

    def _repr_fields(self) -> dict[str, Any]:
        return {"events": self.events, "seconds": round(self.seconds, 1)}


#: The earlier name of :class:`LakeExportReport`.
LakeExport = LakeExportReport


# --- export -------------------------------------------------------------------------------


def _write(
    data: Data,
    sql: str,
    folder: Path,
    keys: tuple[str, ...],
    params: dict[str, Any] | None = None,
) -> None:
    """Rows of ``sql`` as Parquet under ``folder`` (hive partitions by ``keys``)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    reader = data.reader(sql, params or {})
    schema = reader.schema
    ds.write_dataset(
        reader,
        base_dir=str(folder),
        format="parquet",
        partitioning=list(keys) or None,
        partitioning_flavor="hive" if keys else None,
        basename_template="data_{i}.parquet",
        existing_data_behavior="overwrite_or_ignore",
        max_rows_per_file=0,
        # A batch of a long, sparse history spans many days: pyarrow's default cap of
        # 1,024 partitions per batch would refuse it.
        max_partitions=1 << 20,
        create_dir=True,
    )
    folder.mkdir(parents=True, exist_ok=True)
    if not keys and not any(folder.glob("*.parquet")):  # an empty table still has its schema
        pq.write_table(schema.empty_table(), folder / "data_0.parquet")


def _fingerprints(data: Data, keys: tuple[str, ...]) -> dict[str, str]:
    """Per event partition (``source=git/day=2026-03-01``): rows and a hash of every field.

    What changed since the last export is found by comparing these with the manifest's,
    not by ``updated_at`` (which a load may carry from elsewhere, older than the last
    export): inserts, updates, soft deletes and moves all change a partition's hash.
    """
    fields = ", ".join(quote(c) for c in Event.stored_fields())
    groups = ", ".join(f"{PARTITIONS[k]}::VARCHAR AS {quote(k)}" for k in keys)
    rows = data.rows(
        f"SELECT {groups + ', ' if groups else ''}count(*) AS n, "  # noqa: S608 - whitelisted
        f"sum(hash({fields}))::VARCHAR AS h FROM events"
        + (f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}" if keys else "")
    )
    return {"/".join(f"{k}={r[k]}" for k in keys): f"{r['n']}:{r['h']}" for r in rows if r["n"]}


def _check_owner(data: Data, root: Path, manifest: dict[str, Any] | None, *, replace: bool) -> None:
    """Refuse to write one store's data over a lake exported from another store."""
    theirs = (manifest or {}).get("store_id")
    if theirs is None or theirs == data.handle.store_id or replace:
        return
    raise QueryError(
        f"{root} holds a lake exported from another store (store id {theirs}; this one is "
        f"{data.handle.store_id or 'without an id'}): exporting would replace that store's data "
        "with this one's. Export into another folder, merge that lake first "
        "(store.import_lake) and export into a new one, or pass replace=True to replace it"
    )


@dataclass(frozen=True)
class _Plan:
    """What an export writes.

    Attributes:
        keys: The event partition keys.
        fingerprints: The store's event partitions (see :func:`_fingerprints`).
        changed: Event partitions to write or remove (all of them when ``full``).
        full: Whether the events are written whole (a new lake or layout, or one file).
    """

    keys: tuple[str, ...]
    fingerprints: dict[str, str]
    changed: list[str]
    full: bool


def _plan(data: Data, root: Path, manifest: dict[str, Any] | None, keys: tuple[str, ...]) -> _Plan:
    """Compare the store's event partitions with the manifest's and the folders on disk."""
    fingerprints = _fingerprints(data, keys)
    for table in WHOLE:  # replaced whole, but a link or a stranger in them is refused
        table_listing(root, root / table)
    disk = table_listing(root, root / "events")
    on_disk = set(disk.files) if disk is not None else set()
    full = (
        manifest is None
        or manifest.get("partition_by", []) != list(keys)
        or manifest.get("schema_version") != SCHEMA_VERSION
        or "fingerprints" not in manifest
        or manifest.get("complete") is False  # stopped by an older version: redo it all
        or (disk is not None and bool(on_disk) and disk.keys != keys)
    )
    before: dict[str, str] = {} if full or manifest is None else manifest["fingerprints"]
    changed = sorted(
        name
        for name in set(fingerprints) | set(before) | on_disk
        # what differs from the last export, and what is on disk but should not be (or
        # the reverse)
        if fingerprints.get(name) != before.get(name) or (name in fingerprints) != (name in on_disk)
    )
    return _Plan(keys, fingerprints, changed, full or (not keys and bool(changed)))


def _stage(data: Data, new: Path, plan: _Plan) -> dict[str, list[str]]:
    """Write what changed under ``new`` (the lake's paths); the moves that put it in place."""
    keys = plan.keys
    derived = ", ".join(
        f"{PARTITIONS[k]} AS {quote(k)}" for k in keys if k not in Event.model_fields
    )
    events_sql = (
        f"SELECT {select_columns(Event)}{', ' + derived if derived else ''} "  # noqa: S608
        "FROM events"
    )
    replace: list[str] = []
    present = [n for n in plan.changed if n in plan.fingerprints]
    if plan.full:  # the whole table at once
        ordered = f'SELECT * FROM ({events_sql}) ORDER BY "timestamp", id'  # noqa: S608
        _write(data, ordered, new / "events", keys)
        replace.append("events")
    elif present:
        values = [dict(part.split("=", 1) for part in n.split("/")) for n in present]
        affected = pa.table({k: pa.array([v[k] for v in values], pa.string()) for k in keys})
        with data.registered(_rca_affected=affected):
            match = " AND ".join(f"e.{quote(k)}::VARCHAR = a.{quote(k)}" for k in keys)
            _write(
                data,
                f"SELECT e.* FROM ({events_sql}) e SEMI JOIN _rca_affected a "  # noqa: S608
                f'ON {match} ORDER BY e."timestamp", e.id',
                new / "events",
                keys,
            )
        replace.extend(f"events/{n}" for n in present)
    for table in WHOLE:
        if data.has_table(table):
            _write(data, f"SELECT {select_columns(MODELS[table])} FROM {table}", new / table, ())  # noqa: S608
            replace.append(table)
    removed = [] if plan.full else [f"events/{n}" for n in plan.changed if n not in present]
    return {"replace": replace, "remove": removed}


def _body(data: Data, plan: _Plan, reason: str, layout: Layout | None) -> dict[str, Any]:
    """The manifest of the lake the export makes."""
    counts = {
        t: int(data.rows(f"SELECT count(*) AS n FROM {t}")[0]["n"])  # noqa: S608
        for t in TABLES
        if data.has_table(t)
    }
    high = data.rows(
        "SELECT (SELECT max(updated_at) FROM events) AS events, "
        "(SELECT max(updated_at) FROM investigations) AS investigations"
    )[0]
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "store_id": data.handle.store_id,
        "exported_at": utc_now().isoformat(),
        "partition_by": list(plan.keys),
        "fingerprints": plan.fingerprints,
        "complete": True,
        "layout": {
            "chosen_by": "auto" if layout else "caller",
            "reason": reason,
            "bytes_per_event": round(layout.bytes_per_event, 1) if layout else None,
        },
        "high_water": {k: (v.isoformat() if v is not None else None) for k, v in high.items()},
        "tables": counts,
        "partitions": len(plan.fingerprints) if plan.keys else 1,
    }


def _write_failed(root: Path, err: OSError, state: str) -> WriteFailed:
    return WriteFailed(
        f"{root}: the lake could not be written ({err}); {state}. Free some space, lift "
        "the file size limit or fix the permissions, then export again",
        path=root,
    )


def _commit(data: Data, root: Path, plan: _Plan, body: dict[str, Any]) -> None:
    """Stage, commit in the manifest, move into place, write the manifest, clean up."""
    staging = root / f".export-{uuid.uuid4().hex}"
    committed = False
    try:
        staging.mkdir()
        pending = _stage(data, staging / "new", plan)
        write_json(
            root / MANIFEST,
            {**body, "complete": False, "pending": {"staging": staging.name, **pending}},
        )
        committed = True
        apply_pending(root, staging, pending)
        write_json(root / MANIFEST, body)
        remove(root, staging)
    except OSError as err:
        state = (
            "the export is committed (the lake reads as the new one) and the next export "
            "moves the rest of its files into place"
            if committed
            else "the lake is as it was before this export"
        )
        raise _write_failed(root, err, state) from None
    finally:
        if not committed:
            with contextlib.suppress(OSError):
                remove(root, staging)


def export_lake(
    data: Data,
    path: str | os.PathLike[str],
    *,
    partition_by: str | Sequence[str] = "auto",
    replace: bool = False,
) -> LakeExportReport:
    """Write (or bring up to date) a Parquet lake of the store; see the module docstring.

    Args:
        data: The data layer of the store to export.
        path: The lake folder (made if needed).
        partition_by: ``"auto"`` or the event partition keys.
        replace: Let this store replace a lake exported from another store.

    Raises:
        QueryError: ``partition_by`` is not a layout; ``path`` is a file or holds
            something other than a lake; the lake is another store's (without ``replace``).
        CorruptStore: The lake is damaged (its manifest, a link or a stranger in it).
        SchemaVersionError: The lake was written by a newer rca_analytics.
        WriteFailed: A write failed (disk full, file size limit, permissions); the
            message says what state the lake is in.
    """
    started = time.perf_counter()
    root = lake_folder(path)
    manifest = check_target(root)
    _check_owner(data, root, manifest, replace=replace)
    keys, reason, layout = pick_layout(data, manifest, partition_by)
    try:
        root.mkdir(parents=True, exist_ok=True)
        manifest = recover(root, manifest)
    except OSError as err:
        raise _write_failed(root, err, "the lake reads as its last committed export") from None
    plan = _plan(data, root, manifest, keys)
    body = _body(data, plan, reason, layout)
    _commit(data, root, plan, body)
    written = plan.changed if not plan.full else (sorted(plan.fingerprints) if keys else ["all"])
    return LakeExportReport(
        stored=len(written),
        unchanged=max(body["partitions"] - len(written), 0),
        path=root,
        partition_by=keys,
        layout_reason=reason,
        partitions_written=len(written),
        partitions=body["partitions"],
        events=body["tables"]["events"],
        tables=body["tables"],
        high_water=body["high_water"],
        seconds=time.perf_counter() - started,
        full=plan.full,
    )
