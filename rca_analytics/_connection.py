"""Handles on store files: one DuckDB connection per file per process, shared.

DuckDB lets one process hold a file; two connections to it in one process conflict on
concurrent writes ("Conflict on update"), and opening it again with another mode fails
with a configuration error. So every :class:`~rca_analytics.Store` on the same file in a
process shares one handle (connection, lock, transaction state); the file is released
when the last store on it is closed or garbage-collected.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from . import migrations
from .errors import CorruptStore, NotFound, QueryError, StoreError, StoreLocked, WriteFailed
from .models import utc_now
from .schema import META_TABLE, SCHEMA_VERSION, TABLES, ddl

MEMORY = ":memory:"

#: Settings applied to every connection: never download or auto-load extensions.
CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


@dataclass(frozen=True)
class Access:
    """What a store's connection may touch besides its own file.

    By default nothing: DuckDB's ``enable_external_access`` is off, so SQL run
    through the store cannot read or write other files, fetch URLs, ``ATTACH``
    databases or load extensions; the configuration is then locked so no statement
    can turn it back on. ``dirs`` are folders it may read and write (e.g. for
    Parquet exports); ``external=True`` lifts the restriction altogether.
    """

    external: bool = False
    dirs: tuple[str, ...] = ()

    @classmethod
    def of(cls, external: bool, dirs: Any) -> Access:
        """From ``connect()``'s arguments (a folder or a list of folders)."""
        if isinstance(dirs, (str, os.PathLike)):
            dirs = [dirs]
        folders = []
        for d in dirs or ():
            folder = Path(d).expanduser().resolve()
            if not folder.is_dir():
                raise NotFound(f"allowed folder {folder} does not exist (or is not a folder)")
            folders.append(str(folder) + os.sep)
        return cls(bool(external), tuple(sorted(set(folders))))

    def describe(self) -> str:
        """For messages: what is allowed."""
        if self.external:
            return "external access on"
        if self.dirs:
            return f"access to {', '.join(self.dirs)} only"
        return "no external access"


@dataclass(eq=False)
class Handle:
    """A connection shared by the stores of one file in this process."""

    path: Path | None
    con: duckdb.DuckDBPyConnection
    read_only: bool
    schema_version: int = SCHEMA_VERSION
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: int = 0
    tx_depth: int = 0
    writes: int = 0
    inner_failed: bool = False
    closed: bool = False
    #: Derived data kept between writes, keyed by name: (writes when built, value).
    cache: dict[str, tuple[int, Any]] = field(default_factory=dict)
    #: The columns each table has in this file (older schema versions have fewer).
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    access: Access = field(default_factory=Access)
    #: Why DuckDB gave up on this connection (after a fatal error), else None.
    failure: str | None = None
    #: Its key in the registry of open handles.
    key: Any = None
    #: The store's own identity (``rca_meta.store_id``), kept when the file is moved or
    #: copied; None for a read-only open of a file from before store ids.
    store_id: str | None = None

    @property
    def label(self) -> str:
        """The file path as text, or ``:memory:``."""
        return MEMORY if self.path is None else str(self.path)


#: Open handles by file identity (device and inode, so a hard link or another spelling
#: of the path finds the same handle), or by path for a file not created yet.
_HANDLES: dict[Any, Handle] = {}
#: Lock order: a handle's lock before this one, never the other way round.
_HANDLES_LOCK = threading.RLock()


def _file_key(path: Path) -> Any:
    try:
        st = os.stat(path)
    except OSError:
        return ("path", str(path))
    return ("inode", st.st_dev, st.st_ino)


def acquire(
    path: Path | None,
    *,
    read_only: bool,
    backup: bool = False,
    access: Access | None = None,
    wait: float = 0.0,
) -> Handle:
    """Open (or share) the handle of ``path``; checks and prepares the store.

    While another process holds the file, tries again for up to ``wait`` seconds.
    """
    access = access or Access()
    if path is None:
        if read_only:
            raise StoreError("an in-memory store cannot be opened read-only")
        handle = Handle(None, _connect(None, read_only=False, access=access), read_only=False)
        handle.access = access
        handle.schema_version = _prepare(handle, backup=False)
        handle.users = 1
        return handle
    if not isinstance(wait, (int, float)) or not 0 <= wait < float("inf"):
        raise ValueError(f"wait must be a number of seconds >= 0, not {wait!r}")
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return _acquire_file(path, read_only=read_only, backup=backup, access=access)
        except StoreLocked as err:
            remaining = deadline - time.monotonic()
            if err.pid == os.getpid() or remaining <= 0:
                raise
        time.sleep(min(pause, remaining))  # the last try comes at the end of the window
        pause = min(pause * 2, 1.0)


def _acquire_file(path: Path, *, read_only: bool, backup: bool, access: Access) -> Handle:
    with _HANDLES_LOCK:
        shared = _HANDLES.get(_file_key(path))
        if shared is not None:
            if shared.read_only and not read_only:
                raise StoreLocked(
                    f"{path} is already open read-only in this process ({shared.users} "
                    "store(s)); close those stores to open it for writing",
                    path=path,
                    pid=os.getpid(),
                )
            if shared.access != access:
                raise StoreError(
                    f"{path} is already open in this process with {shared.access.describe()}; "
                    f"close those stores to open it with {access.describe()}"
                )
            shared.users += 1
            return shared
        con = _connect(path, read_only=read_only, access=access)
        handle = Handle(path, con, read_only=read_only, access=access)
        try:
            handle.schema_version = _prepare(handle, backup=backup)
        except duckdb.Error as err:
            handle.con.close()
            raise db_error(handle, err, "opening") from err
        except BaseException:
            handle.con.close()
            raise
        handle.users = 1
        handle.key = _file_key(path)  # the file exists now
        _HANDLES[handle.key] = handle
        return handle


def release(handle: Handle) -> None:
    """One store less on the handle; the last one closes the connection."""
    with handle.lock, _HANDLES_LOCK:
        handle.users -= 1
        if handle.users > 0 or handle.closed:
            return
        handle.closed = True
        _forget(handle)
        with contextlib.suppress(duckdb.Error):
            handle.con.close()


def release_soon(handle: Handle) -> None:
    """:func:`release` for a garbage-collected store, without waiting for a lock.

    At once if no lock is held, else from a short-lived thread: the collector may run
    inside a lock of this thread, and waiting there could deadlock.
    """
    if handle.lock.acquire(blocking=False):
        try:
            if _HANDLES_LOCK.acquire(blocking=False):
                try:
                    release(handle)
                    return
                finally:
                    _HANDLES_LOCK.release()
        finally:
            handle.lock.release()
    threading.Thread(target=release, args=(handle,), name="rca-release", daemon=True).start()


def _forget(handle: Handle) -> None:
    if handle.key is not None and _HANDLES.get(handle.key) is handle:
        del _HANDLES[handle.key]


def _connect(path: Path | None, *, read_only: bool, access: Access) -> duckdb.DuckDBPyConnection:
    if path is None:
        con = duckdb.connect(MEMORY, config=CONFIG)
    else:
        _check_file(path, read_only=read_only)
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=CONFIG)
        except duckdb.Error as err:
            raise _open_error(path, err) from err
    try:
        lock_down(con, access)
    except BaseException:
        con.close()
        raise
    return con


def lock_down(con: duckdb.DuckDBPyConnection, access: Access = Access()) -> None:
    """UTC session time; no files, URLs or extensions beyond ``access``; settings locked."""
    con.execute("SET TimeZone = 'UTC'")
    if not access.external:
        if access.dirs:
            con.execute("SET allowed_directories = ?", [list(access.dirs)])
        con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


#: Bytes 8-11 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"


def _check_file(path: Path, *, read_only: bool) -> None:
    if not path.exists():
        if read_only:
            raise NotFound(
                f"no store at {path}; a read-only open needs an existing file "
                "(create it with rca.connect(path) first)"
            )
        if not path.parent.is_dir():
            raise NotFound(f"cannot create {path}: folder {path.parent} does not exist")
        return
    if path.is_dir():
        raise CorruptStore(f"{path} is a folder, not a store file", path=path)
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(b"SQLite format 3"):
        raise CorruptStore(
            f"{path} is a SQLite database, not an rca_analytics store. Nothing was changed; "
            "if it is the earlier system's store, import it into a new one: "
            "store.import_sqlite(path) or rca import-sqlite",
            path=path,
        )
    if head and head[8:12] != _DUCKDB_MAGIC:
        # DuckDB itself would open a Parquet, CSV or JSON file as a database of views.
        kind = "a Parquet file" if head.startswith(b"PAR1") else "another kind of file"
        raise CorruptStore(
            f"{path} is {kind}, not an rca_analytics store. Nothing was changed: choose "
            "another path (a lake folder opens with rca.connect_lake; a file of events "
            "loads with store.add_events or store.ingest)",
            path=path,
        )


def _open_error(path: Path, err: duckdb.Error) -> StoreError:
    text = str(err)
    if "Conflicting lock" in text or "Could not set lock" in text:
        match = re.search(r"PID (\d+)", text)
        pid = int(match.group(1)) if match else None
        holder = f"process {pid}" if pid else "another process"
        return StoreLocked(
            f"{path} is held by {holder}; close the store (or notebook) there, or open this "
            "one (read_only=True works for several readers) once it is closed; "
            "rca.connect(path, wait=seconds) keeps trying meanwhile",
            path=path,
            pid=pid,
        )
    if "different configuration" in text:
        return StoreLocked(
            f"{path} is already open in this process through a DuckDB connection made "
            "outside rca_analytics (duckdb.connect); close that connection (con.close()), "
            "or query the store's tables through store.sql()",
            path=path,
            pid=os.getpid(),
        )
    if _CORRUPT.search(text):
        return CorruptStore(
            f"{path} is not a readable store ({text.splitlines()[0]}); it may be damaged "
            "or another kind of file. Nothing was changed: restore it from a backup or "
            "choose another path",
            path=path,
        )
    return StoreError(f"cannot open {path}: {text}")


def _prepare(handle: Handle, *, backup: bool) -> int:
    """Create the tables of a new store, or check (and upgrade) an existing one."""
    version, structure = _prepare_tables(handle, backup=backup)
    if structure is None:  # an older file: read what it has
        # DuckDB's catalog functions rather than information_schema, whose views select
        # the same rows from them (NOT internal) but cost several times more to run.
        rows = handle.con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index"
        ).fetchall()
        found: dict[str, list[str]] = {}
        for table, column in rows:
            found.setdefault(table, []).append(column)
        handle.columns = {table: tuple(cols) for table, cols in found.items()}
    else:  # what the schema check read (a fresh connection has no other tables)
        handle.columns = {
            table: tuple(c[0] for c in cols) for table, (cols, _) in structure.items()
        }
    handle.store_id = _store_id(handle)
    return version


def _store_id(handle: Handle) -> str | None:
    """The store's id, given to a writable file that has none yet (files before ids)."""
    sql = f"SELECT value FROM {META_TABLE} WHERE key = 'store_id'"  # noqa: S608
    rows = handle.con.execute(sql).fetchall()
    if rows:
        return str(rows[0][0])
    if handle.read_only:
        return None
    new = uuid.uuid4().hex
    handle.con.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES ('store_id', ?)",  # noqa: S608
        [new],
    )
    return new


def _prepare_tables(handle: Handle, *, backup: bool) -> tuple[int, Structure | None]:
    """The file's schema version, and its tables' shape when that is known to be current.

    A new store is made from the models' DDL, so its shape is the expected one; an
    existing file at the current version has just been checked against it.
    """
    con = handle.con
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
            "AND NOT internal UNION ALL SELECT view_name FROM duckdb_views() "
            "WHERE schema_name = 'main' AND NOT internal"
        ).fetchall()
    }
    if not tables:
        if handle.read_only:
            raise CorruptStore(
                f"{handle.label} is an empty DuckDB file, not an rca_analytics store",
                path=handle.path,
            )
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in ddl():
                con.execute(statement)
            migrations.write_version(con)
            con.execute(
                f"INSERT INTO {META_TABLE} (key, value) VALUES ('created_at', ?)",  # noqa: S608
                [utc_now().isoformat()],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return SCHEMA_VERSION, _expected_structure()
    if META_TABLE not in tables:
        raise CorruptStore(
            f"{handle.label} is a DuckDB database but not an rca_analytics store (it has "
            f"tables {sorted(tables)[:5]} but no {META_TABLE}); choose another path",
            path=handle.path,
        )
    version = migrations.check_version(con, handle.path, read_only=handle.read_only, backup=backup)
    if version == SCHEMA_VERSION:
        return version, _check_columns(handle)
    return version, None


def _check_columns(handle: Handle) -> Structure:
    """Refuse a file whose tables differ from the schema its version promises.

    Names, types, NOT NULLs, defaults, keys and CHECKs are compared with a store made
    from the models' DDL: a table rebuilt elsewhere with the same column names but
    other types, or without its CHECKs, would hand back wrong values.
    """
    found = _structure(handle.con)
    expected = _expected_structure()
    for name in (META_TABLE, *TABLES):
        differences = _differences(found.get(name), expected[name])
        if differences:
            shown = "; ".join(differences[:3])
            more = f"; and {len(differences) - 3} more" if len(differences) > 3 else ""
            raise CorruptStore(
                f"{handle.label}: table {name} differs from schema version {SCHEMA_VERSION} "
                f"({shown}{more}); the file was changed outside rca_analytics. Nothing was "
                "modified: restore it from a backup, or import its records into a new "
                "store",
                path=handle.path,
            )
    return found


#: A table's shape: its columns (name, type, nullable, default) and its constraints.
Structure = dict[str, tuple[list[tuple[Any, ...]], set[tuple[Any, ...]]]]


def _structure(con: duckdb.DuckDBPyConnection) -> Structure:
    """The shape of every table of the connection's own database, from DuckDB's catalog."""
    out: Structure = {}
    for table, *column in con.execute(
        "SELECT table_name, column_name, data_type, "
        "CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END, column_default "
        "FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
        "AND database_name = current_database() ORDER BY table_name, column_index"
    ).fetchall():
        out.setdefault(table, ([], set()))[0].append(tuple(column))
    for table, kind, expression, names in con.execute(
        "SELECT table_name, constraint_type, expression, constraint_column_names "
        "FROM duckdb_constraints() WHERE schema_name = 'main' "
        "AND database_name = current_database()"
    ).fetchall():
        out.setdefault(table, ([], set()))[1].add((kind, expression, tuple(sorted(names))))
    return out


@functools.cache
def _expected_structure() -> Structure:
    """The shape of a new store's tables (made once, in memory, from the models' DDL)."""
    con = duckdb.connect(MEMORY, config=CONFIG)
    try:
        for statement in ddl():
            con.execute(statement)
        return _structure(con)
    finally:
        con.close()


def _differences(
    found: tuple[list[tuple[Any, ...]], set[tuple[Any, ...]]] | None,
    expected: tuple[list[tuple[Any, ...]], set[tuple[Any, ...]]],
) -> list[str]:
    """What differs between a table's shape in the file and the schema's, for people."""
    if found is None:
        return ["the table is missing"]
    columns, constraints = found
    want_columns, want_constraints = expected
    names, want_names = [c[0] for c in columns], [c[0] for c in want_columns]
    if names != want_names:
        return [f"columns {names}, expected {want_names}"]
    out = [
        f"column {have[0]} is {_column_text(have)}, expected {_column_text(want)}"
        for have, want in zip(columns, want_columns, strict=True)
        if have != want
    ]
    out += [f"{_constraint_text(c)} is missing" for c in sorted(want_constraints - constraints)]
    out += [f"{_constraint_text(c)} is not ours" for c in sorted(constraints - want_constraints)]
    return out


def _column_text(column: tuple[Any, ...]) -> str:
    _, kind, nullable, default = column
    null = "" if nullable == "YES" else " NOT NULL"
    return f"{kind}{null}{f' DEFAULT {default}' if default is not None else ''}"


def _constraint_text(constraint: tuple[Any, ...]) -> str:
    kind, expression, names = constraint
    return f"{kind} {expression or ''} on {', '.join(names)}".replace("  ", " ")


_CORRUPT = re.compile(
    r"Corrupt database file|computed checksum|not a valid DuckDB database"
    r"|Could not read enough bytes|Failed to read database header",
    re.IGNORECASE,
)
_CANNOT_WRITE = re.compile(
    r"File too large|No space left|Disk quota|Could not write|Could not (?:fsync|truncate)"
    r"|Input/output error",  # only read in storage-level errors (see db_error)
    re.IGNORECASE,
)


def db_error(
    handle: Handle, err: duckdb.Error, doing: str = "database error", *, query: bool = False
) -> StoreError | QueryError:
    """The typed error for a DuckDB error met while ``doing`` something with ``handle``.

    A damaged file gives :class:`CorruptStore`; a write the disk refused gives
    :class:`WriteFailed`; after a fatal error DuckDB refuses the connection for good,
    so the handle is dropped and the next ``connect`` opens the file afresh.
    ``query`` marks errors of the user's own SQL, which become :class:`QueryError`.
    """
    text = str(err)
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    label = handle.label
    # Only storage-level errors are read for damage or failed writes: a parser or
    # catalog error may quote the user's SQL, whatever words it contains.
    # An I/O error counts only when it names the store's own file (the user's SQL may
    # read other files, when allowed, and their names may contain any words).
    own_file = handle.path is not None and str(handle.path) in text
    storage = (
        type(err) is duckdb.Error
        or isinstance(err, duckdb.FatalException)
        or (isinstance(err, (duckdb.IOException, duckdb.InternalException)) and own_file)
    )
    fatal = isinstance(err, duckdb.FatalException) or (
        storage and "database has been invalidated" in text
    )
    if fatal:
        invalidate(handle, first)
    if not storage:
        text = text + _permission_hint(text) if query else text
        return (
            QueryError(f"query failed: {text}")
            if query
            else StoreError(f"{doing} on {label}: {text}")
        )
    if _CORRUPT.search(text):
        return CorruptStore(
            f"{label} is damaged ({first}). Nothing was changed: restore it from a backup "
            "(a copy made with connect(..., backup=True), or your own), or recover what is "
            "readable with read_only=True",
            path=handle.path,
        )
    if _CANNOT_WRITE.search(text) or fatal:
        return WriteFailed(
            f"{doing} on {label} failed: the file could not be written ({first}); the "
            "disk may be full or a file size limit reached. What was committed before is "
            "safe and this write is not in the file: free space, then open the store "
            "again with rca.connect()",
            path=handle.path,
        )
    if query:
        return QueryError(f"query failed: {text}{_permission_hint(text)}")
    return StoreError(f"{doing} on {label}: {text}")


def _permission_hint(text: str) -> str:
    if not text.startswith("Permission Error"):
        return ""
    return (
        "\nThe store's SQL may not touch other files, URLs or extensions: open it with "
        "rca.connect(path, allow_dirs=[folder]) to allow a folder, or external_access=True "
        "to allow everything."
    )


def invalidate(handle: Handle, reason: str) -> None:
    """Forget a connection DuckDB gave up on; stores on it say so, connect() starts anew."""
    with handle.lock, _HANDLES_LOCK:
        handle.failure = reason
        _forget(handle)
        with contextlib.suppress(duckdb.Error):
            handle.con.close()  # DuckDB keeps a failed database until its last connection goes
