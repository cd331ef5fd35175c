"""Importing a Parquet lake (ours or another team's) into a store: merged, never twice."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import rca_analytics as rca
from rca_analytics import _lake_import
from rca_analytics.cli import main

TABLES = ("events", "investigations", "links", "link_reviews", "investigation_relations")
Make = Callable[..., dict[str, Any]]


def table(store: rca.Store, name: str) -> Any:
    return store.sql(f"SELECT * FROM {name} ORDER BY ALL")


@pytest.fixture
def filled(demo_store: rca.Store) -> rca.Store:
    """The demo store with a soft-deleted event and two reviews."""
    store = demo_store  # demo.build's history, copied from a file built once
    store.delete_event(store.events().id.iloc[0])
    links = store.sql("SELECT event_id, investigation_id FROM links ORDER BY ALL")
    (e1, i1), (e2, i2) = links.head(2).itertuples(index=False)
    store.label_link(e1, i1, accepted=True, by="ana")
    store.label_link(e2, i2, accepted=False, by="bo", note="unrelated deploy")
    return store


@pytest.mark.slow
def test_a_lake_imported_into_an_empty_store_gives_the_same_tables(
    filled: rca.Store, tmp_path: Path
) -> None:
    filled.export_lake(tmp_path / "lake")
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        result = copy.import_lake(tmp_path / "lake")
        assert result.rejects.empty, result.rejects
        for name in TABLES:
            pd_equal = table(filled, name).equals(table(copy, name))
            assert pd_equal, name
        assert result.events.stored == filled.stats()["events"] + 1  # + the deleted one
        assert result.reviews["stored"] == 2 and result.relations["stored"] == 1
        assert "events: 372 stored" in result.summary()


@pytest.mark.slow
@pytest.mark.parametrize("partition_by", [(), ("month",), ("day",), ("source", "month")])
def test_every_layout_imports(filled: rca.Store, tmp_path: Path, partition_by: Any) -> None:
    filled.export_lake(tmp_path / "lake", partition_by=partition_by)
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        copy.import_lake(tmp_path / "lake")
        assert table(copy, "events").equals(table(filled, "events"))


@pytest.mark.slow
def test_importing_again_or_into_the_source_adds_nothing(filled: rca.Store, tmp_path: Path) -> None:
    filled.export_lake(tmp_path / "lake")
    before = {name: table(filled, name) for name in TABLES}
    again = filled.import_lake(tmp_path / "lake")
    assert (again.events.stored, again.investigations.stored) == (0, 0)
    assert again.events.unchanged == before["events"].shape[0]
    assert again.links == {
        "read": len(before["links"]),
        "stored": 0,
        "unchanged": len(before["links"]),
        "merged": 0,
        "refused": 0,
        "rejected_rows": 0,
    }
    assert again.reviews["unchanged"] == 2 and again.relations["unchanged"] == 1
    for name in TABLES:
        assert table(filled, name).equals(before[name]), name
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        copy.import_lake(tmp_path / "lake")
        snapshot = {name: table(copy, name) for name in TABLES}
        twice = copy.import_lake(tmp_path / "lake")
        assert twice.events.stored == twice.links["stored"] == 0
        for name in TABLES:
            assert table(copy, name).equals(snapshot[name]), name


@pytest.mark.slow
def test_two_teams_merge_by_source_key_and_links_follow_the_stored_event(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    shared = event_data(source="ci", event_type="deploy", source_id="deploy-42")
    with rca.connect(tmp_path / "a.duckdb") as a, rca.connect(tmp_path / "b.duckdb") as b:
        ours = a.add_event(shared)
        a_only = a.add_event(event_data(source_id="a-only"))
        theirs = b.add_event(shared)  # the same deploy, read by the other team: another id
        assert theirs.id != ours.id
        b_only = b.add_event(event_data(source_id="b-only"))
        unkeyed = b.add_event(event_data(source="manual", event_type="note", source_id=None))
        incident = b.add_investigation(investigation_data(title="their outage"))
        b.link(theirs.id, incident.id, confidence=0.8, method="linker", reasons=["burst"])
        b.link(b_only.id, incident.id)
        b.link(unkeyed.id, incident.id)
        b.label_link(b_only.id, incident.id, accepted=True, by="them")
        b.export_lake(tmp_path / "theirs")
        result = a.import_lake(tmp_path / "theirs")
        assert result.remapped == 1 and result.rejects.empty
        assert (result.events.stored, result.events.unchanged) == (2, 1)
        events = a.events()
        assert sorted(events.source_id.dropna()) == ["a-only", "b-only", "deploy-42"]
        assert len(events) == 4 and a_only.id in set(events.id)
        links = a.sql("SELECT * FROM links ORDER BY event_id")
        assert set(links.investigation_id) == {incident.id}
        assert set(links.event_id) == {ours.id, b_only.id, unkeyed.id}
        moved = links[links.event_id == ours.id].iloc[0]
        assert (moved.method, moved.confidence, list(moved.reasons)) == ("linker", 0.8, ["burst"])
        assert a.get_event(ours.id).investigation_ids == [incident.id]
        assert a.reviews().event_id.tolist() == [b_only.id]
        # the stored event gained a link: it changed; the new ones keep the lake's times
        assert a.get_event(ours.id).updated_at > ours.updated_at
        assert a.get_event(b_only.id).updated_at == b.get_event(b_only.id).updated_at
        again = a.import_lake(tmp_path / "theirs")
        assert again.events.stored == again.links["stored"] == 0
        assert again.links["unchanged"] == 3


@pytest.mark.slow
def test_what_is_here_wins_and_reviewers_verdicts_hold(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    with rca.connect(tmp_path / "a.duckdb") as a, rca.connect(tmp_path / "b.duckdb") as b:
        inv = a.add_investigation(investigation_data())
        b.add_investigation(inv)
        e1, e2, e3 = (a.add_event(event_data()) for _ in range(3))
        for e in (e1, e2, e3):
            b.add_event(e)
        a.link(e1.id, inv.id, method="manual", reasons=["ours"])
        b.link(e1.id, inv.id, confidence=0.71, method="linker", reasons=["theirs"])
        a.link(e2.id, inv.id)
        a.label_link(e2.id, inv.id, accepted=False, by="ana")  # rejected here
        b.link(e2.id, inv.id, confidence=0.9, method="linker")
        b.link(e3.id, inv.id)
        b.label_link(e3.id, inv.id, accepted=False, by="bo")  # rejected there ...
        a.link(e3.id, inv.id, method="rule")  # ... but linked here
        b.export_lake(tmp_path / "theirs")
        result = a.import_lake(tmp_path / "theirs")
        kept = a.sql("SELECT method, reasons FROM links WHERE event_id = ?", [e1.id]).iloc[0]
        assert (kept.method, list(kept.reasons)) == ("manual", ["ours"])
        assert result.links["unchanged"] == 1 and result.links["refused"] == 1
        assert not a.get_event(e2.id).investigation_ids
        assert a.get_event(e3.id).investigation_ids == [inv.id]
        assert result.reviews == {
            "read": 1,
            "stored": 0,
            "unchanged": 0,
            "merged": 0,
            "conflicting": 1,
            "rejected_rows": 0,
        }
        codes = result.rejects.set_index("code")
        assert codes.loc["rejected_by_review", "record"] == f"{e2.id} -> {inv.id}"
        assert "ana" in codes.loc["rejected_by_review", "message"]
        assert codes.loc["review_conflicts_link", "table"] == "link_reviews"
        assert "method rule" in codes.loc["review_conflicts_link", "message"]


@pytest.mark.slow
def test_an_id_taken_by_another_record_and_its_links_are_reported(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    with rca.connect(tmp_path / "a.duckdb") as a, rca.connect(tmp_path / "b.duckdb") as b:
        clash = a.add_event(event_data(source_id="ours"))
        inv = b.add_investigation(investigation_data())
        theirs = b.add_event(event_data(id=clash.id, source_id="theirs"))
        fine = b.add_event(event_data(source_id="fine"))
        b.link(theirs.id, inv.id)
        b.link(fine.id, inv.id)
        b.export_lake(tmp_path / "theirs")
        result = a.import_lake(tmp_path / "theirs")
        assert result.events.stored == 1
        rejects = result.rejects.set_index("code")
        assert rejects.loc["duplicate_id", "table"] == "events"
        assert rejects.loc["duplicate_id", "field"] == "id"
        assert rejects.loc["dangling_link", "record"] == f"{clash.id} -> {inv.id}"
        assert "was not imported" in rejects.loc["dangling_link", "message"]
        assert result.links == {
            "read": 2,
            "stored": 1,
            "unchanged": 0,
            "merged": 0,
            "refused": 0,
            "rejected_rows": 1,
        }
        assert a.get_event(clash.id).source_id == "ours"
        assert not a.get_event(clash.id).investigation_ids


@pytest.mark.slow
def test_bad_rows_are_named_and_the_good_ones_stored(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=())
    events = pq.read_table(root / "events" / "data_0.parquet")
    severity = events.column("severity").to_pylist()
    severity[3] = "urgent"
    events = events.set_column(events.schema.get_field_index("severity"), "severity",
                               pa.array(severity))  # fmt: skip
    pq.write_table(events, root / "events" / "data_0.parquet")
    links = pq.read_table(root / "links" / "data_0.parquet")
    confidence = links.column("confidence").to_pylist()
    confidence[0] = 2.0
    method = links.column("method").to_pylist()
    method[1] = "guesswork"
    links = links.set_column(2, "confidence", pa.array(confidence, pa.float64()))
    links = links.set_column(3, "method", pa.array(method))
    pq.write_table(links, root / "links" / "data_0.parquet")
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        result = copy.import_lake(root)
        bad = result.rejects
        event_row = bad[bad.table == "events"].iloc[0]
        assert (event_row.row, event_row.field, event_row.code) == (3, "severity", "invalid_choice")
        assert event_row.record == events.column("id")[3].as_py()
        link_rows = bad[bad.table == "links"].sort_values("row")
        assert link_rows.row.tolist()[:2] == [0, 1]
        assert set(link_rows.code) >= {"invalid_value"}
        messages = " ".join(link_rows.message)
        assert "confidence must be between 0 and 1" in messages
        assert "method must be one of" in messages
        assert copy.stats()["events"] == filled.stats()["events"] - (
            0 if events.column("deleted_at")[3].is_valid else 1
        )
        assert result.events.rejected_rows == 1


@pytest.mark.slow
def test_update_replaces_stored_fields_and_skip_keeps_them(
    tmp_path: Path, event_data: Make
) -> None:
    with rca.connect(tmp_path / "a.duckdb") as a, rca.connect(tmp_path / "b.duckdb") as b:
        mine = a.add_event(event_data(source_id="x1", severity="low"))
        b.add_event(event_data(source_id="x1", severity="critical", component="ledger"))
        b.export_lake(tmp_path / "theirs")
        skipped = a.import_lake(tmp_path / "theirs")
        assert skipped.events.unchanged == 1
        assert a.get_event(mine.id).severity == "low"
        updated = a.import_lake(tmp_path / "theirs", on_duplicate="update")
        assert updated.events.updated == 1
        got = a.get_event(mine.id)
        assert (got.severity, got.component, got.id) == ("critical", "ledger", mine.id)
        with pytest.raises(ValueError, match="on_duplicate"):
            a.import_lake(tmp_path / "theirs", on_duplicate="raise")


@pytest.mark.slow
def test_a_failed_import_leaves_the_store_as_it_was(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled.export_lake(tmp_path / "lake")
    with rca.connect(tmp_path / "copy.duckdb") as copy:

        def boom(*args: Any) -> None:
            raise OSError("disk gone")

        monkeypatch.setattr(_lake_import, "_import_relations", boom)
        with pytest.raises(OSError, match="disk gone"):
            copy.import_lake(tmp_path / "lake")
        assert copy.stats()["events"] == 0
        assert copy.sql("SELECT count(*) AS n FROM links").n[0] == 0
        monkeypatch.undo()
        assert copy.import_lake(tmp_path / "lake").rejects.empty
        assert table(copy, "links").equals(table(filled, "links"))


def test_what_cannot_be_imported_is_refused_clearly(filled: rca.Store, tmp_path: Path) -> None:
    with pytest.raises(rca.CorruptStore, match="not an rca_analytics lake"):
        filled.import_lake(tmp_path)
    root = tmp_path / "lake"
    filled.export_lake(root)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(rca.SchemaVersionError, match="upgrade rca_analytics"):
        filled.import_lake(root)
    with rca.connect(tmp_path / "x.duckdb") as fresh:
        fresh.add_event(
            {
                "source": "ci",
                "event_type": "build",
                "severity": "low",
                "timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            }
        )
    with rca.connect(tmp_path / "x.duckdb", read_only=True) as ro, pytest.raises(rca.ReadOnlyStore):
        ro.import_lake(root)


@pytest.mark.slow
def test_a_lake_without_the_newer_tables_imports(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root)
    for gone in ("link_reviews", "investigation_relations"):
        for f in (root / gone).iterdir():
            f.unlink()
        (root / gone).rmdir()
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        result = copy.import_lake(root)
        assert result.reviews["read"] == result.relations["read"] == 0
        assert table(copy, "links").equals(table(filled, "links"))


@pytest.mark.slow
def test_the_cli_imports_a_lake(
    filled: rca.Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root)
    target = tmp_path / "copy.duckdb"
    assert main(["import-lake", str(root), "--into", str(target), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "events: 372 stored" in out
    assert main(["import-lake", str(root), "--into", str(target), "--no-progress"]) == 0
    assert "events: 0 stored, 0 updated, 372 unchanged" in capsys.readouterr().out
    links = pq.read_table(root / "links" / "data_0.parquet")
    method = links.column("method").to_pylist()
    method[0] = "guesswork"
    pq.write_table(
        links.set_column(3, "method", pa.array(method)), root / "links" / "data_0.parquet"
    )
    with rca.connect(target) as copy:
        copy.sql("SELECT 1")
    fresh = tmp_path / "fresh.duckdb"
    assert main(["import-lake", str(root), "--into", str(fresh), "--no-progress"]) == 3
    err = capsys.readouterr().err
    assert "rca: not imported: links row 0" in err and "invalid_value" in err
    assert main(["import-lake", str(root), "--into", str(tmp_path / "f2.duckdb"),
                 "--no-progress", "--allow-rejects"]) == 0  # fmt: skip


def rewrite(path: Path, **columns: Any) -> None:
    """Replace columns of a lake file (as another writer might have written it)."""
    table = pq.read_table(path)
    for name, values in columns.items():
        array = values if isinstance(values, pa.Array) else pa.array(values)
        if name in table.schema.names:
            table = table.set_column(table.schema.get_field_index(name), name, array)
        else:
            table = table.append_column(name, array)
    pq.write_table(table, path)


@pytest.mark.slow
def test_a_rejection_of_a_pair_never_linked_comes_across(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    with rca.connect(tmp_path / "b.duckdb") as b:
        inv = b.add_investigation(investigation_data())
        ev = b.add_event(event_data())
        b.label_link(ev.id, inv.id, accepted=False, by="bo", note="not this one")
        b.export_lake(tmp_path / "theirs")
    with rca.connect(tmp_path / "a.duckdb") as a:
        result = a.import_lake(tmp_path / "theirs")
        assert result.reviews["stored"] == 1 and result.rejects.empty
        review = a.reviews().iloc[0]
        assert (review.accepted, review.reviewed_by) == (False, "bo")
        with pytest.raises(rca.ValidationFailed, match="rejected"):
            a.link(ev.id, inv.id, method="linker", confidence=0.9)


@pytest.mark.slow
def test_soft_deleted_on_one_side_only_keeps_the_pair_out(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    with rca.connect(tmp_path / "a.duckdb") as a, rca.connect(tmp_path / "b.duckdb") as b:
        inv = a.add_investigation(investigation_data(title="ours, closed as noise"))
        b.add_investigation(inv)
        a.delete_investigation(inv.id)  # deleted here, active there
        shared = event_data(source_id="dup")
        ours = a.add_event(shared)
        theirs = b.add_event(shared)  # deleted there as noise, active here
        b_inv = b.add_investigation(investigation_data(title="theirs"))
        b.link(theirs.id, b_inv.id)
        b.delete_event(theirs.id)
        kept = b.add_event(event_data(source_id="kept"))
        b.link(kept.id, inv.id)
        b.relate(inv.id, b_inv.id)
        b.export_lake(tmp_path / "theirs")
        result = a.import_lake(tmp_path / "theirs")
        codes = dict(zip(result.rejects.record, result.rejects.code, strict=True))
        assert codes[f"{theirs.id} -> {b_inv.id}"] == "deleted_in_lake"
        assert codes[f"{kept.id} -> {inv.id}"] == "deleted_here"
        relation = result.rejects[result.rejects.table == "investigation_relations"]
        assert relation.code.tolist() == ["deleted_here"]
        assert inv.id in relation.message.iloc[0]
        assert a.get_investigation(b_inv.id).event_ids == []
        assert a.sql("SELECT count(*) AS n FROM links").n[0] == 0
        links = result.links
        assert links["read"] == sum(v for k, v in links.items() if k != "read")
        assert ours.id in set(a.events().id)


@pytest.mark.slow
def test_keys_are_matched_as_the_loader_cleans_them(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    """Another writer's lake: upper-case source, blank source_id; links still follow."""
    with rca.connect(tmp_path / "b.duckdb") as b:
        inv = b.add_investigation(investigation_data())
        e1 = b.add_event(event_data(source="ci", source_id="b-1"))
        e2 = b.add_event(event_data(source="ci", source_id="b-2"))
        for e in (e1, e2):
            b.link(e.id, inv.id)
        b.export_lake(tmp_path / "theirs", partition_by=())
    data = tmp_path / "theirs" / "events" / "data_0.parquet"
    ids = pq.read_table(data).column("id").to_pylist()
    keys = {e1.id: "  b-1 ", e2.id: ""}
    rewrite(data, source=["CI", "CI"], source_id=[keys[i] for i in ids])
    with rca.connect(tmp_path / "a.duckdb") as a:
        mine = a.add_event(event_data(source="ci", source_id="b-1"))  # the same deploy
        result = a.import_lake(tmp_path / "theirs")
        assert result.rejects.empty, result.rejects
        assert result.remapped == 1
        assert a.get_event(mine.id).investigation_ids == [inv.id]
        assert a.get_event(e2.id).source_id is None
        assert a.get_event(e2.id).investigation_ids == [inv.id]


@pytest.mark.slow
def test_foreign_writers_gaps_are_named_not_fatal(
    filled: rca.Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=("source", "day"))
    links = root / "links" / "data_0.parquet"
    n = pq.read_table(links).num_rows
    naive = pa.array([dt.datetime(2026, 3, 1, 12)] * n, pa.timestamp("us"))
    reasons = pa.array([None, *[["x"]] * (n - 1)], pa.list_(pa.string()))
    rewrite(links, reasons=reasons)
    rel = root / "investigation_relations" / "data_0.parquet"
    pq.write_table(pq.read_table(rel).drop_columns(["related_at"]), rel)
    with rca.connect(tmp_path / "a.duckdb") as a:
        result = a.import_lake(root)
        assert result.links["stored"] == n and result.relations["stored"] == 1
        assert a.sql("SELECT count(*) AS n FROM links WHERE len(reasons) = 0").n[0] == 1
    rewrite(links, linked_at=naive)
    with rca.connect(tmp_path / "b.duckdb") as b:
        result = b.import_lake(root)
        assert result.links["rejected_rows"] == n
        assert set(result.rejects.code) == {"naive_datetime"}
        assert b.stats()["events"] == filled.stats()["events"]  # the rest came across
    rewrite(links, confidence=pa.array(["high"] * n))
    with (
        rca.connect(tmp_path / "c.duckdb") as c,
        pytest.raises(rca.ReaderError, match="links: column confidence is string"),
    ):
        c.import_lake(root)
    assert main(["import-lake", str(root), "--into", str(tmp_path / "d.duckdb"),
                 "--no-progress"]) == 1  # fmt: skip
    assert "rca: error: lake table links" in capsys.readouterr().err


@pytest.mark.slow
def test_pairs_that_meet_once_events_are_matched_are_counted(
    tmp_path: Path, event_data: Make, investigation_data: Make
) -> None:
    with rca.connect(tmp_path / "b.duckdb") as b:
        inv = b.add_investigation(investigation_data())
        e1 = b.add_event(event_data(source_id="one"))
        e2 = b.add_event(event_data(source_id="two"))
        b.link(e1.id, inv.id, method="rule")
        b.link(e2.id, inv.id, method="linker", confidence=0.8)
        b.export_lake(tmp_path / "theirs", partition_by=())
    rewrite(tmp_path / "theirs" / "events" / "data_0.parquet", source_id=["same", "same"])
    with rca.connect(tmp_path / "a.duckdb") as a:
        result = a.import_lake(tmp_path / "theirs")
        assert result.events.stored == 1 and result.events.unchanged == 1
        assert result.links["merged"] == 1 and result.links["stored"] == 1
        assert result.rejects.set_index("code").loc["same_pair", "table"] == "links"


@pytest.mark.slow
def test_a_rejected_event_is_named_with_its_file(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=("source", "day"))
    target = sorted((root / "events").rglob("*.parquet"))[5]
    events = pq.read_table(target)
    rewrite(target, severity=["urgent"] * events.num_rows)
    with rca.connect(tmp_path / "a.duckdb") as a:
        result = a.import_lake(root)
        bad = result.rejects[result.rejects.table == "events"]
        assert len(bad) == events.num_rows
        assert set(bad.file) == {str(target.relative_to(root))}
        assert set(bad.record) == set(events.column("id").to_pylist())


@pytest.mark.slow
def test_odd_columns_are_refused_or_read_as_the_store_means_them(
    filled: rca.Store, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=())
    links = root / "links" / "data_0.parquet"
    original = pq.read_table(links)
    n = original.num_rows
    ns = original.column("linked_at").cast(pa.timestamp("ns", tz="UTC"))
    rewrite(links, linked_at=pc.add(ns, pa.scalar(1, pa.duration("ns"))))
    with rca.connect(tmp_path / "ns.duckdb") as a:  # pandas writes nanoseconds: truncated
        assert a.import_lake(root).links["stored"] == n
    for column, values in (
        ("linked_at", pa.array([1_772_000_000] * n, pa.int64())),  # seconds? micros? refused
        ("linked_at", pa.array([dt.date(2026, 3, 1)] * n, pa.date32())),
        ("confidence", pa.array([True] * n)),
    ):
        rewrite(links, **{column: values})
        with (
            rca.connect(tmp_path / f"{column}.duckdb") as b,
            pytest.raises(rca.ReaderError, match=f"column {column} is"),
        ):
            b.import_lake(root)
        pq.write_table(original, links)


@pytest.mark.slow
def test_a_lake_without_deletion_times_or_with_an_id_twice(
    filled: rca.Store, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=())
    events = root / "events" / "data_0.parquet"
    table = pq.read_table(events).drop_columns(["deleted_at"])
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), events)  # row 0 twice
    with rca.connect(tmp_path / "a.duckdb") as a:
        result = a.import_lake(root)
        assert result.events.unchanged == 1
        assert result.links["read"] == filled.stats()["links"]
        assert result.links["merged"] == 0 and result.rejects.empty
        assert a.stats()["events"] == len(table)  # the deleted one is active now
