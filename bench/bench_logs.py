"""Logs reader benchmark: a generated log file, side by side with a bare parse.

    .venv/bin/python bench/bench_logs.py                    # 1,000,000 lines, 3 repeats
    .venv/bin/python bench/bench_logs.py --lines 200000 --repeats 2   # a quick look
    .venv/bin/python bench/bench_logs.py --text             # plain-text (log4j) lines

``--text`` writes the same lines as log4j text (``2026-03-01 10:00:00,123 WARN
[web-3] payments.db: slow query ...``) and results to bench/RESULTS-logs-text.md.
Both modes also time DuckDB reading the same file raw (its lines, split, counted).

The file (deterministic seed) looks like a busy service's structured log: ~210 bytes
per line, 25 % debug, 60 % info, 10 % warning, 4.9 % error, 0.1 % critical (``--share``
sets the 15 % at warning or above), a dozen
message templates with varying numbers, ids, IPs and UUIDs. Measured, as medians of
interleaved repeats:

- baseline: ``for line in f: json.loads(line)`` (decoding every line, nothing else);
- ``rca.read("logs", file)``: the reader, events as a DataFrame;
- ``store.ingest("logs", file)``: the reader into a fresh store (validated, stored);
- peak memory of the ingest and of the reader alone, in a fresh process (resident set
  high-water mark, Linux).

The table goes to stdout and bench/RESULTS-logs.md (``--no-write``: stdout only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

import rca_analytics as rca
from rca_analytics.ingest import logs
from rca_analytics.ingest._base import Context

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
SERVICES = ["checkout", "payments", "search", "auth", "inventory"]
HOSTS = [f"web-{i}" for i in range(12)]


def _messages(rng: random.Random, level: str) -> tuple[str, str]:
    """(logger suffix, message) of one line at ``level``."""
    n = rng.randrange
    if level == "debug":
        return rng.choice(
            [
                ("db", f"SQL SELECT * FROM orders WHERE id = {n(10**6)} took {n(1, 90)} ms"),
                ("tracing", f"span {n(16**16):016x} finished in {n(1, 500)} us"),
                ("cache", f"cache lookup key=order:{n(10**6)} hit={rng.random() < 0.8}"),
            ]
        )
    if level == "info":
        return rng.choice(
            [
                ("http", f"GET /api/orders/{n(10**6)} 200 in {n(2, 400)} ms"),
                ("http", f"POST /api/cart/{n(10**5)}/items 201 in {n(5, 600)} ms"),
                ("auth", f"user {n(10**6)} logged in from 10.{n(256)}.{n(256)}.{n(256)}"),
                ("worker", f"processed batch {n(10**4)} of 10000 ({n(1, 500)} items)"),
            ]
        )
    if level == "warning":
        return rng.choice(
            [
                ("db", f"slow query on orders: {n(500, 5000)} ms (threshold 500 ms)"),
                ("client", f"retrying request to payments-api (attempt {n(1, 4)}/3)"),
            ]
        )
    if level == "error":
        return rng.choice(
            [
                ("client", f"upstream request failed: timeout after {n(1000, 30000)} ms"),
                ("payments", f"payment {uuid.UUID(int=rng.getrandbits(128))} declined"),
                ("http", f"POST /api/checkout 500 in {n(5, 900)} ms: internal error"),
            ]
        )
    return ("db", f"database connection pool exhausted ({n(50, 100)}/100 in use)")


def levels(share: float) -> list[tuple[str, float]]:
    """Level weights: 25 % debug, ``share`` at warning or above (2/3 warning, a third
    error, 1/150 critical), info the rest."""
    return [
        ("debug", 0.25),
        ("info", 0.75 - share),
        ("warning", share * 2 / 3),
        ("error", share * (1 / 3 - 1 / 150)),
        ("critical", share / 150),
    ]


_TEXT_LEVELS = {"debug": "DEBUG", "info": "INFO", "warning": "WARN", "error": "ERROR",
                "critical": "FATAL"}  # fmt: skip


def generate(
    path: Path, n: int, seed: int = 7, share: float = 0.15, text: bool = False
) -> dict[str, int]:
    """Write n JSON (or log4j text) lines in time order to ``path``; the count per level."""
    rng = random.Random(seed)
    names = [name for name, _ in levels(share)]
    weights = [w for _, w in levels(share)]
    counts = dict.fromkeys(names, 0)
    t = START
    with path.open("w", encoding="utf-8") as f:
        chunk: list[str] = []
        for _ in range(n):
            t += dt.timedelta(microseconds=rng.randrange(1, 20_000))
            level = rng.choices(names, weights)[0]
            counts[level] += 1
            service = rng.choice(SERVICES)
            suffix, message = _messages(rng, level)
            if text:
                chunk.append(
                    f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {_TEXT_LEVELS[level]} "
                    f"[{rng.choice(HOSTS)}] {service}.{suffix}: {message}\n"
                )
            else:
                chunk.append(
                    f'{{"time":"{t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}","level":"{level}",'
                    f'"logger":"{service}.{suffix}","service":"{service}",'
                    f'"host":"{rng.choice(HOSTS)}","pid":{rng.randrange(1000, 9999)},'
                    f'"trace_id":"{rng.getrandbits(128):032x}","msg":"{message}"}}\n'
                )
            if len(chunk) >= 10_000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    return counts


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def baseline(path: Path) -> int:
    n = 0
    loads = json.loads
    with path.open("rb") as f:
        for line in f:
            loads(line)
            n += 1
    return n


def duckdb_raw(path: Path) -> int:
    """DuckDB reading the file raw: its non-blank lines, split and counted."""
    con = duckdb.connect()
    row = con.execute(  # one column: a separator that is not in the file, no quoting
        "SELECT count(*) FROM read_csv(?, columns = {'line': 'VARCHAR'}, delim = chr(31), "
        "quote = '', escape = '', header = false, auto_detect = false, strict_mode = false) "
        "WHERE line <> ''",
        [str(path)],
    ).fetchone()
    return int(row[0]) if row else 0


def ours_reader(path: Path) -> int:
    """The reader's records alone (what ``rca.read`` and ``ingest`` consume)."""
    return sum(1 for _ in logs.read([path], Context()))


def ours_read(path: Path) -> int:
    return len(rca.read("logs", path).events)


def ours_ingest(path: Path, folder: Path) -> int:
    db = folder / "logs.duckdb"
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    with rca.connect(db) as store:
        report = store.ingest("logs", path, progress=False)
    return int(report.events["stored"])


def peak_memory(path: Path, folder: Path, what: str) -> tuple[float, float]:
    """(resident MB after imports, peak resident MB of ``what``), in a fresh process."""
    call = {
        "ingest": f"ours_ingest(Path({str(path)!r}), Path({str(folder)!r}))",
        "reader": f"ours_reader(Path({str(path)!r}))",
    }[what]
    code = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from bench_logs import ours_ingest, ours_reader
from pathlib import Path
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # high-water mark from here (not the parent's)
{call}
print(before, status("VmHWM"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, peak = map(float, out.stdout.split())
    return before, peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--share", type=float, default=0.15, help="share of lines at warning or above (0.15)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS-logs.md")
    parser.add_argument("--text", action="store_true", help="log4j text lines, not JSON")
    args = parser.parse_args()
    os.environ["RCA_PROGRESS"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / ("app.log" if args.text else "app.jsonl")
        secs, counts = timed(lambda: generate(path, args.lines, share=args.share, text=args.text))
        size = path.stat().st_size
        expected = counts["warning"] + counts["error"] + counts["critical"]
        print(
            f"generated {args.lines:,} lines, {size / 2**20:,.0f} MiB "
            f"({size / args.lines:.0f} B/line, {expected:,} at warning or above) in {secs:.1f} s",
            file=sys.stderr,
        )
        times: dict[str, list[float]] = {
            "baseline": [], "duckdb": [], "reader": [], "read": [], "ingest": []
        }  # fmt: skip
        for _ in range(args.repeats):
            if not args.text:
                t, n = timed(lambda: baseline(path))
                assert n == args.lines
                times["baseline"].append(t)
            t, n = timed(lambda: duckdb_raw(path))
            assert n == args.lines
            times["duckdb"].append(t)
            t, n = timed(lambda: ours_reader(path))
            assert n == expected, (n, expected)
            times["reader"].append(t)
            t, n = timed(lambda: ours_read(path))
            assert n == expected, (n, expected)
            times["read"].append(t)
            t, n = timed(lambda: ours_ingest(path, folder))
            assert n == expected, (n, expected)
            times["ingest"].append(t)
        before, peak = peak_memory(path, folder, "ingest")
        _before, reader_peak = peak_memory(path, folder, "reader")
    if args.text:  # text lines have no bare parse but DuckDB's raw read
        times["baseline"] = times["duckdb"]
    med = {k: statistics.median(v) for k, v in times.items()}
    rate = {k: args.lines / v for k, v in med.items()}
    n = args.lines
    target = "300,000" if args.text else "500,000"
    rows = [
        [f"baseline: {'DuckDB raw' if args.text else 'json.loads each of'} {n:,} lines",
         f"{med['baseline']:.2f} s", f"{rate['baseline']:,.0f} lines/s", "1.00x", ""],
        [f"DuckDB reading the file raw ({n:,} lines split)", f"{med['duckdb']:.2f} s",
         f"{rate['duckdb']:,.0f} lines/s", f"{med['duckdb'] / med['baseline']:.2f}x baseline",
         ""],
        [f"the reader alone (its records, iterated) {n:,} lines", f"{med['reader']:.2f} s",
         f"{rate['reader']:,.0f} lines/s", f"{med['reader'] / med['baseline']:.2f}x baseline", ""],
        [f"rca.read('logs') {n:,} lines → {expected:,} events", f"{med['read']:.2f} s",
         f"{rate['read']:,.0f} lines/s",
         f"{med['read'] / med['baseline']:.2f}x baseline, {med['read'] / med['duckdb']:.1f}x "
         "DuckDB raw", f"target >= {target} lines/s"],
        [f"store.ingest('logs') {n:,} lines → {expected:,} events", f"{med['ingest']:.2f} s",
         f"{rate['ingest']:,.0f} lines/s", f"{med['ingest'] / med['baseline']:.2f}x baseline",
         "target >= 200,000 lines/s"],
        [f"store.ingest('logs'): peak memory ({size / 2**20:,.0f} MiB file)", f"{peak:,.0f} MB",
         f"{peak - before:,.0f} MB above the {before:,.0f} MB after imports", "", "modest"],
        ["the reader alone: peak memory", f"{reader_peak:,.0f} MB",
         f"{reader_peak - before:,.0f} MB above", "", "independent of the file's size"],
    ]  # fmt: skip
    if args.text:  # its baseline is the raw read, shown once
        rows.pop(0)
    header = ["benchmark", "time / size", "rate", "ratio", "target"]
    table = [header, ["---"] * len(header), *rows]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, pandas {pd.__version__}"
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    kind = "log4j text" if args.text else "JSON lines"
    report = (
        f"# logs reader ({kind})\n\nRun {stamp} on {machine}. Medians of {args.repeats} "
        "interleaved "
        f"repeats; {args.share:.0%} of the lines at warning or above.\n\n"
        + "\n".join("| " + " | ".join(r) + " |" for r in table)
        + "\n"
    )
    print(report)
    if not args.no_write:
        name = "RESULTS-logs.md" if args.share == 0.15 else f"RESULTS-logs-{args.share:.2f}.md"
        name = name.replace("logs", "logs-text", 1) if args.text else name
        (Path(__file__).resolve().parent / name).write_text(report)


if __name__ == "__main__":
    main()
