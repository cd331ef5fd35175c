"""Readers: turn files and signals from other systems into records.

A reader parses its input and yields records with what it could not read; it never
writes to a store. :meth:`rca_analytics.Store.ingest` loads what readers yield, and
:func:`rca_analytics.read` shows it without a store. Each reader's field mappings and
severity rules are in ``docs/readers/<kind>.md``.

| kind | input | becomes |
|---|---|---|
| ``git`` | a local git repository | ``commit`` and ``tag`` events |
| ``github`` | GitHub webhook bodies | ``ci``, push, ``deploy`` events; incident issues |
| ``junit`` | JUnit/xUnit XML | ``ci`` ``test_run`` events |
| ``logs`` | JSON lines, logfmt, syslog, plain lines | ``logs`` events at or above a level |
| ``alerts`` | Alertmanager webhook bodies | ``metrics`` ``alert`` events |
| ``otlp`` | OTLP/JSON traces and logs | ``traces`` and ``logs`` events |
| ``statuspage`` | Statuspage v2 incidents | investigations with their updates as events |
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from ..errors import ReaderError

__all__ = ["KINDS", "options", "reader"]

#: The readers, by the kind named in ``Store.ingest(kind, ...)`` and ``rca ingest KIND``.
KINDS = ("git", "github", "junit", "logs", "alerts", "otlp", "statuspage")


def reader(kind: str) -> ModuleType:
    """The module reading ``kind`` (imported on first use).

    Raises:
        ReaderError: No reader of that kind.

    >>> reader("logs").__name__
    'rca_analytics.ingest.logs'
    """
    if kind not in KINDS:
        raise ReaderError(f"no reader for {kind!r}; the readers are {', '.join(KINDS)}")
    return importlib.import_module(f"{__name__}.{kind}")


def options(kind: str) -> tuple[str, ...]:
    """The options the ``kind`` reader takes (the keyword parameters of its ``read``).

    >>> options("otlp")
    ('slow_ms', 'min_level', 'service', 'component')
    """
    return tuple(list(inspect.signature(reader(kind).read).parameters)[2:])
