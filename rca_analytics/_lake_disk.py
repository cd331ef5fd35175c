"""The lake on disk: its tables, columns and partition keys, its manifest, its files.

Everything that touches the lake's folder lives here: the manifest's checks, reading
and writing (names in it are checked before they become paths), paths checked to lie
inside the lake with no link on the way, the listing of a table's Parquet files by
partition, and the moves an export commits (made, and finished after a stop).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import pyarrow as pa

from .errors import CorruptStore, QueryError, SchemaVersionError, WriteFailed
from .models import Investigation, Link, Relation, Review
from .schema import SCHEMA_VERSION, json_columns, quote

__all__ = [
    "FORMAT",
    "MANIFEST",
    "MODELS",
    "PARTITIONS",
    "TABLES",
    "TIME",
    "WHOLE",
    "Listing",
    "apply_pending",
    "check_target",
    "lake_folder",
    "layout_name",
    "off_layout",
    "partition_keys",
    "read_manifest",
    "recover",
    "remove",
    "select_columns",
    "table_listing",
    "write_json",
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
#: The small tables, written whole on every export.
WHOLE = ("investigations", "links", "link_reviews", "investigation_relations")
TABLES = ("events", *WHOLE)
MODELS: dict[str, Any] = {
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


def layout_name(keys: Sequence[str]) -> str:
    """A layout for people: its keys (``source/day``), or ``none``."""
    return "/".join(keys) or "none"


def select_columns(model: Any) -> str:
    """The stored fields of a table, JSON as text, in model order."""
    cols = []
    for name in model.stored_fields():
        if name in json_columns(model):
            cols.append(f"{quote(name)}::VARCHAR AS {quote(name)}")
        else:
            cols.append(quote(name))
    return ", ".join(cols)


def partition_keys(value: Sequence[str]) -> tuple[str, ...]:
    """The event partition keys ``value`` gives; refuses what is not a layout."""
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
    return path in TABLES or (partition != path and bool(keys) and _partition_name(partition, keys))


def _strings(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_fields(root: Path, body: dict[str, Any]) -> None:
    """Refuse a manifest whose fields the export and the readers use are not as written."""
    keys = body.get("partition_by", [])
    if not _strings(keys):
        raise _damaged(root, f"partition_by is {_shown(keys)}, not a list of keys")
    try:
        partition_keys(keys)
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


def read_manifest(root: Path, *, doing: str) -> dict[str, Any] | None:
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


def write_json(path: Path, body: dict[str, Any]) -> None:
    """Replace ``path`` with ``body`` as JSON in one rename (a temporary file first)."""
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


def off_layout(root: Path, path: Path) -> CorruptStore:
    """The error for a path of a table folder that is not in a lake's layout."""
    return CorruptStore(
        f"{path}: not in a lake's layout (hive folders key=value, the same key at each "
        "level, Parquet files in the last); remove it, or export into a new folder",
        path=root,
    )


def table_listing(root: Path, folder: Path) -> Listing | None:
    """The Parquet files of a table folder in the lake, by partition; None if it is absent.

    Hidden entries are skipped as engines skip them (never followed).

    Raises:
        CorruptStore: A link, a device or a file other than Parquet in the folder, or
            folders that are not one hive layout.
    """
    if not os.path.lexists(folder):
        return None
    folder = _inside(root, folder)  # absolute, as the entries below are
    if not folder.is_dir():
        raise off_layout(root, folder)
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
                raise off_layout(root, path)
            if level == len(levels):
                levels.append(key)
            if levels[level] != key or (depth is not None and level >= depth):
                raise off_layout(root, path)
        elif kind == "file" and path.suffix == ".parquet":
            depth = level if depth is None else depth
            if level != depth or len(levels) > depth:
                raise off_layout(root, path)
            files.setdefault("/".join(parts[:-1]), []).append(path)
        else:
            raise CorruptStore(
                f"{path}: not part of a lake (only folders and Parquet files are); move it "
                f"out of {root}",
                path=root,
            )
    keys = tuple(levels if depth is None else levels[:depth])
    return Listing(keys, {name: sorted(found) for name, found in sorted(files.items())})


# --- the folder an export writes, and its moves --------------------------------------------


def lake_folder(path: str | os.PathLike[str]) -> Path:
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
        if name not in TABLES or not real_dir:
            others.append(name)
            continue
        for inner, kind in _entries(root, path):
            ours = (kind == "dir" and "=" in inner.name) or (
                kind == "file" and inner.suffix == ".parquet"
            )
            if not ours or _hidden(inner.name):
                others.append(str(inner.relative_to(root)))
    return others


def check_target(root: Path) -> dict[str, Any] | None:
    """The lake's manifest; refuses a folder that holds something other than a lake.

    Without a manifest (a new folder, or a first export that stopped before writing it)
    only what an export writes may be there: the table folders holding Parquet files
    and ``key=value`` folders, and the export's working names (nothing else hidden).
    """
    if not root.is_dir():
        return None
    manifest = read_manifest(root, doing="update it (or export into a new folder)")
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


def remove(root: Path, path: Path) -> None:
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
            remove(root, root / name)


def _move_out(root: Path, staging: Path, path: str) -> None:
    """Move the lake's ``path`` (if there) into the staging folder's ``old``."""
    target = _inside(root, root / path)
    if os.path.lexists(target):
        old = _inside(root, staging / "old" / path)
        old.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, old)


def apply_pending(root: Path, staging: Path, pending: dict[str, Any]) -> None:
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


def recover(root: Path, manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """Finish an export stopped after its commit point; remove what others left before it."""
    if manifest is not None and "pending" in manifest:
        pending = manifest["pending"]
        apply_pending(root, root / pending["staging"], pending)
        manifest = {k: v for k, v in manifest.items() if k != "pending"} | {"complete": True}
        write_json(root / MANIFEST, manifest)
    _sweep(root)
    return manifest
