"""Decide whether user SQL only reads, from DuckDB's own parse of it (``store.sql()``).

Reading the text is not enough: DuckDB runs statements hidden in a string
(``query('...')``, ``json_execute_serialized_sql``), accepts ``DELETE`` inside a
``WITH``, and resolves quoted names (``"nextval"``) like bare ones. So the query is
parsed by DuckDB (``json_serialize_sql``, on a private in-memory connection) and the
whole tree is checked:

- every query node is a ``SELECT`` (or a set operation or CTE of them);
- every table function is one that only reads (an allow-list: file readers, metadata,
  ``range``/``unnest``...); functions that run SQL given as text, or change the
  database, logging or settings, are not on it;
- no scalar function changes state (``nextval``, ``setval``, ``setseed``,
  ``write_log``).

``EXPLAIN [ANALYZE]`` is checked on the statement it explains. Anything DuckDB
cannot serialise (every statement other than a query) is refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import duckdb

from .errors import QueryError

__all__ = ["require_read_only"]

#: Query nodes that only read.
_READ_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})

#: Table functions that only read (data, files where allowed, or the catalog).
_READ_TABLE_FUNCTIONS = frozenset(
    {
        "generate_series", "range", "unnest", "repeat", "repeat_row", "glob", "summary",
        "json_each", "json_tree", "sniff_csv", "test_all_types", "test_vector_types",
        "read_blob", "read_csv", "read_csv_auto", "read_json", "read_json_auto",
        "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
        "read_ndjson_objects", "read_parquet", "parquet_scan", "read_text",
        "read_single_csv_file", "read_single_json_file", "read_single_parquet_file",
        "parquet_bloom_probe", "parquet_file_metadata", "parquet_full_metadata",
        "parquet_kv_metadata", "parquet_metadata", "parquet_page_index", "parquet_schema",
        "pg_timezone_names", "icu_calendar_names", "histogram", "histogram_values",
        "pragma_collations", "pragma_database_size", "pragma_metadata_info",
        "pragma_platform", "pragma_show", "pragma_storage_info", "pragma_table_info",
        "pragma_user_agent", "pragma_version",
        "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies",
        "duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_optimizers",
        "duckdb_schemas", "duckdb_sequences", "duckdb_settings", "duckdb_tables",
        "duckdb_types", "duckdb_views", "duckdb_memory", "duckdb_temporary_files",
        "duckdb_extensions", "duckdb_table_sample", "duckdb_approx_database_count",
        "duckdb_connection_count", "duckdb_variables", "duckdb_prepared_statements",
        "seq_scan",
    }
)  # fmt: skip

#: Scalar functions that change state when evaluated.
_WRITE_SCALAR_FUNCTIONS = frozenset({"nextval", "setval", "setseed", "write_log"})

_LOCK = threading.Lock()


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """A private in-memory connection that only parses (no data, no files, no settings)."""
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "enable_external_access": False,
            "lock_configuration": True,
        },
    )
    return con


@cache
def _table_functions() -> frozenset[str]:
    """Every table (and table macro or pragma) function this DuckDB knows."""
    with _LOCK:
        rows = (
            _parser()
            .execute(
                "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
                "WHERE function_type IN ('table', 'table_macro', 'pragma')"
            )
            .fetchall()
        )
    return frozenset(name for (name,) in rows)


def require_read_only(query: str) -> None:
    """Refuse ``query`` unless it is exactly one statement that only reads.

    The verdict depends on the text alone, so queries found to read are remembered
    (notebooks run the same few queries again and again).

    Raises:
        QueryError: Not one statement, not a query, or it names something that writes.
    """
    if query in _READS:
        return
    _check(query)
    with _LOCK:
        _READS[query] = None
        if len(_READS) > _REMEMBERED:
            _READS.pop(next(iter(_READS)))


#: Queries found to read, oldest first (at most :data:`_REMEMBERED`).
_READS: dict[str, None] = {}
_REMEMBERED = 1024


def _check(query: str) -> None:
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as err:
        raise QueryError(f"cannot parse the query: {err}") from err
    if len(statements) != 1:
        raise QueryError(f"store.sql() runs exactly one statement, got {len(statements)}")
    statement = statements[0]
    text = statement.query
    if statement.type == duckdb.StatementType.EXPLAIN:
        text = _explained(text)
    elif statement.type == duckdb.StatementType.MULTI:  # PIVOT ON col: makes a type first
        _refuse("several statements: a PIVOT needs its values listed, ON col IN ('a', 'b')")
    elif statement.type != duckdb.StatementType.SELECT:
        _refuse(statement.type.name)
    tree = _serialise(text)
    for problem in _writes(tree):
        _refuse(problem)


def _refuse(what: str) -> None:
    raise QueryError(
        f"store.sql() runs read queries only (got {what}); change records with the "
        "store's methods, which validate them and keep their history"
    )


def _explained(text: str) -> str:
    """The statement an ``EXPLAIN [ANALYZE] [(options)]`` explains."""
    tokens = [t for t in duckdb.tokenize(text) if t[1] != duckdb.token_type.comment]
    ends = [start for start, _ in tokens[1:]] + [len(text)]
    words = [
        (start, text[start:end].strip().upper())
        for (start, _), end in zip(tokens, ends, strict=True)
    ][1:]  # past EXPLAIN
    if words and words[0][1] in ("ANALYZE", "ANALYSE"):
        words = words[1:]
    if words and words[0][1].startswith("("):  # options, up to the closing parenthesis
        depth = 0
        while words:
            depth += words[0][1].count("(") - words[0][1].count(")")
            words = words[1:]
            if depth <= 0:
                break
    inner = text[words[0][0] :] if words else ""
    statements = duckdb.extract_statements(inner)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        _refuse(f"EXPLAIN of {statements[0].type.name if statements else 'nothing'}")
    return inner


def _serialise(text: str) -> Any:
    with _LOCK:
        try:
            [(body,)] = _parser().execute("SELECT json_serialize_sql(?)", [text]).fetchall()
        except duckdb.Error as err:
            raise QueryError(f"cannot parse the query: {err}") from err
    tree = json.loads(body)
    if tree.get("error"):
        message = tree.get("error_message", "not a query")
        if "Only SELECT" in message:
            _refuse("a statement that is not a query")
        raise QueryError(f"cannot parse the query: {message}")
    return tree


def _writes(tree: Any) -> Iterator[str]:
    """What in the parsed query could change something (nothing for a pure read)."""
    tables = _table_functions()
    for node in _nodes(tree):
        kind = node.get("type")
        if isinstance(kind, str) and kind.endswith("_NODE") and kind not in _READ_NODES:
            yield kind.removesuffix("_NODE").replace("_QUERY", "")
        if node.get("class") == "FUNCTION" and isinstance(node.get("function_name"), str):
            name = node["function_name"].lower()
            writes = name in _WRITE_SCALAR_FUNCTIONS
            if writes or (name in tables and name not in _READ_TABLE_FUNCTIONS):
                yield f"{name}()"


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the tree (iteratively: deep queries do not recurse)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
