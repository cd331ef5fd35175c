"""The derived summary: the SQL (bulk loads, migrations) and Python (one event) agree."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rca_analytics._summaries import KEYS, derive, derived_sql

_ROW = (
    "(SELECT ?::VARCHAR AS event_type, ?::VARCHAR AS source, ?::VARCHAR AS component, "
    "?::VARCHAR AS service, ?::VARCHAR AS source_id, ?::VARCHAR AS data)"
)
_TYPES = ("commit", "deploy", "deployment", "rollback", "build", "test_run", "check", "alert",
          "note", "span", "error", "log", "custom")  # fmt: skip
_SOURCES = ("git", "ci", "metrics", "traces", "logs", "manual")

_words = st.text(alphabet=st.sampled_from(list("ab Z09-_.:/#\t\n\r\x0b\x0c é…✓")), max_size=30)
_values = st.one_of(
    st.none(),
    _words,
    st.sampled_from(["", "   ", "\n\t", "resolved", "failure", "3", "0", "-2", "12.5", "1e3",
                     "1.0", "0x10", "3_000", " 7 ", "99999999999999999999", "0.05", "2.5",
                     "abc1234def", "v1.2.3", "x" * 260]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.floats(-1e7, 1e7, allow_nan=False).map(lambda x: round(x, 3)),
    st.booleans(),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9), max_size=2),
    st.lists(st.integers(0, 9), max_size=2),
)  # fmt: skip
_data = st.dictionaries(st.sampled_from(KEYS), _values, max_size=8)
_names = st.one_of(st.none(), st.sampled_from(["cart", "pay ments", "db"]))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _sql(con: duckdb.DuckDBPyConnection, *row: Any) -> str | None:
    event_type, source, component, service, source_id, data = row
    out = con.execute(
        derived_sql(_ROW),
        [event_type, source, component, service, source_id, json.dumps(data, ensure_ascii=False)],
    ).fetchone()
    assert out is not None
    value = out[0]
    return value if isinstance(value, str) else None


@settings(max_examples=500, deadline=None)
@given(
    event_type=st.sampled_from(_TYPES),
    source=st.sampled_from(_SOURCES),
    component=_names,
    service=_names,
    source_id=st.one_of(st.none(), st.sampled_from(["abc1234def5678", "b1-2", "ABCDEF1234"])),
    data=_data,
)
def test_python_and_sql_say_the_same(
    con: duckdb.DuckDBPyConnection,
    event_type: str,
    source: str,
    component: str | None,
    service: str | None,
    source_id: str | None,
    data: dict[str, Any],
) -> None:
    row = (event_type, source, component, service, source_id, data)
    python = derive(
        event_type,
        source=source,
        service=service,
        component=component,
        source_id=source_id,
        data=data,
    )
    assert python == _sql(con, *row)
    assert python is not None and python == python.strip() and len(python) <= 200
    assert "\n" not in python and "  " not in python


@pytest.mark.parametrize(
    ("event_type", "source", "data", "expected"),
    [
        ("commit", "git", {"subject": "Fix  the\nbug", "sha": "0123456789"}, "Fix the (0123456)"),
        ("deploy", "ci", {"version": "v2", "environment": "prod", "state": "success"},
         "Deploy cart v2 to prod (success)"),
        ("test_run", "ci", {"suite": "api", "conclusion": "failure", "failures": 3, "tests": 40},
         "api: failure, 3 failed of 40"),
        ("alert", "metrics", {"alertname": "Down", "summary": "\t", "description": "gone",
                              "status": "resolved"}, "Down: gone (resolved)"),
        ("span", "traces", {"name": "GET /", "status": "error", "duration_ms": 1520},
         "GET / ERROR 1.5 s"),
        ("span", "traces", {"duration_ms": 12.4}, "12.0 ms"),
        ("note", "manual", {"text": "\n\nsecond"}, "second"),
        ("error", "logs", {"message": "x" * 300}, "x" * 199 + "…"),
    ],
)  # fmt: skip
def test_the_words_of_each_kind(
    con: duckdb.DuckDBPyConnection,
    event_type: str,
    source: str,
    data: dict[str, Any],
    expected: str,
) -> None:
    assert (
        derive(event_type, source=source, service="cart", component=None, source_id=None, data=data)
        == expected
    )
    assert _sql(con, event_type, source, None, "cart", None, data) == expected
