"""The store's tables, generated from the models in one place.

Each table is a model: one column per stored model field, in field order, with the
DuckDB type, NOT NULL and CHECK constraints read off the field's annotation and
constraints. Nothing else in the package spells out a column list.

>>> print(create_table_sql(TABLES["links"]))  # doctest: +NORMALIZE_WHITESPACE
CREATE TABLE links (
  "event_id" VARCHAR NOT NULL,
  "investigation_id" VARCHAR NOT NULL,
  "confidence" DOUBLE NOT NULL CHECK ("confidence" >= 0.0 AND "confidence" <= 1.0),
  "method" VARCHAR NOT NULL CHECK ("method" IN ('manual', 'rule', 'linker', 'import')),
  "reasons" VARCHAR[] NOT NULL,
  "linked_at" TIMESTAMPTZ NOT NULL,
  PRIMARY KEY ("event_id", "investigation_id")
)
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

from .models import (
    Alias,
    Change,
    Event,
    ImportReject,
    Investigation,
    Link,
    Record,
    Relation,
    Review,
)

__all__ = ["SCHEMA_VERSION", "TABLES", "Column", "Table", "columns", "create_table_sql", "ddl"]

#: Version of the table layout written by this package. Bump it together with a
#: migration step in :mod:`rca_analytics.migrations` and a DDL snapshot in tests/snapshots.
#: 1: events, investigations, links, relations, changes. 2: investigations gain
#: impact_started_at and mitigated_at; import_rejects. 3: revision. 4: link_reviews.
#: 5: events.summary; name_aliases.
SCHEMA_VERSION = 5

#: Key/value table holding the schema version and provenance of a store file.
META_TABLE = "rca_meta"

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    """One column: its name, DuckDB type, nullability and CHECK expression."""

    name: str
    sql_type: str
    nullable: bool
    check: str | None = None


@dataclass(frozen=True)
class Table:
    """A table backed by a model.

    ``primary_key`` and ``unique`` become DuckDB constraints. ``keys`` are unique keys
    the store enforces itself inside its write transactions instead (one writer per
    file makes that safe): on the large events table DuckDB's index upkeep would cost
    more than half of the bulk-load speed.
    """

    name: str
    model: type[Record]
    primary_key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...] = ()
    keys: tuple[tuple[str, ...], ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    sequences: tuple[str, ...] = ()


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("events", Event, (), keys=(("id",), ("source", "source_id"))),
        Table("investigations", Investigation, ("id",)),
        Table("links", Link, ("event_id", "investigation_id")),
        Table("link_reviews", Review, ("event_id", "investigation_id")),
        Table(
            "investigation_relations", Relation, ("investigation_id", "related_investigation_id")
        ),
        Table(
            "changes",
            Change,
            ("seq",),
            defaults={"seq": "nextval('changes_seq')"},
            sequences=("changes_seq",),
        ),
        Table("import_rejects", ImportReject, ()),
        Table("name_aliases", Alias, ("alias",)),
    )
}


def quote(identifier: str) -> str:
    """Quote a whitelisted identifier (model field or table name) for SQL."""
    if not _IDENT.match(identifier):
        raise ValueError(f"not a valid identifier: {identifier!r}")
    return f'"{identifier}"'


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _sql_type(annotation: Any) -> tuple[str, tuple[Any, ...] | None]:
    """DuckDB type for an annotation, and the allowed values for enum-like types."""
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "VARCHAR", tuple(m.value for m in annotation)
    if origin is Literal:
        return "VARCHAR", get_args(annotation)
    if annotation is dt.datetime:
        return "TIMESTAMPTZ", None
    if annotation is bool:
        return "BOOLEAN", None
    if annotation is int:
        return "BIGINT", None
    if annotation is float:
        return "DOUBLE", None
    if annotation is str:
        return "VARCHAR", None
    if origin is list:
        (item,) = get_args(annotation)
        inner, choices = _sql_type(item)
        if choices is not None:
            raise TypeError("lists of enums are not supported")
        return f"{inner}[]", None
    if origin is dict or annotation is dict:
        return "JSON", None
    raise TypeError(f"no DuckDB type for {annotation!r}")


def _column(name: str, info: FieldInfo) -> Column:
    annotation, optional = _unwrap_optional(info.annotation)
    sql_type, choices = _sql_type(annotation)
    col = quote(name)
    checks = []
    if choices is not None:
        checks.append(f"{col} IN ({', '.join(_literal(c) for c in choices)})")
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            checks.append(f"{col} >= {meta.ge!r}")
        elif isinstance(meta, annotated_types.Le):
            checks.append(f"{col} <= {meta.le!r}")
        elif isinstance(meta, annotated_types.MaxLen):
            checks.append(f"length({col}) <= {meta.max_length}")
    return Column(name, sql_type, optional, " AND ".join(checks) or None)


@functools.cache
def columns(model: type[Record]) -> tuple[Column, ...]:
    """The columns of a model's table: its stored fields, in order.

    >>> [c.name for c in columns(Link)][:3]
    ['event_id', 'investigation_id', 'confidence']
    """
    return tuple(_column(name, model.model_fields[name]) for name in model.stored_fields())


@functools.cache
def json_columns(model: type[Record]) -> frozenset[str]:
    """Names of the model's JSON columns (stored as text, decoded on read)."""
    return frozenset(c.name for c in columns(model) if c.sql_type == "JSON")


def create_table_sql(table: Table) -> str:
    """The ``CREATE TABLE`` statement for one table."""
    lines = []
    for c in columns(table.model):
        parts = [quote(c.name), c.sql_type]
        if c.name in table.defaults:
            parts.append(f"DEFAULT {table.defaults[c.name]}")
        if not c.nullable:
            parts.append("NOT NULL")
        if c.check:
            parts.append(f"CHECK ({c.check})")
        lines.append(" ".join(parts))
    if table.primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(quote(k) for k in table.primary_key)})")
    lines.extend(f"UNIQUE ({', '.join(quote(k) for k in u)})" for u in table.unique)
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {table.name} (\n  {body}\n)"


def ddl() -> list[str]:
    """Every statement that creates an empty store at :data:`SCHEMA_VERSION`."""
    statements = [f"CREATE SEQUENCE {s} START 1" for t in TABLES.values() for s in t.sequences]
    statements.append(
        f"CREATE TABLE {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
    )
    statements.extend(create_table_sql(t) for t in TABLES.values())
    return statements
