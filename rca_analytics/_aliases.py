"""A store's names: the aliases a team declares, and how queries read names through them.

The operations behind :meth:`Store.alias`, :meth:`Store.aliases` and
:meth:`Store.remove_alias` (the one writer of ``name_aliases``), and the
:class:`Vocabulary` every query uses: which stored spellings a ``component=`` or
``service=`` filter matches (by key, through the aliases), what to say when a name
matches nothing, and how frames show names (as the team writes them).

Each name that has aliases is stored as an alias of itself too, so that every spelling
of it (``Payments``, ``PAYMENTS ``) shows as the team writes it. Filters compare stored
spellings, found once per table and column and kept until the store writes again, so
they cost an ``IN`` on the column, not a key computed for every row.

>>> import rca_analytics as rca
>>> from rca_analytics import _data
>>> store = rca.connect(":memory:")
>>> data = _data.of(store)
>>> declare(data, "payments", ["Payments-API", "pay"])
>>> aliases(data).canonical(" PAYMENTS-api")
'payments'
"""

from __future__ import annotations

import difflib
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _records
from . import _validate as v
from ._data import Data
from ._frames import to_frame
from ._names import Aliases, key
from ._reasons import Reason
from .errors import Failure, NotFound, UnknownNameWarning, ValidationFailed
from .models import Alias, Event, Investigation, Record
from .schema import quote

__all__ = [
    "NAME_FIELDS",
    "TABLE",
    "Vocabulary",
    "aliases",
    "declare",
    "frame",
    "remove",
    "spellings",
]

#: The table of aliases.
TABLE = "name_aliases"
#: The name fields of each kind of record (shown through the aliases in frames).
NAME_FIELDS: dict[type[Record], tuple[str, ...]] = {
    Event: ("component", "service"),
    Investigation: ("component_affected", "service_affected"),
}
_PACKAGE = str(Path(__file__).parent)
T = TypeVar("T")


# --- reading, kept between writes --------------------------------------------------------


def _cached(data: Data, name: str, build: Callable[[], T]) -> T:
    """``build()``, kept in the store's cache until the store writes again."""
    handle = data.handle
    with handle.lock:
        hit = handle.cache.get(name)
        if hit is not None and hit[0] == handle.writes:
            value: T = hit[1]
            return value
        value = build()
        handle.cache[name] = (handle.writes, value)
        return value


def _read(data: Data) -> Aliases:
    if not data.has_table(TABLE):  # a file from before aliases, opened read-only
        return Aliases()
    rows = data.rows(f"SELECT alias, name FROM {TABLE}")  # noqa: S608 - constant
    return Aliases({r["alias"]: r["name"] for r in rows})


def aliases(data: Data) -> Aliases:
    """The store's aliases (alias key -> name)."""
    return _cached(data, "aliases", lambda: _read(data))


def spellings(data: Data, table: str, column: str) -> Mapping[str, tuple[str, ...]]:
    """The spellings stored in a name column (soft-deleted records too), by key.

    The most used spelling of a key comes first. ``table`` and ``column`` must be
    whitelisted (a table and one of its name fields).
    """

    def build() -> dict[str, tuple[str, ...]]:
        col = quote(column)
        found = data.arrow(
            f"SELECT {col} AS name FROM {table} WHERE {col} IS NOT NULL "  # noqa: S608
            f"GROUP BY {col} ORDER BY count(*) DESC, {col}"
        )
        out: dict[str, list[str]] = {}
        for spelling in found.column("name").to_pylist():
            k = key(spelling)
            if k is not None:
                out.setdefault(k, []).append(spelling)
        return {k: tuple(s) for k, s in out.items()}

    return _cached(data, f"spellings:{table}.{column}", build)


def frame(data: Data) -> pd.DataFrame:
    """The aliases as a frame: ``alias`` (the key), ``name``, ``created_at``."""
    kinds = {"alias": "str", "name": "str"}
    if not data.has_table(TABLE):
        empty = pa.table(
            {
                "alias": pa.array([], pa.string()),
                "name": pa.array([], pa.string()),
                "created_at": pa.array([], pa.timestamp("us", tz="UTC")),
            }
        )
        return to_frame(empty, kinds)
    table = data.arrow(
        f"SELECT alias, name, created_at FROM {TABLE} ORDER BY name, alias"  # noqa: S608
    )
    return to_frame(table, kinds)


# --- writing ------------------------------------------------------------------------------


def _key_of(value: Any) -> str | None:
    """The key of a name as given (numbers become text, as records read them)."""
    try:
        return key(v.clean_name(value))
    except ValueError:  # not text: the model says why
        return None


def _validated(name: Any, given: Sequence[Any]) -> tuple[str, list[tuple[Any, str]]]:
    """The name as the team writes it, and each alias (as given) with its key."""
    problems: list[Failure] = []
    out: list[tuple[Any, str]] = []
    canonical = ""
    for i, raw in enumerate((name, *given)):
        try:
            record = Alias.model_validate({"alias": raw, "name": name})
        except ValidationFailed as err:
            field = "name" if i == 0 else "alias"
            problems += [f for f in err.failures if f.field == field or f.field is None]
            continue
        k = _key_of(raw)
        assert k is not None  # the model refused blanks and non-text
        canonical = record.name
        out.append((raw, k))
    if problems:
        raise ValidationFailed(problems, "Alias")
    return canonical, out


def declare(data: Data, name: Any, given: Sequence[Any]) -> None:
    """Make each of ``given`` (and every spelling of ``name``) stand for ``name``.

    Idempotent. Raises :class:`ValidationFailed` (code ``duplicate_id``) for an alias
    that stands for another name already, or when ``name`` is itself an alias of
    another name; nothing is stored then.
    """
    data.require_writable()
    canonical, keyed = _validated(name, given)
    with data.write():
        current = _read(data)
        problems = []
        todo: dict[str, None] = {}
        for raw, k in keyed:
            have = current.names.get(k)
            if have is None:
                todo[k] = None
            elif have != canonical:
                problems.append(_conflict(raw, k, have, canonical, current))
        if problems:
            raise ValidationFailed(problems, "Alias")
        for k in todo:
            _records.insert(data, Alias, Alias(alias=k, name=canonical))


def _conflict(raw: Any, k: str, have: str, name: str, current: Aliases) -> Failure:
    if key(have) == key(name):
        why = (
            f"{name!r} is written {have!r} already; remove_alias({have!r}) (and its "
            f"aliases with it) to write it {name!r}"
        )
    elif k == key(name):
        why = (
            f"{name!r} is itself an alias of {have!r}: declare aliases of {have!r}, or "
            f"remove_alias({raw!r}) first"
        )
    elif current.group(k) == k:
        others = sorted(a for a in current.names if current.group(a) == k and a != k)
        why = (
            f"{raw!r} is a name with aliases of its own ({', '.join(others) or 'none'}); "
            f"remove_alias({raw!r}) first to make it an alias of {name!r}"
        )
    else:
        why = f"{raw!r} stands for {have!r} already; remove_alias({raw!r}) first"
    return Failure(raw, "alias", Reason.DUPLICATE_ID, why, raw)


def remove(data: Data, given: Sequence[Any]) -> None:
    """Remove aliases; removing a name that has aliases removes all of them.

    Raises:
        NotFound: One of ``given`` is not an alias (nothing is removed).
    """
    data.require_writable()
    with data.write():
        current = _read(data)
        gone: dict[str, None] = {}
        for raw in given:
            k = _key_of(raw)
            if k is None or k not in current.names:
                known = sorted(current.names)
                close = difflib.get_close_matches(k or "", known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                listed = f" (aliases: {', '.join(known)})" if known else " (there are none)"
                raise NotFound(f"no alias {raw!r} in {data.label}{hint}{listed}")
            if current.group(k) == k:  # a name: it and all its aliases
                gone.update(dict.fromkeys(a for a in current.names if current.group(a) == k))
            gone[k] = None
        if gone:
            marks = ", ".join("?" for _ in gone)
            data.execute(f"DELETE FROM {TABLE} WHERE alias IN ({marks})", list(gone))  # noqa: S608


# --- what queries use ---------------------------------------------------------------------


class Vocabulary:
    """One query's view of the store's names.

    :meth:`stored` turns the names a filter asks for into the spellings stored, noting
    names that match nothing; :meth:`show` puts frames' names as the team writes them;
    :meth:`finish` hands the notes to the frame (``attrs["notes"]``) and issues an
    :class:`UnknownNameWarning` for each name with a near one in the store.
    """

    def __init__(self, data: Data) -> None:
        self.data = data
        self.notes: list[str] = []
        self._warnings: list[UnknownNameWarning] = []

    @property
    def aliases(self) -> Aliases:
        """The store's aliases (read when first needed: arguments are checked first)."""
        return aliases(self.data)

    def stored(self, table: str, column: str, label: str, names: Sequence[str]) -> list[str]:
        """The spellings in ``table.column`` of each name (by key, through the aliases)."""
        known = spellings(self.data, table, column)
        out: dict[str, None] = {}
        for name in names:
            found = [s for k in self.aliases.keys(name) for s in known.get(k, ())]
            if not found:
                self._unknown(label, name, column, known)
            out.update(dict.fromkeys(found))
        return list(out)

    def same(self, table: str, column: str, name: str | None) -> list[str]:
        """The spellings in ``table.column`` of one name (none for None), without notes."""
        if name is None:
            return []
        known = spellings(self.data, table, column)
        return [s for k in self.aliases.keys(name) for s in known.get(k, ())]

    def _unknown(
        self, label: str, name: str, column: str, known: Mapping[str, tuple[str, ...]]
    ) -> None:
        what = column.removesuffix("_affected")
        near: dict[str, str] = {k: self.aliases.canonical(s[0]) for k, s in known.items()}
        for a, target in self.aliases.names.items():
            if a not in near and any(k in known for k in self.aliases.keys(target)):
                near[a] = target
        close = difflib.get_close_matches(key(name) or "", list(near), n=1)
        if close:
            suggestion = near[close[0]]
            note = f"{label}: no {what} {name!r} in the store; did you mean {suggestion!r}?"
            self._warnings.append(
                UnknownNameWarning(note, keyword=label, name=name, suggestion=suggestion)
            )
        else:
            note = f"{label}: no {what} {name!r} in the store"
        self.notes.append(note)

    def show(self, table: pa.Table, columns: Iterable[str]) -> pa.Table:
        """``table`` with the name ``columns`` (those it has) as the team writes them."""
        if not self.aliases:
            return table
        for name in columns:
            if name not in table.column_names:
                continue
            column = table.column(name)
            encoded = pc.dictionary_encode(column.combine_chunks())
            before = encoded.dictionary.to_pylist()
            after = [self.aliases.canonical(x) for x in before]
            if after != before:
                shown = pc.take(pa.array(after, column.type), encoded.indices)
                table = table.set_column(table.column_names.index(name), name, shown)
        return table

    def group_sql(self, table: str, column: str, expr: str) -> tuple[str, list[Any]]:
        """SQL showing ``expr`` (a stored name of ``table.column``) as the team writes it."""
        pairs = [
            (s, shown)
            for spellings_ in spellings(self.data, table, column).values()
            for s in spellings_
            if (shown := self.aliases.canonical(s)) != s
        ]
        if not pairs:
            return expr, []
        cases = " ".join("WHEN ? THEN ?" for _ in pairs)
        return f"CASE {expr} {cases} ELSE {expr} END", [x for pair in pairs for x in pair]

    def finish(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Notes into ``frame.attrs["notes"]`` (when there are any), and the warnings."""
        if self.notes:
            frame.attrs["notes"] = list(self.notes)
        level = _stacklevel()
        for warning in self._warnings:
            warnings.warn(warning, stacklevel=level)
        return frame


def _stacklevel() -> int:
    """The ``stacklevel`` that names the first caller outside the package."""
    level, f = 1, sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f, level = f.f_back, level + 1  # type: ignore[assignment]
    return level
