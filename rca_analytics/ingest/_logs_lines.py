"""Logs reader: JSON and logfmt lines → events (plain text: :mod:`._logs_text`).

:class:`LineReaders` streams a file of one format, skips lines below the level early
(without decoding JSON lines when it can), and maps JSON and logfmt records' keys to
the event's fields; :class:`~._logs_event.EventBuilder` builds the events.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

from .._reasons import Reason
from . import _logformats as lf
from ._base import Parsed, Refused, lines, repaired, where
from ._logs_event import EventBuilder
from ._logs_fields import (
    JOURNALD_LOGGER,
    MAX_ATTRIBUTES,
    NOT_ATTRIBUTES,
    Key,
    LogFile,
    Plan,
    find,
    find_text,
    flatten,
    nested,
)

_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_fromisoformat = dt.datetime.fromisoformat
#: A JSON level value after its key: a short string without escapes, or a small number.
_JSON_VALUE = re.compile(r'\s*:\s*(?:"([^"\\]{1,24})"|(-?\d{1,3})(?=\s*[,}]))')


class LineReaders(EventBuilder):
    """The readers of each line format; the logs reader's base class."""

    min_rank: int
    default_level: str | None
    default_rank: int | None
    custom: set[str]
    keys: dict[str, tuple[Key, ...]]
    errors: tuple[Key, ...]
    error_roots: frozenset[str]
    logfmt_level: re.Pattern[str]
    higher: dict[str, tuple[str, ...]]
    plans: dict[tuple[str, ...], Plan]
    full_plan: Plan

    # --- structured lines -----------------------------------------------------------------

    def json_lines(self, f: LogFile) -> Iterator[Parsed]:
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
                            rank = self.rank_of(value)
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
                self._bad_json(name, number, err)
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

    def _bad_json(self, name: str, number: int, err: ValueError) -> None:
        """Rejects a line that is not JSON, saying where it broke."""
        col = getattr(err, "colno", None)
        msg = f"column {col}: {getattr(err, 'msg', err)}" if col else str(err).split(";")[0]
        self.ctx.reject(f"{name}:{number}", Reason.BAD_JSON, msg)

    def logfmt_lines(self, f: LogFile) -> Iterator[Parsed]:
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
                    rank = ranks[value] if value in ranks else self.rank_of(value)
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

    def _plan(self, obj: dict[str, Any]) -> Plan:
        """The keys worth looking up in records of ``obj``'s shape (its keys, in order)."""
        if len(obj) > 64:
            return self.full_plan
        shape = tuple(obj)
        plan = self.plans.get(shape)
        if plan is None:
            if len(self.plans) >= 1000:
                self.plans.clear()
            plan = self.plans[shape] = Plan(self, set(shape))
        return plan

    def _record(self, f: LogFile, number: int, raw: str, obj: dict[str, Any]) -> Parsed | None:
        """The event of one JSON or logfmt record, or None (skipped or rejected)."""
        plan = self._plan(obj)
        used = set(NOT_ATTRIBUTES)
        found = self._level(f, number, obj, plan, used)
        if found is None:
            return None
        level, rank = found
        ts = self._timestamp(f, number, obj, plan, used)
        if ts is None:
            return None
        message = self._message(obj, plan, used)
        service, logger, host, pid = self._origin(obj, plan, used)
        error_type = error_message = stack = None
        if plan.errors:
            error_type = find_text(obj, self.errors[:4], used)
            error_message = find_text(obj, self.errors[4:8], used)
            stack = find_text(obj, self.errors[8:], used)
            if not message and error_message:
                message = error_message
            if error_message == message:
                error_message = None
        own = obj.get("component") if plan.component else None
        parsed = self.event(
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
        flatten(obj, "", 0, used, data, len(data) + MAX_ATTRIBUTES)
        if "\\u" in raw and _SURROGATE.search(raw):
            record = parsed.record
            fields = {name: record[name] for name in ("service", "component", "data")}
            record.update(repaired(fields, self.ctx))
        return parsed

    def _level(
        self, f: LogFile, number: int, obj: dict[str, Any], plan: Plan, used: set[str]
    ) -> tuple[Any, int] | None:
        """The record's level as written and its rank, or None (skipped or rejected)."""
        hit = find(obj, plan.level)
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
            rank = self.ranks[level] if level in self.ranks else self.rank_of(level)
            if rank is None:
                f.unknown_level += 1
                return None
            if f.level_quoted is None and key in obj and f.fmt == "json":
                f.learn_level_key(key, self.higher[key])
            used.add(key)
        if rank is None or rank > self.min_rank:
            f.below += 1
            return None
        return level, rank

    def _timestamp(
        self, f: LogFile, number: int, obj: dict[str, Any], plan: Plan, used: set[str]
    ) -> dt.datetime | None:
        """The record's time, or None (rejected)."""
        hit = find(obj, plan.time)
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
        if ts is None or ts.tzinfo is None or ts.year <= 1:  # year 1: a zero time
            try:
                ts = self.time_of(f, key, value)
            except Refused as bad:
                self.ctx.refuse(bad, where(f.path, number))
                return None
        return self.in_utc(f, number, ts, key, value)

    def _message(self, obj: dict[str, Any], plan: Plan, used: set[str]) -> str:
        """The record's message: text as is, other values as JSON; "" when there is none."""
        for key, path in plan.message:
            value = obj.get(key)
            if value is None and path is not None:
                value = nested(obj, path)
            if value is None:
                continue
            if type(value) is str:
                message = value
            elif key == "log" and "log" not in self.custom:
                continue  # ECS "log" is an object of log.* fields
            else:
                message = json.dumps(value, ensure_ascii=False, default=str)
            used.add(key)
            return message
        return ""

    def _origin(
        self, obj: dict[str, Any], plan: Plan, used: set[str]
    ) -> tuple[str | None, str | None, str | None, Any]:
        """The record's service, logger, host and pid (None where absent)."""
        service = find_text(obj, plan.service, used) if plan.service else None
        if service is None:
            if plan.bunyan and type(obj["name"]) is str:  # Bunyan, pino: name is the app
                service = obj["name"]
                used.add("name")
        elif service.endswith(".service"):
            service = service[: -len(".service")]  # systemd unit
        logger = find_text(obj, plan.logger, used) if plan.logger else None
        if logger is None:
            if plan.pylogging and type(obj["name"]) is str:  # python-json-logger
                logger = obj["name"]
                used.add("name")
            elif plan.journald and service is not None:
                logger = find_text(obj, JOURNALD_LOGGER, used)
        host = find_text(obj, plan.host, used) if plan.host else None
        pid: Any = None
        if plan.pid:
            hit = find(obj, plan.pid)
            if hit is not None and type(hit[1]) in (int, str):
                used.add(hit[0])
                pid = hit[1]
        return service, logger, host, pid
