"""Logs reader: level ranks and severities, times, and the event built from a line.

:class:`EventBuilder` holds what every line format ends with: the level's rank and
severity, the time (with an offset, a zone, or an inferred year), and the ``logs``
event record with its template, service, component and source id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .._reasons import Reason
from . import _logformats as lf
from ._base import (
    ZERO_TIME_NOTE,
    Context,
    Parsed,
    Refused,
    Rule,
    apply_rule,
    digest,
    is_zero_time,
    level_rank,
    severity_for_level,
    summary_line,
    where,
)
from ._logs_fields import MAX_MESSAGE, LogFile, cut, stack_text

_RANK_NAMES = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
#: Tags of level names that are not the usual name of their rank.
_TAGS = {"fatal": "fatal", "panic": "panic", "trace": "trace", "verbose": "trace"}


def event_type_of(rank: int) -> str:
    """Event type of a log record at a level rank: ``error``, ``warning`` or ``log``.

    Error and worse (ranks 0-3) → ``error``; warning → ``warning``; the rest → ``log``.
    The ``otlp`` reader types its log records so too.

    >>> [event_type_of(r) for r in (1, 3, 4, 6)]
    ['error', 'error', 'warning', 'log']
    """
    return "error" if rank <= 3 else "warning" if rank == 4 else "log"


class EventBuilder:
    """The options the event needs and its caches; the reader's base class."""

    ctx: Context
    tzinfo: dt.tzinfo
    year: int | None
    service_name: str | None
    service_rule: Rule | None
    component_rule: Rule | None
    severity_rule: Rule | None
    ranks: dict[object, int | None]
    levels: dict[object, tuple[str, str]]
    templates: dict[str, tuple[str, str]]

    # --- values ------------------------------------------------------------------------------

    def rank_of(self, level: object) -> int | None:
        if len(self.ranks) > 4096:
            self.ranks.clear()
        rank = self.ranks[level] = level_rank(level)
        return rank

    def time_of(self, f: LogFile, key: str, value: Any) -> dt.datetime:
        if is_zero_time(value, unix=True):  # Go's zero time, an epoch of 0: unset
            self.ctx.note(ZERO_TIME_NOTE)
            raise Refused(Reason.MISSING, f"{key} is a zero time (unset)", field=key, value=value)
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

    def in_utc(
        self, f: LogFile, number: int, ts: dt.datetime, key: str, value: Any
    ) -> dt.datetime | None:
        """The time in UTC, or None (rejected) when UTC is past the year 9999."""
        try:
            return ts if ts.tzinfo is dt.UTC else ts.astimezone(dt.UTC)
        except OverflowError:
            self.ctx.reject(
                where(f.path, number),
                Reason.INVALID_DATETIME,
                f"{key}: {str(value)[:80]!r} is out of the range of times in UTC",
                field=key,
                value=value,
            )
            return None

    # --- the event -----------------------------------------------------------------------------

    def event(
        self,
        f: LogFile,
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
        """The ``logs`` event of a line kept, with its ``data`` and ids."""
        data = self._data(
            f, message, level, logger, host, pid, thread, stack, error_type, error_message
        )
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
            "summary": summary_line(data["message"]),
            "data": data,
            "tags": [info[1]],
            "metadata": {"file": f.name, "line": number},
        }
        return Parsed("event", record, f"{f.name}:{number}")

    def _data(
        self,
        f: LogFile,
        message: str,
        level: Any,
        logger: str | None,
        host: str | None,
        pid: Any,
        thread: str | None,
        stack: str | None,
        error_type: str | None,
        error_message: str | None,
    ) -> dict[str, Any]:
        """The event's ``data``: the message (cut), its template and the fields present."""
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
            data["error_type"] = cut(error_type)
        if error_message:
            data["error_message"] = cut(error_message, MAX_MESSAGE)
        if stack:
            data["stack"] = stack_text(stack.splitlines())
        return data

    def _level_info(self, level: Any, rank: int) -> tuple[str, str]:
        """(severity, tag) of a level as written; the tag is the level's usual name."""
        text = str(level).strip().lower()
        tag = _TAGS.get(text) or (_RANK_NAMES[rank] if rank < 8 else "trace")
        mapped = apply_rule(self.severity_rule, text)
        return (mapped or severity_for_level(rank), tag)

    def _service(self, f: LogFile, own: str | None) -> str | None:
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
        self, f: LogFile, logger: str | None, service: str | None, own: str | None
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
