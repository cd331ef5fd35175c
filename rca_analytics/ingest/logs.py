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
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._reasons import Reason
from ..errors import ReaderError
from . import _logpatterns as lp
from ._base import (
    READ_ERRORS,
    Context,
    Parsed,
    Refused,
    Rule,
    check_rule,
    expand,
    level_rank,
    where,
)
from ._logs_event import event_type_of
from ._logs_fields import (
    ERROR_MESSAGE,
    ERROR_TYPE,
    KEYS,
    STACK_KEYS,
    Key,
    LogFile,
    Plan,
    split_keys,
)
from ._logs_lines import LineReaders
from ._logs_text import TextLines

__all__ = ["event_type_of", "read"]

#: Other names of formats.
_ALIASES = {
    "jsonl": "json", "ndjson": "json", "rfc5424": "syslog5424", "rfc3164": "syslog",
    "text": "plain", "apache": "apache_error", "nginx": "nginx_error", "logback": "log4j",
    "hadoop": "hdfs", "oslo": "openstack", "glog": "klog", "logcat": "android",
    "mariadb": "mysql", "postgresql": "postgres", "tomcat": "catalina", "opensearch":
    "elasticsearch",
}  # fmt: skip
#: The names ``format=`` takes (and the aliases above).
FORMAT_NAMES = ("json", "logfmt", *lp.FORMATS, "plain")
#: File names taken from folders (before ``.gz`` and rotation numbers like ``.1``).
_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".txt", ".out", ".err", ".logfmt")
_ROTATION = re.compile(r"(?:[.-]\d+)+$")


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    format: str | Mapping[str, Any] | lp.LineFormat | None = None,
    time_format: str | list[str] | None = None,
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
        format: For every file: a format's name (``json``, ``logfmt``, ``plain`` or a
            built-in line format: ``apache_error``, ``access``, ``nginx_error``,
            ``redis``, ``postgres``, ``mysql``, ``klog``, ``android``, ``openstack``,
            ``hdfs``, ``spark``, ``catalina``, ``elasticsearch``, ``windows_cbs``,
            ``log4j``, ``python``, ``syslog5424``, ``syslog``, ``golog``); a format
            of your own: a regular expression with named groups (``time`` required;
            ``level``, ``logger``, ``thread``, ``pid``, ``host``, ``message``; any
            other into ``data``), a dict of
            :meth:`LineFormat.custom` arguments, or a ``.toml``/``.json`` file of
            them. None detects the format of each file from its first 20 non-blank
            lines.
        time_format: ``strptime`` format(s) of the ``time`` group of a pattern of
            your own (default: ISO 8601 in any precision).
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
        time_format=time_format,
        min_level=min_level,
        tz=tz,
        year=year,
        service=service,
        component=component,
        fields=fields,
        default_level=default_level,
        severity=severity,
    )
    try:
        for path in _files(paths, ctx):
            yield from reader.file(path)
    finally:
        reader.close()


def _format(
    value: str | Mapping[str, Any] | lp.LineFormat | None, time_format: str | list[str] | None
) -> str | lp.LineFormat | None:
    """What ``format=`` names: json, logfmt, a line format; None to detect it per file.

    Raises:
        ReaderError: Not a format, or ``time_format`` without a pattern of your own.
    """
    if value is None:
        if time_format is not None:
            raise ReaderError("time_format= goes with format= (a pattern of your own)")
        return None
    if isinstance(value, str) and "(?P<" not in value:
        name = _ALIASES.get(value.lower(), value.lower())
        if name in ("json", "logfmt", "plain") or name in lp.FORMATS:
            if time_format is not None:
                raise ReaderError(
                    f"time_format= goes with a pattern of your own, not the {name} format"
                )
            return name if name in ("json", "logfmt") else lp.FORMATS.get(name, lp.PLAIN)
    own = lp.user_format(value, time_format)
    if own is None:
        raise ReaderError(
            f"format {value!r} is not a format: one of {', '.join(FORMAT_NAMES)}, a pattern "
            "with named groups ((?P<time>...) at least), or a .toml/.json format file"
        )
    return own


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


class _Reader(LineReaders, TextLines):
    """The options, checked once, and what is cached across files."""

    def __init__(
        self,
        ctx: Context,
        *,
        format: str | Mapping[str, Any] | lp.LineFormat | None,
        time_format: str | list[str] | None,
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
        self.format: str | lp.LineFormat | None = _format(format, time_format)
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
        self._set_keys(fields)
        self.plans: dict[tuple[str, ...], Plan] = {}
        self.full_plan = Plan(self, None)
        self.ranks: dict[object, int | None] = {}
        self.levels: dict[object, tuple[str, str]] = {}
        self.templates: dict[str, tuple[str, str]] = {}

    def _set_keys(self, fields: Mapping[str, str] | None) -> None:
        """The keys of each role (``fields`` replacing the usual ones) and their patterns."""
        keys = dict(KEYS)
        for role, key in (fields or {}).items():
            if role not in KEYS:
                raise ReaderError(f"fields: {role!r} is not one of {', '.join(KEYS)}")
            if not isinstance(key, str) or not key:
                raise ReaderError(f"fields: the key of {role!r} must be a non-empty string")
            keys[role] = (key,)
        self.custom = set(fields or ())
        self.keys: dict[str, tuple[Key, ...]] = {r: split_keys(k) for r, k in keys.items()}
        self.errors = split_keys(ERROR_TYPE + ERROR_MESSAGE + STACK_KEYS)
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

    # --- files -------------------------------------------------------------------------

    def file(self, path: Path) -> Iterator[Parsed]:
        fmt: str | lp.LineFormat | None = self.format
        ctx = self.ctx
        if fmt is None:
            try:
                fmt, looked = lp.detect(path)
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
                        f"none of the first {looked} lines is JSON, logfmt or a known line "
                        "format, nor starts with a time; pass format= (a name, or a pattern "
                        "of your own with a time_format) to read it",
                    )
                else:
                    self._whole(path, Reason.UNKNOWN_FORMAT, "no UTF-8 text lines at its start")
                return
        f = LogFile(path, fmt if isinstance(fmt, str) else fmt.name)
        try:
            if fmt == "json":
                yield from self.json_lines(f)
            elif fmt == "logfmt":
                yield from self.logfmt_lines(f)
            else:
                assert isinstance(fmt, lp.LineFormat)
                yield from self.text_lines(f, fmt)
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
                *((f"year_inferred: {y} from file time", k) for y, k in sorted(f.years.items())),
                ("no_level_as_info", f.level_assumed),
                ("message_truncated", f.truncated),
            ):
                if n:
                    ctx.note(what, n)

    def _whole(self, path: Path, code: Reason, message: str) -> None:
        self.ctx.reject(where(path), code, message)
        self.ctx.advance(self.ctx.add_file(path))
