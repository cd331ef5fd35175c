"""Versioned upgrades of store files.

A store records its schema version in the ``rca_meta`` table. Opening a file written
by an older version runs the steps in :data:`STEPS` in order, inside one transaction;
a file from a newer version is refused with :class:`~rca_analytics.SchemaVersionError`
naming the package version it needs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from ._summaries import derived_sql
from ._version import __version__
from .errors import CorruptStore, SchemaVersionError
from .schema import META_TABLE, SCHEMA_VERSION

__all__ = ["STEPS", "check_version"]

# Each step is frozen SQL: it must keep doing exactly what it did when it was written,
# whatever the models look like later. tests/test_migrations.py checks that a migrated
# file ends up with the same tables as a new one.

_INVESTIGATIONS_V1_COLUMNS = (
    "id, title, description, status, impact_severity, priority, detected_at, started_at, "
    "resolved_at, root_cause, remediation, lessons_learned, component_affected, "
    "service_affected, tags, created_by, assigned_to, created_at, updated_at, deleted_at"
)

_INVESTIGATIONS_V2 = """
CREATE TABLE investigations_v2 (
  "id" VARCHAR NOT NULL,
  "title" VARCHAR NOT NULL,
  "description" VARCHAR,
  "status" VARCHAR NOT NULL CHECK ("status" IN ('open', 'in_progress', 'resolved', 'closed')),
  "impact_severity" VARCHAR NOT NULL
    CHECK ("impact_severity" IN ('critical', 'high', 'medium', 'low')),
  "priority" VARCHAR NOT NULL CHECK ("priority" IN ('P0', 'P1', 'P2', 'P3')),
  "impact_started_at" TIMESTAMPTZ,
  "detected_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "mitigated_at" TIMESTAMPTZ,
  "resolved_at" TIMESTAMPTZ,
  "root_cause" VARCHAR CHECK (length("root_cause") <= 2000),
  "remediation" VARCHAR CHECK (length("remediation") <= 2000),
  "lessons_learned" VARCHAR CHECK (length("lessons_learned") <= 2000),
  "component_affected" VARCHAR,
  "service_affected" VARCHAR,
  "tags" VARCHAR[] NOT NULL,
  "created_by" VARCHAR,
  "assigned_to" VARCHAR,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  "deleted_at" TIMESTAMPTZ,
  PRIMARY KEY ("id")
)
"""

_IMPORT_REJECTS_V2 = """
CREATE TABLE import_rejects (
  "source" VARCHAR NOT NULL,
  "table_name" VARCHAR NOT NULL CHECK ("table_name" IN ('events', 'investigations', 'links')),
  "record_id" VARCHAR,
  "field" VARCHAR,
  "code" VARCHAR NOT NULL,
  "message" VARCHAR NOT NULL,
  "imported_at" TIMESTAMPTZ NOT NULL
)
"""


def _to_v2(con: duckdb.DuckDBPyConnection) -> None:
    """Investigations gain impact_started_at and mitigated_at; import_rejects is new.

    The new times sit among the other times, so the table is rebuilt in that order.
    """
    con.execute(_INVESTIGATIONS_V2)
    con.execute(
        f"INSERT INTO investigations_v2 ({_INVESTIGATIONS_V1_COLUMNS}) "  # noqa: S608 - frozen
        f"SELECT {_INVESTIGATIONS_V1_COLUMNS} FROM investigations"
    )
    con.execute("DROP TABLE investigations")
    con.execute("ALTER TABLE investigations_v2 RENAME TO investigations")
    con.execute(_IMPORT_REJECTS_V2)


def _to_v3(con: duckdb.DuckDBPyConnection) -> None:
    """Events and investigations gain ``revision`` (their version in the source), last."""
    con.execute('ALTER TABLE events ADD COLUMN "revision" VARCHAR')
    con.execute('ALTER TABLE investigations ADD COLUMN "revision" VARCHAR')


_LINK_REVIEWS_V4 = """
CREATE TABLE link_reviews (
  "event_id" VARCHAR NOT NULL,
  "investigation_id" VARCHAR NOT NULL,
  "accepted" BOOLEAN NOT NULL,
  "reviewed_at" TIMESTAMPTZ NOT NULL,
  "reviewed_by" VARCHAR,
  "note" VARCHAR,
  "confidence" DOUBLE CHECK ("confidence" >= 0.0 AND "confidence" <= 1.0),
  "method" VARCHAR CHECK ("method" IN ('manual', 'rule', 'linker', 'import')),
  "reasons" VARCHAR[] NOT NULL,
  PRIMARY KEY ("event_id", "investigation_id")
)
"""


def _to_v4(con: duckdb.DuckDBPyConnection) -> None:
    """Reviewers' verdicts on links get their own table, ``link_reviews``."""
    con.execute(_LINK_REVIEWS_V4)


_NAME_ALIASES_V5 = """
CREATE TABLE name_aliases (
  "alias" VARCHAR NOT NULL,
  "name" VARCHAR NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL,
  PRIMARY KEY ("alias")
)
"""


def _to_v5(con: duckdb.DuckDBPyConnection) -> None:
    """Events gain ``summary`` (last), derived for the stored events; ``name_aliases``.

    The table layout is frozen; the summaries are data, written by the derivation of
    the package doing the upgrade (:mod:`rca_analytics._summaries`).
    """
    con.execute('ALTER TABLE events ADD COLUMN "summary" VARCHAR')
    con.execute(
        "UPDATE events AS e SET summary = d.summary "  # noqa: S608 - no input
        f"FROM ({derived_sql('events', keep='id')}) d WHERE d.id = e.id"
    )
    con.execute(_NAME_ALIASES_V5)


#: ``STEPS[n]`` upgrades a store from schema version ``n - 1`` to ``n``.
STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _to_v2,
    3: _to_v3,
    4: _to_v4,
    5: _to_v5,
}


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The key/value pairs of the store's meta table."""
    return dict(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())  # noqa: S608


def check_version(
    con: duckdb.DuckDBPyConnection, path: Path | None, *, read_only: bool, backup: bool = False
) -> int:
    """Check the store's schema version, upgrading older files when writable.

    A read-only open of an older file leaves it as it is (queries fill the columns it
    lacks with nulls). With ``backup=True`` the file is copied next to itself before an
    upgrade. Returns the schema version the store is at afterwards.
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
    if backup and path is not None:
        copy_of(con, path, found)
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


def copy_of(con: duckdb.DuckDBPyConnection, path: Path, version: int) -> Path:
    """Copy the store file (after a checkpoint, so the copy is complete) before a change.

    The copy is ``<file>.v<version>.bak`` (numbered if that exists) and opens as a store
    of that schema version.
    """
    con.execute("CHECKPOINT")
    target = path.with_name(f"{path.name}.v{version}.bak")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.v{version}.{n}.bak")
    shutil.copy2(path, target)
    return target


def write_version(con: duckdb.DuckDBPyConnection) -> None:
    """Record the current schema version and the package version that wrote it."""
    for key, value in (("schema_version", str(SCHEMA_VERSION)), ("package_version", __version__)):
        sql = f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)"  # noqa: S608
        con.execute(sql, [key, value])
