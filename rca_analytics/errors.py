"""Errors raised by rca_analytics.

Every error the package raises on purpose derives from :class:`RcaError`, so one
``except rca.RcaError`` catches them all. The tree::

    RcaError
    ├── ValidationFailed        a record (or several, in bulk) failed validation;
    │                           ``.failures`` lists every problem with a reason code
    ├── QueryError              a query's arguments are wrong (unknown value or column,
    │                           unparseable time); raised before any SQL runs
    ├── ReaderError             an input (a file of another system) cannot be read at all
    └── StoreError              something about the store or what is in it
        ├── NotFound            no such record / link / store file (also a LookupError)
        ├── DuplicateRecord     the id or (source, source_id) key is taken
        ├── ReadOnlyStore       a write on a store opened with read_only=True
        ├── StoreLocked         another process (or this one) holds the file
        ├── CorruptStore        the file is not a readable rca_analytics store
        ├── WriteFailed         the file could not be written (disk full, size limit,
        │                       I/O error); earlier commits are safe, reopen the store
        ├── TransactionAborted  a call inside ``store.transaction()`` failed (even if
        │                       caught), so nothing of the block was stored
        └── SchemaVersionError  the file was written by a newer rca_analytics

One warning, also an ``RcaError`` (so ``except rca.RcaError`` catches it when warnings
are made errors)::

    RcaError, UserWarning
    └── UnknownNameWarning      a query's ``component=`` or ``service=`` names nothing
                                in the store while a near name exists

Messages say what went wrong, where (record id, row or file:line, field) and how
to fix it.

>>> import rca_analytics as rca
>>> try:
...     rca.Event(source="git", event_type="commit", severity="sever",
...               timestamp="2026-03-01T10:00:00Z")
... except rca.ValidationFailed as err:
...     [(f.field, f.code) for f in err.failures]
[('severity', <Reason.INVALID_CHOICE: 'invalid_choice'>)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CorruptStore",
    "DuplicateRecord",
    "Failure",
    "NotFound",
    "QueryError",
    "RcaError",
    "ReadOnlyStore",
    "ReaderError",
    "SchemaVersionError",
    "StoreError",
    "StoreLocked",
    "TransactionAborted",
    "UnknownNameWarning",
    "ValidationFailed",
    "WriteFailed",
]


class RcaError(Exception):
    """Base class of every error raised by rca_analytics."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One problem with one record.

    Attributes:
        record: Which record: its id (or ``source:source_id``, or title), or
            ``"file:line"`` for readers; ``None`` when it has no identity yet.
        field: The field at fault (dotted path for nested values), or ``None`` when the
            problem concerns the whole record.
        code: Why: a :class:`~rca_analytics.Reason` (it equals its text, e.g.
            ``"missing"``, ``"unknown_field"``, ``"invalid_choice"``,
            ``"naive_datetime"``, ``"too_long"``; see ``docs/reasons.md``).
        message: A human sentence saying what is wrong and how to fix it.
        value: The offending input value (``None`` when not applicable).
        row: Position of the record in a bulk input, else ``None``.
    """

    record: str | int | None
    field: str | None
    code: str
    message: str
    value: Any = None
    row: int | None = None

    def __str__(self) -> str:
        where = [] if self.row is None else [f"row {self.row}"]
        if self.record is not None:
            where.append(f"record {self.record}")
        prefix = f"{' '.join(where)}: " if where else ""
        what = "" if self.field is None else f"{self.field}: "
        return f"{prefix}{what}{self.message} [{self.code}]"


class ValidationFailed(RcaError):
    """Input did not validate. ``failures`` lists every problem found, not just the first.

    Args:
        failures: The problems, in input order.
        kind: What was being validated, e.g. ``"Event"``.
    """

    def __init__(self, failures: Iterable[Failure], kind: str = "record") -> None:
        self.failures: tuple[Failure, ...] = tuple(failures)
        self.kind = kind
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.failures)
        records = {f.record for f in self.failures}
        head = f"{self.kind}: {n} problem{'s' if n != 1 else ''}"
        if len(records) > 1:
            head += f" in {len(records)} records"
        shown = [f"  - {f}" for f in self.failures[:20]]
        if n > 20:
            shown.append(f"  ... and {n - 20} more (see .failures)")
        return "\n".join([head, *shown])

    def with_record(self, record: str | int | None) -> ValidationFailed:
        """Return a copy whose failures name ``record`` (used by bulk paths and readers)."""
        return ValidationFailed(
            (
                dataclasses.replace(f, record=record) if f.record is None else f
                for f in self.failures
            ),
            self.kind,
        )


class QueryError(RcaError, ValueError):
    """A query was given a value, column or time it cannot use."""


class ReaderError(RcaError):
    """An input cannot be read at all (missing, another format, unreadable).

    Single bad records inside a readable input are not errors: readers report them.
    """


class StoreError(RcaError):
    """Base class of errors about the store file or the records in it."""


class NotFound(StoreError, LookupError):
    """No record (or link, or store file) with the given identity."""


class DuplicateRecord(StoreError):
    """A record with the same id, or an event with the same ``(source, source_id)``, exists.

    Attributes:
        existing_id: Id of the record that already owns the key.
        key: The clashing key, e.g. ``{"source": "git", "source_id": "9fceb02"}``.
        deleted: Whether the existing record is soft-deleted (restore it instead).
    """

    def __init__(self, message: str, *, existing_id: str, key: dict[str, Any], deleted: bool):
        super().__init__(message)
        self.existing_id = existing_id
        self.key = key
        self.deleted = deleted


class ReadOnlyStore(StoreError):
    """A write was attempted on a store opened with ``read_only=True``."""


class StoreLocked(StoreError):
    """The store file is held by another writer.

    Attributes:
        path: The store file.
        pid: Process id of the holder when DuckDB reports it, else ``None``.
    """

    def __init__(self, message: str, *, path: Path | None, pid: int | None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


class CorruptStore(StoreError):
    """The file is not a readable rca_analytics store (damaged, or some other file)."""

    def __init__(self, message: str, *, path: Path | None) -> None:
        super().__init__(message)
        self.path = path


class WriteFailed(StoreError):
    """The store file could not be written (disk full, file size limit, I/O error).

    What was committed before is safe; the write that failed is not in the file. The
    store must be opened again (``rca.connect``) once the cause is fixed.
    """

    def __init__(self, message: str, *, path: Path | None) -> None:
        super().__init__(message)
        self.path = path


class TransactionAborted(StoreError):
    """Leaving ``store.transaction()`` after a call inside it failed: nothing was stored.

    DuckDB has no savepoints: once a statement inside a transaction fails, the whole
    transaction is discarded, even when the caller catches the error and goes on. The
    block therefore raises this when it ends, instead of returning as if its writes
    had landed. Run the block again without the failing call.
    """


class SchemaVersionError(StoreError):
    """The store's schema version is not one this package can open.

    Attributes:
        found: Schema version recorded in the file.
        supported: Newest schema version this package knows.
    """

    def __init__(self, message: str, *, found: int, supported: int) -> None:
        super().__init__(message)
        self.found = found
        self.supported = supported


class UnknownNameWarning(RcaError, UserWarning):
    """A query filtered on a component or service name the store does not have.

    Issued when a near name exists (``"paymnts"`` while ``"payments"`` is stored), so a
    typo does not pass for "no such events". The frame comes back as usual (empty, or
    without that name's rows) and its ``attrs["notes"]`` says the same. Silence it with
    ``warnings.simplefilter("ignore", rca.UnknownNameWarning)``; make it an error with
    ``"error"``.

    Attributes:
        keyword: The filter (``component``, ``investigation_service``...).
        name: The name asked for.
        suggestion: The near name in the store.
    """

    def __init__(self, message: str, *, keyword: str, name: str, suggestion: str) -> None:
        super().__init__(message)
        self.keyword = keyword
        self.name = name
        self.suggestion = suggestion
