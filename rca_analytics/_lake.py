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
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import pyarrow as pa

from ._data import Data
from ._version import __version__
from .errors import CorruptStore, QueryError, SchemaVersionError, WriteFailed
from .models import Event, Investigation, Link, Relation, Review, utc_now
from .schema import SCHEMA_VERSION, json_columns, quote

__all__ = [
    "PARTITIONS",
    "LakeExport",
    "Layout",
    "attach",
    "choose_layout",
    "export_lake",
    "lake_tables",
]

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
_TABLES = ("events", *_WHOLE)
_MODELS: dict[str, Any] = {
    "investigations": Investigation,
    "links": Link,
    "link_reviews": Review,
    "investigation_relations": Relation,
}
#: The working names of an export in the lake: its staging folder, its temporary manifest.
_STAGING = re.compile(r"\.export-[0-9a-f]+")
_TEMP = re.compile(r"\.manifest\.json\.[0-9a-f]+\.tmp")
#: A partition key or value: a plain name (no separator, not ``..``, not hidden).
_PLAIN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")


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


def choose_layout(data: Data, current: Sequence[str] | None = None) -> Layout:
    """The finest layout whose median event file holds at least 32 MB of Parquet.

    Per day at the finest, no partitions when even a month is smaller (one file, whose
    row groups in time order still let engines skip by time). The estimate is each
    candidate's median events per partition times the Parquet size of a sample of the
    store's events (a reservoir sample). An existing lake's layout (``current``) is kept
    while its median file stays within a factor of two of the target, so a lake near a
    threshold is not rewritten back and forth.
    """
    import pyarrow.parquet as pq

    total = int(data.rows("SELECT count(*) AS n FROM events")[0]["n"])
    sample = data.arrow(
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
            [row] = data.rows(
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


# --- the manifest -------------------------------------------------------------------------


def _damaged(root: Path, problem: str) -> CorruptStore:
    """A manifest whose content is not what an export writes."""
    where = root / MANIFEST
    return CorruptStore(
        f"{where}: {problem}; the lake's manifest is damaged: restore it, or export into a "
        "new folder",
        path=where,
    )


def _shown(value: Any) -> str:
    """A manifest value for a message (containers by kind: they can be huge or deep)."""
    if isinstance(value, dict | list):
        return f"a JSON {'object' if isinstance(value, dict) else 'list'}"
    return repr(value)[:60]


def _partition_name(name: str, keys: Sequence[str]) -> bool:
    """Whether ``name`` is a partition of the layout: ``key=value/...``, values plain names."""
    if not keys:
        return name == ""
    parts = name.split("/")
    return len(parts) == len(keys) and all(
        part.startswith(f"{key}=") and _PLAIN.fullmatch(part[len(key) + 1 :]) is not None
        for key, part in zip(keys, parts, strict=True)
    )


def _lake_path(path: str, keys: Sequence[str]) -> bool:
    """Whether ``path`` names a table of the lake or an event partition (``events/...``)."""
    partition = path.removeprefix("events/")
    return path in _TABLES or (
        partition != path and bool(keys) and _partition_name(partition, keys)
    )


def _strings(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_fields(root: Path, body: dict[str, Any]) -> None:
    """Refuse a manifest whose fields the export and the readers use are not as written."""
    keys = body.get("partition_by", [])
    if not _strings(keys):
        raise _damaged(root, f"partition_by is {_shown(keys)}, not a list of keys")
    try:
        _partition_by(keys)
    except QueryError as err:
        raise _damaged(root, str(err)) from None
    if not isinstance(body.get("complete", True), bool):
        raise _damaged(root, f"complete is {_shown(body['complete'])}, not true or false")
    store_id = body.get("store_id")
    if store_id is not None and not isinstance(store_id, str):
        raise _damaged(root, f"store_id is {_shown(store_id)}, not a text")
    layout = body.get("layout", {})
    if not isinstance(layout, dict) or not isinstance(layout.get("chosen_by", ""), str):
        raise _damaged(root, f"layout is {_shown(layout)}, not an object naming who chose it")
    prints = body.get("fingerprints", {})
    if not isinstance(prints, dict) or not all(isinstance(v, str) for v in prints.values()):
        raise _damaged(root, f"fingerprints is {_shown(prints)}, not an object of texts")
    for name in prints:
        if not _partition_name(name, keys):
            raise _damaged(root, f"fingerprints names {name!r:.80}, not a partition of {keys}")
    if "pending" in body:
        _check_pending(root, body["pending"], keys)


def _check_pending(root: Path, pending: Any, keys: list[str]) -> None:
    """The moves an export committed: its staging folder's name, the lake's own paths."""
    if not isinstance(pending, dict) or not isinstance(pending.get("staging"), str):
        raise _damaged(root, f"pending is {_shown(pending)}, without its staging folder")
    if not _STAGING.fullmatch(pending["staging"]):
        raise _damaged(root, f"pending.staging is {pending['staging']!r:.80}, not a staging folder")
    for name in ("replace", "remove"):
        paths = pending.get(name)
        if not _strings(paths):
            raise _damaged(root, f"pending.{name} is {_shown(paths)}, not a list of paths")
        for path in paths:
            if not _lake_path(path, keys):
                raise _damaged(root, f"pending.{name} names {path!r:.80}, not a path of the lake")


def _read_manifest(root: Path, *, doing: str) -> dict[str, Any] | None:
    """The lake's manifest, its fields checked; None when there is none.

    It is read only as a file of its own: never through a link, never a device.

    Raises:
        CorruptStore: Not a lake's manifest, or damaged.
        SchemaVersionError: A newer schema; ``doing`` says what needs the upgrade.
    """
    path = root / MANIFEST
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            raise ValueError(f"{MANIFEST} is a link or a device, not a file")
        body = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as err:
        raise CorruptStore(
            f"{root}: not an rca_analytics lake ({MANIFEST}: {str(err)[:200]})", path=root
        ) from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CorruptStore(
            f"{root}: not an rca_analytics lake ({MANIFEST} is not an rca_analytics lake manifest)",
            path=root,
        )
    _check_version(root, body, doing=doing)
    _check_fields(root, body)
    return body


def _check_version(root: Path, manifest: dict[str, Any], *, doing: str) -> None:
    """Refuse a lake written by a newer rca_analytics (first: its fields may be new)."""
    found = manifest.get("schema_version", 0)
    if type(found) is not int or found < 0:
        raise _damaged(root, f"schema_version is {_shown(found)}, not a whole number")
    if found > SCHEMA_VERSION:
        by = manifest.get("package_version")
        raise SchemaVersionError(
            f"{root}: the lake has schema version {found}, written by rca_analytics "
            f"{by[:40] if isinstance(by, str) else '(unknown)'}; this one knows up to "
            f"{SCHEMA_VERSION}: upgrade rca_analytics to {doing}",
            found=found,
            supported=SCHEMA_VERSION,
        )


def _write_json(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True))
    os.replace(tmp, path)


# --- the lake's files: inside it, no links, one layout ------------------------------------


def _hidden(name: str) -> bool:
    """Names engines skip (``.DS_Store``, ``_SUCCESS``, an export's working names)."""
    return name.startswith((".", "_"))


def _link(root: Path, path: Path) -> CorruptStore:
    return CorruptStore(
        f"{path} is a symbolic link: a lake is never read or written through links; put "
        "the file or folder itself there, or remove the link",
        path=root,
    )


def _inside(root: Path, path: Path) -> Path:
    """``path`` made absolute, once it is known to lie inside the lake with no link on the way.

    Checked on the names (``..`` resolved as text, no link followed): ``path`` and every
    folder between the lake and it must not be a symbolic link; the lake itself may be.
    """
    base = os.path.abspath(root)
    full = os.path.abspath(path)
    if full == base or os.path.commonpath([base, full]) != base:
        raise CorruptStore(
            f"{path}: not inside the lake {root}, so it is left alone; the lake is damaged: "
            "export into a new folder",
            path=root,
        )
    current = Path(base)
    for part in Path(os.path.relpath(full, base)).parts:
        current = current / part
        if current.is_symlink():
            raise _link(root, current)
    return Path(full)


def _kind_of(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "link"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "file" if entry.is_file(follow_symlinks=False) else "other"


def _entries(root: Path, folder: Path) -> Iterator[tuple[Path, str]]:
    """Every entry under ``folder`` (in the lake) with its kind: dir, file, link or other.

    Links are never followed and hidden folders never entered.
    """
    stack = [_inside(root, folder)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError as err:
            raise CorruptStore(
                f"{current}: cannot be read ({err.strerror or err}); check what it is and its "
                "permissions",
                path=root,
            ) from None
        for entry in entries:
            kind = _kind_of(entry)
            if kind == "dir" and not _hidden(entry.name):
                stack.append(Path(entry.path))
            yield Path(entry.path), kind


@dataclass(frozen=True)
class Listing:
    """A lake table's Parquet files by partition (``source=git/day=...``; ``""``: none).

    Attributes:
        keys: The partition keys, from the folder names.
        files: Per partition, its files in name order.
    """

    keys: tuple[str, ...]
    files: dict[str, list[Path]]


def _off_layout(root: Path, path: Path) -> CorruptStore:
    return CorruptStore(
        f"{path}: not in a lake's layout (hive folders key=value, the same key at each "
        "level, Parquet files in the last); remove it, or export into a new folder",
        path=root,
    )


def _listing(root: Path, folder: Path) -> Listing | None:
    """The Parquet files of a table folder in the lake, by partition; None if it is absent.

    Hidden entries are skipped as engines skip them (never followed).

    Raises:
        CorruptStore: A link, a device or a file other than Parquet in the folder, or
            folders that are not one hive layout.
    """
    if not os.path.lexists(folder):
        return None
    if not _inside(root, folder).is_dir():
        raise _off_layout(root, folder)
    levels: list[str] = []
    files: dict[str, list[Path]] = {}
    depth: int | None = None
    for path, kind in _entries(root, folder):
        parts = path.relative_to(folder).parts
        if any(_hidden(p) for p in parts):
            continue
        if kind == "link":
            raise _link(root, path)
        level = len(parts) - 1
        if kind == "dir":
            key, _, value = parts[-1].partition("=")
            if not (_PLAIN.fullmatch(key) and _PLAIN.fullmatch(value)):
                raise _off_layout(root, path)
            if level == len(levels):
                levels.append(key)
            if levels[level] != key or (depth is not None and level >= depth):
                raise _off_layout(root, path)
        elif kind == "file" and path.suffix == ".parquet":
            depth = level if depth is None else depth
            if level != depth or len(levels) > depth:
                raise _off_layout(root, path)
            files.setdefault("/".join(parts[:-1]), []).append(path)
        else:
            raise CorruptStore(
                f"{path}: not part of a lake (only folders and Parquet files are); move it "
                f"out of {root}",
                path=root,
            )
    keys = tuple(levels if depth is None else levels[:depth])
    return Listing(keys, {name: sorted(found) for name, found in sorted(files.items())})


def _remove(root: Path, path: Path) -> None:
    """Delete a folder or file of the lake (checked to be inside it, not through a link)."""
    target = _inside(root, path)
    if target.is_dir():
        shutil.rmtree(target)
    elif os.path.lexists(target):
        target.unlink()


def _sweep(root: Path) -> None:
    """Remove what exports stopped before their commit point left: staging, temp manifests."""
    for name in sorted(os.listdir(root)):
        if _STAGING.fullmatch(name) or _TEMP.fullmatch(name):
            _remove(root, root / name)


def _move_out(root: Path, staging: Path, path: str) -> None:
    """Move the lake's ``path`` (if there) into the staging folder's ``old``."""
    target = _inside(root, root / path)
    if os.path.lexists(target):
        old = _inside(root, staging / "old" / path)
        old.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, old)


def _apply(root: Path, staging: Path, pending: dict[str, Any]) -> None:
    """Make the committed moves; run again after a stop, it makes the ones not yet made.

    A path still in the staging folder's ``new`` has not been moved in: what is at its
    place is moved out first (one rename each), then it is moved in.
    """
    for path in pending["replace"]:
        new = _inside(root, staging / "new" / path)
        if os.path.lexists(new):
            _move_out(root, staging, path)
            target = _inside(root, root / path)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new, target)
    for path in pending["remove"]:
        _move_out(root, staging, path)


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


def _lake_folder(path: str | os.PathLike[str]) -> Path:
    """The folder to export into: a folder, or a path where one can be made."""
    root = Path(path)
    try:
        if not stat.S_ISDIR(os.stat(root).st_mode):
            raise QueryError(
                f"{root} is a file, not a folder: export into a new or empty folder, or into "
                "a lake's folder"
            )
    except (FileNotFoundError, NotADirectoryError):
        pass  # made by the export (or refused then, with the reason)
    except ValueError as err:
        raise QueryError(f"{root!r}: not a path ({err})") from None
    except OSError as err:
        raise WriteFailed(
            f"{root}: cannot be reached ({err}); choose another folder", path=root
        ) from None
    return root


def _strangers(root: Path) -> list[str]:
    """What a folder without a manifest holds that an export does not write."""
    others: list[str] = []
    for name in sorted(os.listdir(root)):
        path = root / name
        real_dir = path.is_dir() and not path.is_symlink()
        if (_STAGING.fullmatch(name) and real_dir) or (
            _TEMP.fullmatch(name) and path.is_file() and not path.is_symlink()
        ):
            continue
        if name not in _TABLES or not real_dir:
            others.append(name)
            continue
        for inner, kind in _entries(root, path):
            ours = (kind == "dir" and "=" in inner.name) or (
                kind == "file" and inner.suffix == ".parquet"
            )
            if not ours or _hidden(inner.name):
                others.append(str(inner.relative_to(root)))
    return others


def _check_target(root: Path) -> dict[str, Any] | None:
    """The lake's manifest; refuses a folder that holds something other than a lake.

    Without a manifest (a new folder, or a first export that stopped before writing it)
    only what an export writes may be there: the table folders holding Parquet files
    and ``key=value`` folders, and the export's working names (nothing else hidden).
    """
    if not root.is_dir():
        return None
    manifest = _read_manifest(root, doing="update it (or export into a new folder)")
    if manifest is not None:
        return manifest
    other = _strangers(root)
    if other:
        raise QueryError(
            f"{root} holds files that are not an rca_analytics lake "
            f"({', '.join(other[:3])}{', ...' if len(other) > 3 else ''}) and no "
            f"{MANIFEST}; export into a new or empty folder, or into a lake written before"
        )
    return None


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


def _layout(
    data: Data, manifest: dict[str, Any] | None, partition_by: str | Sequence[str]
) -> tuple[tuple[str, ...], str, Layout | None]:
    """The event partition keys, why those, and what ``"auto"`` measured (if it chose)."""
    chosen_by = (manifest or {}).get("layout", {}).get("chosen_by")
    if partition_by == "auto" and manifest is not None and chosen_by == "caller":
        return (
            _partition_by(manifest.get("partition_by", [])),
            "the lake's, as given by the caller when it was first written",
            None,
        )
    if partition_by == "auto":
        layout = choose_layout(data, manifest.get("partition_by") if manifest else None)
        return layout.partition_by, layout.reason, layout
    return _partition_by(partition_by), "given by the caller", None


def _recover(root: Path, manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """Finish an export stopped after its commit point; remove what others left before it."""
    if manifest is not None and "pending" in manifest:
        pending = manifest["pending"]
        _apply(root, root / pending["staging"], pending)
        manifest = {k: v for k, v in manifest.items() if k != "pending"} | {"complete": True}
        _write_json(root / MANIFEST, manifest)
    _sweep(root)
    return manifest


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
    for table in _WHOLE:  # replaced whole, but a link or a stranger in them is refused
        _listing(root, root / table)
    disk = _listing(root, root / "events")
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
        f"SELECT {_select(Event)}{', ' + derived if derived else ''} "  # noqa: S608
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
    for table in _WHOLE:
        if data.has_table(table):
            _write(data, f"SELECT {_select(_MODELS[table])} FROM {table}", new / table, ())  # noqa: S608
            replace.append(table)
    removed = [] if plan.full else [f"events/{n}" for n in plan.changed if n not in present]
    return {"replace": replace, "remove": removed}


def _body(data: Data, plan: _Plan, reason: str, layout: Layout | None) -> dict[str, Any]:
    """The manifest of the lake the export makes."""
    counts = {
        t: int(data.rows(f"SELECT count(*) AS n FROM {t}")[0]["n"])  # noqa: S608
        for t in _TABLES
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
        _write_json(
            root / MANIFEST,
            {**body, "complete": False, "pending": {"staging": staging.name, **pending}},
        )
        committed = True
        _apply(root, staging, pending)
        _write_json(root / MANIFEST, body)
        _remove(root, staging)
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
                _remove(root, staging)


def export_lake(
    data: Data,
    path: str | os.PathLike[str],
    *,
    partition_by: str | Sequence[str] = "auto",
    replace: bool = False,
) -> LakeExport:
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
    root = _lake_folder(path)
    manifest = _check_target(root)
    _check_owner(data, root, manifest, replace=replace)
    keys, reason, layout = _layout(data, manifest, partition_by)
    try:
        root.mkdir(parents=True, exist_ok=True)
        manifest = _recover(root, manifest)
    except OSError as err:
        raise _write_failed(root, err, "the lake reads as its last committed export") from None
    plan = _plan(data, root, manifest, keys)
    body = _body(data, plan, reason, layout)
    _commit(data, root, plan, body)
    written = plan.changed if not plan.full else (sorted(plan.fingerprints) if keys else ["all"])
    return LakeExport(
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


# --- reading ------------------------------------------------------------------------------


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

    tables = {t: _listing(root, where(t)) for t in _TABLES}
    found = tables["events"]
    keys = found.keys if found is not None else tuple(manifest.get("partition_by", []))
    files = dict(found.files) if found is not None else {}
    for path in (*replace, *remove):
        name = path.removeprefix("events/")
        files.pop(name, None)
        moved = _listing(root, where(path)) if name != path and path in replace else None
        if moved is not None and moved.keys:
            raise _off_layout(root, where(path))
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
            f"{_name(events.keys)}, recorded {_name(keys)}{'; ' if odd else ''}"
            f"{', '.join(odd[:3])}); run the export again to put the lake right",
            path=root,
        )


def lake_tables(root: Path, *, doing: str) -> dict[str, Any]:
    """The lake's tables as pyarrow datasets (None: not in the lake, or no files).

    What is read is the lake the manifest records, also after an export stopped after
    its commit point (see the module docstring).

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
    manifest = _read_manifest(root, doing=doing)
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
    for table, model in (("events", Event), *_MODELS.items()):
        dataset = tables[table]
        if dataset is None:
            continue  # an older lake without it, or no events yet: the empty table stays
        want = data.arrow(f"SELECT {_select(model)} FROM {table} LIMIT 0").schema  # noqa: S608
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
