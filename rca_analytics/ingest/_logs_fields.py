"""Logs reader: limits, keys of structured lines, per-file state and field helpers.

The keys looked up in JSON and logfmt records, the per-file state (:class:`LogFile`),
the per-shape lookup plan (:class:`Plan`), and the helpers that find, cut and flatten
record fields.

Used by :mod:`rca_analytics.ingest.logs` and its ``_logs_*`` modules.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from ._base import Parsed, digest

#: Longest message kept, in characters; longer ones are cut (note ``message_truncated``).
MAX_MESSAGE = 4000
#: Stack trace kept: at most this many lines and :data:`MAX_MESSAGE` characters.
MAX_STACK_LINES = 50
#: Extra fields of a structured line copied into ``data``, and their longest text.
MAX_ATTRIBUTES = 30
MAX_VALUE = 500
#: Distinct timestamps whose lines are remembered to number identical repeats apart, and
#: distinct lines remembered per timestamp.
ID_WINDOW = 64
ID_LINES = 1_000_000

#: Keys looked up in JSON and logfmt records, in order; dotted keys match both a
#: literal ``"log.level"`` key and nested objects ``{"log": {"level": ...}}``.
KEYS: dict[str, tuple[str, ...]] = {
    "time": (
        "@timestamp", "timestamp", "time", "ts", "t", "@t", "date", "datetime",
        "_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP", "EdgeStartTimestamp",
    ),
    "level": (
        "level", "log.level", "lvl", "severity", "loglevel", "log_level", "levelname",
        "level_name", "@l", "PRIORITY",
    ),
    "message": ("message", "msg", "MESSAGE", "@message", "@m", "@mt", "log", "text"),
    "service": (
        "service.name", "service", "app", "application", "_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER",
    ),
    "logger": ("logger", "logger_name", "log.logger", "loggerName", "SourceContext"),
    "host": ("host.name", "hostname", "host", "_HOSTNAME"),
    "pid": ("pid", "process.pid", "_PID"),
}  # fmt: skip
ERROR_TYPE = ("error.type", "err.name", "exception.type", "exc_type")
ERROR_MESSAGE = ("error.message", "err.message", "exception.message", "error")
STACK_KEYS = (
    "error.stack_trace", "err.stack", "exception.stacktrace", "exc_info", "exception",
    "stack_trace", "stacktrace", "stack", "@x",
)  # fmt: skip
#: Keys never copied into ``data`` (repeats of what is mapped, or noise).
NOT_ATTRIBUTES = frozenset({"v", "@version", "ecs.version", "log.original"})

Key = tuple[str, tuple[str, ...] | None]


class LogFile:
    """Per-file state: counts for the report, the repeat window, cached mappings."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.name = os.fspath(path)
        self.fmt = fmt
        self.below = self.no_level = self.unknown_level = 0
        self.naive = self.truncated = self.level_assumed = 0
        #: Times whose year was inferred from the file's time, by the year chosen.
        self.years: Counter[int] = Counter()
        self.window: dict[dt.datetime, dict[str, int]] = {}
        self.services: dict[str | None, str | None] = {}
        self.components: dict[tuple[str | None, str | None, str | None], str | None] = {}
        #: The level key of the file's JSON lines, quoted, once known, and the keys that
        #: would come before it (see ``LineReaders.json_lines``).
        self.level_quoted: str | None = None
        self.level_higher: tuple[str, ...] = ()

    def learn_level_key(self, key: str, higher: tuple[str, ...]) -> None:
        self.level_quoted = f'"{key}"'
        self.level_higher = higher

    def source_id(self, raw: str, ts: dt.datetime) -> str:
        """The digest of the line's text; ``#2``, ``#3`` ... for identical repeats."""
        key = digest(raw, size=20)
        seen = self.window.get(ts)
        if seen is None:
            seen = self.window[ts] = {}
            if len(self.window) > ID_WINDOW:
                del self.window[next(iter(self.window))]
        n = seen.get(key, 0) + 1
        if n > 1 or len(seen) < ID_LINES:
            seen[key] = n
        return key if n == 1 else f"{key}#{n}"


class KeyTables(Protocol):
    """What a :class:`Plan` is made from: the reader's keys of each role."""

    keys: dict[str, tuple[Key, ...]]
    error_roots: frozenset[str]
    custom: set[str]


JOURNALD_LOGGER: tuple[Key, ...] = (("SYSLOG_IDENTIFIER", None),)


class Plan:
    """The candidate keys of each role present in records of one shape (set of keys).

    Looking up only these gives the same result as looking up all candidates, as
    absent keys are skipped anyway.
    """

    __slots__ = (
        "bunyan", "component", "errors", "host", "journald", "level", "logger", "message",
        "pid", "pylogging", "service", "time",
    )  # fmt: skip

    def __init__(self, reader: KeyTables, shape: set[str] | None) -> None:
        def present(keys: tuple[Key, ...]) -> tuple[Key, ...]:
            if shape is None:
                return keys
            return tuple(k for k in keys if k[0] in shape or (k[1] and k[1][0] in shape))

        keys = reader.keys
        self.level = present(keys["level"])
        self.time = present(keys["time"])
        self.message = present(keys["message"])
        self.service = present(keys["service"])
        self.logger = present(keys["logger"])
        self.host = present(keys["host"])
        self.pid = present(keys["pid"])
        has = (lambda k: True) if shape is None else shape.__contains__
        self.errors = shape is None or not reader.error_roots.isdisjoint(shape)
        custom = reader.custom
        self.bunyan = "service" not in custom and all(map(has, ("name", "hostname", "pid")))
        self.pylogging = "logger" not in custom and has("name") and has("levelname")
        self.journald = "logger" not in custom and has("SYSLOG_IDENTIFIER")
        self.component = has("component")


# --- helpers ----------------------------------------------------------------------------------


def split_keys(keys: tuple[str, ...]) -> tuple[Key, ...]:
    return tuple((k, tuple(k.split(".")) if "." in k.strip(".") else None) for k in keys)


def nested(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = obj
    for part in path:
        if type(value) is not dict:
            return None
        value = value.get(part)
    return value


def find(obj: dict[str, Any], keys: tuple[Key, ...]) -> tuple[str, Any] | None:
    """The first key present (not null) in ``obj``, and its value."""
    get = obj.get
    for key, path in keys:
        value = get(key)
        if value is None and path is not None and type(get(path[0])) is dict:
            value = nested(obj, path)
        if value is not None:
            return key, value
    return None


def find_text(obj: dict[str, Any], keys: tuple[Key, ...], used: set[str]) -> str | None:
    """The first non-empty text (or whole number, as text) under one of ``keys``."""
    get = obj.get
    for key, path in keys:
        value = get(key)
        if value is None:
            if path is None or type(get(path[0])) is not dict:
                continue
            value = nested(obj, path)
        kind = type(value)
        if kind is str:
            if value:
                used.add(key)
                return value  # type: ignore[no-any-return]
        elif kind is int:
            used.add(key)
            return str(value)
    return None


def cut(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SCALARS = (str, int, float, bool)


def flatten(
    obj: dict[str, Any],
    prefix: str,
    depth: int,
    used: set[str],
    out: dict[str, Any],
    limit: int,
) -> None:
    """Scalar fields of a record into ``out`` (nested objects as dotted names).

    Up to ``limit`` entries in ``out``; names in ``used`` or already in ``out``, names
    starting with ``__``, and empty lists are left out.
    """
    for key, value in obj.items():
        if len(out) >= limit:
            return
        name = prefix + key if prefix else key
        if name in used or name in out or key.startswith("__"):
            continue
        kind = type(value)
        if kind is str:
            out[name] = value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"
        elif kind is int or kind is bool:
            out[name] = value
        elif kind is float:
            out[name] = value if value - value == 0 else repr(value)  # NaN, inf as text
        elif kind is dict:
            if depth < 3:
                flatten(value, name + ".", depth + 1, used, out, limit)
        elif (
            kind is list and value and len(value) <= 20 and all(type(x) in _SCALARS for x in value)
        ):
            out[name] = [cut(x) if type(x) is str else x for x in value]


def stack_text(parts: list[str]) -> str:
    text = "\n".join(parts[:MAX_STACK_LINES])
    if len(parts) > MAX_STACK_LINES:
        text += f"\n… {len(parts) - MAX_STACK_LINES} more lines"
    return cut(text, MAX_MESSAGE)


def with_stack(parsed: Parsed, stack: list[str]) -> Parsed:
    if stack:
        parsed.record["data"]["stack"] = stack_text(stack)
    return parsed
