"""One shape for every report: what an operation that takes input did.

Every report (:class:`~rca_analytics.LoadReport`, :class:`~rca_analytics.IngestReport`,
:class:`~rca_analytics.SqliteImportReport`, :class:`~rca_analytics.LakeImportReport`,
:class:`~rca_analytics.LakeExportReport`, :class:`~rca_analytics.AutoLinkReport`) is a
:class:`OperationReport` and counts with the same words:

``stored``
    New records (links for ``auto_link``, event partitions for an export) written.
``updated``
    Records already stored that the input changed.
``unchanged``
    Input that was stored already as it is (a duplicate, a link already there): nothing
    changed.
``rejected_rows``
    Input rows (records, lines, documents, links) not taken because of a problem; each
    has at least one row in ``rejects``.
``skipped_rows``
    Input left out on purpose (below ``min_level``, a pair a reviewer judged...).

``rejects`` is a DataFrame with one row per problem and always the same columns first:
``where`` (row number, ``file:line``, ``file#/json/pointer``, ``table row n``),
``record`` (id or key when known), ``field``, ``code`` (a :class:`~rca_analytics.Reason`),
``message`` and ``value`` (the offending value as text, at most 200 characters). A
report may add columns after these (``row``, ``table``, ``file``).

Every report has ``summary()`` (a few lines for people), ``to_dict()`` (what
``json.dumps`` takes), a one-line ``repr`` and an HTML view for notebooks.

>>> r = OperationReport(stored=2, rejected_rows=1, rejects=rejects_frame(
...     [("a.log:3", None, "time", "invalid_datetime", "not a time", "soon")]))
>>> r
<OperationReport stored=2 updated=0 unchanged=0 rejected_rows=1 skipped_rows=0>
>>> print(r.summary())
report: 2 stored, 0 updated, 0 unchanged, 1 rejected, 0 skipped
  rejected: 1 × invalid_datetime
>>> r.to_dict()["rejects"][0]["code"]
'invalid_datetime'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import html
import math
import os
import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ._reasons import Reason

__all__ = [
    "COUNTS",
    "REJECT_COLUMNS",
    "VALUE_LIMIT",
    "Counts",
    "OperationReport",
    "rejects_frame",
    "shown",
]

#: The count words every report has, in this order.
COUNTS = ("stored", "updated", "unchanged", "rejected_rows", "skipped_rows")
#: The columns every ``rejects`` frame starts with.
REJECT_COLUMNS = ("where", "record", "field", "code", "message", "value")
#: Longest offending value a reject shows (longer ones are cut, with an ellipsis).
VALUE_LIMIT = 200
#: Rejects shown in a notebook's view of a report.
_HTML_REJECTS = 10
_SURROGATES = re.compile("[\ud800-\udfff]")
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = VALUE_LIMIT


def _text(value: str) -> str:
    """Text that can be shown and stored: lone surrogates become backslash escapes."""
    if _SURROGATES.search(value):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def shown(value: Any, limit: int = VALUE_LIMIT) -> str | None:
    """An offending value as text for a reject: cut to ``limit`` characters, or None.

    >>> shown("sever"), shown(3.5), shown(None), shown(["a"])
    ('sever', '3.5', None, "['a']")
    >>> len(shown("x" * 500)), shown("x" * 500)[-1]
    (200, '…')
    """
    if _missing(value):
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes | bytearray | list | tuple | dict | set | frozenset):
        text = _REPR.repr(value)  # a few items, never the whole of a big value
    else:
        try:
            text = str(value)
        except Exception:  # a value whose str() fails is still a reject to show
            text = object.__repr__(value)
    text = _text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(code: Any) -> str:
    """A reject's code as its :class:`Reason` (codes of earlier releases renamed)."""
    try:
        return Reason(code).value
    except ValueError:
        return str(code)


def _cell(value: Any) -> str | None:
    return None if _missing(value) else _text(str(value))


def rejects_frame(
    rows: Iterable[Sequence[Any]], extra: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The ``rejects`` frame of a report.

    Args:
        rows: ``(where, record, field, code, message, value, *extra)`` per problem;
            ``value`` is the offending value as given (it is shown as text here).
        extra: Columns after the standard ones, name → dtype (e.g. ``{"row": "int64"}``).

    >>> rejects_frame([(3, "ev-1", "severity", "invalid_choice", "not a severity", "loud")])
      where record     field            code         message value
    0     3   ev-1  severity  invalid_choice  not a severity  loud
    """
    extra = dict(extra or {})
    records = [
        (
            _cell(where),
            _cell(record),
            _cell(fld),
            _code(code),
            _cell(message),
            shown(value),
            *rest,
        )
        for where, record, fld, code, message, value, *rest in rows
    ]
    frame = pd.DataFrame(records, columns=[*REJECT_COLUMNS, *extra])
    return frame.astype({**dict.fromkeys(REJECT_COLUMNS, "str"), **extra})


def _empty_rejects() -> pd.DataFrame:
    return rejects_frame([])


class Counts(dict[str, int]):
    """A dict of counts whose keys of earlier releases still answer (``["imported"]``).

    Iterating, ``==`` and ``json.dumps`` see only the current keys.

    >>> c = Counts({"read": 3, "stored": 2}, renamed={"imported": "stored"})
    >>> c["imported"], c.get("imported"), c
    (2, 2, {'read': 3, 'stored': 2})
    """

    def __init__(
        self, counts: Mapping[str, int] | None = None, *, renamed: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(counts or {})
        self._renamed = dict(renamed or {})

    def __missing__(self, key: str) -> int:
        new = self._renamed.get(key)
        if new is None or new not in self:
            raise KeyError(key)
        return self[new]

    def get(self, key: str, default: Any = None) -> Any:
        """``d[key]`` (an earlier key too), else ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    @classmethod
    def renamed_from(cls, counts: Mapping[str, int], renamed: Mapping[str, str]) -> Counts:
        """Counts under their current names from a dict under the earlier ones (old → new)."""
        return cls({renamed.get(k, k): int(v) for k, v in counts.items()}, renamed=renamed)


def _plain(value: Any) -> Any:
    """``value`` as what ``json.dumps`` takes (frames as lists of records)."""
    if isinstance(value, OperationReport):
        return value.to_dict()
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.astype(object).to_dict("records")]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _plain(value.tolist())
    if _missing(value):
        return None
    return str(value)


@dataclass(kw_only=True, eq=False, repr=False)
class OperationReport:
    """What an operation that takes input did; the base of every report.

    Attributes:
        stored: New records written (links for ``auto_link``, event partitions for an
            export).
        updated: Stored records the input changed.
        unchanged: Input stored already as it is (duplicates): nothing changed.
        rejected_rows: Input rows not taken because of a problem (see ``rejects``).
        skipped_rows: Input left out on purpose.
        rejects: One row per problem: ``where``, ``record``, ``field``, ``code``,
            ``message``, ``value``, then any columns of the report's own.
    """

    #: What the counts count, for people.
    unit: ClassVar[str] = "records"

    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    skipped_rows: int = 0
    rejects: pd.DataFrame = field(default_factory=_empty_rejects, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        """The five counts by name (:data:`COUNTS`)."""
        return {name: int(getattr(self, name)) for name in COUNTS}

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return self.rejects.empty

    # --- what a report adds (overridden) ------------------------------------------------

    def _title(self) -> str:
        """The first line of the summary."""
        if type(self) is OperationReport:
            return "report"
        name = type(self).__name__.removesuffix("Report")
        return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()

    def _label(self) -> str:
        """What the report is about, for its repr (a file name, a reader), or ""."""
        return ""

    def _lines(self) -> list[str]:
        """The summary's lines after the title (before the rejects)."""
        c = self.counts
        return [
            f"  {c['stored']:,} stored, {c['updated']:,} updated, {c['unchanged']:,} unchanged, "
            f"{c['rejected_rows']:,} rejected, {c['skipped_rows']:,} skipped"
        ]

    def _fields(self) -> dict[str, Any]:
        """The report's own fields for ``to_dict`` (values made JSON-ready there)."""
        own = [f.name for f in dataclasses.fields(self) if f.name not in (*COUNTS, "rejects")]
        return {name: getattr(self, name) for name in own}

    def _repr_fields(self) -> dict[str, Any]:
        """Short figures of the report's own for its repr."""
        return {}

    # --- the shared surface -------------------------------------------------------------

    def _reject_lines(self) -> list[str]:
        if self.rejects.empty:
            return []
        by = ["table", "code"] if "table" in self.rejects.columns else ["code"]
        groups = self.rejects.groupby(by, sort=True).size().reset_index(name="n")
        lines = []
        for *keys, n in groups.itertuples(index=False, name=None):
            where = f" in {keys[0]}" if len(keys) == 2 else ""
            lines.append(f"  rejected: {n:,} × {keys[-1]}{where}")
        return lines

    def summary(self) -> str:
        """A few lines for people: what was stored, what not and why."""
        title = self._title()
        lines = self._lines()
        if type(self)._lines is OperationReport._lines:  # the counts alone: on the title line
            title, lines = f"{title}: {lines[0].strip()}", []
        return "\n".join([title, *lines, *self._reject_lines()])

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as what ``json.dumps`` takes (rejects as records)."""
        body: dict[str, Any] = {"report": type(self).__name__, **self.counts}
        body.update(_plain(self._fields()))
        body["rejects"] = _plain(self.rejects)
        return body

    def __repr__(self) -> str:
        label = self._label()
        figures = {**self.counts, **self._repr_fields()}
        shown_ = " ".join(f"{k}={v}" for k, v in figures.items())
        return f"<{type(self).__name__}{' ' + label + ':' if label else ''} {shown_}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td>{v:,}</td></tr>"
            for k, v in self.counts.items()
        )
        lines = self.summary().split("\n")
        parts = [
            "<div class='rca-report'>",
            f"<table><caption style='text-align:left'>{esc(lines[0])}</caption>{rows}</table>",
        ]
        if len(lines) > 1:
            parts.append(f"<pre>{esc(chr(10).join(lines[1:]))}</pre>")
        if not self.rejects.empty:
            n = len(self.rejects)
            head = f"first {_HTML_REJECTS} of {n:,} rejects" if n > _HTML_REJECTS else "rejects"
            parts.append(f"<p>{esc(head)}</p>")
            parts.append(self.rejects.head(_HTML_REJECTS).to_html(index=False, escape=True))
        parts.append("</div>")
        return "".join(parts)
