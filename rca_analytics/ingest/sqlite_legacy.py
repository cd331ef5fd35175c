"""Reader for the earlier system's SQLite store.

The earlier system kept events and investigations in SQLite (schema in the data-model
guide): lists and dicts as JSON text, lower-case enum text, ``p0``-``p3`` priorities,
ISO timestamps with or without offsets, links as JSON id lists on both sides. Its first
generation of investigations had only ``id, title, status, created_at, updated_at``.

This module reads such a file with Python's ``sqlite3`` (read-only) in batches and turns
each batch into a DataFrame whose columns are model fields, plus the links and relations
its rows name and the rows it could not read. It never writes anywhere; the store loads
what it yields (:meth:`rca_analytics.Store.import_sqlite`).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pydantic_core

from .._reasons import Reason
from ..errors import Failure, ReaderError

__all__ = ["LEGACY_DDL", "LegacyBatch", "LegacyFile"]

#: The earlier system's schema (from the data-model guide): what this reader expects.
LEGACY_DDL = """
CREATE TABLE events (id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, source TEXT NOT NULL,
  event_type TEXT NOT NULL, severity TEXT NOT NULL, data TEXT, tags TEXT, investigation_ids TEXT,
  source_id TEXT, parsed_at TEXT, linked_at TEXT, metadata TEXT, created_at TEXT NOT NULL,
  deleted_at TEXT, UNIQUE(source_id, source));
CREATE TABLE investigations (id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT,
  status TEXT DEFAULT 'open', impact_severity TEXT DEFAULT 'medium', detected_at TEXT,
  started_at TEXT, resolved_at TEXT, root_cause TEXT, remediation TEXT, lessons_learned TEXT,
  component_affected TEXT, service_affected TEXT, tags TEXT, event_ids TEXT,
  related_investigation_ids TEXT, created_by TEXT, assigned_to TEXT, priority TEXT DEFAULT 'p2',
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT);
CREATE INDEX idx_events_timestamp ON events(timestamp);
CREATE INDEX idx_events_source ON events(source);
CREATE INDEX idx_events_severity ON events(severity);
CREATE INDEX idx_events_created_at ON events(created_at);
CREATE INDEX idx_investigations_status ON investigations(status);
CREATE INDEX idx_investigations_priority ON investigations(priority);
"""

Table = Literal["events", "investigations"]

#: Columns of the earlier schema that hold JSON text, and what each must decode to.
_JSON_OBJECTS = ("data", "metadata")
_JSON_LISTS = ("tags", "investigation_ids", "event_ids", "related_investigation_ids")
#: Columns holding timestamps.
_TIMES = (
    "timestamp",
    "parsed_at",
    "linked_at",
    "created_at",
    "updated_at",
    "deleted_at",
    "detected_at",
    "started_at",
    "resolved_at",
    "impact_started_at",
    "mitigated_at",
)
#: Columns of the earlier tables that become links or relations, not record fields.
_LINK_COLUMNS = ("investigation_ids", "linked_at", "event_ids", "related_investigation_ids")
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d+)?)?)?)\s*$"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class LegacyBatch:
    """One batch of rows of the earlier store, ready for the bulk loader.

    Attributes:
        table: ``events`` or ``investigations``.
        frame: The readable rows, columns named as the model's fields.
        ids: The earlier id of each row of ``frame``.
        links: ``(event_id, investigation_id, linked_at or None)`` named by these rows.
        relations: ``(investigation_id, other_id)`` named by these rows.
        rejects: Rows that could not be read (bad JSON), with their reasons.
        naive_times: Timestamps without an offset, taken as UTC.
        rows: Rows read, readable or not.
    """

    table: Table
    frame: pd.DataFrame
    ids: list[str]
    links: list[tuple[str, str, Any]] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)
    rejects: list[Failure] = field(default_factory=list)
    naive_times: int = 0
    rows: int = 0


class LegacyFile:
    """An earlier-system SQLite file, opened read-only.

    >>> import sqlite3, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "old.db"
    >>> with sqlite3.connect(path) as con:
    ...     _ = con.execute("CREATE TABLE investigations (id TEXT PRIMARY KEY, title TEXT, "
    ...                     "status TEXT, created_at TEXT, updated_at TEXT)")
    ...     _ = con.execute("INSERT INTO investigations VALUES ('i1', 'DB down', 'closed', "
    ...                     "'2024-05-01T10:00:00', '2024-05-02T10:00:00+00:00')")
    >>> with LegacyFile(path) as old:
    ...     batch = next(old.batches("investigations"))
    >>> batch.frame.loc[0, ["title", "created_at", "updated_at"]].tolist()
    ['DB down', '2024-05-01T10:00:00Z', '2024-05-02T10:00:00+00:00']
    >>> batch.naive_times
    1
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ReaderError(f"{self.path}: no such file")
        with self.path.open("rb") as fh:
            if not fh.read(16).startswith(b"SQLite format 3"):
                raise ReaderError(f"{self.path} is not a SQLite database")
        try:
            self._con = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            self._con.execute("PRAGMA query_only = ON")
            tables = {
                name
                for (name,) in self._con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
        except sqlite3.Error as err:
            raise ReaderError(f"{self.path}: cannot read it as SQLite: {err}") from err
        self.columns: dict[str, list[str]] = {}
        for table in ("events", "investigations"):
            if table in tables:
                info = self._con.execute(f"PRAGMA table_info({table})").fetchall()
                self.columns[table] = [row[1] for row in info]
        if not self.columns:
            raise ReaderError(
                f"{self.path} has neither an events nor an investigations table; it is not "
                "a store of the earlier system"
            )
        for table, cols in self.columns.items():
            if "id" not in cols:
                raise ReaderError(f"{self.path}: table {table} has no id column")
            odd = [c for c in cols if not _IDENT.match(c)]
            if odd:
                raise ReaderError(f"{self.path}: table {table} has odd column names {odd}")

    def __enter__(self) -> LegacyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the SQLite connection."""
        self._con.close()

    def estimate(self, table: Table) -> int:
        """About how many rows a table has, at once (for progress bars).

        The largest rowid: exact unless rows were deleted. ``count(*)`` would read the
        whole table, which costs a tenth of the import itself.
        """
        if table not in self.columns:
            return 0
        (n,) = self._con.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()  # noqa: S608
        return max(int(n), 0)

    def batches(
        self, table: Table, size: int = 100_000, *, prefetch: bool = True
    ) -> Iterator[LegacyBatch]:
        """The rows of ``table`` in batches, in rowid order.

        With ``prefetch``, the next batch is read and decoded in a background thread
        while the caller works on this one (SQLite and the store's DuckDB both let go
        of the GIL, so the two overlap on two cores).
        """
        if table not in self.columns:
            return
        if not prefetch:
            yield from self._batches(table, size)
            return
        source = self._batches(table, size)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rca-legacy") as pool:
            pending = pool.submit(next, source, None)
            while (batch := pending.result()) is not None:
                pending = pool.submit(next, source, None)
                yield batch

    def _batches(self, table: Table, size: int) -> Iterator[LegacyBatch]:
        names = self.columns[table]
        quoted = ", ".join(f'"{c}"' for c in names)  # names are plain identifiers (checked)
        sql = f"SELECT rowid, {quoted} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"  # noqa: S608
        last = -(2**63)
        while True:
            try:
                rows = self._con.execute(sql, (last, size)).fetchall()
                lenient = False
            except sqlite3.OperationalError as err:
                if "decode" not in str(err):
                    raise ReaderError(f"{self.path}: reading {table} failed: {err}") from err
                rows = self._lenient(sql, (last, size))
                lenient = True  # some text of this batch is not UTF-8: those rows are rejects
            except sqlite3.Error as err:
                raise ReaderError(f"{self.path}: reading {table} failed: {err}") from err
            if not rows:
                return
            last = rows[-1][0]
            yield _batch(table, names, rows, lenient=lenient)

    def _lenient(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Read with text that is not UTF-8 kept as surrogate escapes (to be reported)."""
        self._con.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
        try:
            return self._con.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise ReaderError(f"{self.path}: reading failed: {err}") from err
        finally:
            self._con.text_factory = str


def _batch(
    table: Table, names: list[str], rows: list[tuple[Any, ...]], *, lenient: bool = False
) -> LegacyBatch:
    """Decode one batch: JSON text, naive times, links; rows with bad JSON are rejects.

    Text columns become Arrow strings (what the bulk loader reads fastest); a column
    holding something else (SQLite lets any column hold any type) stays a list of
    Python values for the model to judge. Each row starts with its rowid, which is
    dropped. ``lenient`` batches may hold text that was not UTF-8 (as surrogate
    escapes): those rows are rejects.
    """
    n = len(rows)
    columns: dict[str, Any] = {
        name: list(map(itemgetter(j), rows)) for j, name in enumerate(names, start=1)
    }
    ids = ["" if i is None else (_shown(str(i)) if lenient else str(i)) for i in columns["id"]]
    bad: dict[int, Failure] = {}
    if lenient:
        for name, values in columns.items():
            for i, value in enumerate(values):
                if isinstance(value, str) and _shown(value) != value:
                    columns[name][i] = None
                    bad.setdefault(
                        i,
                        Failure(
                            ids[i], name, Reason.NOT_UTF8, "text that is not UTF-8", _shown(value)
                        ),
                    )
    for name in (*_JSON_OBJECTS, *_JSON_LISTS):
        if name in columns:
            columns[name] = _decode(
                columns[name], name, dict if name in _JSON_OBJECTS else list, ids, bad
            )
    naive = 0
    for name in _TIMES:
        if name in columns:
            columns[name], count = _times(columns[name])
            naive += count
    batch = LegacyBatch(table, pd.DataFrame(), ids, rows=n, naive_times=naive)
    keep = [i for i in range(n) if i not in bad] if bad else range(n)
    batch.rejects = [bad[i] for i in sorted(bad)]
    nothing: list[Any] = [None] * n
    if table == "events":
        linked_at = columns.get("linked_at", nothing)
        if isinstance(linked_at, pa.Array):
            linked_at = linked_at.to_pylist()
        named = columns.get("investigation_ids", nothing)
        for i in keep:
            for other in named[i] or ():
                batch.links.append((ids[i], _text(other), linked_at[i]))
    else:
        named = columns.get("event_ids", nothing)
        related = columns.get("related_investigation_ids", nothing)
        for i in keep:
            for other in named[i] or ():
                batch.links.append((_text(other), ids[i], None))
            for other in related[i] or ():
                batch.relations.append((ids[i], _text(other)))
    mask = pa.array([i not in bad for i in range(n)]) if bad else None
    series: dict[str, pd.Series] = {}
    for name, values in columns.items():
        if name in _LINK_COLUMNS:
            continue
        if name not in _TIMES and name not in _JSON_OBJECTS and name not in _JSON_LISTS:
            values = _strings(values)
        if isinstance(values, pa.Array):
            arr = values.filter(mask) if mask is not None else values
            series[name] = pd.Series(pd.arrays.ArrowExtensionArray(arr), name=name)
        else:
            kept = values if mask is None else [values[i] for i in keep]
            series[name] = pd.Series(kept, dtype=object, name=name)
    batch.frame = pd.DataFrame(series)
    batch.ids = ids if mask is None else [ids[i] for i in keep]
    return batch


def _strings(values: list[Any]) -> pa.Array | list[Any]:
    """Arrow text when every value is text (or NULL), else the values as they are."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return values


def _shown(text: str) -> str:
    """Text with bytes that were not UTF-8 (surrogate escapes) shown as U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _decode(
    values: list[Any], name: str, kind: type, ids: list[str], bad: dict[int, Failure]
) -> list[Any]:
    """JSON text to values; each distinct text is decoded once (``[]``, ``{}`` repeat a lot).

    Equal texts share one decoded value; nothing downstream changes them.
    """
    decoded: dict[Any, Any] = {None: None, "": None}
    problems: dict[str | bytes, str] = {}
    for text in set(values):
        if text in decoded:
            continue
        if not isinstance(text, (str, bytes)):
            decoded[text] = text  # not text: the model judges it
            continue
        try:
            value = pydantic_core.from_json(text)
        except ValueError as err:
            problems[text] = f"not JSON ({str(err).splitlines()[0]})"
            decoded[text] = None
            continue
        if value is not None and not isinstance(value, kind):
            wanted = "object" if kind is dict else "list"
            problems[text] = f"JSON {type(value).__name__}, expected a JSON {wanted}"
        decoded[text] = value
    if problems:
        for i, text in enumerate(values):
            if isinstance(text, (str, bytes)) and text in problems:
                shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                shown = shown if len(shown) <= 80 else shown[:79] + "…"
                bad.setdefault(i, Failure(ids[i], name, Reason.BAD_JSON, problems[text], shown))
    return list(map(decoded.__getitem__, values))


def _times(values: list[Any]) -> tuple[pa.Array | list[Any], int]:
    """ISO texts without an offset get 'Z' (taken as UTC); returns the values and how many.

    The values come back as Arrow text when all are text (or NULL); otherwise as they
    were, for the model to judge, with the naive texts fixed.
    """
    arr = _strings(values)
    mixed = not isinstance(arr, pa.Array)
    if mixed:
        arr = pa.array([v if isinstance(v, str) else None for v in values], pa.string())
    assert isinstance(arr, pa.Array)
    if arr.null_count == len(arr):
        return (values if mixed else arr), 0
    stripped = pc.utf8_trim_whitespace(arr)
    has_offset = pc.match_substring_regex(stripped, _OFFSET)
    looks_like_time = pc.match_substring_regex(stripped, r"^\d{4}-\d{2}-\d{2}([T ]|$)")
    naive_mask = pc.fill_null(pc.and_(pc.invert(has_offset), looks_like_time), False)
    count = int(pc.sum(naive_mask).as_py() or 0)
    if not count:
        return (values if mixed else arr), 0
    fixed = pc.if_else(naive_mask, pc.binary_join_element_wise(stripped, "Z", ""), arr)
    if not mixed:
        return fixed, count
    fixed_list = fixed.to_pylist()
    return [f if isinstance(v, str) else v for v, f in zip(values, fixed_list, strict=True)], count
