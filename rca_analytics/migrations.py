"""Versioned upgrades of store files.

A store records its schema version in the ``rca_meta`` table. Opening a file written
by an older version runs the steps in :data:`STEPS` in order, inside one transaction;
a file from a newer version is refused with :class:`~rca_analytics.SchemaVersionError`
naming the package version it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from ._version import __version__
from .errors import CorruptStore, SchemaVersionError
from .schema import META_TABLE, SCHEMA_VERSION

__all__ = ["STEPS", "check_version"]

#: ``STEPS[n]`` upgrades a store from schema version ``n - 1`` to ``n``.
STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {}


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The key/value pairs of the store's meta table."""
    return dict(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())  # noqa: S608


def check_version(con: duckdb.DuckDBPyConnection, path: Path | None, *, read_only: bool) -> int:
    """Check the store's schema version, upgrading older files when writable.

    Returns the schema version the store is at afterwards.
    """
    meta = read_meta(con)
    try:
        found = int(meta["schema_version"])
    except (KeyError, ValueError):
        raise CorruptStore(
            f"{path or ':memory:'}: the rca_meta table has no valid schema_version "
            f"({meta.get('schema_version')!r}); the file was not written by rca_analytics "
            "or was edited by hand",
            path=path,
        ) from None
    if found > SCHEMA_VERSION:
        needs = meta.get("package_version", "a newer version")
        raise SchemaVersionError(
            f"{path}: schema version {found} was written by rca_analytics {needs}; this is "
            f"rca_analytics {__version__}, which reads schema versions up to {SCHEMA_VERSION}. "
            f"Upgrade with: pip install -U 'rca-analytics>={needs}'",
            found=found,
            supported=SCHEMA_VERSION,
        )
    if found == SCHEMA_VERSION or read_only:
        return found
    missing = [n for n in range(found + 1, SCHEMA_VERSION + 1) if n not in STEPS]
    if missing:
        raise SchemaVersionError(
            f"{path}: no migration from schema version {found} to {SCHEMA_VERSION} "
            f"(missing steps {missing})",
            found=found,
            supported=SCHEMA_VERSION,
        )
    con.execute("BEGIN TRANSACTION")
    try:
        for n in range(found + 1, SCHEMA_VERSION + 1):
            STEPS[n](con)
        write_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def write_version(con: duckdb.DuckDBPyConnection) -> None:
    """Record the current schema version and the package version that wrote it."""
    for key, value in (("schema_version", str(SCHEMA_VERSION)), ("package_version", __version__)):
        sql = f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)"  # noqa: S608
        con.execute(sql, [key, value])
