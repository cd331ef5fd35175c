"""The store's connection touches nothing but its own file unless the user opts in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

import rca_analytics as rca
from rca_analytics import _data

ESCAPES = [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_json('https://example.com/x.json')",
    "SELECT * FROM 'https://example.com/events.parquet'",
    "SELECT * FROM read_parquet('s3://bucket/events.parquet')",
    "SELECT * FROM read_text('{other}')",
    "SELECT * FROM read_text('{folder}/../../../etc/passwd')",
]
REFUSED_STATEMENTS = [
    "ATTACH '{other}' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "COPY events TO '{folder}/out.csv'",
    "EXPORT DATABASE '{folder}/dump'",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
]


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """Another file in the store's own folder, which the store must not read either."""
    path = tmp_path / "secrets.txt"
    path.write_text("api_key=hunter2\n")
    return path


@pytest.mark.parametrize("query", ESCAPES)
def test_store_sql_cannot_read_files_or_urls(
    store: rca.Store, other: Path, query: str, tally: Counter[str]
) -> None:
    text = query.format(other=other, folder=other.parent)
    with pytest.raises(rca.QueryError) as excinfo:
        store.sql(text)
    message = str(excinfo.value)
    assert "hunter2" not in message and "root:" not in message
    if query != "SELECT * FROM '/etc/passwd'":  # that one is not even a table name to DuckDB
        # Refused by the locked-down connection itself, not by a missing extension.
        assert "Permission Error" in message, message
        assert "allow_dirs" in message  # the way to opt in is named
    tally["escape queries refused"] += 1


@pytest.mark.parametrize("statement", REFUSED_STATEMENTS)
def test_store_sql_refuses_attach_install_load_copy_and_settings(
    store: rca.Store, other: Path, statement: str, tally: Counter[str]
) -> None:
    with pytest.raises(rca.QueryError):
        store.sql(statement.format(other=other, folder=other.parent))
    assert not (other.parent / "out.csv").exists()
    assert not (other.parent / "dump").exists()
    tally["escape queries refused"] += 1


@pytest.mark.parametrize(
    "statement",
    [
        "ATTACH '{other}.db' AS other",
        "COPY (SELECT 1) TO '{folder}/out.csv'",
        "EXPORT DATABASE '{folder}/dump'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_text('{other}')",
        "SELECT * FROM read_csv('https://example.com/x.csv')",
    ],
)
def test_the_raw_connection_itself_refuses_files_urls_and_extensions(
    store: rca.Store, other: Path, statement: str, tally: Counter[str]
) -> None:
    """Past store.sql()'s statement check, DuckDB's own settings refuse these."""
    import duckdb

    with pytest.raises(duckdb.Error, match=r"(?i)permission|disabled"):
        _data.of(store).connection().execute(statement.format(other=other, folder=other.parent))
    assert not (other.parent / "out.csv").exists() and not (other.parent / "dump").exists()
    assert not Path(f"{other}.db").exists()
    tally["escape queries refused"] += 1


@pytest.mark.parametrize(
    "query",
    [
        "WITH d AS (DELETE FROM changes RETURNING seq) SELECT count(*) FROM d",
        "WITH d AS (UPDATE rca_meta SET value = '999' WHERE key = 'schema_version' "
        "RETURNING *) SELECT * FROM d",
        "WITH d AS (INSERT INTO links VALUES ('e', 'i', 1, 'manual', [], now()) RETURNING *) "
        "SELECT * FROM d",
        "SELECT nextval('changes_seq')",
        "/* c */ EXPLAIN ANALYZE DELETE FROM investigations",
        # Found by an adversarial run: SQL hidden in strings, quoted names.
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql("
        "'WITH d AS (DELETE FROM investigations RETURNING *) SELECT count(*) FROM d'))",
        "SELECT \"nextval\"('changes_seq')",
        "SELECT * FROM query('DELETE FROM investigations')",
        "FROM query_table('investigations')",
        "SELECT * FROM checkpoint()",
    ],
)
@pytest.mark.parametrize("read_only", [False, True])
def test_store_sql_refuses_writes_hidden_in_a_read_statement(
    store_path: Path, query: str, read_only: bool, tally: Counter[str]
) -> None:
    with rca.connect(store_path) as writer:
        writer.add_investigation({"title": "Checkout 500s"})
        with rca.connect(store_path, read_only=read_only) as store:
            before = [store.sql(f"SELECT * FROM {t}") for t in ("changes", "rca_meta", "links")]
            with pytest.raises(rca.QueryError, match="read queries only"):
                store.sql(query)
            after = [store.sql(f"SELECT * FROM {t}") for t in ("changes", "rca_meta", "links")]
            for a, b in zip(after, before, strict=True):
                assert a.equals(b)
    tally["escape queries refused"] += 1


def test_read_queries_with_comments_and_keywords_in_text_still_run(store: rca.Store) -> None:
    assert len(store.sql("-- why\nEXPLAIN SELECT 1")) == 1
    assert len(store.sql("EXPLAIN ANALYZE SELECT 1")) == 1  # runs a read, writes nothing
    row = store.sql("SELECT 'DELETE' AS \"update\", 1 AS n -- insert")
    assert row.iloc[0].tolist() == ["DELETE", 1]
    assert len(store.sql("SUMMARIZE events")) > 0


def test_settings_cannot_be_changed_even_on_the_raw_connection(store: rca.Store) -> None:
    """Even code reaching past the API finds the configuration locked."""
    con = _data.of(store).connection()
    for statement in (
        "SET enable_external_access = true",
        "SET autoinstall_known_extensions = true",
        "SET allowed_directories = ['/']",
        "SET TimeZone = 'America/New_York'",
    ):
        with pytest.raises(Exception, match=r"(?i)configuration|cannot"):
            con.execute(statement)
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ("
            "'enable_external_access', 'autoinstall_known_extensions', "
            "'autoload_known_extensions', 'lock_configuration', 'TimeZone')"
        ).fetchall()
    )
    assert settings == {
        "enable_external_access": "false",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "lock_configuration": "true",
        "TimeZone": "UTC",
    }


def test_an_allowed_folder_can_be_read_and_written_and_nothing_else(
    tmp_path: Path, other: Path
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    with rca.connect(tmp_path / "s.duckdb", allow_dirs=exports) as store:
        store.add_event(
            {"source": "git", "event_type": "commit", "severity": "info", "timestamp": 0}
        )
        con = _data.of(store).connection()  # exports will use this path (issue 9)
        con.execute(f"COPY events TO '{exports / 'events.parquet'}' (FORMAT parquet)")
        back = store.sql("SELECT count(*) AS n FROM read_parquet(?)", [str(exports / "*.parquet")])
        assert back["n"].tolist() == [1]
        with pytest.raises(rca.QueryError):
            store.sql("SELECT * FROM read_text(?)", [str(other)])
        with pytest.raises(rca.QueryError):
            store.sql("SELECT * FROM read_text(?)", [f"{exports}/../{other.name}"])


def test_external_access_is_an_explicit_opt_in(tmp_path: Path, other: Path) -> None:
    with rca.connect(tmp_path / "open.duckdb", external_access=True) as store:
        assert store.sql("SELECT content FROM read_text(?)", [str(other)])["content"][0] == (
            "api_key=hunter2\n"
        )


def test_one_file_one_access_setting_per_process(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with rca.connect(path) as store:
        with pytest.raises(rca.StoreError, match="no external access"):
            rca.connect(path, external_access=True)
        with rca.connect(path) as again:  # the same settings share the file
            assert again.stats() == store.stats()


def test_an_allowed_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(rca.NotFound, match="does not exist"):
        rca.connect(tmp_path / "s.duckdb", allow_dirs=[tmp_path / "nope"])


NETWORK_FREE = textwrap.dedent(
    """
    import rca_analytics as rca, sys
    with rca.connect(sys.argv[1]) as store:
        store.add_event({"source": "git", "event_type": "commit", "severity": "info",
                         "timestamp": "2026-03-01T10:00:00Z"})
        try:
            store.sql("SELECT * FROM 'https://example.com/x.csv'")
        except rca.QueryError:
            print("refused")
        print(len(store.events()))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_the_store_works_with_no_network_at_all(tmp_path: Path) -> None:
    """Run in a new network namespace (no interfaces): nothing tries the network."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unprivileged network namespaces are not available here")
    env = {**os.environ, "PYTHONPATH": str(Path(rca.__file__).parents[1])}
    result = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", NETWORK_FREE, str(tmp_path / "n.duckdb")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["refused", "1"]
