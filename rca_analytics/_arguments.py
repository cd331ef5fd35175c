"""Checking query arguments: filter values, time bounds, durations, names, limits.

Every check runs before any SQL and raises :class:`~rca_analytics.QueryError` naming
the argument. Time bounds may be aware datetimes, ISO strings with an offset, epoch
seconds, or dates / naive datetimes / naive strings, which are read as UTC (a
convenience for people typing in notebooks; stored records must be aware).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any

import pandas as pd

from . import _validate as v
from .errors import QueryError
from .models import Priority

__all__ = [
    "check_names",
    "column_names",
    "confidence",
    "duration",
    "enum_values",
    "limit_sql",
    "name_values",
    "pandas_timedelta",
    "rank_at_least",
    "suggest",
    "tag_values",
    "utc_bound",
]


def _values(name: str, value: Any) -> list[Any]:
    if isinstance(value, (str, StrEnum)) or not isinstance(value, Iterable):
        return [value]
    values = list(value)
    if not values:
        raise QueryError(f"{name}: an empty list matches nothing; leave the filter out instead")
    return values


def enum_values(name: str, value: Any, enum: type[StrEnum]) -> list[str]:
    """One enum value or a list of them, as stored (any case; priorities upper)."""
    normalise = v.enum_upper if enum is Priority else v.enum_lower
    out = []
    for item in _values(name, value):
        text = normalise(item)
        try:
            out.append(enum(text).value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise QueryError(f"{name}: {item!r} is not one of {allowed}") from None
    return out


def rank_at_least(name: str, value: Any, enum: type[StrEnum]) -> list[str]:
    """The values at least as severe/urgent as ``value`` (enums list the most first)."""
    values = enum_values(name, value, enum)
    if len(values) != 1:
        raise QueryError(f"{name}: give one value, not {len(values)}")
    order = [m.value for m in enum]
    return order[: order.index(values[0]) + 1]


def name_values(name: str, value: Any, rule: Callable[[Any], Any] = v.clean_name) -> list[str]:
    """One name or a list, each read by ``rule`` (blank names are refused)."""
    out = []
    for item in _values(name, value):
        try:
            text = rule(item)
        except ValueError as err:
            raise QueryError(f"{name}: {item!r} is not usable: {err}") from None
        if text is None:
            raise QueryError(f"{name}: {item!r} is blank")
        out.append(text)
    return out


def tag_values(name: str, value: Any) -> list[str]:
    """A tag or a list of them, cleaned; at least one."""
    try:
        tags = v.clean_tags(value)
    except ValueError as err:
        raise QueryError(f"{name}: {err}") from None
    if not tags:
        raise QueryError(f"{name}: give at least one tag")
    return tags


def utc_bound(name: str, value: Any) -> dt.datetime:
    """A time bound: aware values as given; dates and naive values read as UTC.

    A bound finer than a microsecond is moved up to the next microsecond, so that
    comparisons with stored (microsecond) times mean what they say.
    """
    bound = _utc_bound(name, value)
    if _sub_microsecond(value):
        try:
            bound += dt.timedelta(microseconds=1)
        except OverflowError:
            raise QueryError(
                f"{name}: {value!r} is past the last time that can be stored"
            ) from None
    return bound


def _sub_microsecond(value: Any) -> bool:
    if isinstance(value, str):
        match = re.search(r"\.\d{6}(\d+)", value)
        return bool(match and match.group(1).strip("0"))
    return bool(getattr(value, "nanosecond", 0))


def _utc_bound(name: str, value: Any) -> dt.datetime:
    if type(value).__module__ == "numpy" and "datetime64" in type(value).__name__:
        value = pd.Timestamp(value)  # naive, so read as UTC below
    if isinstance(value, dt.datetime) and (value.tzinfo is None or value.utcoffset() is None):
        value = value.replace(tzinfo=dt.UTC)
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text += "T00:00:00"
        try:
            return v.to_utc(text)
        except ValueError:
            try:
                return v.to_utc(text + "Z")  # naive text: read as UTC
            except ValueError:
                raise QueryError(
                    f"{name}: cannot read {value!r} as a time; use e.g. '2026-03-01', "
                    "'2026-03-01T10:00' (UTC) or '2026-03-01T10:00:00+01:00'"
                ) from None
    try:
        return v.to_utc(value)
    except ValueError as err:
        raise QueryError(f"{name}: {err}") from None
    except OverflowError:
        raise QueryError(f"{name}: {value!r} is outside the times that can be stored") from None


def pandas_timedelta(name: str, text: str) -> pd.Timedelta:
    """``pd.Timedelta`` of a text, with "d" for days read as "D".

    A spelling pandas is retiring ("H", "T"...) is refused with pandas' advice rather
    than read today and broken tomorrow.
    """
    text = re.sub(r"(?<=\d)(\s*)d(?![a-z])", r"\1D", text.strip())  # pandas 3: "D" only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return pd.Timedelta(text)
        except Warning as advice:
            raise QueryError(f"{name}: {text!r}: {advice}") from None


def duration(name: str, value: Any) -> dt.timedelta:
    """A window length: ``"2h"``, ``"30m"``, ``"1d"``, a timedelta, or a number of seconds."""
    if isinstance(value, bool):
        raise QueryError(f"{name}: expected a duration such as '2h', not {value!r}")
    try:
        delta = (
            pd.Timedelta(seconds=value)
            if isinstance(value, (int, float))
            else pandas_timedelta(name, value)
            if isinstance(value, str)
            else pd.Timedelta(value)
        )
    except QueryError:
        raise
    except (ValueError, TypeError, OverflowError):
        raise QueryError(
            f"{name}: cannot read {value!r} as a duration; use e.g. '2h', '30m'"
        ) from None
    if pd.isna(delta) or delta < pd.Timedelta(0):
        raise QueryError(f"{name}: {value!r} must be a positive duration")
    return delta.to_pytimedelta()


def confidence(name: str, value: Any) -> float:
    """A confidence: a number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise QueryError(f"{name}: expected a number between 0 and 1, got {value!r}")
    return float(value)


def suggest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_names(given: Iterable[str], allowed: Sequence[str], call: str) -> None:
    """Refuse a filter name ``call()`` does not have, suggesting the closest."""
    for name in given:
        if name not in allowed:
            raise QueryError(
                f"{call}() has no filter {name!r}{suggest(name, allowed)} "
                f"(filters: {', '.join(allowed)})"
            )


def column_names(name: str, value: Any) -> list[str]:
    """A column name or a list of them; anything else is a QueryError."""
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise QueryError(
            f"{name}: expected a column name or a list of them, not {value!r}"
        ) from None
    for item in names:
        if not isinstance(item, str):
            raise QueryError(f"{name}: column names are text, not {item!r}")
    return names


def limit_sql(limit: int | None) -> str:
    """`` LIMIT n`` for a whole number, nothing for None."""
    if limit is None:
        return ""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise QueryError(f"limit: expected a whole number >= 0, got {limit!r}")
    return f" LIMIT {int(limit)}"
