"""Files written by older versions open, upgrade in place and keep every value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import rca_analytics as rca
from rca_analytics import migrations, schema

SNAPSHOTS = Path(__file__).parent / "snapshots"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def write_v1_file(path: Path, investigations: int = 30, events: int = 200) -> None:
    """A store as rca_analytics wrote it at schema version 1, from that version's DDL."""
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    for statement in (SNAPSHOTS / "schema_v1.sql").read_text().split("\n;\n"):
        if statement.strip():
            con.execute(statement)
    con.execute(
        "INSERT INTO rca_meta VALUES ('schema_version', '1'), "
        "('package_version', '0.1.0'), ('created_at', '2026-03-01T00:00:00+00:00')"
    )
    for i in range(investigations):
        con.execute(
            "INSERT INTO investigations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?)",
            [
                f"inv-{i}",
                f"Incident {i} — ünïcode 'quoted'",
                None if i % 3 else "desc",
                ["open", "in_progress", "resolved", "closed"][i % 4],
                ["critical", "high", "medium", "low"][i % 4],
                f"P{i % 4}",
                T0 + dt.timedelta(hours=i),
                None if i % 2 else T0 + dt.timedelta(hours=i, minutes=5),
                T0 + dt.timedelta(hours=i + 1) if i % 4 >= 2 else None,
                "r" * (2000 if i == 0 else 10),
                None,
                None,
                "payments",
                None,
                ["db", f"t{i}"],
                "ana",
                None,
                T0,
                T0 + dt.timedelta(minutes=i),
                T0 + dt.timedelta(days=1) if i == 7 else None,
            ],
        )
    for i in range(events):
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                f"ev-{i}",
                T0 + dt.timedelta(minutes=i),
                ["git", "ci", "logs"][i % 3],
                "commit",
                ["info", "high"][i % 2],
                "payments",
                None,
                f"s{i}",
                json.dumps({"i": i, "nested": {"x": [1, None]}}),
                ["a"],
                "{}",
                None,
                T0,
                T0,
                None,
            ],
        )
    for i in range(0, events, 10):
        con.execute(
            "INSERT INTO links VALUES (?, ?, 0.5, 'rule', ['r'], ?)",
            [f"ev-{i}", f"inv-{i % investigations}", T0],
        )
    con.execute("INSERT INTO investigation_relations VALUES ('inv-1', 'inv-2', ?)", [T0])
    con.close()


def table_rows(path: Path, table: str, order: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        cur = con.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def table_ddl(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("SELECT table_name, sql FROM duckdb_tables()").fetchall())


@pytest.mark.slow
def test_a_version_1_file_upgrades_in_place_and_keeps_every_value(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    write_v1_file(old)
    before = {
        t: table_rows(old, t, o)
        for t, o in (
            ("investigations", "id"),
            ("events", "id"),
            ("links", "event_id"),
            ("investigation_relations", "investigation_id"),
        )
    }
    with rca.connect(old) as store:
        assert store.schema_version == schema.SCHEMA_VERSION == 5
        inv = store.get_investigation("inv-1")
        assert inv.impact_started_at is None and inv.mitigated_at is None
        assert inv.related_investigation_ids == ["inv-2"]
        assert len(store.investigations()) == 29  # one was soft-deleted
    after = table_rows(old, "investigations", "id")
    for row_before, row_after in zip(before["investigations"], after, strict=True):
        assert row_after.pop("impact_started_at") is None
        assert row_after.pop("mitigated_at") is None
        assert row_after.pop("revision") is None  # schema version 3
        assert row_after == row_before
    for row_before, row_after in zip(
        before["events"], table_rows(old, "events", "id"), strict=True
    ):
        assert row_after.pop("revision") is None
        assert row_after.pop("summary") == "commit payments"  # schema version 5: derived
        assert row_after == row_before
    for table, order in (
        ("links", "event_id"),
        ("investigation_relations", "investigation_id"),
    ):
        assert table_rows(old, table, order) == before[table]


@pytest.mark.slow
def test_a_migrated_file_has_exactly_the_tables_of_a_new_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    write_v1_file(old)
    rca.connect(old).close()
    rca.connect(new).close()
    assert table_ddl(old) == table_ddl(new)
    with duckdb.connect(str(old), read_only=True) as con:
        meta = dict(con.execute("SELECT key, value FROM rca_meta").fetchall())
    assert meta["schema_version"] == "5" and meta["package_version"] == rca.__version__


@pytest.mark.slow
def test_the_new_fields_are_written_and_read_after_the_upgrade(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    write_v1_file(old)
    with rca.connect(old) as store:
        inv = store.update_investigation(
            "inv-3", impact_started_at=T0 - dt.timedelta(minutes=20), mitigated_at=T0
        )
    with rca.connect(old, read_only=True) as store:
        assert store.get_investigation("inv-3") == inv
        frame = store.investigations(columns=["id", "impact_started_at", "mitigated_at"])
        assert frame.set_index("id").loc["inv-3", "mitigated_at"] == T0


@pytest.mark.slow
def test_a_read_only_open_of_an_old_file_writes_nothing(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    write_v1_file(old)
    bytes_before, mtime = old.read_bytes(), old.stat().st_mtime_ns
    with rca.connect(old, read_only=True) as store:
        assert store.schema_version == 1
        inv = store.get_investigation("inv-2")
        assert inv.impact_started_at is None and inv.title.startswith("Incident 2")
        frame = store.investigations()
        assert list(frame.columns) == list(rca.Investigation.model_fields)
        assert frame["impact_started_at"].isna().all()
        assert str(frame["mitigated_at"].dtype) == "datetime64[us, UTC]"
        assert len(store.event_investigations()) == 20
        assert len(store.events(component="payments")) == 200
        assert store.timeline("inv-0", before="1h", after="5h").shape[0] > 0
    assert old.read_bytes() == bytes_before and old.stat().st_mtime_ns == mtime
    assert not (tmp_path / "old.duckdb.wal").exists()


@pytest.mark.slow
def test_backup_before_migrating(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    write_v1_file(old)
    rca.connect(old, backup=True).close()
    backup = tmp_path / "old.duckdb.v1.bak"
    assert backup.exists()
    with rca.connect(backup, read_only=True) as store:
        assert store.schema_version == 1
        assert store.stats()["events"] == 200
    rca.connect(old, backup=True).close()  # already current: no second copy
    assert not (tmp_path / "old.duckdb.v1.2.bak").exists()


@pytest.mark.slow
def test_a_failing_migration_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old.duckdb"
    write_v1_file(old)

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        migrations.STEPS_ORIGINAL_V2(con)  # type: ignore[attr-defined]
        raise RuntimeError("step failed half way")

    monkeypatch.setattr(migrations, "STEPS_ORIGINAL_V2", migrations.STEPS[2], raising=False)
    monkeypatch.setitem(migrations.STEPS, 2, broken)
    with pytest.raises(RuntimeError, match="half way"):
        rca.connect(old)
    with duckdb.connect(str(old), read_only=True) as con:
        assert con.execute(
            "SELECT value FROM rca_meta WHERE key = 'schema_version'"
        ).fetchone() == ("1",)
        columns = [r[0] for r in con.execute("DESCRIBE investigations").fetchall()]
        assert "mitigated_at" not in columns
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "import_rejects" not in tables and "investigations_v2" not in tables
    monkeypatch.undo()
    with rca.connect(old) as store:  # and it upgrades fine afterwards
        assert store.schema_version == schema.SCHEMA_VERSION


def write_v4_file(path: Path) -> None:
    """A store as rca_analytics wrote it at schema version 4, with events of each reader."""
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    for statement in (SNAPSHOTS / "schema_v4.sql").read_text().split("\n;\n"):
        if statement.strip():
            con.execute(statement)
    con.execute(
        "INSERT INTO rca_meta VALUES ('schema_version', '4'), "
        "('package_version', '0.4.0'), ('created_at', '2026-03-01T00:00:00+00:00')"
    )
    rows = [
        ("git", "commit", "a3f9c2e81b7d4f60a3f9c2e81b7d4f60a3f9c2e8",
         {"subject": "Shrink the DB pool to 5", "author": "ana"}),
        ("ci", "deploy", "dep-1", {"version": "v2.14.0", "environment": "production",
                                   "state": "success"}),
        ("ci", "test_run", "run-1", {"suite": "pytest", "tests": 10, "failures": 2,
                                     "failed_total": 2, "conclusion": "failure"}),
        ("metrics", "alert", "fp-1", {"alertname": "HighErrorRate",
                                      "summary": "5xx above 5 % on checkout",
                                      "status": "firing"}),
        ("logs", "error", None, {"message": "upstream   request\nfailed: timeout"}),
        ("manual", "status_update", "sp-1", {"body": "We are investigating.\nMore soon."}),
        ("traces", "error_span", "span-1", {"name": "GET /pay", "status": "error",
                                             "duration_ms": 1520.0}),
        ("manual", "note", None, {"text": "x" * 300}),
        ("ci", "unknown_kind", None, {}),
    ]  # fmt: skip
    for i, (source, kind, source_id, data) in enumerate(rows):
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, 'info', NULL, 'payments', ?, ?, [], '{}', "
            "NULL, ?, ?, NULL, ?)",
            [f"ev-{i}", T0 + dt.timedelta(minutes=i), source, kind, source_id,
             json.dumps(data), T0, T0, None if i % 2 else "7"],
        )  # fmt: skip
    con.close()


def test_a_version_4_file_gains_summaries_and_keeps_every_value(tmp_path: Path) -> None:
    old = tmp_path / "v4.duckdb"
    write_v4_file(old)
    before = table_rows(old, "events", "id")
    with rca.connect(old) as store:
        assert store.schema_version == 5
        summaries = dict(store.events(columns=["id", "summary"]).itertuples(index=False))
        assert store.get_event("ev-0").summary == "Shrink the DB pool to 5 (a3f9c2e)"
    assert summaries == {
        "ev-0": "Shrink the DB pool to 5 (a3f9c2e)",
        "ev-1": "Deploy payments v2.14.0 to production (success)",
        "ev-2": "pytest: failure, 2 failed of 10",
        "ev-3": "HighErrorRate: 5xx above 5 % on checkout",
        "ev-4": "upstream request failed: timeout",
        "ev-5": "We are investigating. More soon.",
        "ev-6": "GET /pay ERROR 1.5 s",
        "ev-7": "x" * 199 + "…",
        "ev-8": "unknown_kind payments",
    }
    after = table_rows(old, "events", "id")
    for row_before, row_after in zip(before, after, strict=True):
        assert row_after.pop("summary")
        assert row_after == row_before
    with rca.connect(old) as store:  # aliases are a table of their own now
        assert store.schema_version == 5
    assert table_ddl(old) == table_ddl(_new_store(tmp_path / "new.duckdb"))


def _new_store(path: Path) -> Path:
    rca.connect(path).close()
    return path
