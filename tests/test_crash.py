"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it acknowledged.

A child process writes numbered batches through the public API. Each batch is one
transaction: bulk events (some batches large enough to trigger DuckDB checkpoints), an
investigation, links, an update of that investigation and a bulk update of the previous
batch's events. After the transaction returns, the child prints ``ack N``. The test
kills it at a random moment, reopens the store, and checks that every acknowledged
batch is there in full, that any other batch is either entirely there or entirely
absent, and that the file reads back without checksum errors; then the next round goes
on where the store stands.

The moments are drawn within a few batches' time as measured in the first round, so
the kills land while batches are written however fast this machine (or the writer) is:
this is a test of what survives, not of speed (speed is measured in ``bench/``).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

import rca_analytics as rca

ROUNDS = 24
LINKS = 10
CALIBRATION = 2  # batches the first round writes before its kill

WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import rca_analytics as rca

    path, first = sys.argv[1], int(sys.argv[2])

    def size(k):
        return 30_000 if k % 4 == 3 else 300

    def frame(k, severity):
        n = size(k)
        return pd.DataFrame({
            "source": "logs", "event_type": "error", "severity": severity,
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="s", tz="UTC")
                         + pd.Timedelta(hours=k),
            "source_id": [f"b{k}-{i}" for i in range(n)],
            "component": "payments", "tags": [["batch", f"b{k}"]] * n,
            "data": [{"batch": k, "i": i, "msg": "upstream connect error " * 3}
                     for i in range(n)],
        })

    store = rca.connect(path)
    print("ready", flush=True)
    k = first
    while True:
        with store.transaction():
            report = store.add_events(frame(k, "low"), progress=False)
            assert report.stored == size(k), report
            inv = store.add_investigation({"id": f"inv-{k}", "title": f"batch {k}"})
            ids = store.events(source_id=[f"b{k}-{i}" for i in range({links})])["id"]
            for event_id in ids:
                store.link(event_id, inv.id, confidence=0.8, method="rule")
            store.update_investigation(inv.id, status="resolved", root_cause=f"cause {k}")
            if k > 0:  # the previous batch's events, updated in bulk
                store.add_events(frame(k - 1, "critical"), on_duplicate="update",
                                 progress=False)
        print("ack", k, flush=True)
        k += 1
    """
).replace("{links}", str(LINKS))


def size(k: int) -> int:
    return 30_000 if k % 4 == 3 else 300


def batches_present(store: rca.Store) -> dict[int, dict[str, object]]:
    """Per batch found in the store: what of it is there."""
    events = store.sql(
        "SELECT split_part(source_id, '-', 1) AS b, count(*) AS n, "
        "count(*) FILTER (WHERE severity = 'critical') AS critical FROM events GROUP BY b"
    )
    invs = store.sql("SELECT id, status, root_cause FROM investigations")
    links = store.sql("SELECT investigation_id, count(*) AS n FROM links GROUP BY ALL")
    found: dict[int, dict[str, object]] = {}
    for b, n, critical in events.itertuples(index=False):
        found.setdefault(int(b[1:]), {})["events"] = (int(n), int(critical))
    for inv_id, status, cause in invs.itertuples(index=False):
        found.setdefault(int(inv_id.split("-")[1]), {})["investigation"] = (status, cause)
    for inv_id, n in links.itertuples(index=False):
        found.setdefault(int(inv_id.split("-")[1]), {})["links"] = int(n)
    return found


def check(found: dict[int, dict[str, object]], acked: set[int]) -> int:
    """Every acknowledged batch whole, no partial batch; returns the batches present."""
    present = sorted(found)
    assert present == list(range(len(present))), f"gaps in the batches: {present}"
    assert acked <= set(present), f"acknowledged but lost: {sorted(acked - set(present))}"
    last = len(present) - 1
    for k in present:
        updated = k < last  # batch k+1 updates batch k in its own transaction
        assert found[k] == {
            "events": (size(k), size(k) if updated else 0),
            "investigation": ("resolved", f"cause {k}"),
            "links": LINKS,
        }, f"batch {k} is partial: {found[k]}"
    return len(present)


@pytest.mark.serial  # kills at moments timed on this machine: run alone
@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_batch(
    tmp_path: Path, tally: Counter[str]
) -> None:
    path = tmp_path / "crash.duckdb"
    rca.connect(path).close()
    rng = random.Random(20261127)
    acked: set[int] = set()
    next_batch = 0
    period = 0.0  # how long a batch takes here, measured in the first round
    for round_ in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(next_batch)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        if round_ == 0:  # the moments are set by this machine's pace, not by a clock
            assert child.stdout.readline().strip() == "ready", child.communicate()[1]
            start = time.monotonic()
            for _ in range(CALIBRATION):
                line = child.stdout.readline()
                assert line.startswith("ack"), (line, child.communicate()[1])
            period = (time.monotonic() - start) / CALIBRATION
            tally["calibration: ms a batch takes here"] += round(period * 1000)
            time.sleep(rng.uniform(0.0, period))
        elif round_ % 6 == 5:  # while it starts, opens and recovers the file
            time.sleep(rng.uniform(0.2, 1.5))
        else:
            assert child.stdout.readline().strip() == "ready", child.communicate()[1]
            time.sleep(rng.uniform(0.0, 6 * period))  # a random moment of the writing
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err  # it was writing, not failing
        acked |= {int(line.split()[1]) for line in out.splitlines() if line.startswith("ack")}
        acked |= set(range(CALIBRATION)) if round_ == 0 else set()
        with rca.connect(path) as store:  # recovery replays the WAL
            store.verify()  # every block readable, checksums sound
            found = batches_present(store)
        next_batch = check(found, acked)
        tally["crash rounds (SIGKILL)"] += 1
    tally["batches verified after crashes"] += next_batch
    tally["acknowledged batches lost"] += 0  # check() fails the test otherwise
    assert len(acked) >= ROUNDS // 2  # the kills landed while batches were being written
