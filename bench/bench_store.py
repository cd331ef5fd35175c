"""Loading and querying benchmarks, side by side with their baselines in one process.

    python3 tasks.py bench                      # 1M and 5M events, 3 repeats
    .venv/bin/python bench/bench_store.py --sizes 200000 --repeats 2   # a quick look

Baselines, each producing the same result as rca_analytics:
- legacy: the earlier system's design, SQLite with the schema of the data-model guide
  (lists and dicts as JSON text, row-by-row inserts in one transaction);
- raw: DuckDB by hand, the physical reference (an Arrow insert of the same frame;
  hand-written SQL + ``.df()`` + the conversions that give the same DataFrame).
Medians of interleaved repeats; the table goes to stdout and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pydantic_core
from _results import write_section  # bench/ is the script's folder

import rca_analytics as rca
from rca_analytics import _data
from rca_analytics.ingest.sqlite_legacy import LEGACY_DDL as _LEGACY_DDL
from rca_analytics.queries import CATEGORIES

HERE = Path(__file__).resolve().parent
START = pd.Timestamp("2026-01-01", tz="UTC")
SPAN_S = 90 * 86400
COMPONENTS = ["payments", "search", "auth", "inventory", "web", "billing", "mobile", "api"]
TAGS = [[], ["deploy"], ["db", "timeout"], ["flaky"], [], ["db"]]
#: The earlier system's schema (the one the importer reads), plus the component and
#: service columns this package added, so the baseline can answer the same queries.
LEGACY_DDL = _LEGACY_DDL.replace(
    "deleted_at TEXT, UNIQUE(source_id, source)",
    "deleted_at TEXT, component TEXT, service TEXT, UNIQUE(source_id, source)",
)
assert LEGACY_DDL != _LEGACY_DDL


# --- data -------------------------------------------------------------------------------


def make_frame(n: int, seed: int = 1, iso: bool = False) -> pd.DataFrame:
    """n events over 90 days, in time order, with realistic columns."""
    rng = np.random.default_rng(seed)
    ts = START + pd.to_timedelta(np.sort(rng.integers(0, SPAN_S * 1_000_000, n)), unit="us")
    comp = rng.choice(COMPONENTS, n)
    frame = pd.DataFrame(
        {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if iso else ts,
            "source": rng.choice(["git", "ci", "logs", "metrics", "traces", "manual"], n),
            "event_type": rng.choice(["commit", "build", "deploy", "error", "alert"], n),
            "severity": rng.choice(
                ["critical", "high", "medium", "low", "info"], n, p=[0.05, 0.15, 0.3, 0.3, 0.2]
            ),
            "component": comp,
            "service": pd.Series(comp).str.cat(["-svc"] * n).to_numpy(),
            "source_id": [f"sid-{seed}-{i}" for i in range(n)],
        }
    )
    frame["tags"] = [TAGS[i % len(TAGS)] for i in range(n)]
    frame["data"] = [{"author": "ana", "files": i % 7, "ok": i % 3 == 0} for i in range(n)]
    return frame


def investigations(k: int = 100) -> list[dict[str, Any]]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(k):
        detected = START + pd.Timedelta(seconds=int(rng.integers(3600, SPAN_S - 3600)))
        out.append(
            {
                "id": f"inv-{i}",
                "title": f"Incident {i}",
                "impact_severity": ["critical", "high", "medium", "low"][i % 4],
                "priority": f"P{i % 4}",
                "detected_at": detected.to_pydatetime(),
                "component_affected": COMPONENTS[i % len(COMPONENTS)],
                "created_at": detected.to_pydatetime(),
            }
        )
    return out


# --- timing helpers ---------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def fresh(folder: Path, name: str) -> Path:
    path = folder / name
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return path


def raw_arrow_insert(frame: pd.DataFrame, path: Path) -> None:
    con = duckdb.connect(str(path))
    con.register("arrow_frame", pa.Table.from_pandas(frame, preserve_index=False))
    con.execute("CREATE TABLE events AS SELECT * FROM arrow_frame")
    con.execute("CHECKPOINT")
    con.close()


def ours_load(data: Any, path: Path) -> rca.LoadReport:
    store = rca.connect(path)
    report = store.add_events(data, progress=False)
    _data.of(store).connection().execute("CHECKPOINT")
    store.close()
    return report


def legacy_rows(frame: pd.DataFrame, naive_every: int = 0) -> list[tuple[Any, ...]]:
    ts = pd.to_datetime(frame["timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    if naive_every:  # the earlier system also wrote times without an offset
        ts = [t[:-6] if i % naive_every == 0 else t for i, t in enumerate(ts)]
    now = dt.datetime.now(dt.UTC).isoformat()
    return [
        (
            f"e{i}",
            t,
            s,
            et,
            sev,
            json.dumps(d),
            json.dumps(tg),
            "[]",
            sid,
            None,
            None,
            "{}",
            now,
            None,
            c,
            svc,
        )
        for i, (t, s, et, sev, d, tg, sid, c, svc) in enumerate(
            zip(
                ts,
                frame["source"],
                frame["event_type"],
                frame["severity"],
                frame["data"],
                frame["tags"],
                frame["source_id"],
                frame["component"],
                frame["service"],
                strict=True,
            )
        )
    ]


def legacy_load(frame: pd.DataFrame, path: Path) -> None:
    """The earlier system: validate each dict, insert row by row in one transaction."""
    con = sqlite3.connect(path)
    con.executescript(LEGACY_DDL)
    with con:
        for row in legacy_rows(frame):
            con.execute("INSERT INTO events VALUES (" + ",".join("?" * 16) + ")", row)
    con.close()


def bench_import(n: int, repeats: int, folder: Path, rows: list[list[str]]) -> None:
    """Import an earlier-system SQLite file of n events (10% of times without offset)."""
    legacy = fresh(folder, "import.sqlite")
    con = sqlite3.connect(legacy)
    con.executescript(LEGACY_DDL)
    with con:
        con.executemany(
            "INSERT INTO events VALUES (" + ",".join("?" * 16) + ")",
            legacy_rows(make_frame(n, seed=3), naive_every=10),
        )
    con.close()

    def run() -> rca.ImportReport:
        with rca.connect(fresh(folder, "imported.duckdb")) as store:
            report = store.import_sqlite(legacy, progress=False)
            _data.of(store).connection().execute("CHECKPOINT")
        return report

    results = [timed(run) for _ in range(repeats)]
    med = statistics.median(t for t, _ in results)
    report = results[0][1]
    assert report.tables["events"]["stored"] == n, report.summary()
    rows.append(
        [
            f"import {n:,} events from the earlier SQLite store",
            f"{med:.2f} s",
            f"{n / med:,.0f} rows/s",
            f"{report.naive_times:,} naive times taken as UTC",
            "",
            "target >= 100,000 rows/s",
        ]
    )


def peak_memory(n: int, iso: bool) -> tuple[float, float]:
    """(input frame MB, extra peak MB during add_events), measured in a fresh process."""
    code = f"""
import gc, sys, tempfile, os
sys.path.insert(0, {str(HERE)!r})
from bench_store import make_frame, ours_load
from pathlib import Path
frame = make_frame({n}, iso={iso})
size = frame.memory_usage(deep=True).sum() / 2**20
gc.collect()
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
with tempfile.TemporaryDirectory() as d:
    ours_load(frame, Path(d) / "m.duckdb")
print(size, status("VmHWM") - before)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    size, extra = map(float, out.stdout.split())
    return size, extra


# --- loading ------------------------------------------------------------------------------


def bench_load(n: int, repeats: int, folder: Path, rows: list[list[str]]) -> None:
    frame = make_frame(n)
    iso = make_frame(n, iso=True)
    dicts = frame.to_dict("records")
    for d in dicts:
        d["timestamp"] = d["timestamp"].to_pydatetime()
    times: dict[str, list[float]] = {
        k: [] for k in ("ours", "raw", "ours_iso", "raw_iso", "ours_dicts", "legacy")
    }
    for r in range(max(repeats, 5)):  # loads are long and noisy here: at least five
        times["ours"].append(timed(lambda: ours_load(frame, fresh(folder, "o.duckdb")))[0])
        times["raw"].append(timed(lambda: raw_arrow_insert(frame, fresh(folder, "r.duckdb")))[0])
        times["ours_iso"].append(timed(lambda: ours_load(iso, fresh(folder, "oi.duckdb")))[0])
        times["raw_iso"].append(timed(lambda: raw_arrow_insert(iso, fresh(folder, "ri.duckdb")))[0])
        times["ours_dicts"].append(timed(lambda: ours_load(dicts, fresh(folder, "od.duckdb")))[0])
        if r == 0:  # the row-by-row baseline is slow and steady: once is enough
            times["legacy"].append(timed(lambda: legacy_load(frame, fresh(folder, "l.sqlite")))[0])
    med = {k: statistics.median(v) for k, v in times.items()}
    rate = lambda s: f"{n / s:,.0f} rows/s"  # noqa: E731
    rows.append(
        [
            f"load {n:,} events, DataFrame (tz-aware)",
            f"{med['ours']:.2f} s",
            rate(med["ours"]),
            f"raw Arrow insert {med['raw']:.2f} s",
            f"{med['ours'] / med['raw']:.2f}x raw",
            "target >= 400,000 rows/s, <= 3x raw",
        ]
    )
    rows.append(
        [
            f"load {n:,} events, DataFrame (ISO text times)",
            f"{med['ours_iso']:.2f} s",
            rate(med["ours_iso"]),
            f"raw Arrow insert {med['raw_iso']:.2f} s",
            f"{med['ours_iso'] / med['raw_iso']:.2f}x raw",
            "target >= 400,000 rows/s, <= 3x raw",
        ]
    )
    rows.append(
        [
            f"load {n:,} events, list of dicts",
            f"{med['ours_dicts']:.2f} s",
            rate(med["ours_dicts"]),
            "",
            "",
            "target >= 150,000 rows/s",
        ]
    )
    rows.append(
        [
            f"load {n:,} events, legacy SQLite row by row",
            f"{med['legacy']:.2f} s",
            rate(med["legacy"]),
            f"ours {med['ours']:.2f} s",
            f"ours {med['legacy'] / med['ours']:.1f}x faster",
            "baseline",
        ]
    )
    size, extra = peak_memory(n, iso=False)
    rows.append(
        [
            f"load {n:,} events: extra peak memory",
            f"{extra:,.0f} MB",
            f"input frame {size:,.0f} MB",
            "",
            f"{extra / size:.2f}x input",
            "target <= 1.5x input",
        ]
    )


# --- queries --------------------------------------------------------------------------------


def build_stores(
    n: int, folder: Path
) -> tuple[rca.Store, duckdb.DuckDBPyConnection, sqlite3.Connection, list[str]]:
    frame = make_frame(n, seed=2)
    store = rca.connect(fresh(folder, f"q{n}.duckdb"))
    store.add_events(frame, progress=False)
    store.add_investigations(investigations(), progress=False)
    # each investigation: the 50 events of its component just before detection
    links = _data.of(store).frame(
        "SELECT e.id AS event_id, i.id AS investigation_id FROM investigations i "
        "JOIN LATERAL (SELECT id FROM events e WHERE e.component = i.component_affected "
        "AND e.timestamp < i.detected_at ORDER BY e.timestamp DESC LIMIT 50) e ON TRUE"
    )
    con = _data.of(store).connection()
    con.register("links_frame", links)
    con.execute(
        "INSERT INTO links SELECT event_id, investigation_id, 0.8, 'linker', "
        "['time'], now() FROM links_frame"
    )
    con.unregister("links_frame")
    con.execute("CHECKPOINT")
    # raw: the same rows, as a hand-made DuckDB database would hold them
    raw = duckdb.connect(str(fresh(folder, f"raw{n}.duckdb")))
    raw.execute("SET TimeZone = 'UTC'")
    for table in ("events", "investigations", "links"):
        raw.register("copy", _data.of(store).arrow(f"SELECT * FROM {table}"))
        raw.execute(f"CREATE TABLE {table} AS SELECT * FROM copy")
        raw.unregister("copy")
    raw.execute("CHECKPOINT")
    # legacy: the earlier SQLite schema, loaded fast (executemany) since only queries count here
    legacy = sqlite3.connect(fresh(folder, f"legacy{n}.sqlite"))
    legacy.executescript(LEGACY_DDL)
    ev = _data.of(store).frame(
        "SELECT e.*, coalesce(l.ids, []) AS investigation_ids FROM events e LEFT JOIN "
        "(SELECT event_id, list(investigation_id) AS ids FROM links GROUP BY event_id) l "
        "ON l.event_id = e.id"
    )
    with legacy:
        legacy.executemany(
            "INSERT INTO events (id, timestamp, source, event_type, severity, data, tags, "
            "investigation_ids, source_id, metadata, created_at, component, service) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            zip(
                ev["id"],
                ev["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                ev["source"],
                ev["event_type"],
                ev["severity"],
                ev["data"],
                [json.dumps(list(t)) for t in ev["tags"]],
                [json.dumps(list(t)) for t in ev["investigation_ids"]],
                ev["source_id"],
                ev["metadata"],
                ev["created_at"].astype(str),
                ev["component"],
                ev["service"],
                strict=True,
            ),
        )
        inv = store.investigations()
        legacy.executemany(
            "INSERT INTO investigations (id, title, status, impact_severity, priority, "
            "detected_at, component_affected, event_ids, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            zip(
                inv["id"],
                inv["title"],
                inv["status"].astype(str),
                inv["impact_severity"].astype(str),
                inv["priority"].astype(str).str.lower(),
                inv["detected_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                inv["component_affected"],
                [json.dumps(list(t)) for t in inv["event_ids"]],
                inv["created_at"].astype(str),
                inv["updated_at"].astype(str),
                strict=True,
            ),
        )
    return store, raw, legacy, list(inv["id"])


EVENT_COLS = [c for c in rca.Event.model_fields if c not in ("investigation_ids", "linked_at")]


def raw_frame(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[Any],
    json_cols: tuple[str, ...] = ("data", "metadata"),
) -> pd.DataFrame:
    """Hand-written SQL + .df(), then the conversions that give rca's frame."""
    frame = con.execute(sql, params).df()
    for c in json_cols:
        if c in frame:
            frame[c] = [pydantic_core.from_json(x) for x in frame[c]]
    for c, (cats, ordered) in CATEGORIES.items():
        if c in frame:
            frame[c] = pd.Categorical(frame[c], categories=cats, ordered=ordered)
    return frame


def legacy_frame(con: sqlite3.Connection, sql: str, params: list[Any]) -> pd.DataFrame:
    """The earlier store's query, then the conversions a user needs for the same frame."""
    frame = pd.read_sql_query(sql, con, params=params)
    for c in ("timestamp", "created_at"):
        if c in frame:
            frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601")
    for c in ("data", "metadata", "tags", "investigation_ids"):
        if c in frame:
            frame[c] = [json.loads(x) if x else None for x in frame[c]]
    return frame


def bench_queries(n: int, repeats: int, folder: Path, rows: list[list[str]]) -> None:
    store, raw, legacy, inv_ids = build_stores(n, folder)
    inv = store.get_investigation(inv_ids[3])
    t0 = pd.Timestamp("2026-02-10T12:00:00Z").to_pydatetime()
    t1 = t0 + dt.timedelta(hours=1)
    cols = ", ".join(f'e."{c}"' for c in EVENT_COLS)
    derived = (
        "LEFT JOIN (SELECT l.event_id, list(l.investigation_id ORDER BY l.linked_at, "
        "l.investigation_id) AS ids, max(l.linked_at) AS last FROM links l JOIN "
        "investigations li ON li.id = l.investigation_id WHERE li.deleted_at IS NULL "
        "GROUP BY l.event_id) x ON x.event_id = e.id"
    )
    sel = f"{cols}, coalesce(x.ids, []::VARCHAR[]) AS investigation_ids, x.last AS linked_at"
    cases: list[
        tuple[
            str, Callable[[], pd.DataFrame], Callable[[], pd.DataFrame], Callable[[], pd.DataFrame]
        ]
    ] = [
        (
            "severity slice (critical)",
            lambda: store.events(severity="critical"),
            lambda: raw_frame(
                raw,
                f"SELECT {sel} FROM events e {derived} WHERE e.deleted_at IS NULL "
                "AND e.severity = ? ORDER BY e.timestamp, e.id",
                ["critical"],
            ),
            lambda: legacy_frame(
                legacy,
                "SELECT * FROM events WHERE deleted_at IS NULL AND severity = ? "
                "ORDER BY timestamp, id",
                ["critical"],
            ),
        ),
        (
            "1-hour window",
            lambda: store.events(since=t0, until=t1),
            lambda: raw_frame(
                raw,
                f"SELECT {sel} FROM events e {derived} WHERE e.deleted_at IS NULL "
                "AND e.timestamp >= ? AND e.timestamp < ? ORDER BY e.timestamp, e.id",
                [t0, t1],
            ),
            lambda: legacy_frame(
                legacy,
                "SELECT * FROM events WHERE deleted_at IS NULL AND timestamp >= ? "
                "AND timestamp < ? ORDER BY timestamp, id",
                [t0.isoformat(), t1.isoformat()],
            ),
        ),
        (
            "tag contains (db)",
            lambda: store.events(
                tags="db", columns=["id", "timestamp", "component", "severity", "tags"]
            ),
            lambda: raw_frame(
                raw,
                "SELECT id, timestamp, component, severity, tags FROM events e WHERE "
                "deleted_at IS NULL AND list_has_any(tags, ['db']) ORDER BY timestamp, id",
                [],
            ),
            lambda: legacy_frame(
                legacy,
                "SELECT id, timestamp, component, severity, tags FROM events WHERE "
                "deleted_at IS NULL AND EXISTS (SELECT 1 FROM json_each(events.tags) "
                "WHERE value = 'db') ORDER BY timestamp, id",
                [],
            ),
        ),
        (
            "component x severity hourly counts",
            lambda: store.counts(by=["component", "severity"], freq="1h", fill=False),
            lambda: raw_frame(
                raw,
                "SELECT make_timestamp((epoch_us(timestamp) // 3600000000) * 3600000000)"
                "::TIMESTAMPTZ AS period, component, severity, count(*) AS count FROM events "
                "WHERE deleted_at IS NULL GROUP BY ALL ORDER BY ALL",
                [],
            ),
            lambda: legacy_frame(
                legacy,
                "SELECT substr(timestamp, 1, 13) AS period, component, severity, "
                "count(*) AS count FROM events WHERE deleted_at IS NULL "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                [],
            ),
        ),
        (
            "event-investigation join (100 investigations)",
            lambda: store.event_investigations(),
            lambda: raw_frame(
                raw,
                "SELECT "
                + ", ".join(f'e."{c}" AS "event_{c}"' for c in EVENT_COLS)
                + ", "
                + ", ".join(
                    f'i."{c}" AS "investigation_{c}"' for c in rca.Investigation.stored_fields()
                )
                + ", l.confidence, l.method, l.reasons, l.linked_at FROM links l JOIN events e "
                "ON e.id = l.event_id JOIN investigations i ON i.id = l.investigation_id WHERE "
                "e.deleted_at IS NULL AND i.deleted_at IS NULL ORDER BY e.timestamp, e.id, i.id",
                [],
                json_cols=("event_data", "event_metadata"),
            ),
            lambda: legacy_frame(
                legacy,
                "SELECT e.*, i.id AS investigation_id, i.title, i.status, "
                "i.priority FROM events e, json_each(e.investigation_ids) j JOIN "
                "investigations i ON i.id = j.value WHERE e.deleted_at IS NULL "
                "ORDER BY e.timestamp, e.id, i.id",
                [],
            ),
        ),
        (
            "timeline (2h before, 30m after)",
            lambda: store.timeline(inv.id, before="2h", after="30m"),
            lambda: raw_frame(
                raw,
                f"SELECT {sel}, CASE WHEN lk.event_id IS NOT NULL THEN 'linked' WHEN "
                "e.component = ? THEN 'component' ELSE 'service' END AS relation, "
                "epoch_us(e.timestamp) - ? AS offset, lk.confidence FROM events e "
                f"{derived} LEFT JOIN links lk ON lk.event_id = e.id AND lk.investigation_id = ? "
                "WHERE e.timestamp >= ? AND e.timestamp < ? AND e.deleted_at IS NULL AND "
                "(lk.event_id IS NOT NULL OR e.component = ?) ORDER BY e.timestamp, e.id",
                [
                    inv.component_affected,
                    0,
                    inv.id,
                    inv.detected_at - dt.timedelta(hours=2),
                    inv.detected_at + dt.timedelta(minutes=30),
                    inv.component_affected,
                ],
            ),
            lambda: legacy_frame(
                legacy,
                "SELECT * FROM events WHERE deleted_at IS NULL AND timestamp >= ? "
                "AND timestamp < ? AND (component = ? OR EXISTS (SELECT 1 FROM "
                "json_each(events.investigation_ids) WHERE value = ?)) ORDER BY timestamp",
                [
                    (inv.detected_at - dt.timedelta(hours=2)).isoformat(),
                    (inv.detected_at + dt.timedelta(minutes=30)).isoformat(),
                    inv.component_affected,
                    inv.id,
                ],
            ),
        ),
    ]
    for name, ours, ref, old in cases:
        t: dict[str, list[float]] = {"ours": [], "raw": [], "legacy": []}
        sizes = set()
        rounds = repeats
        r = 0
        while r < rounds:
            for key, fn in (("ours", ours), ("raw", ref), ("legacy", old)):
                secs, frame = timed(fn)
                t[key].append(secs)
                sizes.add((key, len(frame)))
            if r == 0:  # fast queries get more rounds (about a second each), for stable medians
                rounds = max(repeats, min(50, int(1.0 / max(max(x[0] for x in t.values()), 1e-3))))
            r += 1
        med = {k: statistics.median(v) for k, v in t.items()}
        counts = dict(sizes)
        rows.append(
            [
                f"{n:,} events: {name}",
                f"{med['ours'] * 1000:,.0f} ms",
                f"{counts['ours']:,} rows",
                f"raw {med['raw'] * 1000:,.0f} ms / legacy {med['legacy'] * 1000:,.0f} ms",
                f"{med['ours'] / med['raw']:.2f}x raw, "
                f"{med['legacy'] / med['ours']:.1f}x faster than legacy",
                "target <= 1.5x raw" + (", not slower than legacy" if n >= 5_000_000 else ""),
            ]
        )
    store.close()
    raw.close()
    legacy.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="1000000,5000000", help="event counts for the query benchmarks"
    )
    parser.add_argument(
        "--load-size", type=int, default=1_000_000, help="events for the load benchmarks"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    os.environ["RCA_PROGRESS"] = "0"
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_load(args.load_size, args.repeats, folder, rows)
        bench_import(args.load_size, args.repeats, folder, rows)
        for n in (int(s) for s in args.sizes.split(",") if s):
            bench_queries(n, args.repeats, folder, rows)
    header = ["benchmark", "rca_analytics", "size / rate", "baselines", "ratio", "target"]
    table = [header, ["---"] * len(header), *rows]
    text = "\n".join("| " + " | ".join(r) + " |" for r in table)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, pandas {pd.__version__}, pyarrow {pa.__version__}"
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = (
        f"## Store: loads and queries\n\nRun {stamp} on {machine}. Medians of interleaved "
        f"repeats: {max(args.repeats, 5)} for loads (the row-by-row legacy load once), at least "
        f"{args.repeats} and about a second's worth (up to 50) for each query. Ratios "
        f"compare runs of the same process. Command: `python3 tasks.py bench`.\n\n{text}\n"
    )
    print(report)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "store", report)


if __name__ == "__main__":
    main()
