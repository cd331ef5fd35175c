"""The filters of the DataFrame queries, declared once.

Each :class:`Filter` is one keyword of :meth:`Store.events` or
:meth:`Store.investigations`: how its values are read, the column it tests and how
(the SQL builder in :mod:`._where` follows it), the text of the docstring's ``Args``
entry (``rca query --help`` shows the same text), its Python annotation and default,
and its ``rca query`` flag. The Store's explicit keyword signatures stay the source
people see; ``tests/test_filters.py`` pins them, their docstrings, the forwarding to
:mod:`.queries` and the command line to these tables.

Nothing here runs SQL or imports pandas (the command line reads it to build its
options).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from . import _validate as v
from .models import EventSeverity, EventSource, ImpactSeverity, InvestigationStatus, Priority

__all__ = [
    "EVENTS",
    "EVENT_FILTERS",
    "INVESTIGATIONS",
    "INVESTIGATION_FILTERS",
    "INVESTIGATION_TIME",
    "QUERIES",
    "Filter",
    "Op",
]

#: How a filter tests its column:
#: ``in`` one value or a list (``column IN (...)``); ``name`` one component or service
#: name or a list, compared by key (any case and spacing) and through the store's
#: aliases (:mod:`._names`); ``at_least`` one enum value and
#: every worse / more urgent one; ``tags`` a tag or a list, any or all of them as
#: ``match`` says; ``match`` that choice (no condition of its own); ``since`` / ``until``
#: a time bound, inclusive / exclusive; ``linked`` events linked to one of the given
#: investigations.
Op = Literal["in", "name", "at_least", "tags", "match", "since", "until", "linked"]

_ANNOTATION: dict[Op, str] = {
    "in": "str | Iterable[str] | None",
    "name": "str | Iterable[str] | None",
    "at_least": "str | None",
    "tags": "str | Iterable[str] | None",
    "match": "str",
    "since": "Any",
    "until": "Any",
    "linked": "str | Iterable[str] | None",
}


@dataclass(frozen=True)
class Filter:
    """One filter keyword of a query.

    Attributes:
        name: The keyword (``min_severity``); the flag is ``--min-severity``.
        op: How it tests its column (see :data:`Op`).
        help: The docstring's ``Args`` text for it, and the flag's help.
        columns: The model fields it tests (several: the first that is not null).
        enum: The values allowed, for an enum column.
        rule: How a name is read and checked (``in``, ``name`` and ``linked`` without
            ``enum``).
        metavar: The value's name on the command line.
    """

    name: str
    op: Op
    help: str
    columns: tuple[str, ...] = ()
    enum: type[StrEnum] | None = None
    rule: Callable[[Any], Any] = v.clean_name
    metavar: str = "NAME"

    @property
    def many(self) -> bool:
        """Whether it takes a list (on the command line: several values)."""
        return self.op in ("in", "name", "tags", "linked")

    @property
    def annotation(self) -> str:
        """The keyword's annotation in the Store's signature."""
        return _ANNOTATION[self.op]

    @property
    def default(self) -> Any:
        """The keyword's default (``match``: ``"any"``; the rest: no filter)."""
        return "any" if self.op == "match" else None

    @property
    def flag(self) -> str:
        """The ``rca query`` option."""
        return "--" + self.name.replace("_", "-")


_NAMES = "any case or spacing; an alias stands for its name"
_TAGS = "A tag or a list; ``match`` says whether any or all of them must be there."
_MATCH = "How ``tags`` combine: ``any`` (the default) or ``all``."

#: The filters of :meth:`Store.events`, in signature order.
EVENTS: tuple[Filter, ...] = (
    Filter(
        "severity",
        "in",
        "One severity or a list: ``info``, ``low``, ``medium``, ``high``, ``critical``.",
        ("severity",),
        EventSeverity,
        metavar="LEVEL",
    ),
    Filter(
        "min_severity",
        "at_least",
        "This severity or worse (``high`` gives high and critical).",
        ("severity",),
        EventSeverity,
        metavar="LEVEL",
    ),
    Filter(
        "source",
        "in",
        "One source or a list: ``git``, ``ci``, ``logs``, ``metrics``, ``traces``, ``manual``.",
        ("source",),
        EventSource,
        metavar="SOURCE",
    ),
    Filter(
        "event_type",
        "in",
        "One event type or a list (``deploy``, ``error``...).",
        ("event_type",),
        rule=v.event_type_name,
        metavar="TYPE",
    ),
    Filter("component", "name", f"One component or a list ({_NAMES}).", ("component",)),
    Filter("service", "name", f"One service or a list ({_NAMES}).", ("service",)),
    Filter(
        "source_id",
        "in",
        "One identifier in the source (commit SHA, build id...) or a list.",
        ("source_id",),
        metavar="ID",
    ),
    Filter("tags", "tags", _TAGS, ("tags",), metavar="TAG"),
    Filter("match", "match", _MATCH, metavar="any|all"),
    Filter(
        "since",
        "since",
        "Events at or after this time (inclusive).",
        ("timestamp",),
        metavar="TIME",
    ),
    Filter(
        "until",
        "until",
        "Events before this time (exclusive).",
        ("timestamp",),
        metavar="TIME",
    ),
    Filter(
        "investigation_id",
        "linked",
        "Events linked to this investigation (or to any of a list).",
        ("id",),
        rule=v.record_id,
        metavar="ID",
    ),
)

#: When an investigation happened: detection, else creation (time filters, order, counts).
INVESTIGATION_TIME = ("detected_at", "created_at")

#: The filters of :meth:`Store.investigations`, in signature order.
INVESTIGATIONS: tuple[Filter, ...] = (
    Filter(
        "status",
        "in",
        "One status or a list: ``open``, ``in_progress``, ``resolved``, ``closed``.",
        ("status",),
        InvestigationStatus,
        metavar="STATUS",
    ),
    Filter(
        "priority",
        "in",
        "One priority or a list: ``P0`` (the most urgent), ``P1``, ``P2``, ``P3``.",
        ("priority",),
        Priority,
        metavar="PRIORITY",
    ),
    Filter(
        "min_priority",
        "at_least",
        "This priority or more urgent (``P1`` gives P1 and P0).",
        ("priority",),
        Priority,
        metavar="PRIORITY",
    ),
    Filter(
        "impact_severity",
        "in",
        "One impact severity or a list: ``low``, ``medium``, ``high``, ``critical``.",
        ("impact_severity",),
        ImpactSeverity,
        metavar="LEVEL",
    ),
    Filter(
        "min_impact_severity",
        "at_least",
        "This impact severity or worse (``high`` gives high and critical).",
        ("impact_severity",),
        ImpactSeverity,
        metavar="LEVEL",
    ),
    Filter(
        "component",
        "name",
        f"One component or a list, of ``component_affected`` ({_NAMES}).",
        ("component_affected",),
    ),
    Filter(
        "service",
        "name",
        f"One service or a list, of ``service_affected`` ({_NAMES}).",
        ("service_affected",),
    ),
    Filter("assigned_to", "in", "Assigned to this person (or any of a list).", ("assigned_to",)),
    Filter("created_by", "in", "Created by this person (or any of a list).", ("created_by",)),
    Filter("tags", "tags", _TAGS, ("tags",), metavar="TAG"),
    Filter("match", "match", _MATCH, metavar="any|all"),
    Filter(
        "since",
        "since",
        "Investigations detected at or after this time (inclusive; ``created_at`` when "
        "``detected_at`` is missing).",
        INVESTIGATION_TIME,
        metavar="TIME",
    ),
    Filter(
        "until",
        "until",
        "Investigations detected before this time (exclusive; ``created_at`` when "
        "``detected_at`` is missing).",
        INVESTIGATION_TIME,
        metavar="TIME",
    ),
)

#: The filters of each query, by the query's (and its table's) name.
QUERIES: Mapping[str, tuple[Filter, ...]] = {"events": EVENTS, "investigations": INVESTIGATIONS}

#: Filter names of :meth:`Store.events` (``investigation_id``: linked to it).
EVENT_FILTERS: tuple[str, ...] = tuple(f.name for f in EVENTS)
#: Filter names of :meth:`Store.investigations`.
INVESTIGATION_FILTERS: tuple[str, ...] = tuple(f.name for f in INVESTIGATIONS)
