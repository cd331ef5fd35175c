"""Value coercions shared by the models, the bulk paths and the readers.

Each function takes one raw value and returns the canonical value or raises
``PydanticCustomError`` with a reason code (a ``ValueError``), so that the same rules
apply whether a value arrives through a model, a DataFrame or a reader.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import math
import numbers
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from ._names import key as name_of
from ._reasons import Reason
from .errors import Failure

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

#: Epoch values above this many seconds are taken to be milliseconds or finer by
#: mistake (1e11 s is the year 5138).
MAX_EPOCH_SECONDS = 1e11
MAX_JSON_DEPTH = 64

_FRACTION = re.compile(r"(\.\d{6})\d+")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_missing(value: Any) -> bool:
    """True for ``None`` and the pandas/numpy missing markers (NaN, NaT, NA).

    >>> import math
    >>> [is_missing(v) for v in (None, math.nan, 0, "", [])]
    [True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset, enum.Enum)):
        return False
    if type(value).__name__ in {"NaTType", "NAType"}:
        return True
    try:
        return bool(value != value)  # NaN and numpy NaT are the only values unequal to themselves
    except (TypeError, ValueError):
        return False


def to_utc(value: Any) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime with microsecond precision.

    Accepts aware datetimes (incl. ``pandas.Timestamp``), ISO 8601 strings with an
    offset or ``Z``, and epoch seconds (int or float). Naive values are rejected.

    >>> to_utc("2026-03-01T10:02:00+01:00")
    datetime.datetime(2026, 3, 1, 9, 2, tzinfo=datetime.timezone.utc)
    >>> to_utc(0)
    datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, dt.datetime):
        if hasattr(value, "to_pydatetime"):  # pandas.Timestamp: drop sub-microsecond digits
            stamp: Any = value
            if stamp.tzinfo is not None:  # in UTC first: a local hour may be ambiguous
                stamp = stamp.tz_convert("UTC")
            value = stamp.floor("us").to_pydatetime()
        moment: dt.datetime = value
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise PydanticCustomError(
                Reason.NAIVE_DATETIME,
                "naive datetime {value} has no time zone; pass an aware datetime, e.g. "
                "datetime(..., tzinfo=datetime.timezone.utc), or an ISO string with an "
                "offset such as '2026-03-01T10:00:00Z'",
                {"value": str(moment)},
            )
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise _out_of_range(value) from None
    if isinstance(value, bool) or (
        type(value).__module__ == "numpy" and "bool" in type(value).__name__
    ):
        raise PydanticCustomError(
            Reason.INVALID_TYPE, "expected a datetime, ISO string or epoch seconds, got a bool"
        )
    if isinstance(value, (int, float, Decimal)) or type(value).__module__ == "numpy":
        return _from_epoch(value)
    if isinstance(value, str):
        return _from_iso(value)
    if isinstance(value, dt.date):
        raise PydanticCustomError(
            Reason.NAIVE_DATETIME,
            "{value} is a date without time or zone; pass an aware datetime or an ISO "
            "string such as '{value}T00:00:00Z'",
            {"value": value.isoformat()},
        )
    raise PydanticCustomError(
        Reason.INVALID_TYPE,
        "expected a datetime, ISO string or epoch seconds, got {type}",
        {"type": type(value).__name__},
    )


def _from_epoch(value: Any) -> dt.datetime:
    if type(value).__name__ == "datetime64":
        raise PydanticCustomError(
            Reason.NAIVE_DATETIME,
            "numpy.datetime64 {value} has no time zone; use pandas.Timestamp(x, tz='UTC')",
            {"value": str(value)},
        )
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    except (TypeError, ValueError):
        raise PydanticCustomError(
            Reason.INVALID_TYPE,
            "expected a datetime, ISO string or epoch seconds, got {type}",
            {"type": type(value).__name__},
        ) from None
    if math.isnan(seconds):
        raise PydanticCustomError(
            Reason.INVALID_DATETIME, "epoch seconds must be a number, not NaN"
        )
    if abs(seconds) > MAX_EPOCH_SECONDS:
        raise PydanticCustomError(
            Reason.INVALID_DATETIME,
            "{value} is too large for epoch seconds (it looks like milliseconds or "
            "nanoseconds); divide it to seconds first",
            {"value": str(value)},
        )
    try:
        if isinstance(value, numbers.Integral) or (
            isinstance(value, Decimal) and value == int(value)
        ):
            return EPOCH + dt.timedelta(seconds=int(value))
        return EPOCH + dt.timedelta(microseconds=round(seconds * 1e6))
    except OverflowError:
        raise _out_of_range(value) from None


def _out_of_range(value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        Reason.INVALID_DATETIME,
        "{value} is outside the years 1 to 9999 (in UTC)",
        {"value": _short(value)},
    )


def _from_iso(value: str) -> dt.datetime:
    text = value.strip()
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(r"\1", text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError(
            Reason.INVALID_DATETIME,
            "{value} is not an ISO 8601 timestamp; use e.g. '2026-03-01T10:00:00Z'",
            {"value": _short(value)},
        ) from None
    if parsed.tzinfo is None:
        raise PydanticCustomError(
            Reason.NAIVE_DATETIME,
            "{value} has no UTC offset; add 'Z' or an offset like '+01:00' "
            "(e.g. '2026-03-01T10:00:00Z')",
            {"value": _short(value)},
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _out_of_range(value) from None


def check_text(value: str) -> str:
    """Reject strings that cannot be stored as UTF-8 (lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise PydanticCustomError(
            Reason.INVALID_TEXT,
            "text contains a character that is not valid Unicode ({char}) at position {pos}",
            {"char": repr(err.object[err.start : err.end]), "pos": err.start},
        ) from None
    return value


#: Largest whole number a float holds exactly; integral floats up to it are names too.
_MAX_EXACT_FLOAT = 2**53


def is_whole_number(value: Any) -> bool:
    """True for ints and integral floats up to 2**53 (numpy's too), never for bools."""
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):
        return False
    if isinstance(value, numbers.Integral):
        return True
    if not isinstance(value, numbers.Real):
        return False
    number = float(value)
    return number.is_integer() and abs(number) <= _MAX_EXACT_FLOAT


def clean_name(value: Any) -> str | None:
    """Strip an identifier-like string; empty becomes ``None``.

    Whole numbers (``4711``, numpy integers, and floats such as ``4711.0`` that pandas
    makes of integer columns with gaps) and UUIDs become text.

    >>> clean_name("  payments "), clean_name(4711.0), clean_name("")
    ('payments', '4711', None)
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        text = value
    elif is_whole_number(value):
        text = str(int(value))
    elif isinstance(value, uuid.UUID):
        text = str(value)
    else:
        raise PydanticCustomError(
            Reason.INVALID_TYPE, "expected text, got {type}", {"type": type(value).__name__}
        )
    return check_text(text).strip() or None


def clean_tags(value: Any) -> list[str]:
    """Normalise tags: strip each, drop empties and duplicates, keep first-seen order.

    >>> clean_tags([" db", "timeout", "db", ""])
    ['db', 'timeout']
    >>> clean_tags("deploy")
    ['deploy']
    >>> clean_tags('["db", "timeout"]')  # JSON text, as the earlier SQLite store kept lists
    ['db', 'timeout']
    """
    if is_missing(value):
        return []
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = _json_list(value)  # lists stored as JSON text, as the earlier system did
    if isinstance(value, str):
        items: Iterable[Any] = [value]
    elif isinstance(value, (set, frozenset)):
        items = sorted(value, key=str)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = value
    else:
        raise PydanticCustomError(
            Reason.INVALID_TYPE,
            "expected a list of strings, got {type}",
            {"type": type(value).__name__},
        )
    out: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            raise PydanticCustomError(
                Reason.INVALID_TYPE,
                "every tag must be a string, got {item}",
                {"item": _short(item)},
            )
        tag = check_text(item).strip()
        if tag:
            out.setdefault(tag, None)
    return list(out)


def _json_list(text: str) -> Any:
    import json

    try:
        parsed = json.loads(text)
    except ValueError:
        return text  # a tag that happens to start with "["
    return parsed if isinstance(parsed, list) else text


def to_json_object(value: Any) -> dict[str, Any]:
    """Return ``value`` as a JSON-ready dict (accepts a mapping or JSON object text).

    NaN/NaT become ``None``, numpy scalars become Python numbers, aware datetimes
    become ISO strings; values JSON cannot hold are rejected with their path.

    >>> to_json_object({"n": 3, "when": to_utc(0)})
    {'n': 3, 'when': '1970-01-01T00:00:00+00:00'}
    """
    if is_missing(value):
        return {}
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise PydanticCustomError(
                Reason.BAD_JSON, "text is not a JSON object: {value}", {"value": _short(value)}
            ) from None
    if not isinstance(value, Mapping):
        raise PydanticCustomError(
            Reason.INVALID_TYPE,
            "expected a mapping (dict) or JSON object text, got {type}",
            {"type": type(value).__name__},
        )
    result = _json_value(value, "", 0)
    assert isinstance(result, dict)
    return result


def _json_value(value: Any, path: str, depth: int) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise _not_json(path, f"nested deeper than {MAX_JSON_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return check_text(value) if isinstance(value, str) else value
    if is_missing(value):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isinf(value):
            raise _not_json(path, "infinity cannot be stored in JSON")
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _not_json(path, f"key {_short(key)} is not a string")
            out[check_text(key)] = _json_value(item, f"{path}.{key}" if path else key, depth + 1)
        return out
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [_json_value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return [_json_value(v, f"{path}[]", depth + 1) for v in sorted(value, key=repr)]
    if isinstance(value, dt.datetime):
        try:
            return to_utc(value).isoformat()
        except PydanticCustomError as err:
            raise _not_json(path, err.message()) from None
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, enum.Enum)):
        return str(value.value if isinstance(value, enum.Enum) else value)
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return _json_value(value.item(), path, depth)
    raise _not_json(path, f"{type(value).__name__} value {_short(value)} is not JSON")


def _not_json(path: str, why: str) -> PydanticCustomError:
    where = f"at {path!r}: " if path else ""
    return PydanticCustomError(Reason.BAD_JSON, "{where}{why}", {"where": where, "why": why})


# --- field rules used by the models' annotations -------------------------------------


def enum_lower(value: Any) -> Any:
    """Normalise enum input: any case, surrounding blanks, '-' or ' ' for '_'."""
    if isinstance(value, StrEnum):
        value = value.value
    if isinstance(value, str):
        return "_".join(value.strip().replace("-", " ").split()).lower()
    return value


def enum_upper(value: Any) -> Any:
    """Like :func:`enum_lower`, for upper-case values such as priorities."""
    value = enum_lower(value)
    return value.upper() if isinstance(value, str) else value


def optional_utc(value: Any) -> dt.datetime | None:
    """:func:`to_utc` for optional fields: missing markers become ``None``."""
    return None if is_missing(value) else to_utc(value)


def text(value: Any) -> Any:
    """Free text: kept as given (no stripping); missing markers become ``None``."""
    if is_missing(value):
        return None
    return check_text(value) if isinstance(value, str) else value


#: Longest summary of an event, in characters (longer ones are cut, ending in "…").
MAX_SUMMARY = 200


def summary_text(value: Any) -> str | None:
    r"""An event's one-line summary: white space runs as one space, cut to 200 characters.

    >>> summary_text("  disk  full\n on /var "), summary_text("   ")
    ('disk full on /var', None)
    >>> len(summary_text("x" * 500)), summary_text("x" * 500)[-1]
    (200, '…')
    """
    if is_missing(value):
        return None
    if not isinstance(value, str):
        raise PydanticCustomError(
            Reason.INVALID_TYPE, "expected text, got {type}", {"type": type(value).__name__}
        )
    flat = " ".join(check_text(value).split())
    if not flat:
        return None
    return flat if len(flat) <= MAX_SUMMARY else flat[: MAX_SUMMARY - 1] + "…"


def required_name(value: Any) -> str:
    """A name that must be present and not blank."""
    name = clean_name(value)
    if name is None:
        raise PydanticCustomError(Reason.EMPTY, "must not be empty")
    return name


def name_key(value: Any) -> str:
    """A required name as its comparison key: lower case, white space runs as one space.

    >>> name_key("  Payments   API ")
    'payments api'
    """
    return name_of(required_name(value)) or ""


def event_type_name(value: Any) -> str:
    """Event types are lower-case words joined by '_' ('Config Change' -> 'config_change')."""
    name = "_".join(required_name(value).replace("-", " ").split()).lower()
    if not name:
        raise PydanticCustomError(Reason.EMPTY, "must contain a word, not only '-' and blanks")
    return name


def record_id(value: Any) -> str:
    """A record id: UUIDs become text; other values must be non-blank names."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return required_name(value)


def not_bool(value: Any) -> Any:
    """Refuse booleans where a number is expected (``True`` is not a confidence)."""
    if isinstance(value, bool):
        raise PydanticCustomError(Reason.INVALID_TYPE, "expected a number, not a bool")
    return value


# --- pydantic errors -> Failures ------------------------------------------------------

#: Pydantic's error types → reasons (a type that is a reason's code is that reason; any
#: other is ``invalid_value``).
_CODES: dict[str, Reason] = {
    "extra_forbidden": Reason.UNKNOWN_FIELD,
    "enum": Reason.INVALID_CHOICE,
    "literal_error": Reason.INVALID_CHOICE,
    "string_too_long": Reason.TOO_LONG,
    "less_than_equal": Reason.OUT_OF_RANGE,
    "greater_than_equal": Reason.OUT_OF_RANGE,
    "less_than": Reason.OUT_OF_RANGE,
    "greater_than": Reason.OUT_OF_RANGE,
    "finite_number": Reason.OUT_OF_RANGE,
    **dict.fromkeys(
        (
            "string_type",
            "float_type",
            "float_parsing",
            "int_type",
            "int_parsing",
            "int_from_float",
            "bool_type",
            "bool_parsing",
            "dict_type",
            "list_type",
            "model_type",
            "model_attributes_type",
            "is_instance_of",
        ),
        Reason.INVALID_TYPE,
    ),
}
#: Reasons the rules in this module raise with a message that says everything.
_OWN_MESSAGES = frozenset(
    {
        Reason.NAIVE_DATETIME,
        Reason.INVALID_TYPE,
        Reason.INVALID_DATETIME,
        Reason.INVALID_TEXT,
        Reason.BAD_JSON,
    }
)


def reason_of(kind: str) -> Reason:
    """The :class:`Reason` of a pydantic error type (or of a rule's own error).

    >>> [str(reason_of(kind)) for kind in ("enum", "naive_datetime", "value_error")]
    ['invalid_choice', 'naive_datetime', 'invalid_value']
    """
    code = _CODES.get(kind)
    if code is not None:
        return code
    try:
        return Reason(kind)
    except ValueError:
        return Reason.INVALID_VALUE


def failures_from_pydantic(
    err: ValidationError, record: str | int | None, fields: Sequence[str]
) -> list[Failure]:
    """Translate a pydantic ``ValidationError`` into :class:`Failure` items."""
    failures = []
    for e in err.errors(include_url=False):
        if e["type"] == "default_factory_not_called":
            continue  # a consequence of another failure, reported on its own
        loc = e.get("loc", ())
        field = ".".join(str(p) for p in loc) or None
        kind = e["type"]
        code = reason_of(kind)
        value = e.get("input")
        if code == Reason.UNKNOWN_FIELD:
            name = str(loc[-1]) if loc else ""
            close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
            hint = (
                f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(fields)}"
            )
            message = f"unknown field{hint}"
        elif code == Reason.MISSING:
            message = "required field is missing"
            value = None
        elif code == Reason.TOO_LONG:
            limit = (e.get("ctx") or {}).get("max_length")
            message = f"is {len(value)} characters long; at most {limit} are allowed"
        elif kind in _OWN_MESSAGES:
            message = e["msg"]
        else:
            message = f"{e['msg']} (got {_short(value)})"
        failures.append(Failure(record, field, code, message, value))
    return failures
