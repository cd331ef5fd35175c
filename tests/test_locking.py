"""One writer per file, clear errors for everyone else, and a lock that dies with its holder."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca

HOLDER = textwrap.dedent(
    """
    import sys, time, rca_analytics as rca
    path, mode, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = rca.connect(path, read_only=(mode == "ro"))
    print("ready", flush=True)
    if hold < 0:
        sys.stdin.read()  # until told (or killed)
    else:
        time.sleep(hold)
    store.close()
    print("released", flush=True)
    """
)

OPENER = textwrap.dedent(
    """
    import sys, rca_analytics as rca
    try:
        with rca.connect(sys.argv[1], read_only=(sys.argv[2] == "ro")) as store:
            print("opened", store.stats()["events"])
    except rca.StoreLocked as err:
        print("locked", err.pid)
    """
)


def start_holder(path: Path, mode: str, hold: float = -1) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), mode, str(hold)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def other_process_opens(path: Path, mode: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", OPENER, str(path), mode],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def made(store_path: Path) -> Path:
    with rca.connect(store_path) as store:
        store.add_event(
            {"source": "git", "event_type": "commit", "severity": "info", "timestamp": 0}
        )
    return store_path


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rw", "ro"])
def test_a_writer_elsewhere_gives_store_locked_naming_its_pid_and_what_to_do(
    made: Path, mode: str, tally: Counter[str]
) -> None:
    holder = start_holder(made, "rw")
    try:
        with pytest.raises(rca.StoreLocked) as excinfo:
            rca.connect(made, read_only=mode == "ro")
        err = excinfo.value
        assert err.pid == holder.pid
        assert err.path == made.resolve()
        message = str(err)
        assert f"process {holder.pid}" in message
        assert "close the store (or notebook) there" in message
        assert "read_only=True" in message
        assert other_process_opens(made, mode) == f"locked {holder.pid}"
    finally:
        holder.communicate("")
    tally["lock conflicts checked"] += 2


@pytest.mark.slow
def test_readers_share_the_file_and_keep_writers_out(made: Path, tally: Counter[str]) -> None:
    reader = start_holder(made, "ro")
    try:
        assert other_process_opens(made, "ro") == "opened 1"  # two read-only opens
        with rca.connect(made, read_only=True) as store:  # and a third, here
            assert store.stats()["events"] == 1
        assert other_process_opens(made, "rw") == f"locked {reader.pid}"
    finally:
        reader.communicate("")
    tally["lock conflicts checked"] += 3


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rw", "ro"])
def test_the_lock_is_free_once_the_holder_is_killed(
    made: Path, mode: str, tally: Counter[str]
) -> None:
    holder = start_holder(made, mode)
    holder.send_signal(signal.SIGKILL)
    holder.communicate()  # reaps it and closes the pipes
    with rca.connect(made) as store:
        assert store.stats()["events"] == 1
    tally["lock conflicts checked"] += 1


@pytest.mark.slow
def test_wait_retries_until_the_holder_lets_go(made: Path) -> None:
    holder = start_holder(made, "rw", hold=1.5)
    try:
        started = time.monotonic()
        with rca.connect(made, wait=60) as store:
            waited = time.monotonic() - started
            assert store.stats()["events"] == 1
        assert waited >= 0.5
    finally:
        holder.communicate("")


@pytest.mark.slow
def test_wait_gives_up_after_its_window(made: Path) -> None:
    holder = start_holder(made, "rw")
    try:
        started = time.monotonic()
        with pytest.raises(rca.StoreLocked) as excinfo:
            rca.connect(made, wait=0.8)
        elapsed = time.monotonic() - started
        assert 0.8 <= elapsed < 10  # the whole window, not half of it
        assert excinfo.value.pid == holder.pid
    finally:
        holder.communicate("")


def test_reopening_in_one_kernel_works_and_mismatches_fail_clearly(made: Path) -> None:
    """A notebook re-running its first cell; then opening the file another way."""
    first = rca.connect(made)
    second = rca.connect(made)  # the same cell again
    assert second.stats() == first.stats()
    with rca.connect(made, read_only=True) as reader:  # read-only beside our own writer
        assert reader.stats()["events"] == 1
        with pytest.raises(rca.ReadOnlyStore):
            reader.add_event(
                {"source": "git", "event_type": "commit", "severity": "info", "timestamp": 1}
            )
    first.close()
    second.close()
    reader_first = rca.connect(made, read_only=True)
    try:
        with pytest.raises(rca.StoreLocked, match="read-only in this process") as excinfo:
            rca.connect(made)
        assert excinfo.value.pid == os.getpid()
        assert "Configuration" not in str(excinfo.value)
    finally:
        reader_first.close()


@pytest.mark.slow
def test_eight_threads_each_with_its_own_store_write_every_row(store_path: Path) -> None:
    """Each thread opens the file itself (as notebook helpers do) and writes singles,
    bulk batches, links and updates at the same time."""
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with rca.connect(store_path) as setup:
        inv = setup.add_investigation({"title": "Checkout 500s"})
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            with rca.connect(store_path) as store:
                for n in range(20):
                    ev = store.add_event(
                        {
                            "source": "ci",
                            "event_type": "build",
                            "severity": "info",
                            "timestamp": t0 + dt.timedelta(seconds=n),
                            "source_id": f"single-{t}-{n}",
                        }
                    )
                    store.link(ev.id, inv.id, confidence=0.5, method="rule")
                    store.update_event(ev.id, severity="high")
                batch = pd.DataFrame(
                    {
                        "source": "logs",
                        "event_type": "error",
                        "severity": "low",
                        "timestamp": [t0 + dt.timedelta(minutes=i) for i in range(500)],
                        "source_id": [f"bulk-{t}-{i}" for i in range(500)],
                    }
                )
                report = store.add_events(batch, progress=False)
                assert report.stored == 500
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with rca.connect(store_path, read_only=True) as store:
        assert store.stats()["events"] == 8 * (20 + 500)
        assert store.stats()["links"] == 8 * 20
        assert set(store.events(source="ci")["severity"].astype(str)) == {"high"}
        assert len(store.get_investigation(inv.id).event_ids) == 160


@pytest.mark.slow
def test_one_store_shared_naively_by_eight_threads_keeps_every_row(store_path: Path) -> None:
    with rca.connect(store_path) as store:
        errors: list[BaseException] = []

        def work(t: int) -> None:
            try:
                rows: list[dict[str, Any]] = [
                    {
                        "source": "metrics",
                        "event_type": "alert",
                        "severity": "medium",
                        "timestamp": 1_700_000_000 + i,
                        "source_id": f"{t}-{i}",
                    }
                    for i in range(200)
                ]
                store.add_events(rows[:100], progress=False)
                for row in rows[100:]:
                    store.add_event(row)
                store.events(source="metrics")  # reads in between
            except BaseException as err:  # pragma: no cover
                errors.append(err)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.stats()["events"] == 1600


def test_a_raw_duckdb_connection_to_the_file_in_this_process_is_named(made: Path) -> None:
    import duckdb

    raw = duckdb.connect(str(made))
    try:
        with pytest.raises(rca.StoreLocked, match="outside rca_analytics") as excinfo:
            rca.connect(made)
        assert excinfo.value.pid == os.getpid()
        assert "configuration" not in str(excinfo.value)
    finally:
        raw.close()
    with rca.connect(made) as store:
        assert store.stats()["events"] == 1


def test_a_hard_link_or_another_spelling_of_the_path_shares_the_handle(
    made: Path, tmp_path: Path
) -> None:
    """Two handles on one file in one process would be two writers: data would be lost."""
    link = tmp_path / "link.duckdb"
    os.link(made, link)
    a = rca.connect(made)
    b = rca.connect(link)
    c = rca.connect(made.parent / "." / made.name)
    try:
        for n, store in enumerate((a, b, c)):
            store.add_event(
                {"source": "ci", "event_type": "build", "severity": "info", "timestamp": n + 10}
            )
        assert a.stats()["events"] == b.stats()["events"] == 4
    finally:
        a.close()
        b.close()
        c.close()
    with rca.connect(made, read_only=True) as store:
        assert store.stats()["events"] == 4


@pytest.mark.slow
def test_a_store_collected_while_another_thread_holds_the_registry_does_not_block(
    tmp_path: Path,
) -> None:
    import gc

    from rca_analytics import _connection

    store = rca.connect(tmp_path / "g.duckdb")
    handle = store._handle
    store.me = store  # type: ignore[attr-defined]  # a cycle: only the collector frees it
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with _connection._HANDLES_LOCK:
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    started = time.monotonic()
    del store
    gc.collect()  # the finalizer runs here and must not wait for the registry lock
    waited = time.monotonic() - started
    done.set()
    holder.join()
    assert waited < 2
    deadline = time.monotonic() + 10
    while not handle.closed and time.monotonic() < deadline:
        time.sleep(0.05)  # released from its own thread once the lock is free
    assert handle.closed
    assert handle not in _connection._HANDLES.values()
    with rca.connect(tmp_path / "g.duckdb") as again:
        assert again.stats()["events"] == 0


@pytest.mark.parametrize("wait", [float("nan"), float("inf"), -1])
def test_a_wait_that_is_not_a_number_of_seconds_is_refused(made: Path, wait: float) -> None:
    with pytest.raises(ValueError, match="wait"):
        rca.connect(made, wait=wait)
