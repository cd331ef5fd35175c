"""WHERE clauses built from the filter tables of :mod:`._filters`.

Identifiers come only from the tables (model fields, quoted) and the aliases the
queries pass; every value is a parameter, checked by :mod:`._arguments` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

from . import _arguments as arg
from ._filters import EVENTS, INVESTIGATION_TIME, INVESTIGATIONS, Filter
from .errors import QueryError
from .schema import quote

__all__ = [
    "Where",
    "column_sql",
    "event_where",
    "investigation_time",
    "investigation_where",
    "where",
]


@dataclass
class Where:
    """Conditions and their parameters; identifiers are always whitelisted."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        """One condition with its parameters."""
        self.clauses.append(clause)
        self.params.extend(params)

    def one_of(self, column: str, values: Sequence[Any]) -> None:
        """``column IN (?, ...)``."""
        marks = ", ".join("?" for _ in values)
        self.add(f"{column} IN ({marks})", *values)

    def sql(self) -> str:
        """The conditions joined with AND (``TRUE`` when there are none)."""
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


def column_sql(a: str, columns: Sequence[str]) -> str:
    """The tested value: one column of alias ``a``, or the first non-null of several."""
    quoted = [f"{a}.{quote(c)}" for c in columns]
    return quoted[0] if len(quoted) == 1 else f"coalesce({', '.join(quoted)})"


def investigation_time(a: str) -> str:
    """When an investigation of alias ``a`` happened (detection, else creation)."""
    return column_sql(a, INVESTIGATION_TIME)


def event_where(w: Where, a: str, filters: Mapping[str, Any], prefix: str = "") -> None:
    """Event-side conditions on alias ``a``; ``prefix`` names the arguments in errors."""
    where(w, a, EVENTS, filters, prefix)


def investigation_where(w: Where, a: str, filters: Mapping[str, Any], prefix: str = "") -> None:
    """Investigation-side conditions on alias ``a`` (see :func:`event_where`)."""
    where(w, a, INVESTIGATIONS, filters, prefix)


def where(
    w: Where, a: str, table: Sequence[Filter], filters: Mapping[str, Any], prefix: str = ""
) -> None:
    """Add the conditions of ``filters`` (names of ``table``) on alias ``a`` to ``w``.

    None means "no filter". Values are checked in table order (``match`` with
    ``tags``, before it), so the first bad argument is the one reported.
    """
    given = {k: val for k, val in filters.items() if val is not None}
    for f in table:
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


def _match(prefix: str, given: Mapping[str, Any]) -> str:
    how = given.get("match", "any")
    if how not in ("any", "all"):
        raise QueryError(f"{prefix}match: 'any' or 'all', not {how!r}")
    return str(how)
