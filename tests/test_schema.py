from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import duckdb
import pytest

import rca_analytics as rca
from rca_analytics import schema
from rca_analytics.models import Alias, Change, ImportReject, Relation

TYPES = {
    "events": {
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "source": "VARCHAR",
        "data": "JSON",
        "tags": "VARCHAR[]",
    },
    "investigations": {"title": "VARCHAR", "detected_at": "TIMESTAMP WITH TIME ZONE"},
    "links": {"confidence": "DOUBLE", "reasons": "VARCHAR[]"},
    "changes": {"seq": "BIGINT", "detail": "JSON"},
}


def table_columns(path: Path, table: str) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()


@pytest.mark.slow
def test_every_table_has_exactly_its_models_stored_fields(store_path: Path) -> None:
    rca.connect(store_path).close()
    expected = {
        "events": rca.Event,
        "investigations": rca.Investigation,
        "links": rca.Link,
        "link_reviews": rca.Review,
        "investigation_relations": Relation,
        "changes": Change,
        "import_rejects": ImportReject,
        "name_aliases": Alias,
    }
    assert set(schema.TABLES) == set(expected)
    for table, model in expected.items():
        cols = table_columns(store_path, table)
        fields = [f for f in model.model_fields if f not in model.derived_fields]
        assert [c[0] for c in cols] == fields, table
        for name, sql_type in TYPES.get(table, {}).items():
            assert {c[0]: c[1] for c in cols}[name] == sql_type


def test_derived_fields_are_not_columns_and_are_declared() -> None:
    assert rca.Event.derived_fields == ("investigation_ids", "linked_at")
    assert rca.Investigation.derived_fields == ("event_ids", "related_investigation_ids")
    assert rca.Link.derived_fields == ("accepted", "reviewed_at", "reviewed_by")
    for model in (rca.Event, rca.Investigation, rca.Link):
        assert set(model.derived_fields) <= set(model.model_fields)


def test_nullability_follows_the_model(store_path: Path) -> None:
    rca.connect(store_path).close()
    nullable = {c[0]: c[2] == "YES" for c in table_columns(store_path, "events")}
    assert nullable["timestamp"] is False and nullable["source"] is False
    assert nullable["component"] is True and nullable["deleted_at"] is True


@pytest.mark.parametrize(
    ("column", "value"),
    [("severity", "urgent"), ("source", "svn")],
)
def test_enum_checks_guard_the_table_against_raw_sql(
    store: rca.Store, column: str, value: str
) -> None:
    con = duckdb.connect(":memory:")
    for statement in schema.ddl():
        con.execute(statement)
    row = {
        "id": "x",
        "timestamp": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        "source": "git",
        "event_type": "commit",
        "severity": "info",
        "data": "{}",
        "tags": [],
        "metadata": "{}",
        "created_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        "updated_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    }
    row[column] = value
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    with pytest.raises(duckdb.ConstraintException):
        con.execute(f"INSERT INTO events ({cols}) VALUES ({marks})", list(row.values()))


def test_length_and_range_checks_come_from_the_field_constraints() -> None:
    ddl = "\n".join(schema.ddl())
    assert 'length("root_cause") <= 2000' in ddl
    assert '"confidence" >= 0.0 AND "confidence" <= 1.0' in ddl


def test_identifiers_are_whitelisted() -> None:
    with pytest.raises(ValueError, match="identifier"):
        schema.quote('x"; DROP TABLE events; --')


def test_the_file_records_its_schema_version(store: rca.Store) -> None:
    meta = dict(store.sql("SELECT key, value FROM rca_meta").itertuples(index=False))
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
    assert meta["package_version"] == rca.__version__
    assert store.schema_version == schema.SCHEMA_VERSION


def test_a_file_from_a_newer_version_is_refused_with_the_version_needed(store_path: Path) -> None:
    rca.connect(store_path).close()
    with duckdb.connect(str(store_path)) as con:
        con.execute("UPDATE rca_meta SET value = '99' WHERE key = 'schema_version'")
        con.execute("UPDATE rca_meta SET value = '9.1.0' WHERE key = 'package_version'")
    for read_only in (False, True):
        with pytest.raises(rca.SchemaVersionError, match=r"9\.1\.0") as excinfo:
            rca.connect(store_path, read_only=read_only)
        assert (excinfo.value.found, excinfo.value.supported) == (99, schema.SCHEMA_VERSION)


def test_other_duckdb_files_are_not_taken_for_stores(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sales (id INTEGER)")
    with pytest.raises(rca.CorruptStore, match="not an rca_analytics store"):
        rca.connect(path)
    with duckdb.connect(str(path)) as con:  # untouched
        assert con.execute("SELECT table_name FROM information_schema.tables").fetchall() == [
            ("sales",)
        ]


@pytest.mark.parametrize("kind", ["empty", "text", "sqlite"])
def test_files_that_are_not_stores_raise_corrupt_store_and_are_not_touched(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "incidents.duckdb"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("timestamp,severity\n2026-03-01,high\n")
    else:
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE events (id TEXT PRIMARY KEY)")
        con.close()
    before = path.read_bytes()
    with pytest.raises(rca.CorruptStore) as excinfo:
        rca.connect(path)
    assert excinfo.value.path == path
    assert str(path) in str(excinfo.value)
    assert path.read_bytes() == before


SNAPSHOT = Path(__file__).parent / "snapshots" / f"schema_v{schema.SCHEMA_VERSION}.sql"


def test_the_ddl_of_this_schema_version_is_pinned() -> None:
    """Changing a model changes the DDL: bump SCHEMA_VERSION and add a migration."""
    assert "\n;\n".join(schema.ddl()) + "\n" == SNAPSHOT.read_text()


def test_a_file_whose_tables_were_changed_outside_is_refused(store_path: Path) -> None:
    rca.connect(store_path).close()
    with duckdb.connect(str(store_path)) as con:
        con.execute("ALTER TABLE links DROP COLUMN reasons")
    with pytest.raises(rca.CorruptStore, match="links"):
        rca.connect(store_path)


def _without_checks(ddl: str) -> str:
    """``ddl`` with every ``CHECK (...)`` taken out (parentheses matched)."""
    while " CHECK (" in ddl:
        start = ddl.index(" CHECK (")
        end, depth = start + len(" CHECK ("), 1
        while depth:
            depth += {"(": 1, ")": -1}.get(ddl[end], 0)
            end += 1
        ddl = ddl[:start] + ddl[end:]
    return ddl


def _rebuild(path: Path, table: str, change: str) -> None:
    """Rebuild ``table`` outside rca_analytics with the same column names (data kept)."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE _copy AS SELECT * FROM {table}")
        con.execute(f"DROP TABLE {table}")
        con.execute(change)
        con.execute(f"INSERT INTO {table} SELECT * FROM _copy")
        con.execute("DROP TABLE _copy")


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize(
    ("table", "change", "named"),
    [
        (  # same names, confidence as text: 'high' would come back as a confidence
            "links",
            "CREATE TABLE links (event_id VARCHAR NOT NULL, investigation_id VARCHAR NOT "
            "NULL, confidence VARCHAR NOT NULL, method VARCHAR NOT NULL, reasons VARCHAR[] "
            "NOT NULL, linked_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (event_id, "
            "investigation_id))",
            "column confidence is VARCHAR NOT NULL, expected DOUBLE NOT NULL",
        ),
        (  # same names, types and NOT NULLs, no CHECKs: any severity goes in
            "investigations",
            _without_checks(schema.create_table_sql(schema.TABLES["investigations"])),
            "CHECK (impact_severity IN ('critical', 'high', 'medium', 'low')) on "
            "impact_severity is missing",
        ),
    ],
)
def test_a_file_whose_types_or_checks_differ_is_refused_naming_the_difference(
    store_path: Path, table: str, change: str, named: str, read_only: bool
) -> None:
    with rca.connect(store_path) as store:
        inv = store.add_investigation({"title": "Checkout 500s"})
        ev = store.add_event(
            {
                "source": "git",
                "event_type": "commit",
                "severity": "info",
                "timestamp": "2026-03-01T09:00Z",
            }
        )
        store.link(ev.id, inv.id, confidence=0.5)
    _rebuild(store_path, table, change)
    before = store_path.read_bytes()
    with pytest.raises(rca.CorruptStore, match=table) as excinfo:
        rca.connect(store_path, read_only=read_only)
    assert named in str(excinfo.value)
    assert "Nothing was modified" in str(excinfo.value)
    assert store_path.read_bytes() == before


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json", ".duckdb"])
def test_data_files_that_duckdb_could_open_as_views_are_not_stores(
    tmp_path: Path, suffix: str, read_only: bool
) -> None:
    """DuckDB opens a Parquet or CSV path as a database of views; we refuse it as such."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / f"events{suffix}"
    if suffix in (".parquet", ".duckdb"):
        pq.write_table(pa.table({"severity": ["high"]}), path)
    elif suffix == ".csv":
        path.write_text("severity\nhigh\n")
    else:
        path.write_text('[{"severity": "high"}]')
    before = path.read_bytes()
    with pytest.raises(rca.CorruptStore, match="not an rca_analytics store") as excinfo:
        rca.connect(path, read_only=read_only)
    assert "Nothing was changed" in str(excinfo.value)
    if suffix in (".parquet", ".duckdb"):
        assert "Parquet" in str(excinfo.value)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no WAL, nothing created beside it
