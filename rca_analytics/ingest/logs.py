r"""Logs: JSON lines, logfmt, syslog and plain lines → ``logs`` events at or above a level.

JSON lines (Elastic Common Schema, Bunyan/pino, ``journalctl -o json``, structlog,
python-json-logger, Serilog CLEF ...), logfmt, syslog (RFC 5424 and RFC 3164, told
apart per line) and plain lines that start with a time. The format is detected per
file from its first lines, or forced with ``format=``. Files are streamed (``.gz``
too): a 1 GB file never needs 1 GB of memory. Each line at or above ``min_level``
becomes one event with the message, the logger/service, and a template
``fingerprint`` that groups floods of the same message with different numbers and
ids. Mappings, detection rules and ids: ``docs/readers/logs.md``.

>>> import tempfile, pathlib, rca_analytics as rca
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "app.log").write_text(
...     '{"time":"2026-03-01T10:00:00Z","level":"info","msg":"started"}\n'
...     '{"time":"2026-03-01T10:00:05Z","level":"error","logger":"db",'
...     '"msg":"timeout after 3000 ms","service":"checkout"}\n')
>>> reading = rca.read("logs", folder)
>>> row = reading.events.iloc[0]
>>> row["severity"], row["service"], row["data"]["message"], row["data"]["template"]
('high', 'checkout', 'timeout after 3000 ms', 'timeout after <*> ms')
>>> reading.skipped
{'below_min_level': 1}
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._reasons import Reason
from ..errors import ReaderError
from . import _logformats as lf
from ._base import (
    READ_ERRORS,
    Context,
    Parsed,
    Refused,
    Rule,
    apply_rule,
    check_rule,
    digest,
    expand,
    level_rank,
    lines,
    repaired,
    severity_for_level,
    where,
)

__all__ = ["event_type_of", "read"]

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
_ERROR_TYPE = ("error.type", "err.name", "exception.type", "exc_type")
_ERROR_MESSAGE = ("error.message", "err.message", "exception.message", "error")
_STACK = (
    "error.stack_trace", "err.stack", "exception.stacktrace", "exc_info", "exception",
    "stack_trace", "stacktrace", "stack", "@x",
)  # fmt: skip
#: Keys never copied into ``data`` (repeats of what is mapped, or noise).
_NOT_ATTRIBUTES = frozenset({"v", "@version", "ecs.version", "log.original"})
_FORMATS = {
    "json": "json", "jsonl": "json", "ndjson": "json", "logfmt": "logfmt",
    "syslog": "syslog", "rfc5424": "syslog", "rfc3164": "syslog", "plain": "plain",
    "text": "plain",
}  # fmt: skip
#: File names taken from folders (before ``.gz`` and rotation numbers like ``.1``).
_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt", ".out", ".err", ".logfmt")
_ROTATION = re.compile(r"(?:[.-]\d+)+$")
_RANK_NAMES = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
#: Tags of level names that are not the usual name of their rank.
_TAGS = {"fatal": "fatal", "panic": "panic", "trace": "trace", "verbose": "trace"}
_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_ONE_DAY = dt.timedelta(days=1)
_fromisoformat = dt.datetime.fromisoformat
#: A JSON level value after its key: a short string without escapes, or a small number.
_JSON_VALUE = re.compile(r'\s*:\s*(?:"([^"\\]{1,24})"|(-?\d{1,3})(?=\s*[,}]))')

_Key = tuple[str, tuple[str, ...] | None]


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    format: str | None = None,
    min_level: str = "warning",
    tz: str = "UTC",
    year: int | None = None,
    service: str | Rule | None = None,
    component: Rule | None = None,
    fields: Mapping[str, str] | None = None,
    default_level: str | None = None,
    severity: Rule | None = None,
) -> Iterator[Parsed]:
    """Log lines at or above ``min_level`` as ``logs`` events.

    Args:
        paths: Files (any name, ``.gz`` read as gzip) or folders (walked for ``*.log``,
            ``*.jsonl``, ``*.ndjson``, ``*.json``, ``*.txt``, ``*.out``, ``*.err``,
            ``*.logfmt``, rotated ``app.log.1``/``app.0``/``app.log-20240101`` and
            ``.gz`` of these).
        ctx: Where rejects, skips, notes and progress go.
        format: ``json``, ``logfmt``, ``syslog`` or ``plain`` for every file; None
            detects the format of each file from its first 20 non-blank lines.
        min_level: Lines below this level are skipped (``below_min_level``).
        tz: Zone of times without an offset (noted ``naive_time_as_<tz>``).
        year: Year of times that have none (RFC 3164 ``Mar  1 10:00:00``); inferred
            from the file's modification time when None (noted ``year_inferred``).
        service: A name for every event, or a rule mapping the line's own service
            (else the file path) to one; unmatched lines keep their own service.
        component: A rule mapping the logger, else the service, else the file path to
            a component; without a match the line's own ``component`` field, if any.
        fields: Keys naming ``time``, ``level``, ``message``, ``service``, ``logger``,
            ``host`` or ``pid`` in structured lines, instead of the usual keys.
        default_level: Level of lines that have none (skipped as ``no_level`` when None).
        severity: A rule mapping the level as written (lower case) to an event severity.

    Raises:
        ReaderError: A path does not exist, or an option is not valid.
    """
    reader = _Reader(
        ctx,
        format=format,
        min_level=min_level,
        tz=tz,
        year=year,
        service=service,
        component=component,
        fields=fields,
        default_level=default_level,
        severity=severity,
    )
    for path in _files(paths, ctx):
        yield from reader.file(path)


def event_type_of(rank: int) -> str:
    """Event type of a log record at a level rank: ``error``, ``warning`` or ``log``.

    Error and worse (ranks 0-3) → ``error``; warning → ``warning``; the rest → ``log``.
    The ``otlp`` reader types its log records so too.

    >>> [event_type_of(r) for r in (1, 3, 4, 6)]
    ['error', 'error', 'warning', 'log']
    """
    return "error" if rank <= 3 else "warning" if rank == 4 else "log"


def _files(paths: list[str | os.PathLike[str]], ctx: Context) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        if Path(raw).is_dir():
            found.extend(p for p in expand([raw]) if _is_log_name(p.name))
        else:
            found.extend(expand([raw]))
    for path in found:
        ctx.add_file(path)
    return found


def _is_log_name(name: str) -> bool:
    """Whether a file met in a folder is a log file, by its name.

    >>> [_is_log_name(n) for n in ("app.log", "app.log.1", "app.0", "x.jsonl.gz", "README.md")]
    [True, True, True, True, False]
    """
    low = name.lower().removesuffix(".gz")
    bare = _ROTATION.sub("", low)
    return bare != low or bare.endswith(_SUFFIXES) or bare in ("syslog", "messages")


class _File:
    """Per-file state: counts for the report, the repeat window, cached mappings."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.name = os.fspath(path)
        self.fmt = fmt
        self.below = self.no_level = self.unknown_level = 0
        self.naive = self.truncated = self.inferred = 0
        self.window: dict[dt.datetime, dict[str, int]] = {}
        self.services: dict[str | None, str | None] = {}
        self.components: dict[tuple[str | None, str | None, str | None], str | None] = {}
        self.reference: dt.datetime | None = None
        #: The level key of the file's JSON lines, quoted, once known, and the keys that
        #: would come before it (see ``_Reader._json``).
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


_JOURNALD_LOGGER: tuple[_Key, ...] = (("SYSLOG_IDENTIFIER", None),)


class _Plan:
    """The candidate keys of each role present in records of one shape (set of keys).

    Looking up only these gives the same result as looking up all candidates, as
    absent keys are skipped anyway.
    """

    __slots__ = (
        "bunyan", "component", "errors", "host", "journald", "level", "logger", "message",
        "pid", "pylogging", "service", "time",
    )  # fmt: skip

    def __init__(self, reader: _Reader, shape: set[str] | None) -> None:
        def present(keys: tuple[_Key, ...]) -> tuple[_Key, ...]:
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


class _Reader:
    """The options, checked once, and what is cached across files."""

    def __init__(
        self,
        ctx: Context,
        *,
        format: str | None,
        min_level: str,
        tz: str,
        year: int | None,
        service: str | Rule | None,
        component: Rule | None,
        fields: Mapping[str, str] | None,
        default_level: str | None,
        severity: Rule | None,
    ) -> None:
        self.ctx = ctx
        for option, rule in (
            ("service", service),
            ("component", component),
            ("severity", severity),
        ):
            check_rule(option, rule)
        if format is not None and str(format).lower() not in _FORMATS:
            raise ReaderError(f"format {format!r} is not one of json, logfmt, syslog, plain")
        self.format = None if format is None else _FORMATS[str(format).lower()]
        rank = level_rank(min_level)
        if rank is None:
            raise ReaderError(f"min_level {min_level!r} is not a log level (e.g. warning, error)")
        self.min_rank = rank
        self.default_level = default_level
        self.default_rank = None if default_level is None else level_rank(default_level)
        if default_level is not None and self.default_rank is None:
            raise ReaderError(f"default_level {default_level!r} is not a log level")
        try:
            self.tzinfo: dt.tzinfo = dt.UTC if tz.upper() == "UTC" else ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError, AttributeError):
            raise ReaderError(f"tz {tz!r} is not a time zone (e.g. UTC, Europe/Berlin)") from None
        self.naive_note = f"naive_time_as_{tz}".lower()
        if year is not None and not (isinstance(year, int) and 1 <= year <= 9999):
            raise ReaderError(f"year {year!r} is not a year")
        self.year = year
        if isinstance(service, str) or service is None:
            self.service_name = service
            self.service_rule: Rule | None = None
        else:
            self.service_name, self.service_rule = None, service
        self.component_rule = component
        self.severity_rule = severity
        keys = dict(KEYS)
        for role, key in (fields or {}).items():
            if role not in KEYS:
                raise ReaderError(f"fields: {role!r} is not one of {', '.join(KEYS)}")
            if not isinstance(key, str) or not key:
                raise ReaderError(f"fields: the key of {role!r} must be a non-empty string")
            keys[role] = (key,)
        self.custom = set(fields or ())
        self.keys: dict[str, tuple[_Key, ...]] = {r: _split(k) for r, k in keys.items()}
        self.errors = _split(_ERROR_TYPE + _ERROR_MESSAGE + _STACK)
        self.error_roots = frozenset(k.partition(".")[0] for k, _ in self.errors)
        alternatives = "|".join(re.escape(k) for k in sorted(keys["level"], key=len, reverse=True))
        self.logfmt_level = re.compile(
            rf'(?<![^\s])(?:{alternatives})=(?:"([^"\\]{{1,24}})"|([^\s"]{{1,24}})(?=\s|$))'
        )
        #: For each level key: what must not be in a line for that key to be its level
        #: (the keys before it, literal and as the last part of a nested path).
        self.higher: dict[str, tuple[str, ...]] = {}
        for i, key in enumerate(keys["level"]):
            quoted = {f'"{k}"' for k in keys["level"][:i]}
            quoted |= {f'"{k.rpartition(".")[2]}"' for k in keys["level"][:i]}
            self.higher[key] = tuple(sorted(quoted))
        self.plans: dict[tuple[str, ...], _Plan] = {}
        self.full_plan = _Plan(self, None)
        self.ranks: dict[object, int | None] = {}
        self.levels: dict[object, tuple[str, str]] = {}
        self.templates: dict[str, tuple[str, str]] = {}

    # --- files -------------------------------------------------------------------------

    def file(self, path: Path) -> Iterator[Parsed]:
        fmt = self.format
        ctx = self.ctx
        if fmt is None:
            try:
                fmt, looked = lf.detect(path)
            except Refused as err:
                self._whole(path, err.code, str(err))
                return
            except READ_ERRORS as err:
                self._whole(path, Reason.UNREADABLE, f"cannot read: {err}")
                return
            if fmt is None:
                if looked < 0:
                    self.ctx.note("empty_file")
                    return
                if looked:
                    self._whole(
                        path,
                        Reason.UNKNOWN_FORMAT,
                        f"none of the first {looked} lines is JSON, logfmt, syslog or starts "
                        "with a time; pass format= to read it as one of them",
                    )
                else:
                    self._whole(path, Reason.UNKNOWN_FORMAT, "no UTF-8 text lines at its start")
                return
        f = _File(path, fmt)
        try:
            if fmt == "json":
                yield from self._json(f)
            elif fmt == "logfmt":
                yield from self._logfmt(f)
            elif fmt == "syslog":
                yield from self._syslog(f)
            else:
                yield from self._plain(f)
        finally:
            for reason, n in (
                ("below_min_level", f.below),
                ("no_level", f.no_level),
                ("unknown_level", f.unknown_level),
            ):
                if n:
                    ctx.skip(reason, n)
            for what, n in (
                (self.naive_note, f.naive),
                ("year_inferred", f.inferred),
                ("message_truncated", f.truncated),
            ):
                if n:
                    ctx.note(what, n)

    def _whole(self, path: Path, code: Reason, message: str) -> None:
        self.ctx.reject(where(path), code, message)
        self.ctx.advance(self.ctx.add_file(path))

    # --- structured lines -----------------------------------------------------------------

    def _json(self, f: _File) -> Iterator[Parsed]:
        ctx = self.ctx
        ranks = self.ranks
        min_rank = self.min_rank
        loads = json.loads
        value_at = _JSON_VALUE.match
        name = f.name
        quoted: str | None = None
        higher: tuple[str, ...] = ()
        size = 0
        for number, text in lines(f.path, ctx):
            # Fast path for lines below min_level: when the file's level key is in the
            # line once, at the top of the object, without a key that would come before
            # it, the line is skipped without being decoded.
            if quoted is not None:
                i = text.find(quoted)
                if i > 0:
                    j = i + size
                    value: str | None = None
                    if text.startswith(':"', j):
                        k = text.find('"', j + 2)
                        if 0 < k <= j + 26:
                            value = text[j + 2 : k]  # with a backslash: no level name
                    else:
                        m = value_at(text, j)
                        if m is not None:
                            value = m.group(1) or m.group(2)
                    if value is not None:
                        rank = ranks.get(value, -1)
                        if rank == -1:
                            rank = self._rank(value)
                        if (
                            rank is not None
                            and rank > min_rank
                            and text.find(quoted, j) < 0
                            and text.count("{", 0, i) == 1
                            and not (higher and any(h in text for h in higher))
                        ):
                            f.below += 1
                            continue
            try:
                obj = loads(text)
            except ValueError as err:
                col = getattr(err, "colno", None)
                msg = f"column {col}: {getattr(err, 'msg', err)}" if col else str(err).split(";")[0]
                ctx.reject(f"{name}:{number}", Reason.BAD_JSON, msg)
                continue
            except RecursionError:
                ctx.reject(f"{name}:{number}", Reason.BAD_JSON, "nested too deeply")
                continue
            if type(obj) is not dict:
                ctx.reject(
                    f"{name}:{number}",
                    Reason.INVALID_TYPE,
                    f"a JSON line must be an object, not {type(obj).__name__}",
                )
                continue
            parsed = self._record(f, number, text, obj)
            if quoted is None and f.level_quoted is not None:
                quoted, higher = f.level_quoted, f.level_higher
                size = len(quoted)
            if parsed is not None:
                yield parsed

    def _logfmt(self, f: _File) -> Iterator[Parsed]:
        ctx = self.ctx
        search = self.logfmt_level.search
        ranks = self.ranks
        min_rank = self.min_rank
        for number, text in lines(f.path, ctx):
            m = search(text)
            if m is not None and search(text, m.end()) is None:
                before = text[: m.start()]
                if (before.count('"') - before.count('\\"')) % 2 == 0:
                    value = m.group(1) or m.group(2)
                    rank = ranks[value] if value in ranks else self._rank(value)
                    if rank is not None and rank > min_rank:
                        f.below += 1
                        continue
            obj = lf.logfmt(text)
            if not obj:
                ctx.reject(
                    where(f.path, number), Reason.BAD_LOGFMT, "no key=value pair in the line"
                )
                continue
            parsed = self._record(f, number, text, obj)
            if parsed is not None:
                yield parsed

    def _plan(self, obj: dict[str, Any]) -> _Plan:
        """The keys worth looking up in records of ``obj``'s shape (its keys, in order)."""
        if len(obj) > 64:
            return self.full_plan
        shape = tuple(obj)
        plan = self.plans.get(shape)
        if plan is None:
            if len(self.plans) >= 1000:
                self.plans.clear()
            plan = self.plans[shape] = _Plan(self, set(shape))
        return plan

    def _record(self, f: _File, number: int, raw: str, obj: dict[str, Any]) -> Parsed | None:
        """The event of one JSON or logfmt record, or None (skipped or rejected)."""
        plan = self._plan(obj)
        used = set(_NOT_ATTRIBUTES)
        hit = _find(obj, plan.level)
        if hit is None:
            if self.default_rank is None:
                f.no_level += 1
                return None
            level: Any = self.default_level
            rank: int | None = self.default_rank
        else:
            key, level = hit
            if type(level) is not str and type(level) is not int:
                self.ctx.reject(
                    where(f.path, number),
                    Reason.INVALID_TYPE,
                    f"{key} must be a level name or number, not {type(level).__name__}",
                    field=key,
                )
                return None
            rank = self.ranks[level] if level in self.ranks else self._rank(level)
            if rank is None:
                f.unknown_level += 1
                return None
            if f.level_quoted is None and key in obj and f.fmt == "json":
                f.learn_level_key(key, self.higher[key])
            used.add(key)
        if rank is None or rank > self.min_rank:
            f.below += 1
            return None
        hit = _find(obj, plan.time)
        if hit is None:
            looked = ", ".join(k for k, _ in self.keys["time"][:6])
            self.ctx.reject(
                where(f.path, number), Reason.MISSING, f"no time (looked for {looked} ...)", "time"
            )
            return None
        key, value = hit
        used.add(key)
        ts = None
        if type(value) is str:
            try:  # noqa: SIM105 - the common case, without a context manager's cost
                ts = _fromisoformat(value)
            except ValueError:
                pass
        if ts is None or ts.tzinfo is None:
            try:
                ts = self._time(f, key, value)
            except Refused as bad:
                self.ctx.refuse(bad, where(f.path, number))
                return None

        message = ""
        for key, path in plan.message:
            value = obj.get(key)
            if value is None and path is not None:
                value = _nested(obj, path)
            if value is None:
                continue
            if type(value) is str:
                message = value
            elif key == "log" and "log" not in self.custom:
                continue  # ECS "log" is an object of log.* fields
            else:
                message = json.dumps(value, ensure_ascii=False, default=str)
            used.add(key)
            break
        service = _find_text(obj, plan.service, used) if plan.service else None
        if service is None:
            if plan.bunyan and type(obj["name"]) is str:  # Bunyan, pino: name is the app
                service = obj["name"]
                used.add("name")
        elif service.endswith(".service"):
            service = service[: -len(".service")]  # systemd unit
        logger = _find_text(obj, plan.logger, used) if plan.logger else None
        if logger is None:
            if plan.pylogging and type(obj["name"]) is str:  # python-json-logger
                logger = obj["name"]
                used.add("name")
            elif plan.journald and service is not None:
                logger = _find_text(obj, _JOURNALD_LOGGER, used)
        host = _find_text(obj, plan.host, used) if plan.host else None
        pid: Any = None
        if plan.pid:
            hit = _find(obj, plan.pid)
            if hit is not None and type(hit[1]) in (int, str):
                used.add(hit[0])
                pid = hit[1]
        error_type = error_message = stack = None
        if plan.errors:
            error_type = _find_text(obj, self.errors[:4], used)
            error_message = _find_text(obj, self.errors[4:8], used)
            stack = _find_text(obj, self.errors[8:], used)
            if not message and error_message:
                message = error_message
            if error_message == message:
                error_message = None
        own = obj.get("component") if plan.component else None
        parsed = self._event(
            f,
            number,
            raw,
            ts,
            rank,
            level,
            message,
            service,
            logger,
            host,
            pid,
            None,
            own if type(own) is str else None,
            stack,
            error_type,
            error_message,
        )
        data = parsed.record["data"]
        _flatten(obj, "", 0, used, data, len(data) + MAX_ATTRIBUTES)
        if "\\u" in raw and _SURROGATE.search(raw):
            record = parsed.record
            fields = {name: record[name] for name in ("service", "component", "data")}
            record.update(repaired(fields, self.ctx))
        return parsed

    # --- syslog and plain lines -----------------------------------------------------------

    def _syslog(self, f: _File) -> Iterator[Parsed]:
        ctx = self.ctx
        for number, text in lines(f.path, ctx):
            s = lf.syslog(text)
            if s is None:
                ctx.reject(
                    where(f.path, number),
                    Reason.BAD_SYSLOG,
                    "not an RFC 5424 or RFC 3164 syslog line",
                )
                continue
            message = s.message
            attributes: dict[str, Any] = {}
            if s.pri is not None:
                if s.pri > 191:
                    ctx.reject(
                        where(f.path, number),
                        Reason.BAD_SYSLOG,
                        f"PRI {s.pri} is out of range (0-191)",
                        field="pri",
                    )
                    continue
                rank = s.pri % 8
                level: Any = lf.SYSLOG_LEVELS[rank]
                attributes["facility"] = lf.FACILITIES[s.pri // 8]
            else:
                word, _, _, rest = lf.plain_header(message)
                found = None if word is None else level_rank(word)
                if found is None:
                    if self.default_rank is None:
                        f.no_level += 1
                        continue
                    rank, level = self.default_rank, self.default_level
                else:
                    rank, level, message = found, word, rest
            if rank > self.min_rank:
                f.below += 1
                continue
            try:
                if s.time is None:
                    raise Refused(Reason.MISSING, "the timestamp is nil (-)", field="time")
                ts = self._bsd(f, s.time) if s.bsd else self._time(f, "time", s.time)
            except Refused as bad:
                ctx.refuse(bad, where(f.path, number))
                continue
            if s.msgid:
                attributes["msgid"] = s.msgid
            for key, value in s.data.items():
                if len(attributes) >= MAX_ATTRIBUTES:
                    break
                attributes[key] = _cut(value)
            yield self._event(
                f,
                number,
                text,
                ts,
                rank,
                level,
                message,
                s.app,
                s.app,
                s.host,
                s.procid,
                None,
                None,
                None,
                None,
                None,
                attributes,
            )

    def _plain(self, f: _File) -> Iterator[Parsed]:
        ctx = self.ctx
        match = lf.PLAIN.match
        pending: Parsed | None = None
        stack: list[str] = []
        state = "start"  # start (no entry yet), keep (pending), drop (entry not kept)
        for number, text in lines(f.path, ctx):
            m = match(text)
            if m is None:
                if state == "keep":
                    stack.append(text)
                elif state == "start":
                    ctx.reject(
                        where(f.path, number),
                        Reason.INVALID_DATETIME,
                        "no time at the start of the line (and no entry before it to continue)",
                        field="time",
                    )
                continue
            if pending is not None:
                yield _with_stack(pending, stack)
                pending, stack = None, []
            state = "drop"
            word, logger, thread, message = lf.plain_header(text[m.end() :])
            rank = None if word is None else level_rank(word)
            level: Any = word
            if rank is None:
                if self.default_rank is None:
                    f.no_level += 1
                    continue
                rank, level = self.default_rank, self.default_level
            if rank > self.min_rank:
                f.below += 1
                continue
            try:
                iso = m.group("iso")
                ts = self._time(f, "time", iso) if iso else self._bsd(f, m.group("bsd"))
            except Refused as bad:
                ctx.refuse(bad, where(f.path, number))
                continue
            state = "keep"
            pending = self._event(
                f,
                number,
                text,
                ts,
                rank,
                level,
                message,
                None,
                logger,
                None,
                None,
                thread,
                None,
                None,
                None,
                None,
            )
        if pending is not None:
            yield _with_stack(pending, stack)

    # --- values ------------------------------------------------------------------------------

    def _rank(self, level: object) -> int | None:
        if len(self.ranks) > 4096:
            self.ranks.clear()
        rank = self.ranks[level] = level_rank(level)
        return rank

    def _time(self, f: _File, key: str, value: Any) -> dt.datetime:
        try:
            if type(value) is str:
                ts = lf.text_time(value)
            elif type(value) is int or type(value) is float:
                ts = lf.epoch(value)
            else:
                raise Refused(
                    Reason.INVALID_TYPE,
                    f"{key} must be text or a number, not {type(value).__name__}",
                    field=key,
                    value=value,
                )
        except (ValueError, OverflowError):
            raise Refused(
                Reason.INVALID_DATETIME,
                f"{key}: {str(value)[:80]!r} is not a time",
                field=key,
                value=value,
            ) from None
        if ts.tzinfo is None:
            f.naive += 1
            return ts.replace(tzinfo=self.tzinfo)
        return ts

    def _bsd(self, f: _File, text: str) -> dt.datetime:
        """A year-less time, in ``year`` or else inferred from the file's time.

        The inferred year puts the time at most a day after the file was last modified.
        """
        try:
            if self.year is not None:
                ts = lf.month_day_time(text, self.year)
            else:
                if f.reference is None:
                    mtime = f.path.stat().st_mtime
                    f.reference = dt.datetime.fromtimestamp(mtime, self.tzinfo).replace(tzinfo=None)
                ref = f.reference
                try:
                    ts = lf.month_day_time(text, ref.year)
                except ValueError:  # Feb 29: a leap year before
                    ts = lf.month_day_time(text, ref.year - 1)
                if ts > ref + _ONE_DAY:
                    ts = ts.replace(year=ts.year - 1)
                f.inferred += 1
        except ValueError:
            raise Refused(
                Reason.INVALID_DATETIME, f"{text!r} is not a time", field="time", value=text
            ) from None
        f.naive += 1
        return ts.replace(tzinfo=self.tzinfo)

    # --- the event -----------------------------------------------------------------------------

    def _event(
        self,
        f: _File,
        number: int,
        raw: str,
        ts: dt.datetime,
        rank: int,
        level: Any,
        message: str,
        service: str | None,
        logger: str | None,
        host: str | None,
        pid: Any,
        thread: str | None,
        own_component: str | None,
        stack: str | None,
        error_type: str | None,
        error_message: str | None,
        extra: dict[str, Any] | None = None,
    ) -> Parsed:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
            f.truncated += 1
        known = self.templates.get(message)
        if known is None:
            tpl = lf.template(message)
            if len(self.templates) > 20_000:
                self.templates.clear()
            known = self.templates[message] = (tpl, digest(tpl))
        data: dict[str, Any] = {
            "message": message,
            "level": level,
            "template": known[0],
            "fingerprint": known[1],
        }
        if logger:
            data["logger"] = logger
        if host:
            data["host"] = host
        if pid is not None:
            data["pid"] = pid
        if thread:
            data["thread"] = thread
        if error_type:
            data["error_type"] = _cut(error_type)
        if error_message:
            data["error_message"] = _cut(error_message, MAX_MESSAGE)
        if stack:
            data["stack"] = _stack(stack.splitlines())
        if extra:
            for key, value in extra.items():
                data.setdefault(key, value)
        info = self.levels.get(level)
        if info is None:
            if len(self.levels) > 1000:
                self.levels.clear()
            info = self.levels[level] = self._level_info(level, rank)
        if ts.tzinfo is not dt.UTC:
            ts = ts.astimezone(dt.UTC)
        record = {
            "timestamp": ts,
            "source": "logs",
            "event_type": event_type_of(rank),
            "severity": info[0],
            "service": (self.service_name or service)
            if self.service_rule is None
            else self._service(f, service),
            "component": own_component
            if self.component_rule is None
            else self._component(f, logger, service, own_component),
            "source_id": f.source_id(raw, ts),
            "data": data,
            "tags": [info[1]],
            "metadata": {"file": f.name, "line": number},
        }
        return Parsed("event", record, f"{f.name}:{number}")

    def _level_info(self, level: Any, rank: int) -> tuple[str, str]:
        """(severity, tag) of a level as written; the tag is the level's usual name."""
        text = str(level).strip().lower()
        tag = _TAGS.get(text) or (_RANK_NAMES[rank] if rank < 8 else "trace")
        mapped = apply_rule(self.severity_rule, text)
        return (mapped or severity_for_level(rank), tag)

    def _service(self, f: _File, own: str | None) -> str | None:
        if self.service_rule is None:
            return self.service_name or own
        if own in f.services:
            return f.services[own]
        name: str | None
        if own:
            name = apply_rule(self.service_rule, own) or own
        else:
            name = apply_rule(self.service_rule, f.path.as_posix())
        if len(f.services) < 10_000:
            f.services[own] = name
        return name

    def _component(
        self, f: _File, logger: str | None, service: str | None, own: str | None
    ) -> str | None:
        rule = self.component_rule
        if rule is None:
            return own
        key = (logger, service, own)
        if key in f.components:
            return f.components[key]
        name = None
        for value in (logger, service, f.path.as_posix()):
            if value:
                name = apply_rule(rule, value)
                if name:
                    break
        name = name or own
        if len(f.components) < 10_000:
            f.components[key] = name
        return name


# --- helpers ----------------------------------------------------------------------------------


def _split(keys: tuple[str, ...]) -> tuple[_Key, ...]:
    return tuple((k, tuple(k.split(".")) if "." in k.strip(".") else None) for k in keys)


def _nested(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = obj
    for part in path:
        if type(value) is not dict:
            return None
        value = value.get(part)
    return value


def _find(obj: dict[str, Any], keys: tuple[_Key, ...]) -> tuple[str, Any] | None:
    """The first key present (not null) in ``obj``, and its value."""
    get = obj.get
    for key, path in keys:
        value = get(key)
        if value is None and path is not None and type(get(path[0])) is dict:
            value = _nested(obj, path)
        if value is not None:
            return key, value
    return None


def _find_text(obj: dict[str, Any], keys: tuple[_Key, ...], used: set[str]) -> str | None:
    """The first non-empty text (or whole number, as text) under one of ``keys``."""
    get = obj.get
    for key, path in keys:
        value = get(key)
        if value is None:
            if path is None or type(get(path[0])) is not dict:
                continue
            value = _nested(obj, path)
        kind = type(value)
        if kind is str:
            if value:
                used.add(key)
                return value  # type: ignore[no-any-return]
        elif kind is int:
            used.add(key)
            return str(value)
    return None


def _cut(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SCALARS = (str, int, float, bool)


def _flatten(
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
                _flatten(value, name + ".", depth + 1, used, out, limit)
        elif (
            kind is list and value and len(value) <= 20 and all(type(x) in _SCALARS for x in value)
        ):
            out[name] = [_cut(x) if type(x) is str else x for x in value]


def _stack(parts: list[str]) -> str:
    text = "\n".join(parts[:MAX_STACK_LINES])
    if len(parts) > MAX_STACK_LINES:
        text += f"\n… {len(parts) - MAX_STACK_LINES} more lines"
    return _cut(text, MAX_MESSAGE)


def _with_stack(parsed: Parsed, stack: list[str]) -> Parsed:
    if stack:
        parsed.record["data"]["stack"] = _stack(stack)
    return parsed
