"""The data layer: the only code that runs SQL against a store's file.

A :class:`Data` is what every operation (loading, ingesting, importing, the lake,
queries, linking, metrics) works with: a connection shared by the stores of one file
(see :mod:`._connection`), the transaction, rows / DataFrames / Arrow / statements with
DuckDB's errors turned into typed ones, the history log, and Arrow tables registered
for a while. The :class:`~rca_analytics.Store` facade owns one; an operation given a
store asks :func:`of` for it.

>>> import rca_analytics as rca
>>> store = rca.connect(":memory:")
>>> data = of(store)
>>> data.rows("SELECT count(*) AS n FROM events")
[{'n': 0}]
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from . import _connection
from . import _validate as v
from ._connection import Handle
from .errors import NotFound, ReadOnlyStore, StoreError, TransactionAborted, WriteFailed
from .models import Event, Investigation, Record, utc_now
from .schema import TABLES, columns, quote

__all__ = [
    "ENTITY_OF",
    "TABLE_OF",
    "Data",
    "Entity",
    "Params",
    "StoreOrData",
    "attach",
    "jsonable",
    "of",
    "record_key",
]

#: A :class:`~rca_analytics.Store` or its :class:`Data`: what the operations that are
#: public (``rca.linking.score_links(store)``...) accept. Typed loosely so that no
#: operation imports the facade above it.
StoreOrData = Any
#: Query parameters: positional (``?``) or named (``$name``).
Params = Sequence[Any] | Mapping[str, Any]
#: What a history entry is about.
Entity = Literal["event", "investigation", "batch"]
#: The records with ids, lifecycles and histories, by the name the history gives them.
ENTITY_OF: dict[type[Record], Entity] = {Event: "event", Investigation: "investigation"}
#: The table of each kind of record.
TABLE_OF: dict[type[Record], str] = {t.model: name for name, t in TABLES.items()}


class Data:
    """A store's access to its file: connection, transaction, SQL, history.

    Every statement runs under the handle's lock (stores are shared between
    threads); DuckDB errors become :class:`~rca_analytics.StoreError` subclasses
    (``CorruptStore``, ``WriteFailed``...) naming the file.
    """

    def __init__(self, handle: Handle, *, read_only: bool) -> None:
        self.handle = handle
        self.read_only = read_only
        #: Set when the store that owns it is closed.
        self.closed = False

    @property
    def label(self) -> str:
        """The file path as text, or ``:memory:`` (for messages)."""
        return self.handle.label

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection; refuses a closed store or one after a failed write."""
        if self.closed:
            raise StoreError(f"the store {self.label} is closed; open it again with connect()")
        if self.handle.failure is not None:
            raise WriteFailed(
                f"the store {self.label} stopped after a failed write "
                f"({self.handle.failure}); what was committed before is safe: close it "
                "and open it again with rca.connect()",
                path=self.handle.path,
            )
        return self.handle.con

    def require_writable(self) -> None:
        """Refuse a write on a store opened read-only."""
        if self.read_only:
            raise ReadOnlyStore(
                f"{self.label} was opened read-only; open it with rca.connect(path) to "
                "write (one writer at a time)"
            )

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction for the block; inner blocks join the outer one.

        An exception leaving the block rolls everything back. A block that returns is
        committed, or leaving it raises :class:`TransactionAborted`: DuckDB discards
        a transaction after any failed statement, even one whose error was caught.
        """
        h = self.handle
        with h.lock:
            con = self.connection()
            if h.tx_depth:
                h.tx_depth += 1
                writes = h.writes
                try:
                    yield
                except BaseException:
                    if h.writes != writes:
                        h.inner_failed = True
                    raise
                finally:
                    h.tx_depth -= 1
                return
            con.execute("BEGIN TRANSACTION")
            h.tx_depth, h.inner_failed = 1, False
            try:
                yield
            except BaseException:
                h.tx_depth = 0
                self._rollback(con)
                raise
            h.tx_depth = 0
            if h.inner_failed or _aborted(con):
                self._rollback(con)
                raise TransactionAborted(
                    f"a call inside this transaction on {self.label} failed (the error "
                    "was caught inside the block), so the whole transaction was rolled "
                    "back: nothing of it was stored. Run the block again without "
                    "the failing call"
                )
            try:
                con.execute("COMMIT")
            except duckdb.Error as err:
                raise _connection.db_error(h, err, "commit") from err

    def write(self) -> contextlib.AbstractContextManager[None]:
        """A transaction for writing (refused on a read-only store)."""
        self.require_writable()
        return self.transaction()

    def _rollback(self, con: duckdb.DuckDBPyConnection) -> None:
        self.handle.cache.clear()  # anything derived inside the transaction is gone with it
        with contextlib.suppress(duckdb.Error):  # the transaction may be gone already
            con.execute("ROLLBACK")

    # --- SQL ---------------------------------------------------------------------------

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """The rows of internal SQL as dicts."""
        with self.handle.lock:
            try:
                cur = self.connection().execute(sql, _args(params))
                names = [d[0] for d in cur.description or ()]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            except duckdb.Error as err:
                raise _connection.db_error(self.handle, err) from err

    def frame(self, sql: str, params: Params = ()) -> pd.DataFrame:
        """The result of internal SQL as a DataFrame."""
        with self.handle.lock:
            try:
                return self.connection().execute(sql, _args(params)).df()
            except duckdb.Error as err:
                raise _connection.db_error(self.handle, err) from err

    def arrow(self, sql: str, params: Params = ()) -> pa.Table:
        """The result of internal SQL as an Arrow table."""
        with self.handle.lock:
            try:
                return self.connection().sql(sql, params=_args(params)).to_arrow_table()
            except duckdb.Error as err:
                raise _connection.db_error(self.handle, err) from err

    def reader(self, sql: str, params: Params = (), *, batch_rows: int = 100_000) -> Any:
        """A streaming Arrow reader over internal SQL (the rows never all in memory).

        The caller holds the handle's lock while it reads (or is inside a transaction).
        """
        try:
            relation = self.connection().sql(sql, params=_args(params))
            return relation.to_arrow_reader(batch_rows)
        except duckdb.Error as err:
            raise _connection.db_error(self.handle, err) from err

    def execute(self, sql: str, params: Params = ()) -> None:
        """Run an internal statement that writes (counted, so transactions know)."""
        with self.handle.lock:
            self.handle.writes += 1
            try:
                self.connection().execute(sql, _args(params))
            except duckdb.Error as err:
                raise _connection.db_error(self.handle, err) from err

    def user_query(self, query: str, params: Params = ()) -> pd.DataFrame:
        """Run a user's read query (already checked) in a transaction always rolled back.

        Inside the caller's transaction it runs there (and sees its writes).
        """
        h = self.handle
        with h.lock:
            con = self.connection()
            own = not h.tx_depth
            try:
                if own:  # always rolled back: whatever the query did is undone
                    con.execute("BEGIN TRANSACTION")
                try:
                    return con.execute(query, _args(params)).df()
                finally:
                    if own:
                        with contextlib.suppress(duckdb.Error):
                            con.execute("ROLLBACK")
            except duckdb.Error as err:
                raise _connection.db_error(h, err, query=True) from err

    @contextmanager
    def registered(self, **tables: Any) -> Iterator[None]:
        """Arrow tables (or datasets) visible to SQL under their names, for a while."""
        with self.handle.lock:
            con = self.connection()
            for name, table in tables.items():
                con.register(name, table)
            try:
                yield
            finally:
                for name in tables:
                    # in an aborted transaction this fails too: the error that aborted
                    # it is the one that matters
                    with contextlib.suppress(duckdb.Error):
                        con.unregister(name)

    # --- the file's tables and the history ---------------------------------------------

    def has_table(self, table: str) -> bool:
        """Whether the file has the table (an older file opened read-only may not)."""
        return table in self.handle.columns

    def column(
        self, model: type[Record], name: str, alias: str = "", as_name: str | None = None
    ) -> str:
        """SQL for one stored field: the column, or a typed null.

        A file of an older schema version, opened read-only, lacks the newer columns.
        """
        table = TABLE_OF[model]
        label = f" AS {quote(as_name)}" if as_name is not None else ""
        if name in self.handle.columns.get(table, ()):
            return f"{alias + '.' if alias else ''}{quote(name)}{label}"
        sql_type = next(c.sql_type for c in columns(model) if c.name == name)
        return f"NULL::{sql_type} AS {quote(as_name or name)}"

    def peek(
        self,
        model: type[Event | Investigation],
        record_id: Any,
        fields: Sequence[str],
        *,
        include_deleted: bool,
    ) -> dict[str, Any]:
        """A few fields of one event or investigation (``id`` and ``deleted_at`` too).

        Raises:
            NotFound: No such record, or it is soft-deleted (unless ``include_deleted``).
        """
        kind = ENTITY_OF[model]
        key = record_key(record_id, kind)
        wanted = ", ".join(self.column(model, c) for c in ("id", "deleted_at", *fields))
        rows = self.rows(
            f"SELECT {wanted} FROM {TABLE_OF[model]} WHERE id = ?",  # noqa: S608 - whitelisted
            [key],
        )
        self.require_found(
            kind, key, rows[0]["deleted_at"] if rows else None, found=bool(rows),
            include_deleted=include_deleted,
        )  # fmt: skip
        return rows[0]

    def require_found(
        self, kind: str, key: str, deleted_at: Any, *, found: bool, include_deleted: bool
    ) -> None:
        """Raise :class:`NotFound` for a missing record, or a soft-deleted one unless asked.

        Raises:
            NotFound: Saying how to bring a soft-deleted record back.
        """
        if not found:
            raise NotFound(f"no {kind} with id {key!r} in {self.label}")
        if deleted_at is not None and not include_deleted:
            raise NotFound(
                f"{kind} {key!r} is soft-deleted (at {deleted_at.isoformat()}); "
                f"restore_{kind}({key!r}) brings it back, or pass include_deleted=True"
            )

    def log(self, entity: Entity, record_id: str, action: str, detail: Mapping[str, Any]) -> None:
        """One history entry (in the caller's transaction)."""
        self.execute(
            'INSERT INTO changes ("at", entity, record_id, action, detail) VALUES (?, ?, ?, ?, ?)',
            [utc_now(), entity, record_id, action, json.dumps(jsonable(detail))],
        )


def record_key(value: Any, kind: str) -> str:
    """A record id as stored: UUIDs and whole numbers become text, blanks are stripped.

    Raises:
        NotFound: ``value`` cannot be an id.
    """
    try:
        return v.record_id(value)
    except ValueError:
        raise NotFound(f"{value!r} is not a valid {kind} id") from None


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO text and enums as plain strings (for JSON)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


def _args(params: Params) -> Any:
    return dict(params) if isinstance(params, Mapping) else list(params)


def _aborted(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether DuckDB discarded the open transaction after a failed statement."""
    try:
        con.execute("SELECT 1").fetchall()
    except duckdb.TransactionException:
        return True
    return False


#: The data layer of each open store (the facade hands it to the operations).
_OF: weakref.WeakKeyDictionary[object, Data] = weakref.WeakKeyDictionary()


def attach(store: object, data: Data) -> None:
    """Record ``data`` as the data layer of ``store`` (called once, by the store)."""
    _OF[store] = data


def of(store: StoreOrData) -> Data:
    """The data layer of a :class:`~rca_analytics.Store` (a data layer is its own)."""
    return store if isinstance(store, Data) else _OF[store]
