"""Export a store as a Parquet lake that distributed engines read (see ``Store.export_lake``).

Layout (hive partitions; columns as the models' stored fields, timestamps UTC, tags
``LIST<STRING>``, JSON payloads as strings)::

    DIR/manifest.json
    DIR/events/source=git/day=2026-03-01/data_0.parquet
    DIR/investigations/data_0.parquet
    DIR/links/data_0.parquet
    DIR/link_reviews/data_0.parquet
    DIR/investigation_relations/data_0.parquet

A partition is written to a temporary folder and swapped in whole; the manifest, written
last (and atomically), is the commit point: an export that stops half way leaves every
partition either as it was or complete (each table whole, though not all of one
export), and the next export redoes what was not recorded: what it compares is the
store's partitions with both the manifest and the folders on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ._loading import _registered
from ._version import __version__
from .errors import CorruptStore, QueryError, SchemaVersionError
from .models import Event, Investigation, Link, Relation, Review, utc_now
from .schema import SCHEMA_VERSION, json_columns, quote

if TYPE_CHECKING:
    from .store import Store

__all__ = ["PARTITIONS", "LakeExport", "Layout", "choose_layout", "connect_lake", "export_lake"]

MANIFEST = "manifest.json"
FORMAT = "rca_analytics lake"
TIME = pa.timestamp("us", tz="UTC")
#: How event partitions can be keyed: the event's source, and its UTC day or month.
PARTITIONS = {
    "source": "source",
    "day": "strftime(\"timestamp\", '%Y-%m-%d')",
    "month": "strftime(\"timestamp\", '%Y-%m')",
}
#: ``partition_by="auto"`` wants each event file to hold at least this much Parquet.
TARGET_FILE_BYTES = 32 * 2**20
#: The layouts ``auto`` chooses among, finest first (a day is the finest it goes).
AUTO_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("source", "day"),
    ("day",),
    ("source", "month"),
    ("month",),
    (),
)
#: Events written to measure their Parquet size when choosing a layout.
_SAMPLE_ROWS = 50_000
#: The small tables, written whole on every export.
_WHOLE = ("investigations", "links", "link_reviews", "investigation_relations")
_MODELS: dict[str, Any] = {
    "investigations": Investigation,
    "links": Link,
    "link_reviews": Review,
    "investigation_relations": Relation,
}


@dataclass
class LakeExport:
    """What an export wrote.

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

    def __repr__(self) -> str:
        return (
            f"<LakeExport {self.path} ({_name(self.partition_by)}): {self.partitions_written} "
            f"of {self.partitions} event partitions written, {self.events:,} events, "
            f"{self.seconds:.1f} s>"
        )


@dataclass(frozen=True)
class Layout:
    """The event partitioning ``partition_by="auto"`` chose, and why.

    Attributes:
        partition_by: The partition keys.
        reason: One sentence for people.
        bytes_per_event: Parquet bytes per event, measured on a sample of the store.
        median_file_bytes: The expected median event file per candidate layout
            (``"source/day"``, ..., ``"none"``).
    """

    partition_by: tuple[str, ...]
    reason: str
    bytes_per_event: float
    median_file_bytes: dict[str, float]


def _name(keys: Sequence[str]) -> str:
    return "/".join(keys) or "none"


def choose_layout(store: Store, current: Sequence[str] | None = None) -> Layout:
    """The finest layout whose median event file holds at least 32 MB of Parquet.

    Per day at the finest, no partitions when even a month is smaller (one file, whose
    row groups in time order still let engines skip by time). The estimate is each
    candidate's median events per partition times the Parquet size of a sample of the
    store's events (a reservoir sample). An existing lake's layout (``current``) is kept
    while its median file stays within a factor of two of the target, so a lake near a
    threshold is not rewritten back and forth.
    """
    import pyarrow.parquet as pq

    total = int(store._rows("SELECT count(*) AS n FROM events")[0]["n"])
    sample = store._arrow(
        f"SELECT {_select(Event)} FROM events "  # noqa: S608 - constants
        f"USING SAMPLE reservoir({_SAMPLE_ROWS} ROWS) REPEATABLE (7)"
    )
    per_event = 0.0
    if sample.num_rows:
        sink = pa.BufferOutputStream()
        pq.write_table(sample, sink)
        per_event = sink.getvalue().size / sample.num_rows
    medians: dict[str, float] = {}
    for keys in AUTO_LAYOUTS:
        if keys:
            group = ", ".join(PARTITIONS[k] for k in keys)
            [row] = store._rows(
                f"SELECT coalesce(median(n), 0) AS m FROM "  # noqa: S608 - whitelisted keys
                f"(SELECT count(*) AS n FROM events GROUP BY {group})"
            )
            medians[_name(keys)] = float(row["m"]) * per_event
        else:
            medians["none"] = total * per_event
    target = TARGET_FILE_BYTES
    goal = f"{target / 2**20:.0f} MB"
    chosen = next((k for k in AUTO_LAYOUTS if medians[_name(k)] >= target), ())
    mb = medians[_name(chosen)] / 2**20
    reason = (
        f"the finest layout whose median event file reaches {goal} ({mb:.0f} MB)"
        if chosen
        else f"even a month is below {goal}, so one file ({mb:.1f} MB)"
    )
    if current is not None and tuple(current) in AUTO_LAYOUTS and tuple(current) != chosen:
        kept = medians[_name(current)]
        if target / 2 <= kept <= 2 * target:
            chosen = tuple(current)
            reason = (
                f"the lake's layout, kept: its median file ({kept / 2**20:.0f} MB) is within "
                f"a factor of two of the {goal} target"
            )
    return Layout(tuple(chosen), reason, per_event, medians)


def _select(model: Any) -> str:
    """The stored fields of a table, JSON as text, in model order."""
    cols = []
    for name in model.stored_fields():
        if name in json_columns(model):
            cols.append(f"{quote(name)}::VARCHAR AS {quote(name)}")
        else:
            cols.append(quote(name))
    return ", ".join(cols)


def _partition_by(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise QueryError(
            f"partition_by: {value!r} is not a layout; give 'auto' or a sequence of keys "
            f"({', '.join(PARTITIONS)}), e.g. ('source', 'day')"
        )
    keys = tuple(value)
    for key in keys:
        if key not in PARTITIONS:
            raise QueryError(f"partition_by: {key!r} is not one of {sorted(PARTITIONS)}")
    if "day" in keys and "month" in keys:
        raise QueryError("partition_by: day or month, not both")
    return keys


def _read_manifest(root: Path, *, missing_ok: bool = True) -> dict[str, Any] | None:
    try:
        body = json.loads((root / MANIFEST).read_text())
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValueError(f"{MANIFEST} is not an rca_analytics lake manifest")
        return body
    except FileNotFoundError:
        if missing_ok:
            return None
        raise CorruptStore(
            f"{root}: not an rca_analytics lake (no {MANIFEST})", path=root
        ) from None
    except (OSError, ValueError) as err:
        raise CorruptStore(f"{root}: not an rca_analytics lake ({err})", path=root) from None


def read_lake(root: Path, *, doing: str, missing_ok: bool = False) -> dict[str, Any] | None:
    """The lake's manifest, refusing a lake written by a newer rca_analytics.

    Raises:
        CorruptStore: No manifest (unless ``missing_ok``), or not a lake's.
        SchemaVersionError: A newer schema; ``doing`` says what needs the upgrade.
    """
    manifest = _read_manifest(root, missing_ok=missing_ok)
    found = int(manifest.get("schema_version", 0)) if manifest is not None else 0
    if manifest is not None and found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{root}: the lake has schema version {found}, written by rca_analytics "
            f"{manifest.get('package_version')}; this one knows up to {SCHEMA_VERSION}: "
            f"upgrade rca_analytics to {doing}",
            found=found,
            supported=SCHEMA_VERSION,
        )
    return manifest


def _write_json(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _swap(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target``, replacing what was there, never half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _on_disk(folder: Path, keys: tuple[str, ...]) -> set[str] | None:
    """The event partitions in the folder (``source=git/day=...``).

    None when the folder is not in the layout ``keys`` (an interrupted change of layout).
    """
    if not folder.is_dir():
        return set()
    found = {""}
    for key in keys:
        deeper = set()
        for name in found:
            for entry in (folder / name).iterdir():
                if entry.name.startswith("."):
                    continue
                if not entry.is_dir() or not entry.name.startswith(key + "="):
                    return None
                deeper.add(f"{name}/{entry.name}" if name else entry.name)
        found = deeper
    for name in found:
        if any(e.is_dir() and not e.name.startswith(".") for e in (folder / name).iterdir()):
            return None  # deeper than the layout
    return found if keys else ({""} if any(folder.glob("*.parquet")) else set())


def _reader(store: Store, sql: str, params: dict[str, Any] | None = None) -> Any:
    """A streaming Arrow reader over internal SQL (the rows never all in memory)."""
    return store._connection().sql(sql, params=params or {}).to_arrow_reader(100_000)


def _write(
    store: Store,
    sql: str,
    folder: Path,
    keys: tuple[str, ...],
    params: dict[str, Any] | None = None,
) -> None:
    """Rows of ``sql`` as Parquet under ``folder`` (hive partitions by ``keys``)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    reader = _reader(store, sql, params)
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


def _fingerprints(store: Store, keys: tuple[str, ...]) -> dict[str, str]:
    """Per event partition (``source=git/day=2026-03-01``): rows and a hash of every field.

    What changed since the last export is found by comparing these with the manifest's,
    not by ``updated_at`` (which a load may carry from elsewhere, older than the last
    export): inserts, updates, soft deletes and moves all change a partition's hash.
    """
    fields = ", ".join(quote(c) for c in Event.stored_fields())
    groups = ", ".join(f"{PARTITIONS[k]}::VARCHAR AS {quote(k)}" for k in keys)
    rows = store._rows(
        f"SELECT {groups + ', ' if groups else ''}count(*) AS n, "  # noqa: S608 - whitelisted
        f"sum(hash({fields}))::VARCHAR AS h FROM events"
        + (f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}" if keys else "")
    )
    return {"/".join(f"{k}={r[k]}" for k in keys): f"{r['n']}:{r['h']}" for r in rows if r["n"]}


def _check_target(root: Path) -> dict[str, Any] | None:
    """The lake's manifest; refuses a folder that holds something other than a lake.

    Without a manifest (a new folder, or a first export that stopped before writing it)
    only what an export writes may be there: the table folders holding Parquet files
    and ``key=value`` folders, and hidden working names.
    """
    if not root.is_dir():
        return None
    manifest = read_lake(root, doing="update it (or export into a new folder)", missing_ok=True)
    if manifest is not None:
        return manifest
    ours = {"events", *_WHOLE}
    other = []
    for entry in root.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.name not in ours or not entry.is_dir():
            other.append(entry.name)
            continue
        for inner in entry.rglob("*"):
            relative = inner.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if (inner.is_dir() and "=" not in inner.name) or (
                inner.is_file() and inner.suffix != ".parquet"
            ):
                other.append(str(relative))
    if other:
        raise QueryError(
            f"{root} holds files that are not an rca_analytics lake "
            f"({', '.join(sorted(other)[:3])}{', ...' if len(other) > 3 else ''}) and no "
            f"{MANIFEST}; export into a new or empty folder, or into a lake written before"
        )
    return None


def export_lake(
    store: Store, path: str | os.PathLike[str], *, partition_by: str | Sequence[str] = "auto"
) -> LakeExport:
    """Write (or bring up to date) a Parquet lake of the store; see the module docstring."""
    started = time.perf_counter()
    root = Path(path)
    manifest = _check_target(root)
    layout: Layout | None = None
    caller_layout = (manifest or {}).get("layout", {}).get("chosen_by") == "caller"
    if partition_by == "auto" and manifest is not None and caller_layout:
        keys = _partition_by(manifest.get("partition_by", []))  # the lake's, as chosen
        reason = "the lake's, as given by the caller when it was first written"
    elif partition_by == "auto":
        layout = choose_layout(store, manifest.get("partition_by") if manifest else None)
        keys, reason = layout.partition_by, layout.reason
    else:
        keys, reason = _partition_by(partition_by), "given by the caller"
    root.mkdir(parents=True, exist_ok=True)
    fingerprints = _fingerprints(store, keys)
    disk = _on_disk(root / "events", keys)
    full = (
        manifest is None
        or list(manifest.get("partition_by", [])) != list(keys)
        or manifest.get("schema_version") != SCHEMA_VERSION
        or "fingerprints" not in manifest
        or disk is None
    )
    before: dict[str, str] = {} if full or manifest is None else manifest["fingerprints"]
    on_disk = disk or set()
    if not keys:  # one file: named "" in the fingerprints
        on_disk = {""} if "" in on_disk else set()
    changed = sorted(
        name
        for name in set(fingerprints) | set(before) | on_disk
        # what differs from the last export, and what is on disk but should not be (or
        # the reverse): partitions an interrupted export swapped in stay in step
        if fingerprints.get(name) != before.get(name) or (name in fingerprints) != (name in on_disk)
    )
    if changed and not full and manifest is not None:
        # Before swapping: the partitions about to change are marked unknown, so an
        # export that stops half way is finished by the next one.
        pending = {k: v for k, v in before.items() if k not in changed}
        _write_json(root / MANIFEST, {**manifest, "fingerprints": pending, "complete": False})
    derived = ", ".join(
        f"{PARTITIONS[k]} AS {quote(k)}" for k in keys if k not in Event.model_fields
    )
    events_sql = (
        f"SELECT {_select(Event)}{', ' + derived if derived else ''} "  # noqa: S608
        "FROM events"
    )
    staging = root / f".export-{uuid.uuid4().hex}"
    staging.mkdir()
    written: list[str] = []
    try:
        out = staging / "events"
        full = full or (not keys and bool(changed))
        if full:  # the whole table at once
            _write(store, f'SELECT * FROM ({events_sql}) ORDER BY "timestamp", id', out, keys)  # noqa: S608
            out.mkdir(parents=True, exist_ok=True)
            _swap(out, root / "events")
            written = sorted(fingerprints) if keys else ["all"]
        elif changed:
            present = [n for n in changed if n in fingerprints]
            if present:
                values = [dict(part.split("=", 1) for part in n.split("/")) for n in present]
                affected = pa.table(
                    {k: pa.array([v[k] for v in values], pa.string()) for k in keys}
                )
                with _registered(store, _rca_affected=affected):
                    match = " AND ".join(f"e.{quote(k)}::VARCHAR = a.{quote(k)}" for k in keys)
                    _write(
                        store,
                        f"SELECT e.* FROM ({events_sql}) e SEMI JOIN _rca_affected a "  # noqa: S608
                        f'ON {match} ORDER BY e."timestamp", e.id',
                        out,
                        keys,
                    )
            for name in changed:
                target = root / "events" / name
                if name in fingerprints:
                    _swap(out / name, target)
                else:  # the partition's last event moved away or is gone
                    shutil.rmtree(target, ignore_errors=True)
            written = changed
        for table in _WHOLE:
            folder = staging / table
            model = _MODELS[table]
            if store._has_table(table):
                _write(store, f"SELECT {_select(model)} FROM {table}", folder, ())  # noqa: S608
                _swap(folder, root / table)
        counts = {
            t: int(store._rows(f"SELECT count(*) AS n FROM {t}")[0]["n"])  # noqa: S608
            for t in ("events", *_WHOLE)
            if store._has_table(t)
        }
        high = store._rows(
            "SELECT (SELECT max(updated_at) FROM events) AS events, "
            "(SELECT max(updated_at) FROM investigations) AS investigations"
        )[0]
        high_water = {k: (v.isoformat() if v is not None else None) for k, v in high.items()}
        partitions = len(fingerprints) if keys else 1  # the folders are the store's now
        _write_json(
            root / MANIFEST,
            {
                "format": FORMAT,
                "schema_version": SCHEMA_VERSION,
                "package_version": __version__,
                "exported_at": utc_now().isoformat(),
                "partition_by": list(keys),
                "fingerprints": fingerprints,
                "complete": True,
                "layout": {
                    "chosen_by": "auto" if layout else "caller",
                    "reason": reason,
                    "bytes_per_event": round(layout.bytes_per_event, 1) if layout else None,
                },
                "high_water": high_water,
                "tables": counts,
                "partitions": partitions,
            },
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return LakeExport(
        path=root,
        partition_by=keys,
        layout_reason=reason,
        partitions_written=len(written),
        partitions=partitions,
        events=counts["events"],
        tables=counts,
        high_water=high_water,
        seconds=time.perf_counter() - started,
        full=full,
    )


def lake_table(root: Path, table: str) -> Any:
    """A lake table as a pyarrow dataset, or None when it has no files.

    The partitioning is read from the folders (hive ``key=value`` names), not from the
    manifest: an export stopped between swapping in a new layout and writing the
    manifest leaves folders that are whole in the new layout.
    """
    import pyarrow.dataset as ds

    folder = root / table
    if not folder.is_dir() or not any(folder.rglob("*.parquet")):
        return None
    return ds.dataset(str(folder), format="parquet", partitioning="hive")


def connect_lake(path: str | os.PathLike[str]) -> Store:
    """A read-only store over a lake written by :func:`export_lake`.

    The lake's tables stand in for the store's, so every query helper (``events``,
    ``investigations``, ``event_investigations``, ``timeline``, ``counts``, ``sql``,
    the linker's suggestions and :mod:`rca_analytics.metrics`) answers as it did on the
    file the lake was exported from. Parquet is read by pyarrow, not by DuckDB's file
    access (which stays off).

    Raises:
        CorruptStore: The folder has no readable lake manifest.
        SchemaVersionError: The lake was written by a newer rca_analytics.
    """
    from .store import connect

    root = Path(path)
    read_lake(root, doing="read it")
    store = connect(":memory:")
    con = store._connection()
    for table, model in (("events", Event), *_MODELS.items()):
        data = lake_table(root, table)
        if data is None:
            continue  # an older lake without it, or no events yet: the empty table stays
        con.register(f"_rca_lake_{table}", data)
        columns = ", ".join(
            f"{quote(c)}::JSON AS {quote(c)}"
            if c in json_columns(model)
            else f"{quote(c)}::VARCHAR AS {quote(c)}"
            if (table, c) == ("events", "source")
            else quote(c)
            for c in model.stored_fields()
        )
        con.execute(f"DROP TABLE {table}")  # an empty table of the new store
        con.execute(
            f"CREATE TEMP VIEW {table} AS SELECT {columns} FROM _rca_lake_{table}"  # noqa: S608
        )
    store._read_only = True
    return store
