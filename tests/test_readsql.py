"""store.sql() reads only: decided from DuckDB's parse of the query, then rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest

import rca_analytics as rca
from rca_analytics import _readsql

#: Reads that must keep working (each is run against a real store).
READS = [
    "SELECT * FROM events",
    "WITH x AS (SELECT count(*) AS n FROM events) SELECT n FROM x",
    "-- why\nEXPLAIN SELECT 1",
    "EXPLAIN ANALYZE SELECT count(*) FROM events",
    "EXPLAIN (FORMAT JSON) SELECT 1",
    "SUMMARIZE events",
    "DESCRIBE events",
    "SHOW TABLES",
    "FROM events",
    "VALUES (1), (2)",
    "SELECT title FROM investigations WHERE title LIKE '%x' OR title ILIKE 'y' "
    "OR title GLOB 'z*' OR title SIMILAR TO 'q'",
    "SELECT [x * 2 FOR x IN [1, 2]] AS a, list_transform([1], lambda x: x + 1) AS b, "
    "{'a': 1}.a AS c, [1, 2][1:2] AS d, 'abc'[1] AS e",
    "SELECT CASE WHEN true THEN 2 END AS a, coalesce(NULL, 1) AS b, 1 IN (1, 2) AS c, "
    "2 BETWEEN 1 AND 3 AS d, 1 IS DISTINCT FROM 2 AS e",
    "SELECT CAST(1 AS VARCHAR) AS a, 1::DOUBLE AS b, TRY_CAST('x' AS INT) AS c, "
    "date_trunc('day', now()) + INTERVAL 1 DAY AS d",
    "SELECT '{\"a\": 1}'::JSON->>'a' AS a, regexp_matches('a', 'a') AS b",
    "SELECT id, row_number() OVER (ORDER BY id) AS n FROM investigations QUALIFY n < 3",
    "SELECT * FROM range(3) UNION ALL SELECT * FROM generate_series(1, 2)",
    "SELECT unnest([1, 2]) AS x",
    "PIVOT (SELECT 1 AS a, 'x' AS b) ON b IN ('x') USING sum(a)",
    "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v",
    "SELECT COLUMNS('tit.*') FROM investigations",
    "SELECT * EXCLUDE (tags) FROM investigations",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "SELECT current_setting('TimeZone') AS tz",
    "SELECT currval('changes_seq') AS c",
    "SELECT random() AS r, uuid() AS u",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM duckdb_tables()",
    "SELECT status, count(*) FROM investigations GROUP BY ALL ORDER BY ALL",
    "SELECT list(title) FILTER (WHERE title > '') AS l FROM investigations",
    "SELECT 'DELETE' AS \"update\", 1 AS n -- insert",
]

#: Writes (and ways to run SQL hidden from a reader of the text); none may run.
WRITES = [
    "WITH d AS (DELETE FROM investigations RETURNING *) SELECT count(*) FROM d",
    "WITH d AS (UPDATE investigations SET title = 'x' RETURNING *) SELECT * FROM d",
    "WITH d AS (INSERT INTO rca_meta VALUES ('k', 'v') RETURNING *) SELECT * FROM d",
    "SELECT (SELECT x FROM (WITH d AS (DELETE FROM investigations RETURNING 1 AS x) "
    "SELECT * FROM d))",
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql("
    "'WITH d AS (DELETE FROM investigations RETURNING *) SELECT count(*) FROM d'))",
    "SELECT nextval('changes_seq')",
    "SELECT NEXTVAL('changes_seq')",
    "SELECT \"nextval\"('changes_seq')",
    "SELECT main.nextval('changes_seq')",
    "SELECT setval('changes_seq', 99)",
    "SELECT [x FOR x IN (SELECT nextval('changes_seq'))]",
    "SELECT * FROM query('DELETE FROM investigations')",
    "SELECT * FROM \"query\"('DELETE FROM investigations')",
    "FROM query('DELETE FROM investigations')",
    "SELECT * FROM (FROM query('SELECT 1'))",
    "SELECT * FROM query_table('investigations')",
    "SELECT * FROM checkpoint()",
    "SELECT * FROM force_checkpoint()",
    "SELECT * FROM enable_logging()",
    "SELECT * FROM truncate_duckdb_logs()",
    "SELECT * FROM enable_profiling()",
    "SELECT write_log('x')",
    "SELECT setseed(0.5)",
    "EXPLAIN ANALYZE DELETE FROM investigations",
    "EXPLAIN (ANALYZE) DELETE FROM investigations",
    "EXPLAIN",
    "DELETE FROM investigations",
    "INSERT INTO rca_meta VALUES ('k', 'v')",
    "CALL checkpoint()",
    "PRAGMA version",
    "SET threads = 1",
    "COPY investigations TO 'x.csv'",
    "ATTACH 'x.duckdb'",
    "SELECT 1; DELETE FROM investigations",
    "PIVOT (SELECT 1 AS a, 'x' AS b) ON b USING sum(a)",  # creates a type first
]


def _state(store: rca.Store) -> str:
    tables = [
        store.sql(f"SELECT * FROM {t} ORDER BY ALL").to_dict("records")
        for t in ("investigations", "changes", "rca_meta", "links")
    ]
    return repr([*tables, store.sql("SELECT currval('changes_seq') AS c")["c"].tolist()])


@pytest.fixture
def filled(tmp_path: Path) -> rca.Store:
    store = rca.connect(tmp_path / "s.duckdb")
    for i in range(3):
        store.add_investigation({"title": f"Checkout 500s {i}"})
    return store


@pytest.mark.parametrize("query", READS)
def test_reads_run(filled: rca.Store, query: str) -> None:
    filled.sql(query)


@pytest.mark.parametrize("query", WRITES)
def test_writes_are_refused_before_running(filled: rca.Store, query: str) -> None:
    before = _state(filled)
    with pytest.raises(rca.QueryError, match=r"read queries only|one statement|cannot parse"):
        filled.sql(query)
    assert _state(filled) == before


def test_the_adversarial_runs_hidden_delete_with_a_parameter(filled: rca.Store) -> None:
    """The exact call that deleted every investigation on the earlier main."""
    history = len(filled.history())
    with pytest.raises(rca.QueryError, match="json_execute_serialized_sql"):
        filled.sql(
            "SELECT * FROM json_execute_serialized_sql(json_serialize_sql(?))",
            ["WITH d AS (DELETE FROM investigations RETURNING *) SELECT count(*) FROM d"],
        )
    assert filled.stats()["investigations"] == 3
    assert len(filled.history()) == history


def test_a_write_past_the_check_is_rolled_back(
    filled: rca.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second wall: outside a transaction, the query runs in one that is undone."""
    monkeypatch.setattr(_readsql, "require_read_only", lambda query: None)
    out = filled.sql(
        "WITH d AS (DELETE FROM investigations RETURNING *) SELECT count(*) AS n FROM d"
    )
    assert out["n"].tolist() == [3]  # DuckDB did delete them, inside the query's transaction
    assert filled.stats()["investigations"] == 3  # and the rollback undid it


def test_reads_inside_a_transaction_see_its_writes(filled: rca.Store) -> None:
    with filled.transaction():
        filled.add_investigation({"title": "new"})
        assert filled.sql("SELECT count(*) AS n FROM investigations")["n"].tolist() == [4]
    assert filled.stats()["investigations"] == 4


def test_deeply_nested_queries_are_checked_without_recursion(filled: rca.Store) -> None:
    query = "SELECT 1 AS x"
    for _ in range(200):
        query = f"SELECT x FROM ({query})"
    assert filled.sql(query)["x"].tolist() == [1]
    hidden = "SELECT * FROM query('DELETE FROM investigations')"
    for _ in range(200):
        hidden = f"SELECT * FROM ({hidden})"
    with pytest.raises(rca.QueryError, match="read queries only"):
        filled.sql(hidden)
