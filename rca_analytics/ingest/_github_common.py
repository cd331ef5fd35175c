"""Shared helpers of the GitHub reader: body access, value checks and the label maps."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_core import PydanticCustomError

from .._reasons import Reason
from .._validate import to_utc
from ._base import (
    ZERO_TIME_NOTE,
    Context,
    Refused,
    is_zero_time,
    one_line,
    pointer,
    where,
    zero_as_missing,
)

CONCLUSION_SEVERITY = {
    "failure": "high",
    "timed_out": "high",
    "startup_failure": "high",
    "cancelled": "low",
    "action_required": "low",
    "stale": "low",
    "success": "info",
    "neutral": "info",
    "skipped": "info",
}
STATE_SEVERITY = {
    "failure": "high",
    "error": "high",
    "inactive": "low",
    "success": "info",
    "created": "info",
    "pending": "info",
    "queued": "info",
    "in_progress": "info",
    "waiting": "info",
}
RELEASE_ACTIONS = frozenset({"published", "released", "prereleased", "created"})
IMPACT_ORDER = ("critical", "high", "medium", "low")
PRIORITY_ORDER = ("P0", "P1", "P2", "P3")
SEV_LABEL = re.compile(
    r"(?:sev|severity)[\s:/_=.-]*([0-9]|critical|crit|major|high|medium|moderate|minor|low)",
    re.ASCII,
)
PRIORITY_LABEL = re.compile(
    r"(?:p|priority)[\s:/_=.-]*([0-9]|critical|urgent|high|medium|normal|low)", re.ASCII
)
IMPACT_WORDS = {
    "0": "critical",
    "1": "critical",
    "2": "high",
    "3": "medium",
    "critical": "critical",
    "crit": "critical",
    "major": "high",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "minor": "low",
    "low": "low",
}
PRIORITY_WORDS = {
    "0": "P0",
    "1": "P1",
    "2": "P2",
    "3": "P3",
    "critical": "P0",
    "urgent": "P0",
    "high": "P1",
    "medium": "P2",
    "normal": "P2",
    "low": "P3",
}
#: Longest issue body kept as the description (GitHub's own limit).
MAX_DESCRIPTION = 65_536
#: Longest name-like value (workflow, job, ref, title ...) kept, in characters.
NAME_LIMIT = 300
#: Longest commit message or check output title kept, in characters.
MESSAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Body:
    """One webhook body and where it sits in its file."""

    path: Path
    base: tuple[str | int, ...]
    #: The body was JSON text inside the file: pointers stop at that text.
    opaque: bool
    data: dict[str, Any]
    delivery: str | None

    def at(self, *parts: str | int) -> str:
        """JSON pointer of a value of the body."""
        if self.opaque:
            return pointer(self.path, *self.base)
        return pointer(self.path, *self.base, *parts)

    @property
    def where(self) -> str:
        return pointer(self.path, *self.base) if self.base else where(self.path)


# --- reading values ----------------------------------------------------------------------


def field_path(parts: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in parts)


TYPE_NAMES = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}


def type_name(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return TYPE_NAMES.get(type(value), "null")


def need(body: Body, parts: Sequence[str | int], kind: type | tuple[type, ...]) -> Any:
    """The value at ``parts`` of the body, of type ``kind``; else :class:`Refused`."""
    value: Any = body.data
    for i, key in enumerate(parts):
        if not isinstance(value, dict):
            raise Refused(
                Reason.INVALID_TYPE,
                f"{field_path(parts[:i])} is {type_name(value)}, expected an object",
                where=body.at(*parts[:i]),
                field=field_path(parts[:i]),
                value=value,
            )
        value = value.get(key) if isinstance(key, str) else None
        if value is None:
            raise Refused(
                Reason.MISSING,
                "missing",
                where=body.at(*parts[: i + 1]),
                field=field_path(parts[: i + 1]),
            )
    wanted = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in wanted) or not isinstance(value, wanted):
        expected = " or ".join(dict.fromkeys(TYPE_NAMES.get(t, "a number") for t in wanted))
        raise Refused(
            Reason.INVALID_TYPE,
            f"{field_path(parts)} is {type_name(value)}, expected {expected}",
            where=body.at(*parts),
            field=field_path(parts),
            value=value,
        )
    return value


def need_object(body: Body, *parts: str) -> dict[str, Any]:
    value: dict[str, Any] = need(body, parts, dict)
    return value


def need_ident(body: Body, *parts: str) -> str:
    """A GitHub id (a number, or its text)."""
    value = need(body, parts, (int, str))
    text = str(value).strip()
    if not text:
        raise Refused(Reason.EMPTY, "empty", where=body.at(*parts), field=field_path(parts))
    return text


def need_time(body: Body, ctx: Context, *parts: str) -> dt.datetime:
    """A required time: ISO 8601 text (``Z`` or offset) or epoch seconds.

    A zero time (``0001-01-01T00:00:00Z``, epoch 0) is unset: refused as ``missing``
    (noted ``zero_time_as_missing``).
    """
    value = need(body, parts, (str, int, float))
    if zero_as_missing(value, ctx, unix=True) is None:
        raise Refused(
            Reason.MISSING,
            f"{str(value)[:60]!r} is a zero time (unset)",
            where=body.at(*parts),
            field=field_path(parts),
            value=value,
        )
    moment = to_time(value, ctx)
    if moment is None:
        raise Refused(
            Reason.INVALID_DATETIME,
            f"{str(value)[:60]!r} is not a time",
            where=body.at(*parts),
            field=field_path(parts),
            value=value,
        )
    return moment


def to_time(value: Any, ctx: Context | None = None) -> dt.datetime | None:
    """``value`` as an aware time, or None; offset-less text is taken as UTC (noted).

    A zero time (``0001-01-01T00:00:00Z``, epoch 0) is None too (noted
    ``zero_time_as_missing``).
    """
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if is_zero_time(value, unix=True):
        if ctx is not None:
            ctx.note(ZERO_TIME_NOTE)
        return None
    try:
        return to_utc(value)
    except PydanticCustomError as err:
        if err.type != Reason.NAIVE_DATETIME or not isinstance(value, str):
            return None
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:  # pragma: no cover - to_utc parsed it already
        return None
    if ctx is not None:
        ctx.note("naive_time_as_utc")
    return naive.replace(tzinfo=dt.UTC)


def pull_request_numbers(prs: Any) -> list[int] | None:
    """The numbers of a run's or check's pull requests, or None when it names none."""
    if not isinstance(prs, list) or not prs:
        return None
    return [p["number"] for p in prs if isinstance(dig(p, "number"), int)]


def dig(value: Any, *keys: str) -> Any:
    """The value at ``keys`` of nested objects, or None when any step is absent."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def short_text(value: Any, limit: int = NAME_LIMIT) -> str | None:
    """A short one-line text of a name-like value (None when absent or not text)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    flat = one_line(str(value), limit)
    return flat or None


def as_number(text: str) -> int | str:
    """An id as a number in ``data`` when it is one (GitHub's ids are)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else text


def as_flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def login_of(value: Any) -> str | None:
    return short_text(dig(value, "login")) or short_text(dig(value, "name"))


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> int | float | None:
    if start is None or end is None or end < start:
        return None
    seconds = (end - start).total_seconds()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def impact_of(label: str) -> str | None:
    match = SEV_LABEL.fullmatch(label.strip().lower())
    if match is None:
        return None
    word = match.group(1)
    return "low" if word.isdigit() and int(word) > 3 else IMPACT_WORDS[word]


def priority_of(label: str) -> str | None:
    match = PRIORITY_LABEL.fullmatch(label.strip().lower())
    if match is None:
        return None
    word = match.group(1)
    return "P3" if word.isdigit() and int(word) > 3 else PRIORITY_WORDS[word]
