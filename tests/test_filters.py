"""One definition per query filter: the Store's signatures, docstrings, forwarding, SQL, CLI.

The Store's explicit keyword signatures are what people see (Shift-Tab); the filter
tables of ``rca_analytics._filters`` drive the SQL and the ``rca query`` options. These
tests pin the two together, so that a filter added, renamed or re-described in one
place and not the others fails here.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rca_analytics as rca
from rca_analytics import _aliases, _counts, _data, _filters, _where, cli, linking, queries
from rca_analytics._filters import EVENTS, INVESTIGATIONS, QUERIES, Filter

#: Keywords of Store.events / Store.investigations that are not filters.
OPTIONS = {"include_deleted": False, "columns": None, "limit": None}
#: ``rca query`` options that are not keywords of the Python API.
CLI_ONLY = {"help", "table", "db", "format", "raw_csv", "output"}
MODELS = {"events": rca.Event, "investigations": rca.Investigation}


def _store_method(query: str) -> Callable[..., Any]:
    method: Callable[..., Any] = getattr(rca.Store, query)
    return method


def _keywords(function: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return {
        name: p
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _args_section(function: Callable[..., Any]) -> dict[str, str]:
    """The ``Args:`` entries of a Google-style docstring, continuation lines joined."""
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    assert "Args:" in lines, f"{function.__qualname__} has no Args section"
    entries: dict[str, str] = {}
    name = ""
    for line in lines[lines.index("Args:") + 1 :]:
        if not line.strip() or not line.startswith("    "):
            break
        if line.startswith("        "):
            entries[name] += " " + line.strip()
        else:
            name, _, text = line.strip().partition(": ")
            entries[name] = text
    return entries


def _query_parser() -> argparse.ArgumentParser:
    commands = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = commands.choices["query"]
    return parser


def _plain(text: str) -> str:
    return " ".join(text.replace("``", "").split())


# --- the Python signatures --------------------------------------------------------------


@pytest.mark.parametrize("query", list(QUERIES))
def test_store_signature_keywords_are_the_table(query: str) -> None:
    keywords = _keywords(_store_method(query))
    table = QUERIES[query]
    assert list(keywords) == [f.name for f in table] + list(OPTIONS)
    for f in table:
        p = keywords[f.name]
        assert (p.annotation, p.default) == (f.annotation, f.default), f.name
    for name, default in OPTIONS.items():
        assert keywords[name].default == default
    # the query function takes the same options, and every filter through **filters
    implementation = inspect.signature(getattr(queries, query)).parameters
    assert {n: p.default for n, p in implementation.items() if n in OPTIONS} == OPTIONS
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in implementation.values())


@pytest.mark.parametrize("query", list(QUERIES))
def test_store_docstring_args_are_the_table(query: str) -> None:
    entries = _args_section(_store_method(query))
    table = QUERIES[query]
    assert list(entries) == [f.name for f in table] + list(OPTIONS)
    for f in table:
        assert entries[f.name] == " ".join(f.help.split()), f.name


@pytest.mark.parametrize("query", list(QUERIES))
def test_every_keyword_is_forwarded_under_its_own_name(
    query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(queries, query, lambda data, **kwargs: seen.update(kwargs))
    sentinels = {name: object() for name in _keywords(_store_method(query))}
    with rca.connect(":memory:") as store:
        getattr(store, query)(**sentinels)
    assert seen.keys() == sentinels.keys()
    for name, sentinel in sentinels.items():
        assert seen[name] is sentinel, name


# The other read methods: the Store's parameters are its implementation's, and each
# one is passed on under its own name.
READ_METHODS: dict[str, tuple[Any, str]] = {
    "timeline": (queries, "timeline"),
    "counts": (queries, "counts"),
    "event_investigations": (queries, "event_investigations"),
    "reviews": (queries, "reviews"),
    "changes_before": (linking, "changes_before"),
    "suggest_links": (linking, "suggest_links"),
}


def _params(function: Callable[..., Any], skip: int) -> dict[str, tuple[Any, Any]]:
    items = list(inspect.signature(function).parameters.items())[skip:]
    return {name: (p.kind, p.default) for name, p in items}


@pytest.mark.parametrize("method", list(READ_METHODS))
def test_read_methods_offer_what_they_forward_to(method: str) -> None:
    module, name = READ_METHODS[method]
    assert _params(getattr(rca.Store, method), 1) == _params(getattr(module, name), 1)


@pytest.mark.parametrize("method", list(READ_METHODS))
def test_read_methods_forward_every_parameter(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module, name = READ_METHODS[method]
    implementation = inspect.signature(getattr(module, name))
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        module, name, lambda *a, **k: seen.update(implementation.bind(*a, **k).arguments)
    )
    given: dict[str, Any] = {}
    for p in list(inspect.signature(getattr(rca.Store, method)).parameters.values())[1:]:
        given[p.name] = {"a_filter": object()} if p.kind is p.VAR_KEYWORD else object()
    with rca.connect(":memory:") as store:
        extra = next((given.pop(n) for n, v in list(given.items()) if isinstance(v, dict)), {})
        getattr(store, method)(**given, **extra)
    for key, sentinel in given.items():
        assert seen[key] is sentinel, key
    for key, sentinel in extra.items():
        assert seen["filters"][key] is sentinel, key


@pytest.mark.parametrize("query", list(QUERIES))
def test_counts_checks_every_filter_of_its_table(query: str) -> None:
    with rca.connect(":memory:") as store:
        for f in QUERIES[query]:
            with pytest.raises(rca.QueryError, match=f"^{f.name}: "):
                store.counts(query, **{f.name: [] if f.many else "?"})


def test_event_investigations_takes_both_tables_filters() -> None:
    with rca.connect(":memory:") as store, pytest.raises(rca.QueryError) as refused:
        store.event_investigations(nothing=1)
    allowed = re.search(r"\(filters: (.*)\)", str(refused.value))
    assert allowed is not None
    expected = [f.name for f in EVENTS if f.name != "investigation_id"]
    expected += ["investigation_" + f.name for f in INVESTIGATIONS] + ["investigation_id"]
    assert allowed.group(1).split(", ") == expected


# --- the tables themselves --------------------------------------------------------------


@pytest.mark.parametrize("query", list(QUERIES))
def test_table_columns_are_model_fields_and_help_is_complete(query: str) -> None:
    fields = MODELS[query].model_fields
    names = [f.name for f in QUERIES[query]]
    assert len(names) == len(set(names))
    for f in QUERIES[query]:
        assert all(c in fields for c in f.columns), f.name
        assert bool(f.columns) == (f.op != "match"), f.name
        assert f.help.endswith(".") and f.help[0].isupper(), f.name
        if f.enum is not None and f.op == "in":  # the help lists every value
            for member in f.enum:
                assert f"``{member.value}``" in f.help, (f.name, member)
        assert f.flag == "--" + f.name.replace("_", "-")


def test_a_name_in_both_tables_has_one_flag_metavar_and_arity() -> None:
    events = {f.name: f for f in EVENTS}
    for f in INVESTIGATIONS:
        if f.name in events:
            e = events[f.name]
            assert (e.op, e.flag, e.metavar, e.many) == (f.op, f.flag, f.metavar, f.many)


VALUES: dict[str, Callable[[Filter], Any]] = {
    "in": lambda f: next(iter(f.enum)).value if f.enum else "x",
    "name": lambda f: "x",
    "at_least": lambda f: next(iter(f.enum or ())).value,
    "tags": lambda f: "db",
    "match": lambda f: "all",
    "since": lambda f: "2026-03-01",
    "until": lambda f: "2026-03-01",
    "linked": lambda f: "inv-1",
}


@pytest.mark.parametrize("query", list(QUERIES))
def test_every_filter_becomes_one_parameterised_condition(query: str) -> None:
    store = rca.connect(":memory:")
    names = _aliases.Vocabulary(_data.of(store))
    for f in QUERIES[query]:
        w = _where.Where()
        value = VALUES[f.op](f)
        _where.where(w, "a", query, {f.name: value}, names=names)
        if f.op == "match":
            assert w.clauses == []
            continue
        assert len(w.clauses) == 1, f.name
        [clause] = w.clauses
        assert all(f'a."{c}"' in clause for c in f.columns), (f.name, clause)
        assert clause.count("?") == len(w.params) >= 1, (f.name, clause)
        assert f"'{value}'" not in clause, clause
    store.close()


@pytest.mark.parametrize("query", list(QUERIES))
def test_name_filters_compare_names_by_key(query: str) -> None:
    """Every name filter (and only those) goes through the store's names."""
    names = [f.name for f in QUERIES[query] if f.op == "name"]
    assert names == ["component", "service"]
    for f in QUERIES[query]:
        if f.op == "name":
            assert f.enum is None and len(f.columns) == 1 and f.many
            assert "any case or spacing" in f.help and "alias" in f.help


def test_count_groups_use_the_filter_columns() -> None:
    for table, groups in _counts.COUNT_BY.items():
        filters = {f.name: f for f in QUERIES[table]}
        for name, column in groups.items():
            assert filters[name].columns == (column,), (table, name)


# --- the command line -------------------------------------------------------------------


def test_cli_options_are_the_tables_and_the_store_options() -> None:
    parser = _query_parser()
    actions = {a.dest: a for a in parser._actions}
    filter_names = {f.name for table in QUERIES.values() for f in table}
    assert set(actions) == filter_names | set(OPTIONS) | CLI_ONLY
    for table in QUERIES.values():
        for f in table:
            action = actions[f.name]
            assert action.option_strings == [f.flag]
            assert action.metavar == f.metavar
            assert action.nargs == ("+" if f.many else 1)
            assert action.default is None
    for action in parser._actions:
        assert action.help, f"{action.dest} has no help"


def test_cli_help_is_the_docstring_text() -> None:
    actions = {a.dest: a for a in _query_parser()._actions}
    for query, table in QUERIES.items():
        for f in table:
            shown = _plain(actions[f.name].help or "")
            text = _plain(f.help)
            assert text in shown or text[:1].lower() + text[1:].rstrip(".") in shown, (
                query,
                f.name,
            )


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, Any]]:
    path = tmp_path / "cli.duckdb"
    rca.connect(path).close()
    seen: dict[str, Any] = {}

    def record(query: str) -> Callable[..., Any]:
        def call(self: rca.Store, **kwargs: Any) -> Any:
            seen.clear()
            seen.update(kwargs, query=query)
            return self.sql("SELECT 1 AS one")

        return call

    for query in QUERIES:
        monkeypatch.setattr(rca.Store, query, record(query))
    return str(path), seen


@pytest.mark.slow
@pytest.mark.parametrize("query", list(QUERIES))
def test_every_cli_filter_reaches_the_store_as_the_keyword(
    query: str, recorded: tuple[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, seen = recorded
    for f in QUERIES[query]:
        one = str(VALUES[f.op](f))
        assert cli.main(["query", query, "--db", path, f.flag, one]) == 0
        assert seen == {"query": query, f.name: one, **OPTIONS}, f.name
        if f.many:
            assert cli.main(["query", query, "--db", path, f.flag, one, "y"]) == 0
            assert seen[f.name] == [one, "y"]
    capsys.readouterr()


def test_a_filter_of_the_other_table_is_a_usage_error(
    recorded: tuple[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = recorded
    for query, other in (("events", "investigations"), ("investigations", "events")):
        mine = {f.name for f in QUERIES[query]}
        for f in QUERIES[other]:
            if f.name not in mine:
                assert cli.main(["query", query, "--db", path, f.flag, "x"]) == 2
                assert f"takes no {f.flag}" in capsys.readouterr().err


def test_the_table_module_stays_light() -> None:
    source = Path(_filters.__file__).read_text()
    assert not re.search(r"^(import|from) (pandas|duckdb|pyarrow)", source, re.M)
