"""Reading a lake: its tables as pyarrow datasets, checked, and as views of a store.

What is read is the lake its manifest records, also after an export stopped after its
commit point (a pending partition is read from the staging folder; see ``_lake``).
Every file's footer is read first: a file that is not Parquet, or whose columns hold
other kinds of values than the table's others or the store's, is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from ._data import Data
from ._lake_disk import (
    MANIFEST,
    MODELS,
    PARTITIONS,
    TABLES,
    Listing,
    layout_name,
    off_layout,
    read_manifest,
    select_columns,
    table_listing,
)
from .errors import CorruptStore
from .models import Event
from .schema import json_columns, quote

__all__ = ["attach", "lake_tables", "read_lake", "value_kind"]


def value_kind(kind: pa.DataType) -> str:
    """What a column's values are, for people: types of one kind hold the same values.

    Times with a zone (any unit), times without one, numbers (integers, floats,
    decimals), true/false, text (also dictionary-encoded), lists of a kind; any other
    type is its own kind.
    """
    t = pa.types
    if t.is_dictionary(kind):
        return value_kind(kind.value_type)
    if t.is_timestamp(kind):
        return "time with a zone" if kind.tz is not None else "time without a zone"
    if t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind):
        return "number"
    if t.is_boolean(kind):
        return "true/false"
    if t.is_string(kind) or t.is_large_string(kind):
        return "text"
    if t.is_list(kind) or t.is_large_list(kind):
        return f"list of {value_kind(kind.value_type)}"
    return str(kind)


def _file_schema(root: Path, path: Path) -> pa.Schema:
    """The schema in a Parquet file's footer."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as err:
        raise CorruptStore(
            f"{path}: not a readable Parquet file ({str(err)[:200]}); export the lake again "
            "into a new folder, or put the file back as it was written",
            path=root,
        ) from None
    if len(set(schema.names)) != len(schema.names):
        raise CorruptStore(f"{path}: a column is named twice; export the lake again", path=root)
    return schema


def _dataset(root: Path, table: str, listing: Listing | None) -> Any:
    """The table's files as one pyarrow dataset, partition keys as text; None: no files.

    Every file's footer is read: a file that is not Parquet, or whose columns hold other
    kinds of values than the table's first file, is refused.
    """
    import pyarrow.dataset as ds
    import pyarrow.fs as fs

    if listing is None or not listing.files:
        return None
    allowed = PARTITIONS if table == "events" else {}
    if any(key not in allowed for key in listing.keys):
        raise CorruptStore(
            f"{root / table}: partitioned by {'/'.join(listing.keys)}, which this table "
            "never is; export the lake again into a new folder",
            path=root,
        )
    first = next(iter(listing.files.values()))[0]
    want = _file_schema(root, first)
    paths: list[str] = []
    where: list[Any] = []
    for name, files in listing.files.items():
        values = [part.split("=", 1) for part in name.split("/")] if name else []
        at: Any = ds.scalar(True)
        for key, value in values:
            at = at & (ds.field(key) == value)
        for path in files:
            _check_agree(root, path, _file_schema(root, path), first, want)
            paths.append(os.path.abspath(path))
            where.append(at)
    schema = want
    for key in listing.keys:
        if key not in schema.names:
            schema = schema.append(pa.field(key, pa.string()))
    return ds.FileSystemDataset.from_paths(
        paths, schema=schema, format=ds.ParquetFileFormat(), filesystem=fs.LocalFileSystem(),
        partitions=where,
    )  # fmt: skip


def _check_agree(root: Path, path: Path, schema: pa.Schema, first: Path, want: pa.Schema) -> None:
    """Refuse a file whose columns hold other kinds of values than the first file's."""
    for column in schema:
        if column.name in want.names:
            found, expected = value_kind(column.type), value_kind(want.field(column.name).type)
            if found != expected:
                raise CorruptStore(
                    f"{path}: column {column.name} holds {found} ({column.type}), but "
                    f"{expected} in {first}; export the lake again into a new folder",
                    path=root,
                )


def _current(root: Path, manifest: dict[str, Any]) -> dict[str, Listing | None]:
    """Each table's files as the manifest records the lake.

    A partition or table an export committed but has not moved into place yet is read
    from its staging folder; one it removes is not read.
    """
    pending = manifest.get("pending")
    staged: Path | None = root / pending["staging"] / "new" if pending else None
    replace: list[str] = pending["replace"] if pending else []
    remove: list[str] = pending["remove"] if pending else []

    def where(path: str) -> Path:
        if staged is not None and path in replace and os.path.lexists(staged / path):
            return staged / path
        return root / path

    tables = {t: table_listing(root, where(t)) for t in TABLES}
    found = tables["events"]
    keys = found.keys if found is not None else tuple(manifest.get("partition_by", []))
    files = dict(found.files) if found is not None else {}
    for path in (*replace, *remove):
        name = path.removeprefix("events/")
        files.pop(name, None)
        moved = table_listing(root, where(path)) if name != path and path in replace else None
        if moved is not None and moved.keys:
            raise off_layout(root, where(path))
        if moved is not None and moved.files:
            files[name] = moved.files[""]
    events = Listing(keys, dict(sorted(files.items())))
    _check_partitions(root, manifest, events)
    return {**tables, "events": events}


def _check_partitions(root: Path, manifest: dict[str, Any], events: Listing) -> None:
    """Refuse event folders that are not the partitions the manifest records."""
    if "fingerprints" not in manifest:
        return  # written before fingerprints
    keys = tuple(manifest.get("partition_by", []))
    recorded, found = set(manifest["fingerprints"]), set(events.files)
    missing, extra = sorted(recorded - found), sorted(found - recorded - {""})
    if (found and events.keys != keys) or missing or extra:
        odd = [f"{n} missing" for n in missing] + [f"{n} not recorded" for n in extra]
        raise CorruptStore(
            f"{root / 'events'}: the folders are not the lake {MANIFEST} records (layout "
            f"{layout_name(events.keys)}, recorded {layout_name(keys)}{'; ' if odd else ''}"
            f"{', '.join(odd[:3])}); run the export again to put the lake right",
            path=root,
        )


def lake_tables(root: Path, *, doing: str) -> dict[str, Any]:
    """The lake's tables as pyarrow datasets (None: not in the lake, or no files).

    What is read is the lake the manifest records, also after an export stopped after
    its commit point (see the module docstring of ``_lake``).

    Raises:
        CorruptStore: No readable manifest, an export by an older version stopped half
            way, a link or a stranger in the lake, folders other than the manifest's
            partitions, a file that is not Parquet or disagrees with the others.
        SchemaVersionError: The lake was written by a newer rca_analytics (``doing``
            says what needs the upgrade).
    """
    manifest = read_lake(root, doing=doing)
    return {t: _dataset(root, t, listing) for t, listing in _current(root, manifest).items()}


def read_lake(root: Path, *, doing: str) -> dict[str, Any]:
    """The manifest of a lake to read, refusing one that cannot be read as it records.

    Raises:
        CorruptStore: No readable manifest, or an export by an older version stopped
            half way.
        SchemaVersionError: A newer schema; ``doing`` says what needs the upgrade.
    """
    manifest = read_manifest(root, doing=doing)
    if manifest is None:
        raise CorruptStore(f"{root}: not an rca_analytics lake (no {MANIFEST})", path=root)
    if manifest.get("complete") is False and "pending" not in manifest:
        raise CorruptStore(
            f"{root}: an export of this lake stopped before it finished ({MANIFEST} says "
            "complete: false); run the export again to complete it",
            path=root,
        )
    return manifest


def _check_columns(root: Path, table: str, dataset: Any, want: pa.Schema) -> None:
    """Refuse a lake table without the store's columns, or with other kinds of values."""
    first = dataset.files[0]
    for column in want:
        if column.name not in dataset.schema.names:
            raise CorruptStore(
                f"{first}: column {column.name} of {table} is missing; export the lake again",
                path=root,
            )
        found = dataset.schema.field(column.name).type
        if value_kind(found) != value_kind(column.type):
            raise CorruptStore(
                f"{first}: column {column.name} of {table} holds {value_kind(found)} "
                f"({found}), expected {value_kind(column.type)}; export the lake again",
                path=root,
            )


def attach(data: Data, root: Path, tables: dict[str, Any]) -> None:
    """Put views over the lake's tables in place of the empty tables of a new store."""
    con = data.connection()
    for table, model in (("events", Event), *MODELS.items()):
        dataset = tables[table]
        if dataset is None:
            continue  # an older lake without it, or no events yet: the empty table stays
        want = data.arrow(f"SELECT {select_columns(model)} FROM {table} LIMIT 0").schema  # noqa: S608
        _check_columns(root, table, dataset, want)
        con.register(f"_rca_lake_{table}", dataset)
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
