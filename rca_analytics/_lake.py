"""Export a store as a Parquet lake that distributed engines read (see ``Store.export_lake``).

Layout (hive partitions; columns as the models' stored fields, timestamps UTC, tags
``LIST<STRING>``, JSON payloads as strings)::

    DIR/manifest.json
    DIR/events/source=git/day=2026-03-01/data_0.parquet
    DIR/investigations/data.parquet
    DIR/links/data.parquet
    DIR/link_reviews/data.parquet
    DIR/investigation_relations/data.parquet

A partition is written to a temporary folder and swapped in whole; the manifest, written
last (and atomically), is the commit point: an export that stops half way leaves every
partition either as it was or complete, and the next export redoes what was not recorded.
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
    store's events. An existing lake's layout (``current``) is kept while its median
    file is at least half the target and the new choice's less than twice it, so a lake
    near a threshold is not rewritten back and forth.
    """
    import pyarrow.parquet as pq

    total = int(store._rows("SELECT count(*) AS n FROM events")[0]["n"])
    sample = store._arrow(f"SELECT {_select(Event)} FROM events LIMIT {_SAMPLE_ROWS}")  # noqa: S608
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
        if kept >= target / 2 and medians[_name(chosen)] < 2 * target:
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
        return dict(json.loads((root / MANIFEST).read_text()))
    except FileNotFoundError:
        if missing_ok:
            return None
        raise CorruptStore(
            f"{root}: not an rca_analytics lake (no {MANIFEST})", path=root
        ) from None
    except (OSError, ValueError) as err:
        raise CorruptStore(f"{root}: not an rca_analytics lake ({err})", path=root) from None


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


def _hive_dirs(folder: Path, keys: tuple[str, ...]) -> list[Path]:
    """The partition folders under ``folder`` (``key=value`` per level)."""
    found = [folder]
    for key in keys:
        found = [
            d for f in found for d in f.iterdir() if d.is_dir() and d.name.startswith(key + "=")
        ]
    return found


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


def _lake_partitions(root: Path, keys: tuple[str, ...], ids: list[str]) -> pa.Table | None:
    """The lake partitions that hold any of ``ids`` now (an update may move an event)."""
    import pyarrow.dataset as ds

    folder = root / "events"
    if not ids or not keys or not folder.exists():
        return None
    lake = ds.dataset(str(folder), format="parquet", partitioning="hive")
    found = lake.to_table(columns=list(keys), filter=ds.field("id").isin(ids))
    return found.cast(pa.schema([(k, pa.string()) for k in keys]))


def export_lake(
    store: Store, path: str | os.PathLike[str], *, partition_by: str | Sequence[str] = "auto"
) -> LakeExport:
    """Write (or bring up to date) a Parquet lake of the store; see the module docstring."""
    started = time.perf_counter()
    root = Path(path)
    manifest = _read_manifest(root) if root.is_dir() else None
    layout: Layout | None = None
    if partition_by == "auto":
        layout = choose_layout(store, manifest.get("partition_by") if manifest else None)
        keys = layout.partition_by
    else:
        keys = _partition_by(partition_by)
    root.mkdir(parents=True, exist_ok=True)
    full = (
        manifest is None
        or list(manifest.get("partition_by", [])) != list(keys)
        or manifest.get("schema_version") != SCHEMA_VERSION
        or not keys
    )
    since = None if full or manifest is None else manifest["high_water"].get("events")
    key_sql = ", ".join(f"{PARTITIONS[k]} AS {quote(k)}" for k in keys)
    derived = ", ".join(
        f"{PARTITIONS[k]} AS {quote(k)}" for k in keys if k not in Event.model_fields
    )
    events_sql = (
        f"SELECT {_select(Event)}{', ' + derived if derived else ''} "  # noqa: S608
        "FROM events"
    )
    staging = root / f".export-{uuid.uuid4().hex}"
    staging.mkdir()
    written: list[Path] = []
    try:
        out = staging / "events"
        if full:
            _write(store, f'SELECT * FROM ({events_sql}) ORDER BY "timestamp", id', out, keys)  # noqa: S608
        elif since is not None:
            changed = store._arrow(
                f"SELECT DISTINCT {key_sql}, id FROM events "  # noqa: S608 - whitelisted
                "WHERE updated_at > $since::TIMESTAMPTZ",
                {"since": since},
            )
            affected = changed.select(list(keys)).cast(pa.schema([(k, pa.string()) for k in keys]))
            moved = _lake_partitions(root, keys, changed.column("id").to_pylist())
            if moved is not None and moved.num_rows:
                affected = pa.concat_tables([affected, moved])
            if affected.num_rows:
                with _registered(store, _rca_affected=affected):
                    match = " AND ".join(f"e.{quote(k)} = a.{quote(k)}" for k in keys)
                    _write(
                        store,
                        f"SELECT e.* FROM ({events_sql}) e SEMI JOIN "  # noqa: S608
                        f"(SELECT DISTINCT * FROM _rca_affected) a ON {match} "
                        'ORDER BY e."timestamp", e.id',
                        out,
                        keys,
                    )
                # A partition left empty by a move is written empty: it must go.
                for row in affected.to_pylist():
                    part = out.joinpath(*(f"{k}={row[k]}" for k in keys))
                    part.mkdir(parents=True, exist_ok=True)
        written = _hive_dirs(out, keys) if out.exists() else []
        if full:  # a new layout or a first export: the whole table at once
            out.mkdir(parents=True, exist_ok=True)
            _swap(out, root / "events")
        for part in written if not full else ():
            relative = part.relative_to(out)
            if any(part.iterdir()):
                _swap(part, root / "events" / relative)
            else:  # the partition's last event moved away
                shutil.rmtree(root / "events" / relative, ignore_errors=True)
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
        partitions = len(_hive_dirs(root / "events", keys)) if (root / "events").exists() else 0
        _write_json(
            root / MANIFEST,
            {
                "format": "rca_analytics lake",
                "schema_version": SCHEMA_VERSION,
                "package_version": __version__,
                "exported_at": utc_now().isoformat(),
                "partition_by": list(keys),
                "layout": {
                    "chosen_by": "auto" if layout else "caller",
                    "reason": layout.reason if layout else "given by the caller",
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
        layout_reason=layout.reason if layout else "given by the caller",
        partitions_written=len(written),
        partitions=partitions,
        events=counts["events"],
        tables=counts,
        high_water=high_water,
        seconds=time.perf_counter() - started,
        full=full,
    )


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
    import pyarrow.dataset as ds

    from .store import connect

    root = Path(path)
    manifest = _read_manifest(root, missing_ok=False)
    assert manifest is not None
    found = int(manifest.get("schema_version", 0))
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{root}: the lake has schema version {found}, written by rca_analytics "
            f"{manifest.get('package_version')}; this one reads up to {SCHEMA_VERSION}",
            found=found,
            supported=SCHEMA_VERSION,
        )
    store = connect(":memory:")
    con = store._connection()
    for table, model in (("events", Event), *_MODELS.items()):
        folder = root / table
        if not folder.exists():
            continue  # an older lake without it: the empty table stays
        partitioning = "hive" if table == "events" and manifest.get("partition_by") else None
        con.register(f"_rca_lake_{table}", ds.dataset(str(folder), format="parquet",
                                                      partitioning=partitioning))  # fmt: skip
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
