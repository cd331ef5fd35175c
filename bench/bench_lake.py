"""The Parquet lake: export rate, file layout per partition scheme, queries vs the file.

    .venv/bin/python bench/bench_lake.py                    # 5,000,000 events (about 15 min)
    .venv/bin/python bench/bench_lake.py --events 500000 --no-write   # a quick look

A synthetic history (``rca_analytics.synthetic``, one year) is loaded into a store file,
with its incidents linked to their causes. Then:

- **Export** with every partition scheme (``source/day``, ``day``, ``source/month``,
  ``month``, none): wall time, events/s, files, and file sizes (min / median / max,
  total). The baseline, run in the same process on the same file: DuckDB's own
  ``COPY ... TO (FORMAT parquet, PARTITION_BY ...)`` of the same columns with the same
  layout, written by a plain DuckDB connection (no staging, no manifest, no swap).
- **Incremental export**: 1,000 events updated, the lake brought up to date.
- **Queries**: the standard query helpers on the DuckDB file and on ``rca.connect_lake``
  over the lake of the default layout (median of the repeats; ratio lake / file).
- **Default layout**: what ``partition_by="auto"`` picks for this store, and why.

Figures go to stdout and to the ``lake`` section of bench/RESULTS.md (``--no-write``:
stdout only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from _results import write_section  # bench/ is the script's folder

import rca_analytics as rca
from rca_analytics import _data, _lake_disk, _lake_layout
from rca_analytics.synthetic import HistorySettings, history

HERE = Path(__file__).parent
SCHEMES: dict[str, tuple[str, ...]] = {
    "source/day": ("source", "day"),
    "day": ("day",),
    "source/month": ("source", "month"),
    "month": ("month",),
    "none": (),
}
MB = 1 << 20


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def file_sizes(folder: Path) -> list[int]:
    return sorted(p.stat().st_size for p in folder.rglob("*.parquet"))


def size_line(sizes: list[int]) -> str:
    return (
        f"{len(sizes):,} | {sizes[0] / MB:.2f} | {statistics.median(sizes) / MB:.2f} | "
        f"{sizes[-1] / MB:.1f} | {sum(sizes) / MB:,.0f}"
    )


def build(path: Path, events: int) -> dict[str, Any]:
    t = time.perf_counter()
    h = history(HistorySettings.scaled(events=events, incidents=max(events // 2_500, 20)))
    made = time.perf_counter() - t
    t = time.perf_counter()
    with rca.connect(path) as store:
        store.add_events(h.events, progress=False)
        linked = h.truth.groupby("investigation_id")["event_id"].agg(list)
        invs = h.investigations.assign(event_ids=[linked.get(i, []) for i in h.investigations.id])
        store.add_investigations(invs, progress=False)
        stats = store.stats()
    return {"generated": made, "loaded": time.perf_counter() - t, **stats}


def duckdb_copy(path: Path, target: Path, keys: tuple[str, ...]) -> None:
    """The baseline: DuckDB writes the same columns and layout itself."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        derived = ", ".join(
            f"{_lake_disk.PARTITIONS[k]} AS {k}" for k in keys if k not in rca.Event.model_fields
        )
        columns = _lake_disk.select_columns(rca.Event)
        select = f"SELECT {columns}{', ' + derived if derived else ''} FROM events"
        target.mkdir(parents=True)
        if keys:
            options = f"FORMAT parquet, PARTITION_BY ({', '.join(keys)})"
            out = str(target)
        else:
            options, out = "FORMAT parquet", str(target / "data_0.parquet")
        # benchmark only: the path is our own temp folder, quoted by DuckDB's own rules
        con.execute(f"COPY ({select} ORDER BY \"timestamp\", id) TO '{out}' ({options})")
    finally:
        con.close()


def queries(
    store: rca.Store, inv: str, since: dt.datetime, component: str
) -> dict[str, Callable[[], Any]]:
    return {
        "events, one week": lambda: store.events(since=since, until=since + dt.timedelta(days=7)),
        "events, severity=critical": lambda: store.events(severity="critical"),
        "events, one component": lambda: store.events(component=component),
        "counts by severity": lambda: store.counts(by="severity"),
        "counts by source per day": lambda: store.counts(by="source", freq="D"),
        "event_investigations()": lambda: store.event_investigations(),
        "timeline(one incident)": lambda: store.timeline(inv),
        "metrics.mttr by impact": lambda: rca.metrics.mttr(store, by="impact_severity"),
    }


def spark_lines(work: Path, store: rca.Store, say: Callable[[str], None], repeats: int) -> None:
    """Spark (local[2]) over each layout: what file counts cost a distributed engine."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        say("")
        say("(pyspark not installed: no Spark lines)")
        return
    import warnings

    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "4g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    times = store.events()["timestamp"]
    since = (times.min() + (times.max() - times.min()) / 2).floor("D")
    window_sql = (
        "deleted_at IS NULL AND severity IN ('critical', 'high') AND timestamp >= "
        f"'{since.isoformat()}' AND timestamp < '{(since + dt.timedelta(days=7)).isoformat()}'"
    )
    say("")
    say("### Spark (local[2]) over each layout (median seconds, reading the folder each time)")
    say("")
    say("| scheme | count by severity | one week, critical+high |")
    say("|---|---:|---:|")
    try:
        for name in SCHEMES:
            folder = str(work / f"lake-{name.replace('/', '-')}" / "events")

            def by_severity(folder: str = folder) -> Any:
                frame = spark.read.parquet(folder).where("deleted_at IS NULL")
                return frame.groupBy("severity").count().collect()

            def window(folder: str = folder) -> Any:
                return spark.read.parquet(folder).where(window_sql).count()

            by_severity()  # warm the JVM once per layout
            a, _ = timed(by_severity, repeats)
            b, _ = timed(window, repeats)
            say(f"| {name} | {a:.2f} | {b:.2f} |")
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("RCA_PROGRESS", "0")
    work = Path(tempfile.mkdtemp(prefix="rca-bench-lake-"))
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        db = work / "store.duckdb"
        built = build(db, args.events)
        say(
            f"Store: {built['events']:,} events, {built['investigations']:,} investigations, "
            f"{built['links']:,} links (generated in {built['generated']:.0f} s, loaded in "
            f"{built['loaded']:.0f} s); file {db.stat().st_size / MB:,.0f} MB."
        )
        say()
        say("### Export, per partition scheme")
        say()
        say(
            "| scheme | export s | events/s | DuckDB COPY s | ratio | files | min MB | "
            "median MB | max MB | total MB |"
        )
        say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        baseline = {}
        for name, keys in SCHEMES.items():  # a plain DuckDB connection: the store closed
            folder = work / f"copy-{name.replace('/', '-')}"
            t = time.perf_counter()
            duckdb_copy(db, folder, keys)
            baseline[name] = time.perf_counter() - t
            shutil.rmtree(folder)
        with rca.connect(db) as store:
            n = store.stats()["events"]
            chosen = _lake_layout.choose_layout(_data.of(store))
            for name, keys in SCHEMES.items():
                target = work / f"lake-{name.replace('/', '-')}"
                t = time.perf_counter()
                store.export_lake(target, partition_by=keys)
                ours = time.perf_counter() - t
                base = baseline[name]
                say(
                    f"| {name} | {ours:.1f} | {n / ours:,.0f} | {base:.1f} | {ours / base:.2f}x | "
                    + size_line(file_sizes(target / "events"))
                    + " |"
                )
            spark_lines(work, store, say, args.repeats)
            for name, keys in SCHEMES.items():
                if keys != chosen.partition_by:
                    shutil.rmtree(work / f"lake-{name.replace('/', '-')}")
            say()
            say(
                f'Default (`partition_by="auto"`) for this store: '
                f"**{'/'.join(chosen.partition_by) or 'none'}** — {chosen.reason}."
            )
            lake = work / f"lake-{'-'.join(chosen.partition_by) or 'none'}"
            changed = store.events().sample(1_000, random_state=1)
            store.add_events(  # one bulk update of 1,000 events spread over the year
                changed.assign(severity="high", revision=None), on_duplicate="update"
            )
            t = time.perf_counter()
            again = store.export_lake(lake, partition_by=chosen.partition_by)
            say(
                f"Incremental export after updating 1,000 events spread over the year: "
                f"{time.perf_counter() - t:.1f} s ({again.partitions_written} of "
                f"{again.partitions} partitions rewritten)."
            )
            last = store.events()["timestamp"].max()
            day = store.events(since=last - dt.timedelta(days=1))
            store.add_events(  # the next day's events: new ones, at the end of the history
                day.drop(columns=["id"]).assign(
                    timestamp=day["timestamp"] + dt.timedelta(days=1),
                    source_id=day["source_id"] + "-next",
                ),
                progress=False,
            )
            t = time.perf_counter()
            again = store.export_lake(lake, partition_by=chosen.partition_by)
            say(
                f"Incremental export after a day of new events ({len(day):,}): "
                f"{time.perf_counter() - t:.1f} s ({again.partitions_written} of "
                f"{again.partitions} partitions rewritten)."
            )
            with rca.connect(work / "imported.duckdb") as fresh:
                t = time.perf_counter()
                first = fresh.import_lake(lake, progress=False)
                took = time.perf_counter() - t
                t = time.perf_counter()
                fresh.import_lake(lake, progress=False)
                again_s = time.perf_counter() - t
            say(
                f"Import into an empty store: {took:.1f} s ({first.events.stored / took:,.0f} "
                f"events/s, {first.links['stored']:,} links); the same lake again: "
                f"{again_s:.1f} s, nothing added."
            )
            say()
            say("### Queries: the DuckDB file vs `rca.connect_lake` (median seconds)")
            say()
            say("| query | file s | lake s | lake / file |")
            say("|---|---:|---:|---:|")
            inv = store.investigations().id.iloc[0]
            times = store.events()["timestamp"]
            since = (times.min() + (times.max() - times.min()) / 2).floor("D").to_pydatetime()
            component = str(store.counts(by="component").nlargest(2, "count").iloc[-1, 0])
            on_lake = rca.connect_lake(lake)
            for (name, on_file), run_lake in zip(
                queries(store, inv, since, component).items(),
                queries(on_lake, inv, since, component).values(),
                strict=True,
            ):
                file_s, _ = timed(on_file, args.repeats)
                lake_s, _ = timed(run_lake, args.repeats)
                say(f"| {name} | {file_s:.3f} | {lake_s:.3f} | {lake_s / file_s:.1f}x |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say()
    say(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, DuckDB "
        f"{duckdb.__version__}, rca_analytics {rca.__version__}."
    )
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "lake", "## Parquet lake\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
