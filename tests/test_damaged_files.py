"""Damaged files and failed writes: typed errors, nothing overwritten, committed data kept."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import rca_analytics as rca

EVENTS = 30_000


def fingerprint(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def frame(n: int, batch: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "logs",
            "event_type": "error",
            "severity": "high",
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="s", tz="UTC")
            + pd.Timedelta(days=batch),
            "source_id": [f"b{batch}-{i}" for i in range(n)],
            "component": "payments",
            "data": [{"msg": f"connection reset by peer #{i}"} for i in range(n)],
        }
    )


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    """A checkpointed store with enough events to span many blocks."""
    path = tmp_path / "good.duckdb"
    with rca.connect(path) as store:
        store.add_events(frame(EVENTS), progress=False)
        store.add_investigation({"title": "Checkout 500s"})
    return path


def damage(kind: str, good: Path, path: Path) -> None:
    data = good.read_bytes()
    if kind == "zero-length":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("incident notes, not a database\n" * 50)
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif kind == "header":  # the main header's checksummed fields
        broken = bytearray(data)
        for i in range(4096 + 8, 4096 + 64):
            broken[i] ^= 0x5A
        path.write_bytes(bytes(broken))
    elif kind == "sqlite":
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE events (id TEXT PRIMARY KEY)")
        con.close()
    else:  # pragma: no cover
        raise AssertionError(kind)


KINDS = ["zero-length", "text", "truncated", "header", "sqlite"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("read_only", [False, True])
def test_a_damaged_file_raises_corrupt_store_and_is_left_as_it_was(
    good_file: Path, tmp_path: Path, kind: str, read_only: bool, tally: Counter[str]
) -> None:
    path = tmp_path / f"{kind}.duckdb"
    damage(kind, good_file, path)
    before = fingerprint(path)
    with pytest.raises(rca.CorruptStore) as excinfo, rca.connect(path, read_only=read_only) as s:
        s.verify()
    err = excinfo.value
    assert err.path == path.resolve()
    assert str(path.resolve()) in str(err)
    hint = "import" if kind == "sqlite" else "Nothing was changed"
    assert hint in str(err)
    assert fingerprint(path) == before  # nothing overwritten
    assert not Path(f"{path}.wal").exists()
    tally["damaged files refused"] += 1


BLOCK = 262_144  # DuckDB's block size; blocks follow three 4 KiB headers
HEADERS = 3 * 4096


def contents(store: rca.Store) -> list[pd.DataFrame]:
    return [store.events(include_deleted=True), store.investigations(include_deleted=True)]


@pytest.mark.slow
def test_damage_in_any_block_is_refused_or_harmless(
    good_file: Path, tmp_path: Path, tally: Counter[str]
) -> None:
    """Flip bytes inside each block in turn: the store refuses the file when opening,
    or when verify() (or a query) reads the block, or the block was not in use and
    every record reads back unchanged. Never wrong data."""
    with rca.connect(good_file, read_only=True) as store:
        expected = contents(store)
    data = good_file.read_bytes()
    outcomes: Counter[str] = Counter()
    for k in range((len(data) - HEADERS) // BLOCK + 1):
        path = tmp_path / f"block{k}.duckdb"
        broken = bytearray(data)
        start = HEADERS + k * BLOCK + 1000
        for i in range(start, min(start + 64, len(broken))):
            broken[i] ^= 0xFF
        path.write_bytes(bytes(broken))
        before = fingerprint(path)
        try:
            store = rca.connect(path, read_only=True)
        except rca.CorruptStore as err:
            refusal = str(err)
            assert str(path.resolve()) in refusal
            outcomes["refused on open"] += 1
        else:
            with store:
                try:
                    store.verify()
                except rca.CorruptStore as err:
                    refusal = str(err)
                    assert "is damaged" in refusal and str(path.resolve()) in refusal
                    with pytest.raises(rca.CorruptStore):
                        store.sql("SELECT * FROM events")  # a query meets it the same way
                    outcomes["refused on reading the block"] += 1
                else:
                    for got, want in zip(contents(store), expected, strict=True):
                        pd.testing.assert_frame_equal(got, want)
                    outcomes["block not in use, data intact"] += 1
        assert fingerprint(path) == before
        tally["damaged blocks tried"] += 1
    assert outcomes["refused on open"] >= 1
    assert outcomes["refused on reading the block"] >= 1


@pytest.mark.slow
def test_verify_reads_a_sound_file(good_file: Path) -> None:
    with rca.connect(good_file, read_only=True) as store:
        counts = store.verify()
    assert counts["events"] == EVENTS and counts["investigations"] == 1


DISK_FULL_CHILD = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import rca_analytics as rca
    sys.path.insert(0, {tests!r})
    from test_damaged_files import frame

    store = rca.connect({path!r})
    batch = 0
    try:
        while True:
            batch += 1
            store.add_events(frame(20_000, batch), progress=False)
            print("ack", batch, flush=True)
    except rca.WriteFailed as err:
        print("WriteFailed", type(err).__mro__[1].__name__, flush=True)
        try:
            store.stats()
        except rca.WriteFailed:
            print("stopped", flush=True)
        again = rca.connect({path!r} + ".other")  # the process can go on with other files
        again.close()
        # In the same process the file opens afresh after the failure.
        print("reopen", rca.connect({path!r}, read_only=True).stats()["events"], flush=True)
    """
)


@pytest.mark.slow
def test_a_failed_write_raises_write_failed_and_committed_data_survives(
    tmp_path: Path, tally: Counter[str]
) -> None:
    """The file size limit (``ulimit -f``) stands in for a full disk."""
    path = tmp_path / "full.duckdb"
    with rca.connect(path) as store:
        store.add_events(frame(20_000, 0), progress=False)
    script = DISK_FULL_CHILD.format(path=str(path), tests=str(Path(__file__).parent))
    limit_kb = 16_000  # ulimit -f counts 1 KiB blocks
    result = subprocess.run(
        ["bash", "-c", f'ulimit -f {limit_kb}; exec "$0" -c "$1"', sys.executable, script],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    acked = [int(line.split()[1]) for line in lines if line.startswith("ack")]
    assert acked, result.stdout + result.stderr
    assert "WriteFailed StoreError" in lines, result.stdout + result.stderr
    assert "stopped" in lines
    reopened = [line for line in lines if line.startswith("reopen")]
    assert reopened == [f"reopen {20_000 * (1 + len(acked))}"], result.stdout + result.stderr
    with rca.connect(path) as store:  # a new process: every acknowledged batch is there
        assert store.stats()["events"] == 20_000 * (1 + len(acked))
        assert store.verify()["events"] == 20_000 * (1 + len(acked))
        store.add_event(
            {"source": "manual", "event_type": "note", "severity": "info", "timestamp": 0}
        )
    tally["write failures survived"] += 1


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * FROM "Corrupt database file: computed checksum"',
        "SELECT * FROM read_text('No space left on device') -- Could not write file",
        "SELEC 'not a valid DuckDB database file'",
    ],
)
def test_a_query_that_merely_mentions_damage_is_a_query_error(store: rca.Store, query: str) -> None:
    """Only storage errors are read for damage: parser and catalog errors quote the SQL."""
    with pytest.raises(rca.QueryError):
        store.sql(query)
    assert store.stats()["events"] == 0  # the store carries on


@pytest.mark.parametrize("name", ["computed checksum", "No space left", "invalidated"])
def test_a_missing_user_file_with_alarming_words_is_a_query_error(
    tmp_path: Path, name: str
) -> None:
    """An I/O error about another file is the user's, not the store's."""
    allowed = tmp_path / "in"
    allowed.mkdir()
    path = tmp_path / "s.duckdb"
    with (
        rca.connect(path, allow_dirs=[allowed]) as store,
        rca.connect(path, allow_dirs=[allowed]) as other,
    ):
        with pytest.raises(rca.QueryError) as excinfo:
            store.sql("SELECT * FROM read_csv(?)", [str(allowed / f"{name}.csv")])
        assert not isinstance(excinfo.value, (rca.CorruptStore, rca.WriteFailed))
        assert store.stats()["events"] == 0 and other.stats()["events"] == 0
