"""Crash safety of the lake export: stopped at any step, the lake reads as before or after.

The SIGKILL test forks each export from a child process that has imported the package
once (a "zygote"); the export counts its file system steps (each rename, folder made or
removed, file unlinked, tree removed and Parquet write, before and after) and SIGKILLs
itself at a chosen one. Two copies of one store (one store id) hold an old and a new
state; the rounds export them in turn, in two layouts, into one lake, so a round often
starts by finishing the export the previous round stopped. After every kill
``connect_lake`` and ``import_lake`` must read the lake as it was or as the export makes
it, whole (each event, investigation and link, so the events per source too), and the
next export completes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import rca_analytics as rca
from rca_analytics import _lake

State = dict[str, list[tuple[Any, ...]]]

ROUNDS = 24

ZYGOTE = textwrap.dedent(
    """
    import os, shutil, signal, sys

    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
    import rca_analytics as rca


    def count_steps(kill_at):
        count = [0]

        def tick():
            count[0] += 1
            if count[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        def wrap(module, name):
            real = getattr(module, name)

            def step(*args, **kwargs):
                tick()
                result = real(*args, **kwargs)
                tick()
                return result

            setattr(module, name, step)

        for name in ("replace", "rename", "mkdir", "rmdir", "unlink"):
            wrap(os, name)
        wrap(shutil, "rmtree")
        wrap(ds, "write_dataset")
        wrap(pq, "write_table")
        return count


    print("ready", flush=True)
    for line in sys.stdin:
        path, lake, keys, kill_at = line.rstrip("\\n").split("\\t")
        pid = os.fork()
        if pid == 0:  # the exporter
            try:
                store = rca.connect(path, read_only=True)
                count = count_steps(int(kill_at))
                store.export_lake(lake, partition_by=tuple(k for k in keys.split(",") if k))
                print("done", count[0], flush=True)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("exit", os.waitstatus_to_exitcode(status), flush=True)
    """
)


def state(store: rca.Store) -> State:
    """Every event, investigation and link of a store (or of a lake read as one)."""
    rows = {
        "events": "SELECT id, source, severity, timestamp::VARCHAR, deleted_at IS NULL "
        "FROM events ORDER BY id",
        "investigations": "SELECT id, status, deleted_at IS NULL FROM investigations ORDER BY id",
        "links": "SELECT event_id, investigation_id FROM links ORDER BY ALL",
    }
    return {
        name: [tuple(r) for r in store.sql(sql).itertuples(index=False)]
        for name, sql in rows.items()
    }


def described(found: State) -> str:
    sources = Counter(event[1] for event in found["events"])
    return (
        f"events by source {dict(sorted(sources.items()))}, "
        f"{len(found['investigations'])} investigations, {len(found['links'])} links"
    )


def read_back(lake: Path) -> tuple[State, State]:
    """The lake as ``connect_lake`` reads it, and as ``import_lake`` brings it in."""
    on_lake = state(rca.connect_lake(lake))
    with rca.connect(":memory:") as fresh:
        fresh.import_lake(lake, progress=False)
        imported = state(fresh)
    return on_lake, imported


def make_states(folder: Path) -> tuple[Path, Path]:
    """Two copies of one store (the same store id): as it was, and changed since."""
    old, new = folder / "old.duckdb", folder / "new.duckdb"
    with rca.connect(old) as store:
        store.add_events(
            [
                {"source": s, "event_type": "deploy", "severity": "info", "source_id": f"{s}-{d}",
                 "timestamp": f"2026-03-{d:02d}T{h:02d}:00:00Z"}
                for s in ("ci", "git", "logs") for d in range(1, 6) for h in (9, 15)
            ],
            progress=False,
        )  # fmt: skip
        inv = store.add_investigation({"title": "Checkout 500s"})
        for event_id in store.events(source="ci")["id"][:3]:
            store.link(event_id, inv.id)
    shutil.copy(old, new)
    with rca.connect(new) as store:
        events = store.events()
        for event_id in events["id"][:4]:
            store.update_event(event_id, severity="critical")
        store.update_event(events["id"].iloc[4], timestamp="2026-04-02T10:00:00Z")  # moved
        store.delete_event(events["id"].iloc[5])
        added = store.add_event(
            {"source": "manual", "event_type": "note", "severity": "info",
             "timestamp": "2026-03-03T12:00:00Z"}
        )  # fmt: skip
        second = store.add_investigation({"title": "Ledger lag"})
        store.link(added.id, second.id)
        store.link(events["id"].iloc[6], second.id)
    return old, new


class Zygote:
    """A child process that has imported the package and forks one export per call."""

    def __init__(self) -> None:
        package = str(Path(rca.__file__).resolve().parents[1])
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": package},
        )
        assert self.line() == "ready"

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def export(self, store: Path, lake: Path, keys: str, kill_at: int) -> int:
        """Export ``store`` into ``lake``; its steps, or 0 when it was killed at ``kill_at``."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{store}\t{lake}\t{keys}\t{kill_at}\n")
        self.process.stdin.flush()
        lines = [self.line()]
        while not lines[-1].startswith("exit"):
            lines.append(self.line())
        assert lines[-1] in ("exit 0", "exit -9"), lines  # killed, or done; never failing
        return int(lines[0].split()[1]) if lines[-1] == "exit 0" else 0

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.mark.slow
def test_sigkill_at_any_step_of_an_export_leaves_the_lake_old_or_new(
    tmp_path: Path, tally: Counter[str]
) -> None:
    old, new = make_states(tmp_path)
    with rca.connect(old, read_only=True) as s:
        expected = {old: state(s)}
    with rca.connect(new, read_only=True) as s:
        expected[new] = state(s)
    assert expected[old] != expected[new]
    lake = tmp_path / "lake"
    with rca.connect(old, read_only=True) as s:
        s.export_lake(lake, partition_by=("source", "day"))
    rng = random.Random(20261207)
    zygote = Zygote()
    before, kills, steps = expected[old], 0, 150  # steps: the longest export seen
    try:
        for round_ in range(ROUNDS):
            target = (new, old)[round_ % 2]
            keys = rng.choice(["source,day", "source,day", "month"])
            done = zygote.export(target, lake, keys, rng.randint(1, steps))
            killed, steps = not done, max(steps, done)
            kills += killed
            on_lake, imported = read_back(lake)
            assert on_lake in (before, expected[target]), (
                f"round {round_} ({keys}, {'killed' if killed else 'done'}): the lake reads "
                f"{described(on_lake)}; before: {described(before)}, after: "
                f"{described(expected[target])}"
            )
            assert imported == on_lake and (killed or on_lake == expected[target])
            before = on_lake
            if round_ % 6 == 5:  # the next export completes the lake
                assert zygote.export(target, lake, keys, 0)
                assert read_back(lake) == (expected[target], expected[target])
                assert not list(lake.glob(".*"))  # nothing of the stopped exports left
                with rca.connect(target, read_only=True) as s:
                    again = s.export_lake(lake, partition_by=tuple(keys.split(",")))
                    assert again.partitions_written == 0
                before = expected[target]
    finally:
        zygote.close()
    assert kills >= 15, f"only {kills} of {ROUNDS} exports were killed"
    tally["lake exports killed (SIGKILL)"] += kills


def small_store(tmp_path: Path) -> tuple[rca.Store, Path]:
    store = rca.connect(tmp_path / "small.duckdb")
    store.add_events(
        [
            {"source": s, "event_type": "deploy", "severity": "info", "source_id": f"{s}-{d}",
             "timestamp": f"2026-03-0{d}T10:00:00Z"}
            for s in ("ci", "git") for d in (1, 2, 3)
        ],
        progress=False,
    )  # fmt: skip
    inv = store.add_investigation({"title": "Checkout 500s"})
    store.link(store.events()["id"].iloc[0], inv.id)
    lake = tmp_path / "pristine"
    store.export_lake(lake, partition_by=("source", "day"))
    return store, lake


@pytest.mark.slow
@pytest.mark.parametrize("failing", [1, 2, 3, 4, 7, None])
def test_a_failure_at_a_rename_leaves_the_lake_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int | None
) -> None:
    """The export's renames in process: the manifest's, moving a partition out, then in."""
    store, lake = small_store(tmp_path)
    old = state(rca.connect_lake(lake))
    events = store.events()
    store.update_event(events["id"].iloc[0], severity="critical")
    store.update_event(events["id"].iloc[1], timestamp="2026-03-09T10:00:00Z")  # moved
    store.add_investigation({"title": "Ledger lag", "event_ids": [events["id"].iloc[2]]})
    new = state(store)
    real = os.replace
    calls: list[object] = []

    def rename(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == failing:
            raise OSError(5, "Input/output error")
        real(source, target)

    monkeypatch.setattr(os, "replace", rename)
    with contextlib.suppress(OSError, rca.RcaError):
        store.export_lake(lake, partition_by=("source", "day"))
    monkeypatch.undo()
    assert failing is not None or len(calls) > 7  # the manifest twice, each move in and out
    for found in read_back(lake):
        assert found in (old, new), f"rename {failing} failed: the lake reads {described(found)}"
    store.export_lake(lake, partition_by=("source", "day"))  # the next one completes it
    assert read_back(lake) == (new, new)


@pytest.mark.slow
def test_a_lake_an_older_export_left_incomplete_is_not_read_as_whole(tmp_path: Path) -> None:
    store, lake = small_store(tmp_path)
    body = json.loads((lake / "manifest.json").read_text())
    (lake / "manifest.json").write_text(json.dumps({**body, "complete": False}))
    with pytest.raises(rca.CorruptStore, match="run the export again"):
        rca.connect_lake(lake)
    with rca.connect(":memory:") as fresh, pytest.raises(rca.CorruptStore, match="stopped"):
        fresh.import_lake(lake)
    assert store.export_lake(lake, partition_by=("source", "day")).full  # redone whole
    assert read_back(lake) == (state(store), state(store))


@pytest.mark.slow
def test_a_pending_export_is_read_from_its_staging_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the commit point and the moves, readers take the staged partitions."""
    store, lake = small_store(tmp_path)
    store.update_event(store.events()["id"].iloc[0], severity="critical")

    def stopped(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_lake, "apply_pending", stopped)
    with pytest.raises(rca.WriteFailed, match="committed"):
        store.export_lake(lake, partition_by=("source", "day"))
    monkeypatch.undo()
    assert json.loads((lake / "manifest.json").read_text())["complete"] is False
    assert read_back(lake) == (state(store), state(store))
    store.export_lake(lake, partition_by=("source", "day"))
    assert "pending" not in json.loads((lake / "manifest.json").read_text())
    assert not list(lake.glob(".*"))
