"""WHERE clauses built from the filter tables of :mod:`._filters`.

Identifiers come only from the tables (model fields, quoted) and the aliases the
queries pass; every value is a parameter, checked by :mod:`._arguments` first. Name
filters (``component``, ``service``) ask the query's :class:`Names` for the spellings
stored of the names asked for (any case and spacing, through the store's aliases), so
the test is a plain list lookup on the column. That lookup reads the store, so it is a
:class:`Later` parameter: it runs when the statement does, after every argument of the
query has been checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, assert_never

from . import _arguments as arg
from ._filters import INVESTIGATION_TIME, QUERIES, Filter
from .errors import QueryError
from .schema import quote

__all__ = [
    "Later",
    "Names",
    "Where",
    "column_sql",
    "event_where",
    "investigation_time",
    "investigation_where",
    "where",
]


@dataclass(frozen=True)
class Later:
    """A parameter found when the statement runs (after every argument is checked)."""

    get: Callable[[], Any]


@dataclass
class Where:
    """Conditions and their parameters; identifiers are always whitelisted."""

    clauses: list[str] = field(default_factory=list)
    #: The parameters, :class:`Later` ones as given (:attr:`params` finds them).
    given: list[Any] = field(default_factory=list)

    @property
    def params(self) -> list[Any]:
        """The parameters, in order (:class:`Later` ones found now)."""
        return [p.get() if isinstance(p, Later) else p for p in self.given]

    def add(self, clause: str, *params: Any) -> None:
        """One condition with its parameters."""
        self.clauses.append(clause)
        self.given.extend(params)

    def one_of(self, column: str, values: Sequence[Any]) -> None:
        """``column IN (?, ...)``."""
        marks = ", ".join("?" for _ in values)
        self.add(f"{column} IN ({marks})", *values)

    def sql(self) -> str:
        """The conditions joined with AND (``TRUE`` when there are none)."""
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


class Names(Protocol):
    """What a name filter asks of the store (see :class:`._aliases.Vocabulary`)."""

    def stored(self, table: str, column: str, label: str, names: Sequence[str]) -> list[str]:
        """The spellings in ``table.column`` of the ``names`` (``label`` for notes)."""
        ...


def column_sql(a: str, columns: Sequence[str]) -> str:
    """The tested value: one column of alias ``a``, or the first non-null of several."""
    quoted = [f"{a}.{quote(c)}" for c in columns]
    return quoted[0] if len(quoted) == 1 else f"coalesce({', '.join(quoted)})"


def investigation_time(a: str) -> str:
    """When an investigation of alias ``a`` happened (detection, else creation)."""
    return column_sql(a, INVESTIGATION_TIME)


def event_where(
    w: Where, a: str, filters: Mapping[str, Any], prefix: str = "", *, names: Names
) -> None:
    """Event-side conditions on alias ``a``; ``prefix`` names the arguments in errors."""
    where(w, a, "events", filters, prefix, names=names)


def investigation_where(
    w: Where, a: str, filters: Mapping[str, Any], prefix: str = "", *, names: Names
) -> None:
    """Investigation-side conditions on alias ``a`` (see :func:`event_where`)."""
    where(w, a, "investigations", filters, prefix, names=names)


def where(
    w: Where,
    a: str,
    query: str,
    filters: Mapping[str, Any],
    prefix: str = "",
    *,
    names: Names,
) -> None:
    """Add the conditions of ``filters`` (of ``QUERIES[query]``) on alias ``a`` to ``w``.

    None means "no filter". Values are checked in table order (``match`` with
    ``tags``, before it), so the first bad argument is the one reported. ``query`` is
    also the table the names of name filters are looked up in.
    """
    given = {k: val for k, val in filters.items() if val is not None}
    for f in QUERIES[query]:
        if f.name not in given:
            continue
        value, name = given[f.name], prefix + f.name
        column = column_sql(a, f.columns) if f.columns else ""
        if f.op == "in":
            w.one_of(
                column,
                arg.enum_values(name, value, f.enum)
                if f.enum is not None
                else arg.name_values(name, value, f.rule),
            )
        elif f.op == "name":
            w.add(
                f"list_contains(?::VARCHAR[], {column})", _spellings(names, query, f, name, value)
            )
        elif f.op == "at_least":
            assert f.enum is not None
            w.one_of(column, arg.rank_at_least(name, value, f.enum))
        elif f.op == "tags":
            how = _match(prefix, given)
            w.add(f"list_has_{how}({column}, ?::VARCHAR[])", arg.tag_values(name, value))
        elif f.op == "match":
            _match(prefix, given)
        elif f.op == "since":
            w.add(f"{column} >= ?", arg.utc_bound(name, value))
        elif f.op == "until":
            w.add(f"{column} < ?", arg.utc_bound(name, value))
        elif f.op == "linked":
            ids = arg.name_values(name, value, f.rule)
            marks = ", ".join("?" for _ in ids)
            w.add(
                f"{column} IN (SELECT event_id FROM links WHERE investigation_id IN ({marks}))",  # noqa: S608
                *ids,
            )
        else:
            assert_never(f.op)


def _spellings(names: Names, query: str, f: Filter, label: str, value: Any) -> Later:
    """The spellings stored of the names asked for (checked now, looked up later)."""
    asked = arg.name_values(label, value, f.rule)
    [column] = f.columns
    return Later(lambda: names.stored(query, column, label, asked))


def _match(prefix: str, given: Mapping[str, Any]) -> str:
    how = given.get("match", "any")
    if how not in ("any", "all"):
        raise QueryError(f"{prefix}match: 'any' or 'all', not {how!r}")
    return str(how)
