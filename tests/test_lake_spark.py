"""A distributed engine reads the lake: PySpark (``local[2]``) against ``rca.connect_lake``.

Spark reads the Parquet files itself (hive partition discovery, its own Parquet reader,
its own SQL), so equal answers mean the lake is standard, not only readable by us.
Skips where pyspark or Java is missing; ``RCA_REQUIRE_SPARK=1`` (set by CI) turns the
skip into a failure, so CI cannot pass without running it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rca_analytics as rca
from rca_analytics import demo

#: pyspark warns at start-up that it does not yet claim pandas 3; these tests never hand
#: a pandas frame to Spark (rows come back with collect()).
PANDAS_WARNING = "PySpark does not yet fully support pandas"
pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(f"ignore:{PANDAS_WARNING}:FutureWarning"),
]


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (python3 tasks.py test installs it)"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime (java on PATH or JAVA_HOME) for Spark"
    return None


def require_spark() -> None:
    """Skip without pyspark or Java (fail instead under ``RCA_REQUIRE_SPARK=1``)."""
    why = _missing()
    if why is not None:
        if os.environ.get("RCA_REQUIRE_SPARK") == "1":
            pytest.fail(f"RCA_REQUIRE_SPARK=1 but {why}")
        pytest.skip(why)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    require_spark()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("rca-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo incidents plus a synthetic history, exported with the default layout."""
    from rca_analytics.synthetic import HistorySettings, history

    folder = tmp_path_factory.mktemp("spark")
    h = history(HistorySettings.scaled(events=30_000, incidents=60, days=60), seed=11)
    with rca.connect(folder / "file.duckdb") as store:
        demo.build(store)
        store.add_events(h.events, progress=False)
        store.add_investigations(h.investigations, progress=False)
        store.auto_link(progress=False)
        store.delete_event(store.events(source="git").id.iloc[0])
        store.delete_investigation(store.investigations().id.iloc[-1])
        store.export_lake(folder / "lake", partition_by=("source", "day"))
    return folder / "lake"


def _view(spark: Any, lake: Path, table: str) -> Any:
    frame = spark.read.parquet(str(lake / table))
    frame.createOrReplaceTempView(table)
    return frame


def test_spark_sees_the_lake_schema(spark: Any, lake: Path) -> None:
    from pyspark.sql import types

    events = _view(spark, lake, "events")
    fields = {f.name: f.dataType for f in events.schema.fields}
    assert fields["timestamp"] == types.TimestampType()  # an instant, not a local time
    assert fields["tags"] == types.ArrayType(types.StringType(), True)
    assert fields["data"] == types.StringType()
    assert fields["day"] == types.DateType() and fields["source"] == types.StringType()
    [row] = spark.sql(
        "SELECT count(*) AS n, count_if(to_date(timestamp) <> day) AS wrong_day FROM events"
    ).collect()
    store = rca.connect_lake(lake)
    assert row["n"] == len(store.events(include_deleted=True)) and row["wrong_day"] == 0
    [parsed] = spark.sql(
        "SELECT count_if(data IS NOT NULL AND from_json(data, 'MAP<STRING, STRING>') IS NULL) "
        "AS bad FROM events"
    ).collect()
    assert parsed["bad"] == 0


def test_counts_by_severity_match(spark: Any, lake: Path) -> None:
    _view(spark, lake, "events")
    got = {
        r["severity"]: r["n"]
        for r in spark.sql(
            "SELECT severity, count(*) AS n FROM events WHERE deleted_at IS NULL GROUP BY severity"
        ).collect()
    }
    store = rca.connect_lake(lake)
    want = store.events()["severity"].astype(str).value_counts().to_dict()
    assert got == want
    counts = store.counts(by="severity")
    assert dict(zip(counts["severity"].astype(str), counts["count"], strict=True)) == want


def test_the_link_join_matches(spark: Any, lake: Path) -> None:
    for table in ("events", "investigations", "links"):
        _view(spark, lake, table)
    rows = spark.sql(
        "SELECT l.investigation_id, l.event_id, l.method, l.confidence "
        "FROM links l JOIN events e ON e.id = l.event_id "
        "JOIN investigations i ON i.id = l.investigation_id "
        "WHERE e.deleted_at IS NULL AND i.deleted_at IS NULL"
    ).collect()
    got = sorted((r[0], r[1], r[2], round(r[3], 9)) for r in rows)
    frame = rca.connect_lake(lake).event_investigations()
    want = sorted(
        (i, e, str(m), round(c, 9))
        for i, e, m, c in frame[
            ["investigation_id", "event_id", "method", "confidence"]
        ].itertuples(index=False)
    )
    assert len(got) > 100 and got == want


def test_a_time_window_query_matches(spark: Any, lake: Path) -> None:
    _view(spark, lake, "events")
    store = rca.connect_lake(lake)
    times = store.events()["timestamp"]
    since = (times.min() + (times.max() - times.min()) / 3).floor("h")
    until = since + dt.timedelta(days=5)
    rows = spark.sql(
        "SELECT id FROM events WHERE deleted_at IS NULL AND severity IN ('critical', 'high') "
        "AND timestamp >= to_timestamp(?) AND timestamp < to_timestamp(?)",
        args=[since.isoformat(), until.isoformat()],
    ).collect()
    want = store.events(since=since, until=until, severity=["critical", "high"])
    assert len(rows) > 10
    assert sorted(r["id"] for r in rows) == sorted(want["id"])
