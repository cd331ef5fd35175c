"""Exporting a store as a hive-partitioned Parquet lake, incrementally and atomically."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import rca_analytics as rca
from rca_analytics import _data, _lake, _lake_disk, _lake_layout, demo
from rca_analytics.cli import main

#: The issue's example layout, used where a test needs partitions on small data.
DAILY = ("source", "day")


@pytest.fixture
def filled(demo_store: rca.Store) -> rca.Store:
    """The demo history (``demo.build``), copied from a file built once."""
    return demo_store


def lake_events(root: Path) -> pa.Table:
    return ds.dataset(str(root / "events"), format="parquet", partitioning="hive").to_table()


def files(root: Path) -> dict[str, int]:
    """Every Parquet file of the lake with its modification time."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


def test_a_full_export_has_every_record_in_standard_types(
    filled: rca.Store, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    result = filled.export_lake(root, partition_by=DAILY)
    assert result.full and result.partitions_written == result.partitions > 10
    events = lake_events(root)
    stats = filled.stats()
    assert events.num_rows == stats["events"] == result.events
    schema = events.schema
    assert schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("data").type == pa.string()
    assert {"source", "day"} <= set(schema.names)
    stored = filled.events(include_deleted=True).set_index("id")
    for row in events.slice(0, 25).to_pylist():
        assert json.loads(row["data"]) == stored.loc[row["id"], "data"]
        assert row["source"] == stored.loc[row["id"], "source"]
        assert row["day"] == f"{stored.loc[row['id'], 'timestamp']:%Y-%m-%d}"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["schema_version"] == 5 and manifest["partition_by"] == ["source", "day"]
    assert manifest["tables"]["links"] == stats["links"]
    assert manifest["high_water"]["events"] is not None
    for table in ("investigations", "links", "link_reviews", "investigation_relations"):
        assert (root / table / "data_0.parquet").exists(), table
    links = ds.dataset(str(root / "links"), format="parquet").to_table()
    assert links.num_rows == stats["links"]


@pytest.mark.slow
def test_a_second_export_writes_only_what_changed(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=DAILY)
    before = files(root)
    again = filled.export_lake(root, partition_by=DAILY)
    assert (again.full, again.partitions_written) == (False, 0)
    assert {k: v for k, v in files(root).items() if k.startswith("events")} == {
        k: v for k, v in before.items() if k.startswith("events")
    }
    event = filled.events(source="git").iloc[0]
    filled.update_event(event["id"], severity="critical")
    changed = filled.export_lake(root, partition_by=DAILY)
    assert changed.partitions_written == 1
    part = f"events/source=git/day={event['timestamp']:%Y-%m-%d}"
    after = files(root)
    assert all(after[k] == v for k, v in before.items() if k.startswith("events/") and
               not k.startswith(part))  # fmt: skip
    row = [r for r in lake_events(root).to_pylist() if r["id"] == event["id"]]
    assert row[0]["severity"] == "critical"


def test_soft_deletes_and_moves_reach_the_lake(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=DAILY)
    events = filled.events()
    gone, moved = events["id"].iloc[0], events["id"].iloc[1]
    filled.delete_event(gone)
    new_time = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    filled.update_event(moved, timestamp=new_time)
    filled.export_lake(root, partition_by=DAILY)
    rows = {r["id"]: r for r in lake_events(root).to_pylist()}
    everything = filled.events(include_deleted=True)
    assert len(rows) == lake_events(root).num_rows == len(everything)  # no duplicates
    assert rows[gone]["deleted_at"] is not None
    assert rows[moved]["day"] == "2026-06-01"


@pytest.mark.slow
def test_an_interrupted_export_leaves_the_lake_whole(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=DAILY)
    manifest = (root / "manifest.json").read_text()
    before = rca.connect_lake(root).events()
    ids = filled.events()["id"].iloc[:40].tolist()
    for event_id in ids:
        filled.update_event(event_id, severity="high")
    # Stopped while staging: the lake is as it was, nothing of the export left behind.
    real_write = _lake._write
    writes: list[Path] = []

    def failing_write(store: rca.Store, sql: str, folder: Path, *args: object) -> None:
        if writes:
            raise OSError(28, "No space left on device")
        writes.append(folder)
        real_write(store, sql, folder, *args)

    monkeypatch.setattr(_lake, "_write", failing_write)
    with pytest.raises(rca.WriteFailed, match="the lake is as it was"):
        filled.export_lake(root, partition_by=DAILY)
    monkeypatch.undo()
    assert (root / "manifest.json").read_text() == manifest
    assert not list(root.glob(".*"))  # no staging, no temporary manifest
    pd.testing.assert_frame_equal(rca.connect_lake(root).events(), before)
    # Stopped while moving the partitions into place, after the commit point: the lake
    # reads as the new one, each partition old or new on disk, never half.
    real_move = _lake_disk._move_out
    moves: list[str] = []

    def failing_move(root_: Path, staging: Path, path: str) -> None:
        if len(moves) == 2:
            raise OSError(28, "No space left on device")
        moves.append(path)
        real_move(root_, staging, path)

    monkeypatch.setattr(_lake_disk, "_move_out", failing_move)
    with pytest.raises(rca.WriteFailed, match="committed"):
        filled.export_lake(root, partition_by=DAILY)
    monkeypatch.undo()
    after = json.loads((root / "manifest.json").read_text())
    assert after["complete"] is False and after["pending"]["replace"]
    pd.testing.assert_frame_equal(rca.connect_lake(root).events(), filled.events())
    assert lake_events(root).num_rows == filled.stats()["events"]  # as engines see it
    again = filled.export_lake(root, partition_by=DAILY)  # the next export finishes the job
    assert again.partitions_written == 0 and not list(root.glob(".*"))
    assert "pending" not in json.loads((root / "manifest.json").read_text())
    lake = {r["id"]: r["severity"] for r in lake_events(root).to_pylist()}
    assert all(lake[i] == "high" for i in ids)


def test_other_layouts(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=["month"])
    assert sorted(p.name for p in (root / "events").iterdir()) == ["month=2026-03"]
    relaid = filled.export_lake(root, partition_by=["source", "day"])
    assert relaid.full and not (root / "events" / "month=2026-03").exists()
    assert lake_events(root).num_rows == filled.stats()["events"]
    flat = filled.export_lake(tmp_path / "flat", partition_by=[])
    assert flat.partitions == 1 and (tmp_path / "flat" / "events" / "data_0.parquet").exists()
    with pytest.raises(rca.QueryError, match="partition_by"):
        filled.export_lake(tmp_path / "x", partition_by=["colour"])


@pytest.mark.slow
@pytest.mark.parametrize("keys", [DAILY, ("month",), ()])
def test_records_arriving_with_old_times_reach_the_next_export(
    filled: rca.Store, tmp_path: Path, keys: tuple[str, ...]
) -> None:
    """Loads and imports keep the times they carry: the export must not trust them."""
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=keys)
    old = filled.events().head(3)
    copies = old.drop(columns=["id"]).assign(source_id=old["source_id"] + "-copy")
    assert filled.add_events(copies, progress=False).stored == 3  # updated_at from before
    other = tmp_path / "other.duckdb"
    with rca.connect(other) as theirs:
        theirs.add_event(
            {"source": "ci", "event_type": "deploy", "severity": "high",
             "timestamp": "2026-03-02T10:00:00Z", "source_id": "their-deploy",
             "updated_at": "2020-01-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z"}
        )  # fmt: skip
        theirs.export_lake(tmp_path / "theirs")
    filled.import_lake(tmp_path / "theirs")
    again = filled.export_lake(root, partition_by=keys)
    assert not again.full or not keys
    in_lake = set(lake_events(root).column("source_id").to_pylist())
    assert {*copies["source_id"], "their-deploy"} <= in_lake
    assert lake_events(root).num_rows == len(filled.events(include_deleted=True))
    assert filled.export_lake(root, partition_by=keys).partitions_written == 0


def test_a_folder_that_is_not_a_lake_is_refused(filled: rca.Store, tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "notes.txt").write_text("mine")
    (tmp_path / "report.html").write_text("mine too")
    with pytest.raises(rca.QueryError, match="not an rca_analytics lake"):
        filled.export_lake(tmp_path)
    assert (tmp_path / "events" / "notes.txt").read_text() == "mine"
    # A first export stopped before its manifest is ours: the next one finishes it.
    lake = tmp_path / "lake"
    (lake / "events").mkdir(parents=True)
    (lake / ".export-0123").mkdir()
    assert filled.export_lake(lake).events == len(filled.events(include_deleted=True))


@pytest.mark.slow
def test_a_lake_started_empty_fills_up(store: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    store.export_lake(root, partition_by=DAILY)
    assert rca.connect_lake(root).events().empty
    demo.build(store)
    filled = store.export_lake(root, partition_by=DAILY)
    assert filled.partitions_written == filled.partitions > 1
    assert len(rca.connect_lake(root).events()) == len(store.events())


@pytest.mark.slow
def test_a_layout_change_stopped_after_its_commit_point_reads_as_the_new_lake(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=())

    def no_moves(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_lake, "apply_pending", no_moves)
    with pytest.raises(rca.WriteFailed, match="disk full"):
        filled.export_lake(root, partition_by=DAILY)
    monkeypatch.undo()
    assert not (root / "events" / "source=git").exists()  # staged, not moved in yet
    pd_lake = rca.connect_lake(root).events()
    assert pd_lake.equals(filled.events())
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        assert copy.import_lake(root).events.stored == len(filled.events(include_deleted=True))


def test_partitions_an_interrupted_export_swapped_in_are_put_right(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=("day",))
    event = filled.events().iloc[0]["id"]
    filled.update_event(event, timestamp="2026-02-01T10:00:00Z")  # moved in first
    real = _lake_disk._move_out
    moves: list[str] = []

    def once(root_: Path, staging: Path, path: str) -> None:
        if moves:
            raise OSError("killed")
        moves.append(path)
        real(root_, staging, path)

    monkeypatch.setattr(_lake_disk, "_move_out", once)
    with pytest.raises(rca.WriteFailed, match="killed"):
        filled.export_lake(root, partition_by=("day",))
    monkeypatch.undo()
    filled.update_event(event, timestamp="2026-05-09T10:00:00Z")  # and away again
    filled.export_lake(root, partition_by=("day",))
    ids = lake_events(root).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == len(filled.events(include_deleted=True))
    assert not (root / "events" / "day=2026-02-01").exists()
    assert filled.export_lake(root, partition_by=("day",)).partitions_written == 0


def test_an_interrupted_change_of_layout_is_undone_by_the_next_export(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    filled.export_lake(root, partition_by=("month",))

    def no_moves(*args: object) -> None:
        raise OSError("killed")

    monkeypatch.setattr(_lake, "apply_pending", no_moves)
    with pytest.raises(rca.WriteFailed, match="killed"):
        filled.export_lake(root, partition_by=DAILY)
    monkeypatch.undo()
    back = filled.export_lake(root, partition_by=("month",))  # finishes DAILY, then undoes it
    assert back.full and [p.name for p in (root / "events").iterdir()] == ["month=2026-03"]
    assert lake_events(root).num_rows == len(filled.events(include_deleted=True))


def test_only_our_own_folders_are_written_over(filled: rca.Store, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "events").mkdir(parents=True)
    (mine / "events" / "notes.txt").write_text("keep me")
    with pytest.raises(rca.QueryError, match=r"events/notes.txt"):
        filled.export_lake(mine)
    app = tmp_path / "app"
    app.mkdir()
    (app / "manifest.json").write_text(json.dumps({"name": "my web app"}))
    with pytest.raises(rca.CorruptStore, match="not an rca_analytics lake"):
        filled.export_lake(app)
    (app / "manifest.json").write_text("[1, 2]")
    with pytest.raises(rca.CorruptStore):
        filled.export_lake(app)
    newer = tmp_path / "newer"
    filled.export_lake(newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    (newer / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 99}))
    with pytest.raises(rca.SchemaVersionError, match="upgrade rca_analytics"):
        filled.export_lake(newer)


@pytest.mark.slow
def test_a_long_sparse_history_makes_more_than_a_thousand_partitions(
    store: rca.Store, tmp_path: Path
) -> None:
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    store.add_events(
        [
            {"source": s, "event_type": "deploy", "severity": "info",
             "timestamp": start + dt.timedelta(days=d), "source_id": f"{s}-{d}"}
            for d in range(600) for s in ("ci", "git")
        ],
        progress=False,
    )  # fmt: skip
    result = store.export_lake(tmp_path / "lake", partition_by=DAILY)  # one batch, 1,200 partitions
    assert result.partitions == 1_200 and lake_events(tmp_path / "lake").num_rows == 1_200


@pytest.mark.slow
def test_export_from_the_shell(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with rca.connect(store_path) as store:
        demo.build(store)
    assert main(["export", "lake", str(tmp_path / "lake"), "--db", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "event partitions written" in out and "no partitions: even a month" in out
    assert (tmp_path / "lake" / "manifest.json").exists()
    monthly = tmp_path / "monthly"
    assert main(["export", "lake", str(monthly), "--db", str(store_path), "--partition-by",
                 "month"]) == 0  # fmt: skip
    assert [p.name for p in (monthly / "events").iterdir()] == ["month=2026-03"]


def test_auto_picks_the_finest_layout_with_files_of_32_mb(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = filled.export_lake(tmp_path / "lake")  # the default
    assert small.partition_by == () and small.partitions == 1
    assert "even a month is below 32 MB" in small.layout_reason
    manifest = json.loads((tmp_path / "lake" / "manifest.json").read_text())
    assert manifest["layout"]["chosen_by"] == "auto"
    assert manifest["layout"]["bytes_per_event"] > 20
    layout = _lake_layout.choose_layout(_data.of(filled))
    per_day = filled.counts(by="source", freq="D", fill=False)["count"].median()
    assert layout.median_file_bytes["source/day"] == pytest.approx(per_day * layout.bytes_per_event)
    assert layout.median_file_bytes["none"] == pytest.approx(
        filled.stats()["events"] * layout.bytes_per_event
    )
    # Pretend the events were far bigger: the target falls between layouts.
    sizes = layout.median_file_bytes
    for finer, coarser in (("source/day", "day"), ("day", "source/month")):
        monkeypatch.setattr(_lake_layout, "TARGET_FILE_BYTES", (sizes[finer] + sizes[coarser]) / 2)
        chosen = _lake_layout.choose_layout(_data.of(filled))
        assert chosen.partition_by == tuple(coarser.split("/"))
    monkeypatch.setattr(_lake_layout, "TARGET_FILE_BYTES", sizes["source/day"] / 2)
    assert _lake_layout.choose_layout(_data.of(filled)).partition_by == ("source", "day")
    # An existing lake keeps its layout while its files are within a factor of two of
    # the target ...
    monkeypatch.setattr(_lake_layout, "TARGET_FILE_BYTES", sizes["day"] * 1.2)
    assert _lake_layout.choose_layout(_data.of(filled)).partition_by != ("day",)
    kept = _lake_layout.choose_layout(_data.of(filled), current=["day"])
    assert kept.partition_by == ("day",) and "kept" in kept.reason
    # ... and is laid out again when they are not (the lake is one file, 7x the target).
    monkeypatch.setattr(_lake_layout, "TARGET_FILE_BYTES", sizes["day"] * 0.9)
    assert sizes["none"] > 2 * sizes["day"] * 0.9 and sizes["source/day"] < sizes["day"] * 0.9
    grown = filled.export_lake(tmp_path / "lake")
    days = filled.counts(freq="D", fill=False, include_deleted=True)
    assert grown.full and grown.partition_by == ("day",) and grown.partitions == len(days)
    # A layout the caller chose stays until the caller gives another.
    filled.export_lake(tmp_path / "mine", partition_by=("source", "day"))
    again = filled.export_lake(tmp_path / "mine")
    assert again.partition_by == ("source", "day") and "caller" in again.layout_reason
    with pytest.raises(rca.QueryError, match="not a layout"):
        filled.export_lake(tmp_path / "x", partition_by="source")


def assert_same_answers(file: rca.Store, lake: rca.Store) -> None:
    """The query helpers give the same DataFrames on the lake as on the file."""
    import pandas as pd

    pd.testing.assert_frame_equal(file.events(), lake.events())
    pd.testing.assert_frame_equal(
        file.events(include_deleted=True, severity=["critical", "high"]),
        lake.events(include_deleted=True, severity=["critical", "high"]),
    )
    pd.testing.assert_frame_equal(file.investigations(), lake.investigations())
    pd.testing.assert_frame_equal(file.event_investigations(), lake.event_investigations())
    pd.testing.assert_frame_equal(file.counts(by="source"), lake.counts(by="source"))
    for inv_id in file.investigations()["id"][:3]:
        pd.testing.assert_frame_equal(file.timeline(inv_id), lake.timeline(inv_id))
    as_of = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    for metric in (rca.metrics.mttr, rca.metrics.mttd):
        pd.testing.assert_frame_equal(
            metric(file, by="impact_severity", as_of=as_of),
            metric(lake, by="impact_severity", as_of=as_of),
        )


@pytest.mark.slow
def test_the_lake_answers_as_the_file_did(filled: rca.Store, tmp_path: Path) -> None:
    filled.delete_event(filled.events()["id"].iloc[0])
    filled.export_lake(tmp_path / "lake", partition_by=DAILY)
    lake = rca.connect_lake(tmp_path / "lake")
    assert lake.read_only
    assert_same_answers(filled, lake)
    with pytest.raises(rca.ReadOnlyStore):
        lake.add_event({"source": "ci", "event_type": "x", "severity": "info", "timestamp": 0})
    with pytest.raises(rca.CorruptStore, match="not an rca_analytics lake"):
        rca.connect_lake(tmp_path)


@pytest.mark.slow
def test_a_million_event_lake_answers_as_the_file_did(tmp_path: Path) -> None:
    from rca_analytics.synthetic import HistorySettings, history

    h = history(HistorySettings.scaled(events=1_000_000, incidents=1_000))
    with rca.connect(tmp_path / "big.duckdb") as store:
        store.add_events(h.events, progress=False)
        linked = h.truth.groupby("investigation_id")["event_id"].agg(list)
        invs = h.investigations.assign(event_ids=[linked.get(i, []) for i in h.investigations.id])
        report = store.add_investigations(invs, progress=False)
        assert report.rejected.empty and store.stats()["links"] == len(h.truth)
        result = store.export_lake(tmp_path / "lake")
        assert result.events == len(h.events)
        assert_same_answers(store, rca.connect_lake(tmp_path / "lake"))


def test_a_lake_named_by_a_relative_path_exports_again_and_reads(
    filled: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = filled.export_lake("lake")
    again = filled.export_lake("lake")  # the listing mixed relative and absolute paths
    assert again.events == first.events
    assert len(rca.connect_lake("lake").events()) == len(filled.events())
    with rca.connect(tmp_path / "copy.duckdb") as copy:
        copy.import_lake("lake")
        assert len(copy.events()) == len(filled.events())
