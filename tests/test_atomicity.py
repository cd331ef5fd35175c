"""Batches are atomic: explicit transactions, never statements joined with ';'."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import _loading

PACKAGE = Path(rca.__file__).parent
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
JOINED = re.compile(
    r";\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|BEGIN|COMMIT|WITH|COPY|SET)\b", re.I
)


def dump(store: rca.Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    tables = store.sql("SELECT table_name FROM information_schema.tables ORDER BY ALL")
    return {
        name: sorted(map(repr, store.sql(f'SELECT * FROM "{name}"').itertuples(index=False)))  # type: ignore[misc]
        for name in tables["table_name"]
    }


@pytest.mark.slow
def test_no_sql_in_the_package_joins_statements() -> None:
    """DuckDB commits each statement of a ';'-joined string on its own."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) else None
            # The one exception is the earlier system's DDL, which is fed to SQLite.
            legacy = isinstance(text, str) and "CREATE TABLE events (id" in text
            if isinstance(text, str) and JOINED.search(text) and not legacy:
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1; DELETE FROM events",
        "SELECT 1; DROP TABLE events",
        "SELECT * FROM events; INSERT INTO links VALUES ('a','b',1,'manual',[],now())",
    ],
)
def test_store_sql_runs_one_statement_only(store: rca.Store, query: str) -> None:
    store.add_event({"source": "git", "event_type": "commit", "severity": "info", "timestamp": 0})
    before = dump(store)
    with pytest.raises(rca.QueryError, match="exactly one statement"):
        store.sql(query)
    assert dump(store) == before


def rows(n: int, prefix: str, fail_at: int | None = None) -> Iterator[dict[str, Any]]:
    for i in range(n):
        if i == fail_at:
            raise KeyboardInterrupt  # the user pressed stop in the middle of a batch
        yield {
            "source": "ci",
            "event_type": "build",
            "severity": "info",
            "timestamp": T0 + dt.timedelta(seconds=i),
            "source_id": f"{prefix}-{i}",
        }


@pytest.mark.slow
def test_an_interrupt_mid_batch_leaves_no_row_of_it(
    store: rca.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_events(list(rows(100, "before")), progress=False)
    before = dump(store)
    monkeypatch.setattr(_loading, "BATCH_ROWS", 1000)
    with pytest.raises(KeyboardInterrupt):
        store.add_events(rows(5000, "during", fail_at=3500), progress=False)  # 3 batches in
    assert dump(store) == before


@pytest.mark.slow
def test_an_interrupt_inside_a_transaction_of_many_calls_leaves_nothing(
    store: rca.Store,
) -> None:
    inv = store.add_investigation({"title": "Checkout 500s"})
    ev = store.add_event(
        {"source": "git", "event_type": "commit", "severity": "info", "timestamp": T0}
    )
    before = dump(store)
    with pytest.raises(KeyboardInterrupt), store.transaction():
        store.add_events(pd.DataFrame(list(rows(2000, "tx"))), progress=False)
        store.link(ev.id, inv.id, confidence=0.9, method="manual")
        store.update_investigation(inv.id, status="resolved", root_cause="bad deploy")
        store.tag_event(ev.id, "suspect")
        store.delete_event(ev.id)
        store.relate(inv.id, store.add_investigation({"title": "Other"}).id)
        raise KeyboardInterrupt
    assert dump(store) == before
    with rca.connect(store.path, read_only=False) as again:  # and so it stays on disk
        assert dump(again) == before


@pytest.mark.slow
def test_the_interrupt_test_really_spans_batches(
    store: rca.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_loading, "BATCH_ROWS", 1000)
    report = store.add_events(rows(3500, "many"), progress=False)
    assert report.stored == 3500
    assert len(store.history()) == 4  # one history entry per stored batch
