"""A lake is read and written inside its folder only, and damage is named, never a traceback.

Names in a manifest never become paths outside the lake; links in a lake are never
followed; damaged manifests and lying Parquet files are typed errors naming the file;
failed writes say what and where; one store's export never silently replaces another's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fuzzing import leaves, mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import _lake_disk, demo

DAILY = ("source", "day")
Make = Callable[..., dict[str, Any]]


@pytest.fixture
def filled(demo_store: rca.Store) -> rca.Store:
    """The demo history (``demo.build``), copied from a file built once."""
    return demo_store


@pytest.fixture(scope="module")
def exported_lake(demo_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store's lake (daily layout), exported once; ``lake`` copies it."""
    folder = tmp_path_factory.mktemp("lake-template")
    shutil.copyfile(demo_file, folder / "demo.duckdb")
    with rca.connect(folder / "demo.duckdb") as store:
        store.export_lake(folder / "lake", partition_by=DAILY)
    return folder / "lake"


@pytest.fixture
def lake(filled: rca.Store, tmp_path: Path, exported_lake: Path) -> Path:
    """What ``filled.export_lake(root, partition_by=DAILY)`` writes (a copy: the export
    writes nothing into the store, and ``filled`` is a copy of the same file)."""
    root = tmp_path / "lake"
    shutil.copytree(exported_lake, root, symlinks=True)
    return root


def manifest(root: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((root / "manifest.json").read_text())
    return body


def write_manifest(root: Path, body: Any) -> None:
    (root / "manifest.json").write_text(json.dumps(body))


def export_refused(store: rca.Store, root: Path) -> str:
    """What an export into ``root`` raised ('' when it did not)."""
    try:
        store.export_lake(root, partition_by=DAILY)
    except rca.RcaError as err:
        return f"{type(err).__name__}: {err}"
    return ""


def every_reader_refuses(store: rca.Store, root: Path, error: type[Exception], match: str) -> None:
    """connect_lake, import_lake and export_lake all raise ``error`` matching ``match``."""
    with pytest.raises(error, match=match):
        rca.connect_lake(root)
    with rca.connect(":memory:") as fresh, pytest.raises(error, match=match):
        fresh.import_lake(root)
    with pytest.raises(error, match=match):
        store.export_lake(root, partition_by=DAILY)


# --- 2: names in a manifest -------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../victim",
        "source=git/../../../victim",
        "source=git/day=..",
        "source=..\\victim/day=2026-03-01",
        "source=git/day=2026-03-01\x00",
        "source=git/day=2026-03-01/../../../../victim",
        "day=2026-03-01/source=git",
        "",
        "{victim}",  # an absolute path
    ],
)
def test_names_in_a_manifest_never_become_paths(
    filled: rca.Store, lake: Path, tmp_path: Path, name: str
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    name = name.replace("{victim}", str(victim))
    body = manifest(lake)
    body["fingerprints"][name] = "1:1"
    write_manifest(lake, body)
    refused = export_refused(filled, lake)
    assert (victim / "precious.txt").read_text() == "keep me"
    assert refused.startswith("CorruptStore") and "fingerprints names" in refused
    every_reader_refuses(filled, lake, rca.CorruptStore, r"manifest.json: fingerprints names")


@pytest.mark.parametrize(
    "pending",
    [
        {"staging": "../victim", "replace": [], "remove": []},
        {"staging": ".export-ab", "replace": ["../victim"], "remove": []},
        {"staging": ".export-ab", "replace": [], "remove": ["events/../../victim"]},
        {"staging": ".export-ab", "replace": [], "remove": ["{victim}"]},
        {"staging": ".export-ab", "replace": "events", "remove": []},
        ["events"],
    ],
)
def test_pending_moves_name_only_the_lakes_own_paths(
    filled: rca.Store, lake: Path, tmp_path: Path, pending: Any
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    text = json.dumps(pending).replace("{victim}", str(victim))
    write_manifest(lake, {**manifest(lake), "complete": False, "pending": json.loads(text)})
    refused = export_refused(filled, lake)
    assert (victim / "precious.txt").read_text() == "keep me"
    assert refused.startswith("CorruptStore") and "manifest.json: pending" in refused
    every_reader_refuses(filled, lake, rca.CorruptStore, r"manifest.json: pending")


def test_every_path_moved_or_removed_is_checked_to_lie_inside_the_lake(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    (root / "events").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    assert _lake_disk._inside(root, root / "events" / "x") == root / "events" / "x"
    for outside in (root, tmp_path / "elsewhere", root / "events" / ".." / ".." / "elsewhere"):
        with pytest.raises(rca.CorruptStore, match="not inside the lake"):
            _lake_disk._inside(root, outside)
    (root / "links").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(rca.CorruptStore, match="symbolic link"):
        _lake_disk._inside(root, root / "links" / "data_0.parquet")
    with pytest.raises(rca.CorruptStore, match="symbolic link"):
        _lake_disk.remove(root, root / "links")
    assert (tmp_path / "elsewhere").is_dir()


# --- 6: links in a lake -----------------------------------------------------------------


def test_a_link_to_a_folder_outside_is_refused_not_read(
    filled: rca.Store, lake: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside" / "day=2026-03-09"
    outside.mkdir(parents=True)
    part = next((lake / "events" / "source=git").iterdir())
    shutil.copy(part / "data_0.parquet", outside / "data_0.parquet")
    (lake / "events" / "source=git" / "day=2026-03-09").symlink_to(outside)
    every_reader_refuses(filled, lake, rca.CorruptStore, r"day=2026-03-09 is a symbolic link")
    assert (outside / "data_0.parquet").exists()


def test_a_loop_of_links_is_refused(filled: rca.Store, lake: Path) -> None:
    (lake / "events" / "source=git" / "day=2026-03-09").symlink_to(lake / "events")
    every_reader_refuses(filled, lake, rca.CorruptStore, "symbolic link")


def test_a_link_to_a_big_tree_is_refused_at_once(filled: rca.Store, lake: Path) -> None:
    (lake / "events" / "source=usr").symlink_to("/usr")
    started = time.perf_counter()
    every_reader_refuses(filled, lake, rca.CorruptStore, "source=usr is a symbolic link")
    assert time.perf_counter() - started < 30


def test_a_link_to_a_parquet_file_outside_is_refused(
    filled: rca.Store, lake: Path, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs.parquet"
    shutil.move(lake / "links" / "data_0.parquet", theirs)
    (lake / "links" / "data_0.parquet").symlink_to(theirs)
    every_reader_refuses(filled, lake, rca.CorruptStore, "data_0.parquet is a symbolic link")
    (lake / "links" / "data_0.parquet").unlink()
    (lake / "links").rmdir()
    (lake / "links").symlink_to(tmp_path)  # a whole table folder
    every_reader_refuses(filled, lake, rca.CorruptStore, "links is a symbolic link")
    assert theirs.exists()


def test_a_manifest_that_is_a_link_is_refused(
    filled: rca.Store, lake: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    shutil.move(lake / "manifest.json", elsewhere)
    (lake / "manifest.json").symlink_to(elsewhere)
    every_reader_refuses(filled, lake, rca.CorruptStore, "link or a device")


@pytest.mark.slow
def test_the_lake_folder_itself_may_be_a_link(filled: rca.Store, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "lake").symlink_to(real)
    filled.export_lake(tmp_path / "lake", partition_by=DAILY)
    filled.update_event(filled.events()["id"].iloc[0], severity="critical")
    assert filled.export_lake(tmp_path / "lake", partition_by=DAILY).partitions_written == 1
    assert len(rca.connect_lake(tmp_path / "lake").events()) == len(filled.events())
    with rca.connect(":memory:") as fresh:
        assert fresh.import_lake(tmp_path / "lake").rejects.empty
    assert (real / "manifest.json").exists() and (tmp_path / "lake").is_symlink()


# --- 8: damaged manifests, lying files --------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{", "not an rca_analytics lake"),
        (b"", "not an rca_analytics lake"),
        (b"\xff\xfe\x00garbage", "not an rca_analytics lake"),
        (b"[1, 2]", "not an rca_analytics lake"),
        (b"[" * 100_000 + b"]" * 100_000, "not an rca_analytics lake"),
        (b"1" * 5_000, "not an rca_analytics lake"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(
    filled: rca.Store, lake: Path, content: bytes, match: str
) -> None:
    (lake / "manifest.json").write_bytes(content)
    every_reader_refuses(filled, lake, rca.CorruptStore, match)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fingerprints", ["source=git/day=2026-03-01"]),
        ("fingerprints", {"source=git/day=2026-03-01": 5}),
        ("partition_by", 3),
        ("partition_by", ["colour"]),
        ("partition_by", ["day", "month"]),
        ("partition_by", "source"),
        ("schema_version", "x"),
        ("schema_version", 1.5),
        ("schema_version", True),
        ("schema_version", -1),
        ("layout", ["auto"]),
        ("layout", {"chosen_by": 7}),
        ("complete", "yes"),
        ("store_id", 12),
        ("pending", "everything"),
        ("fingerprints", json.loads("[" * 900 + "]" * 900)),  # deep: never printed whole
    ],
)
def test_a_manifest_field_of_the_wrong_type_is_named(
    filled: rca.Store, lake: Path, field: str, value: Any
) -> None:
    write_manifest(lake, {**manifest(lake), field: value})
    every_reader_refuses(filled, lake, rca.CorruptStore, rf"manifest.json: {field}")


def test_a_newer_lake_is_named_as_such_whatever_else_it_holds(
    filled: rca.Store, lake: Path
) -> None:
    deep = json.loads("[" * 900 + "]" * 900)
    write_manifest(
        lake, {**manifest(lake), "schema_version": 99, "package_version": deep, "layout": 5}
    )
    every_reader_refuses(filled, lake, rca.SchemaVersionError, r"version 99.*upgrade")


def small_lake(root: Path) -> rca.Store:
    store = rca.connect(":memory:")
    store.add_events(
        [
            {"source": s, "event_type": "deploy", "severity": "info", "source_id": f"{s}-{d}",
             "timestamp": f"2026-03-0{d}T10:00:00Z"}
            for s in ("ci", "git") for d in (1, 2)
        ],
        progress=False,
    )  # fmt: skip
    inv = store.add_investigation({"title": "Checkout 500s"})
    store.link(store.events()["id"].iloc[0], inv.id)
    store.export_lake(root, partition_by=DAILY)
    return store


SKELETON_KEYS = (
    "format", "schema_version", "partition_by", "fingerprints", "complete", "layout",
    "chosen_by", "store_id", "pending", "staging", "replace", "remove", "source=ci/day=2026-03-01",
)  # fmt: skip
ODD = ("..", "../..", "/", "/usr", "source=git/day=..", ".export-00", "events/../x", "caller")


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(data=st.data())
def test_any_damage_to_a_manifest_is_a_typed_error(tmp_path: Path, data: st.DataObject) -> None:
    pristine = tmp_path / "pristine"
    if not pristine.exists():
        small_lake(pristine).close()
    root = tmp_path / "lake"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(pristine, root)
    body = mutated(data, manifest(pristine), SKELETON_KEYS, leaves(ODD))
    write_manifest(root, body)
    outside = sorted(p.name for p in tmp_path.iterdir())
    with rca.connect(":memory:") as store:
        for attempt in (
            lambda: rca.connect_lake(root).events(),
            lambda: store.import_lake(root),
            lambda: store.export_lake(root),
        ):
            with contextlib.suppress(rca.RcaError):
                attempt()
    assert sorted(p.name for p in tmp_path.iterdir()) == outside


def damage_first_event_file(lake: Path, how: str) -> Path:
    path = sorted((lake / "events").rglob("*.parquet"))[3]
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "not parquet":
        path.write_text("incident notes, not Parquet\n")
    elif how == "empty":
        path.write_bytes(b"")
    else:  # its times as text
        table = pq.read_table(path)
        at = table.schema.get_field_index("timestamp")
        pq.write_table(table.set_column(at, "timestamp", pa.array(["x"] * table.num_rows)), path)
    return path


@pytest.mark.parametrize("how", ["truncated", "not parquet", "empty", "times as text"])
def test_a_lying_event_file_is_named(filled: rca.Store, lake: Path, how: str) -> None:
    path = damage_first_event_file(lake, how)
    name = str(path.relative_to(lake))
    with pytest.raises(rca.CorruptStore, match=name):
        rca.connect_lake(lake)
    with rca.connect(":memory:") as fresh, pytest.raises(rca.CorruptStore, match=name):
        fresh.import_lake(lake)


@pytest.mark.parametrize("how", ["truncated", "event ids as numbers"])
def test_a_lying_small_table_is_named(lake: Path, how: str) -> None:
    path = lake / "links" / "data_0.parquet"
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:50])
    else:
        table = pq.read_table(path)
        at = table.schema.get_field_index("event_id")
        pq.write_table(table.set_column(at, "event_id", pa.array(range(table.num_rows))), path)
    with pytest.raises(rca.CorruptStore, match=r"links/data_0\.parquet"):
        rca.connect_lake(lake)
    with rca.connect(":memory:") as fresh, pytest.raises(rca.RcaError, match="links"):
        fresh.import_lake(lake)


def test_a_damaged_page_is_a_typed_error(filled: rca.Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    filled.export_lake(lake, partition_by=())
    path = lake / "events" / "data_0.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 4 : len(data) // 2] = b"U" * (len(data) // 2 - len(data) // 4)
    path.write_bytes(bytes(data))  # the footer is whole: found when the rows are read
    with pytest.raises(rca.RcaError, match="_rca_lake_events"):
        rca.connect_lake(lake).events()
    with rca.connect(tmp_path / "a.duckdb") as a:
        with pytest.raises(rca.CorruptStore, match=r"could not be read.*nothing was imported"):
            a.import_lake(lake)
        assert a.stats()["events"] == 0


def test_strangers_and_devices_in_a_lake_are_named(filled: rca.Store, lake: Path) -> None:
    (lake / "events" / "README.txt").write_text("notes")
    every_reader_refuses(filled, lake, rca.CorruptStore, "README.txt: not part of a lake")
    (lake / "events" / "README.txt").unlink()
    os.mkfifo(lake / "links" / "pipe.parquet")  # would block a reader forever
    every_reader_refuses(filled, lake, rca.CorruptStore, "pipe.parquet: not part of a lake")
    (lake / "links" / "pipe.parquet").unlink()
    (lake / "events" / "source=git" / "notes").mkdir()
    every_reader_refuses(filled, lake, rca.CorruptStore, "notes: not in a lake's layout")


def test_folders_other_than_the_manifests_partitions_are_refused(
    filled: rca.Store, lake: Path
) -> None:
    gone = next((lake / "events" / "source=ci").iterdir())
    shutil.rmtree(gone)
    with pytest.raises(rca.CorruptStore, match=rf"{gone.name} missing.*run the export again"):
        rca.connect_lake(lake)
    filled.export_lake(lake, partition_by=DAILY)  # puts it back
    assert len(rca.connect_lake(lake).events()) == len(filled.events())


# --- 9: where an export cannot write ----------------------------------------------------


def test_an_export_onto_a_file_or_nowhere_is_a_typed_error(
    filled: rca.Store, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(rca.QueryError, match="is a file, not a folder"):
        filled.export_lake(tmp_path / "file")
    with pytest.raises(rca.WriteFailed, match="could not be written"):
        filled.export_lake(tmp_path / "file" / "lake")
    with pytest.raises(rca.WriteFailed, match="/proc/rca-lake"):
        filled.export_lake("/proc/rca-lake")
    with pytest.raises(rca.QueryError, match="not a path"):
        filled.export_lake(str(tmp_path / "nul\x00lake"))
    assert (tmp_path / "file").read_text() == "not a folder"


LIMITED = textwrap.dedent(
    """
    import resource, sys
    import rca_analytics as rca
    store = rca.connect(sys.argv[1], read_only=True)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # as a full disk would
    try:
        store.export_lake(sys.argv[2], partition_by=())
    except rca.WriteFailed as err:
        print("WriteFailed", err)
    """
)


@pytest.mark.slow
def test_a_full_disk_leaves_the_lake_as_it_was(store_path: Path, tmp_path: Path) -> None:
    with rca.connect(store_path) as store:
        demo.build(store)
        store.export_lake(tmp_path / "lake", partition_by=())
        before = rca.connect_lake(tmp_path / "lake").events()
        for event_id in store.events()["id"]:
            store.update_event(event_id, data={"note": "x" * 500})  # the events file grows
    for lake in (tmp_path / "lake", tmp_path / "new"):
        done = subprocess.run(
            [sys.executable, "-c", LIMITED, str(store_path), str(lake)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout.startswith("WriteFailed"), done.stderr
        assert "File too large" in done.stdout and str(lake) in done.stdout
        assert "the lake is as it was" in done.stdout
        assert not list(lake.glob(".*"))
    assert rca.connect_lake(tmp_path / "lake").events().equals(before)
    assert not (tmp_path / "new" / "manifest.json").exists()
    with rca.connect(store_path, read_only=True) as store:
        store.export_lake(tmp_path / "new")  # once there is room
        assert len(rca.connect_lake(tmp_path / "new").events()) == len(store.events())


# --- 15: whose lake -----------------------------------------------------------------------


@pytest.mark.slow
def test_another_stores_lake_is_not_replaced_silently(tmp_path: Path, event_data: Make) -> None:
    root = tmp_path / "lake"
    with rca.connect(tmp_path / "a.duckdb") as a:
        a.add_event(event_data(source_id="a-1"))
        a.export_lake(root)
        assert manifest(root)["store_id"] == a.store_id
    shutil.copy(tmp_path / "a.duckdb", tmp_path / "a-copy.duckdb")
    with rca.connect(tmp_path / "b.duckdb") as b:
        b.add_event(event_data(source_id="b-1"))
        b.add_event(event_data(source_id="b-2"))
        with pytest.raises(rca.QueryError, match=r"another store.*replace=True"):
            b.export_lake(root)
        assert len(rca.connect_lake(root).events()) == 1  # still a's
        b.export_lake(root, replace=True)
        assert manifest(root)["store_id"] == b.store_id
        assert len(rca.connect_lake(root).events()) == 2
        b.export_lake(root)  # b's own lake now
    with rca.connect(tmp_path / "a-copy.duckdb") as copy, pytest.raises(rca.QueryError):
        copy.export_lake(root)  # a copy of a is a, not b
    body = manifest(root)
    del body["store_id"]  # written before stores had ids
    write_manifest(root, body)
    with rca.connect(tmp_path / "a-copy.duckdb") as copy:
        copy.export_lake(root)
        assert manifest(root)["store_id"] == copy.store_id


@pytest.mark.parametrize("hidden", [".git", ".DS_Store", ".export-not-ours", ".manifest.json"])
def test_a_folder_of_hidden_files_is_not_a_lake(
    filled: rca.Store, tmp_path: Path, hidden: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    if hidden == ".git":
        (root / ".git").mkdir()
        (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    else:
        (root / hidden).write_text("mine")
    with pytest.raises(rca.QueryError, match=rf"{hidden}\) and no manifest.json"):
        filled.export_lake(root)
    assert sorted(p.name for p in root.iterdir()) == [hidden]
    (root / "events").mkdir()
    (root / "events" / ".DS_Store").write_text("finder")
    with pytest.raises(rca.QueryError, match=r"events/.DS_Store"):
        filled.export_lake(root)


def test_an_exports_own_working_names_are_cleared(filled: rca.Store, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    (root / ".export-0123abcd" / "new" / "events").mkdir(parents=True)
    (root / ".manifest.json.0123abcd.tmp").write_text("{")
    filled.export_lake(root)
    assert not list(root.glob(".*"))
    assert len(rca.connect_lake(root).events()) == len(filled.events())
