"""Each bulk operation is all or nothing under SIGKILL, and running it again finishes it.

For every operation that writes many rows in one call (a bulk load, an ingest of log
files, an import of the earlier SQLite store, an import of a lake, ``auto_link``), a
child process opens a copy of the same store, says ``start`` and runs the operation; the
test kills it at a random moment of the operation (the moments spread over the time a
reference run took). The store must then open, read back every block, and hold exactly
what it held before the operation or exactly what a complete run leaves, history
included; running the operation again must leave what a complete run leaves.
(The lake export has its own kill test: ``test_lake_crash.py``.)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import synthetic

#: Kill points per operation that land while it runs (five operations: 30 in all).
KILLS = 6

#: What each operation runs in the child (``store`` is open, ``arg`` names its input).
OPERATIONS = {
    "load": "store.add_events(pd.read_parquet(arg), progress=False)",
    "ingest": "store.ingest('logs', [arg], progress=False)",
    "import_sqlite": "store.import_sqlite(arg, progress=False)",
    "import_lake": "store.import_lake(arg, progress=False)",
    "auto_link": "store.auto_link(progress=False)",
}

CHILD = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import rca_analytics as rca

    path, arg = sys.argv[1], sys.argv[2]
    store = rca.connect(path)
    print("start", flush=True)
    {operation}
    print("done", flush=True)
    """
)

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _events(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "logs",
            "event_type": "error",
            "severity": "high",
            "timestamp": pd.date_range(T0, periods=n, freq="s", tz="UTC"),
            "source_id": [f"{tag}-{i}" for i in range(n)],
            "component": "payments",
            "data": [{"msg": f"upstream reset #{i}"} for i in range(n)],
        }
    )


def _prepare_load(tmp: Path) -> tuple[Path, str]:
    before = tmp / "before.duckdb"
    with rca.connect(before) as store:
        store.add_events(_events(1_000, "old"), progress=False)
    _events(60_000, "new").drop(columns=["data"]).to_parquet(tmp / "events.parquet")
    return before, str(tmp / "events.parquet")


def _prepare_ingest(tmp: Path) -> tuple[Path, str]:
    before = tmp / "before.duckdb"
    rca.connect(before).close()
    folder = tmp / "logs"
    folder.mkdir()
    for f in range(2):
        with (folder / f"app-{f}.jsonl").open("w") as out:
            for i in range(10_000):
                line = {
                    "time": (T0 + dt.timedelta(seconds=i)).isoformat(),
                    "level": "error" if i % 3 else "warning",
                    "msg": f"pool exhausted on db-{i % 7} (file {f})",
                    "service": "checkout",
                }
                out.write(json.dumps(line) + "\n")
    return before, str(folder)


def _prepare_import_sqlite(tmp: Path) -> tuple[Path, str]:
    from test_import_sqlite import legacy_event, legacy_investigation, write_legacy

    before = tmp / "before.duckdb"
    rca.connect(before).close()
    legacy = tmp / "legacy.sqlite"
    write_legacy(
        legacy,
        [legacy_event(i) for i in range(20_000)],
        [legacy_investigation(i) for i in range(120)],
    )
    return before, str(legacy)


def _prepare_import_lake(tmp: Path) -> tuple[Path, str]:
    before = tmp / "before.duckdb"
    rca.connect(before).close()
    history = synthetic.history(seed=11, days=20)
    with rca.connect(tmp / "source.duckdb") as source:
        source.add_events(history.events, progress=False)
        source.add_investigations(history.investigations, progress=False)
        source.auto_link(progress=False)
        source.export_lake(tmp / "lake")
    return before, str(tmp / "lake")


def _prepare_auto_link(tmp: Path) -> tuple[Path, str]:
    before = tmp / "before.duckdb"
    history = synthetic.history(seed=12, days=30)
    with rca.connect(before) as store:
        store.add_events(history.events, progress=False)
        store.add_investigations(history.investigations, progress=False)
    return before, ""


PREPARE: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "load": _prepare_load,
    "ingest": _prepare_ingest,
    "import_sqlite": _prepare_import_sqlite,
    "import_lake": _prepare_import_lake,
    "auto_link": _prepare_auto_link,
}


def _state(path: Path) -> dict[str, object]:
    """What the store holds, in terms that two runs of an operation agree on."""
    with rca.connect(path) as store:
        store.verify()  # every block readable, checksums sound
        tables = ("investigations", "links", "link_reviews", "investigation_relations")
        out: dict[str, object] = {
            t: int(store.sql(f"SELECT count(*) AS n FROM {t}")["n"].iloc[0]) for t in tables
        }
        events = store.sql(
            "SELECT count(*) AS n, sum(hash(source, source_id, timestamp, severity, "
            "deleted_at IS NULL)) AS h FROM events"
        ).iloc[0]
        out["events"] = (int(events["n"]), str(events["h"]))
        out["history"] = store.sql(
            "SELECT action, entity, count(*) AS n FROM changes GROUP BY ALL ORDER BY ALL"
        ).values.tolist()
        out["rejects"] = int(store.sql("SELECT count(*) AS n FROM import_rejects")["n"].iloc[0])
    return out


def _run_in_process(path: Path, operation: str, arg: str) -> None:
    with rca.connect(path) as store:
        eval(OPERATIONS[operation], {"store": store, "arg": arg, "pd": pd})


@pytest.mark.serial  # kills at moments timed on this machine: run alone
@pytest.mark.slow
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_killed_operation_leaves_before_or_after_and_a_rerun_finishes_it(
    tmp_path: Path, operation: str, tally: Counter[str]
) -> None:
    pristine, arg = PREPARE[operation](tmp_path)
    before = _state(pristine)
    reference = tmp_path / "reference.duckdb"
    shutil.copy(pristine, reference)
    started = time.perf_counter()
    _run_in_process(reference, operation, arg)
    took = time.perf_counter() - started
    after = _state(reference)
    assert after != before, "the operation must change the store for this test to mean much"

    rng = random.Random(f"{operation}-20261207")
    mid_operation = attempt = 0
    while mid_operation < KILLS:
        assert attempt < 3 * KILLS, f"only {mid_operation} kills landed while {operation} ran"
        path = tmp_path / f"kill-{attempt}.duckdb"
        attempt += 1
        shutil.copy(pristine, path)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(operation=OPERATIONS[operation]), str(path), arg],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "start", child.communicate()[1]
        time.sleep(rng.uniform(0.05, 1.0) * took)
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        finished = "done" in out  # then the kill may still land while it exits
        assert finished or child.returncode == -signal.SIGKILL, err
        if finished:  # the child was quicker than the reference run: aim earlier
            took *= 0.6
        else:
            mid_operation += 1

        found = _state(path)
        assert found in (before, after), f"kill {attempt} of {operation} left a partial state"
        if finished:
            assert found == after
        _run_in_process(path, operation, arg)  # running it again finishes it
        again = _state(path)
        assert {k: v for k, v in again.items() if k != "history"} == {
            k: v for k, v in after.items() if k != "history"
        }
        tally[f"kill points ({operation})"] += not finished
