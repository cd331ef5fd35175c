"""Import of the earlier system's SQLite store: every row across, or listed with a reason."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import _importing
from rca_analytics.cli import main
from rca_analytics.ingest.sqlite_legacy import LEGACY_DDL

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
EVENTS = 3000
INVESTIGATIONS = 120

EVENT_COLS = (
    "id, timestamp, source, event_type, severity, data, tags, investigation_ids, source_id, "
    "parsed_at, linked_at, metadata, created_at, deleted_at"
)
INV_COLS = (
    "id, title, description, status, impact_severity, detected_at, started_at, resolved_at, "
    "root_cause, remediation, lessons_learned, component_affected, service_affected, tags, "
    "event_ids, related_investigation_ids, created_by, assigned_to, priority, created_at, "
    "updated_at, deleted_at"
)


def iso(t: dt.datetime, naive: bool = False) -> str:
    text = t.isoformat()
    return text.replace("+00:00", "") if naive else text


def legacy_event(i: int) -> dict[str, Any]:
    t = T0 + dt.timedelta(minutes=i)
    return {
        "id": f"ev-{i}",
        "timestamp": iso(t, naive=i % 10 == 0),  # every tenth has no offset
        "source": ["git", "ci", "logs", "metrics", "traces", "manual"][i % 6],
        "event_type": ["commit", "build", "error", "alert"][i % 4],
        "severity": ["info", "low", "medium", "high", "critical"][i % 5],
        "data": json.dumps({"i": i, "msg": f"naïve 'quote' \"double\" {i}", "nested": [1, None]}),
        "tags": json.dumps(["db", f"t{i % 7}"] if i % 3 else []),
        "investigation_ids": json.dumps([f"inv-{i % INVESTIGATIONS}"] if i % 50 == 0 else []),
        "source_id": f"src-{i}",
        "parsed_at": None,
        "linked_at": iso(t + dt.timedelta(hours=1)) if i % 50 == 0 else None,
        "metadata": json.dumps({"importer": "legacy"}),
        "created_at": iso(t),
        "deleted_at": iso(t + dt.timedelta(days=1)) if i % 1000 == 999 else None,
    }


def legacy_investigation(i: int) -> dict[str, Any]:
    t = T0 + dt.timedelta(hours=i)
    return {
        "id": f"inv-{i}",
        "title": f"Incident {i} — ünïcode, 'quotes' and \"more\"",
        "description": None,
        "status": ["open", "in_progress", "resolved", "closed"][i % 4],
        "impact_severity": ["critical", "high", "medium", "low"][i % 4],
        "detected_at": iso(t, naive=i % 2 == 0),
        "started_at": None,
        "resolved_at": iso(t + dt.timedelta(hours=2)) if i % 4 >= 2 else None,
        "root_cause": "pool exhausted" if i % 4 >= 2 else None,
        "remediation": None,
        "lessons_learned": None,
        "component_affected": ["payments", "search", "auth"][i % 3],
        "service_affected": None,
        "tags": json.dumps(["incident"]),
        "event_ids": json.dumps([f"ev-{i * 50}"] if i * 50 < EVENTS else []),
        "related_investigation_ids": json.dumps([f"inv-{i + 1}"] if i % 10 == 0 else []),
        "created_by": "ana",
        "assigned_to": None,
        "priority": f"p{i % 4}",
        "created_at": iso(t),
        "updated_at": iso(t + dt.timedelta(hours=1)),
        "deleted_at": iso(t + dt.timedelta(days=2)) if i == 5 else None,
    }


def write_legacy(
    path: Path,
    events: list[dict[str, Any]] | None = None,
    investigations: list[dict[str, Any]] | None = None,
) -> None:
    events = [legacy_event(i) for i in range(EVENTS)] if events is None else events
    investigations = (
        [legacy_investigation(i) for i in range(INVESTIGATIONS)]
        if investigations is None
        else investigations
    )
    with sqlite3.connect(path) as con:
        con.executescript(LEGACY_DDL)
        con.executemany(
            f"INSERT INTO events ({EVENT_COLS}) VALUES ({', '.join('?' * 14)})",
            [tuple(e[c.strip()] for c in EVENT_COLS.split(",")) for e in events],
        )
        con.executemany(
            f"INSERT INTO investigations ({INV_COLS}) VALUES ({', '.join('?' * 22)})",
            [tuple(v[c.strip()] for c in INV_COLS.split(",")) for v in investigations],
        )
    con.close()


def hostile_file(path: Path) -> None:
    events = [legacy_event(i) for i in range(EVENTS)]
    events[1]["data"] = '{"broken": '  # bad JSON
    events[2]["tags"] = "not a list"  # bad JSON
    events[3]["tags"] = '{"a": 1}'  # JSON, but not a list
    events[4]["severity"] = "catastrophic"  # unknown enum
    events[5]["source"] = "svn"  # unknown enum
    events[6]["timestamp"] = "last tuesday"  # unreadable time
    events[7]["investigation_ids"] = json.dumps(["inv-missing"])  # dangling link
    events[8]["data"] = json.dumps({"k": "\x00nul\u202e", "emoji": "🔥"})  # hostile but fine
    events[9]["event_type"] = "  Config Change "  # sloppy but fine
    investigations = [legacy_investigation(i) for i in range(INVESTIGATIONS)]
    investigations[1]["priority"] = "urgent"  # unknown enum
    investigations[2]["event_ids"] = json.dumps(["ev-missing", "ev-100"])  # one dangling
    investigations[3]["root_cause"] = "x" * 2001  # too long
    investigations[4]["related_investigation_ids"] = json.dumps(["inv-nope"])
    write_legacy(path, events, investigations)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.db"
    hostile_file(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("batch_rows", [100_000, 700])  # one batch per table, or several
def test_every_row_comes_across_or_is_listed_with_its_reason(
    hostile: Path, store: rca.Store, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_importing, "BATCH_ROWS", batch_rows)
    report = store.import_sqlite(hostile)
    assert report.tables["events"] == {
        "read": EVENTS,
        "stored": EVENTS - 6,
        "unchanged": 0,
        "rejected_rows": 6,
    }
    assert report.tables["investigations"] == {
        "read": INVESTIGATIONS,
        "stored": INVESTIGATIONS - 2,
        "unchanged": 0,
        "rejected_rows": 2,
    }
    rejects = {
        (r.table, r.id, None if pd.isna(r.field) else r.field, r.code)
        for r in report.rejects.itertuples()
    }
    assert rejects == {
        ("events", "ev-1", "data", "bad_json"),
        ("events", "ev-2", "tags", "bad_json"),
        ("events", "ev-3", "tags", "bad_json"),
        ("events", "ev-4", "severity", "invalid_choice"),
        ("events", "ev-5", "source", "invalid_choice"),
        ("events", "ev-6", "timestamp", "invalid_datetime"),
        ("investigations", "inv-1", "priority", "invalid_choice"),
        ("investigations", "inv-3", "root_cause", "too_long"),
        ("links", "ev-7->inv-missing", None, "dangling_link"),
        ("links", "ev-missing->inv-2", None, "dangling_link"),
        ("investigations", "inv-0", "related_investigation_ids", "dangling_link"),  # inv-1 out
        ("investigations", "inv-4", "related_investigation_ids", "dangling_link"),
    }
    stats = store.stats()
    assert stats["events"] + stats["deleted_events"] == EVENTS - 6
    assert stats["deleted_investigations"] == 1  # inv-5 stays soft-deleted
    assert stats["deleted_events"] == 3  # ev-999, ev-1999, ev-2999


@pytest.mark.slow
@pytest.mark.parametrize("batch_rows", [100_000, 700])
def test_values_arrive_as_real_types(
    hostile: Path, store: rca.Store, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_importing, "BATCH_ROWS", batch_rows)
    report = store.import_sqlite(hostile)
    assert report.naive_times == EVENTS // 10 + INVESTIGATIONS // 2
    ev = store.get_event("ev-10")
    assert ev.timestamp == T0 + dt.timedelta(minutes=10)  # naive, taken as UTC
    assert ev.data == {"i": 10, "msg": "naïve 'quote' \"double\" 10", "nested": [1, None]}
    assert ev.tags == ["db", "t3"]
    assert store.get_event("ev-8").data == {"k": "\x00nul\u202e", "emoji": "🔥"}
    assert store.get_event("ev-9").event_type == "config_change"
    inv = store.get_investigation("inv-2")
    assert inv.priority is rca.Priority.P2 and inv.status is rca.InvestigationStatus.RESOLVED
    assert inv.detected_at == T0 + dt.timedelta(hours=2)
    assert inv.event_ids == ["ev-100"]
    deleted = store.get_investigation("inv-5", include_deleted=True)
    assert deleted.deleted_at is not None
    assert store.get_event("ev-999", include_deleted=True).is_deleted


@pytest.mark.slow
def test_links_named_by_both_sides_are_stored_once(hostile: Path, store: rca.Store) -> None:
    report = store.import_sqlite(hostile)
    links = store.get_links(investigation_id="inv-20")
    assert {(link.event_id, link.method) for link in links} == {
        (f"ev-{i}", rca.LinkMethod.IMPORT) for i in (500, 1000, 1100, 1700, 2300, 2900)
    }
    rejected = {"ev-1", "ev-2", "ev-3", "ev-4", "ev-5", "ev-6", "inv-1", "inv-3"}
    named = {(f"ev-{i}", f"inv-{i % INVESTIGATIONS}") for i in range(0, EVENTS, 50)}
    named |= {("ev-7", "inv-missing")}
    named |= {(f"ev-{k * 50}", f"inv-{k}") for k in range(INVESTIGATIONS) if k * 50 < EVENTS}
    named |= {("ev-missing", "inv-2")}
    named = {p for p in named if p[0] not in rejected and p[1] not in {"inv-1", "inv-3"}}
    assert report.links["read"] == len(named)
    assert report.links["rejected_rows"] == 2
    assert report.links["stored"] == len(named) - 2
    assert store.stats()["links"] == len(named) - 2
    assert store.get_event("ev-0").linked_at == T0 + dt.timedelta(hours=1)
    assert store.get_investigation("inv-10").related_investigation_ids == ["inv-11"]
    assert report.relations["stored"] == INVESTIGATIONS // 10 - 1  # inv-0 -> inv-1 dropped


@pytest.mark.slow
def test_rejects_are_kept_in_the_store(hostile: Path, store: rca.Store) -> None:
    report = store.import_sqlite(hostile)
    kept = store.sql("SELECT table_name, record_id, code, source FROM import_rejects")
    assert len(kept) == len(report.rejects)
    assert set(kept["source"]) == {str(hostile.resolve())}


@pytest.mark.slow
def test_importing_twice_adds_nothing(hostile: Path, store: rca.Store) -> None:
    first = store.import_sqlite(hostile)
    stats = store.stats()
    again = store.import_sqlite(hostile)
    assert store.stats() == stats
    assert again.tables["events"]["stored"] == 0
    assert again.tables["events"]["unchanged"] == first.tables["events"]["stored"]
    assert again.links["stored"] == 0
    assert again.links["unchanged"] == first.links["stored"]
    assert (again.stored, again.unchanged) == (0, first.stored)
    assert len(store.sql("SELECT * FROM import_rejects")) == len(first.rejects)


@pytest.mark.slow
def test_an_interrupted_import_leaves_the_store_as_it_was(
    hostile: Path, store: rca.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_event({"source": "manual", "event_type": "note", "severity": "info", "timestamp": T0})
    before = store.stats()

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_importing, "_relations", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.import_sqlite(hostile)
    assert store.stats() == before
    assert store.sql("SELECT count(*) AS n FROM import_rejects")["n"][0] == 0


def test_text_that_is_not_utf8_and_values_of_other_types(
    tmp_path: Path, store: rca.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite lets any column hold anything: such rows are listed, the rest imported."""
    monkeypatch.setattr(_importing, "BATCH_ROWS", 2)  # the bad rows sit in one batch of several
    path = tmp_path / "odd.db"
    write_legacy(path, [legacy_event(i) for i in range(7)], [])
    with sqlite3.connect(path) as con:
        # ev-1: data whose text is not UTF-8; ev-2: an id that is not UTF-8 text;
        # ev-3: tags stored as a number; ev-4: data as a BLOB holding JSON bytes.
        con.execute("UPDATE events SET data = CAST(X'7B2261223AC3287D' AS TEXT) WHERE id = 'ev-1'")
        con.execute("UPDATE events SET id = CAST(X'65762DFF32' AS TEXT) WHERE id = 'ev-2'")
        con.execute("UPDATE events SET tags = 7 WHERE id = 'ev-3'")
        con.execute("UPDATE events SET data = CAST('{\"b\": 1}' AS BLOB) WHERE id = 'ev-4'")
    con.close()
    report = store.import_sqlite(path)
    assert report.tables["events"] == {"read": 7, "stored": 4, "unchanged": 0, "rejected_rows": 3}
    rejects = {(r.id, r.field, r.code) for r in report.rejects.itertuples() if r.table == "events"}
    assert rejects == {
        ("ev-1", "data", "not_utf8"),
        ("ev-\ufffd2", "id", "not_utf8"),
        ("ev-3", "tags", "bad_json"),
    }
    assert store.get_event("ev-4").data == {"b": 1}
    assert sorted(store.events()["id"]) == ["ev-0", "ev-4", "ev-5", "ev-6"]


def test_first_generation_investigations_import_with_defaults(
    tmp_path: Path, store: rca.Store
) -> None:
    path = tmp_path / "gen1.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE investigations (id TEXT PRIMARY KEY, title TEXT NOT NULL, "
            "status TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
        con.executemany(
            "INSERT INTO investigations VALUES (?, ?, ?, ?, ?)",
            [
                ("g1", "Old outage", "closed", "2020-01-01 10:00:00", "2020-01-02T10:00:00Z"),
                ("g2", "Another", None, "2020-02-01T10:00:00+01:00", "2020-02-01T10:00:00+01:00"),
            ],
        )
    con.close()
    report = store.import_sqlite(path)
    assert report.tables == {
        "investigations": {"read": 2, "stored": 2, "unchanged": 0, "rejected_rows": 0}
    }
    g1, g2 = store.get_investigation("g1"), store.get_investigation("g2")
    assert g1.status is rca.InvestigationStatus.CLOSED and g1.priority is rca.Priority.P2
    assert g1.created_at == dt.datetime(2020, 1, 1, 10, tzinfo=dt.UTC)
    assert g2.status is rca.InvestigationStatus.OPEN  # NULL: the default
    assert g2.created_at == dt.datetime(2020, 2, 1, 9, tzinfo=dt.UTC)
    assert report.naive_times == 1


@pytest.mark.parametrize("kind", ["missing", "text", "duckdb", "unrelated"])
def test_files_that_are_not_earlier_stores_are_refused(
    tmp_path: Path, store: rca.Store, kind: str
) -> None:
    path = tmp_path / "x.db"
    if kind == "text":
        path.write_text("hello")
    elif kind == "duckdb":
        rca.connect(path).close()
    elif kind == "unrelated":
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE sales (id INTEGER)")
        con.close()
    with pytest.raises(rca.ReaderError):
        store.import_sqlite(path)
    assert store.stats()["events"] == 0


@pytest.mark.slow
def test_the_command_line_imports_and_summarises(
    hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "into.duckdb"
    assert main(["import-sqlite", str(hostile), "--into", str(target)]) == 3
    out, err = capsys.readouterr()
    assert f"events: {EVENTS:,} read, {EVENTS - 6:,} stored" in out
    assert "dangling" in out and "bad_json" in out
    assert "rca: rejected: events 'ev-1' field data: bad_json: not JSON" in err
    assert "rca: rejected: links 'ev-7->inv-missing': dangling_link" in err
    assert len(err.strip().splitlines()) == 12  # every reject, one line each
    again = ["import-sqlite", str(hostile), "--into", str(target), "--allow-rejects"]
    assert main(again) == 0  # the same rejects, allowed; nothing new imported
    assert "0 stored" in capsys.readouterr().out
    with rca.connect(target, read_only=True) as store:
        assert store.stats()["investigations"] + store.stats()["deleted_investigations"] == (
            INVESTIGATIONS - 2
        )


@pytest.mark.slow
def test_progress_bar_on_request(
    hostile: Path, store: rca.Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store.import_sqlite(hostile, progress=True)
    assert "import_sqlite" in capsys.readouterr().err
