"""OpenTelemetry OTLP/JSON traces and logs → ``traces`` and ``logs`` events.

Reads export requests (``ExportTraceServiceRequest``, ``ExportLogsServiceRequest``) as
sent to ``/v1/traces`` and ``/v1/logs``, one per file or one per line as the
collector's file exporter writes them. Spans that failed (status ERROR) or were slow
become ``traces`` events; log records at or above ``min_level`` become ``logs``
events. Metrics are not read. Mappings and options are in ``docs/readers/otlp.md``.

>>> import json, pathlib, tempfile
>>> from rca_analytics.ingest._base import Context
>>> span = {"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
...         "name": "GET /pay", "kind": 2, "status": {"code": 2, "message": "timeout"},
...         "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712660250000000"}
>>> request = {"resourceSpans": [{
...     "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
...     "scopeSpans": [{"scope": {"name": "my.library"}, "spans": [span]}]}]}
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp, "trace.json")
...     _ = path.write_text(json.dumps(request))
...     [parsed] = read([path], Context())
>>> event = parsed.record
>>> event["event_type"], event["source_id"], event["service"], event["data"]["duration_ms"]
('span_error', '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174', 'shop', 250.0)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .._reasons import Reason
from ..errors import ReaderError
from ._base import (
    JSON_LINES_SUFFIXES,
    Context,
    Parsed,
    Refused,
    Rule,
    apply_rule,
    check_rule,
    digest,
    expand,
    json_values,
    kind_of,
    level_rank,
    pointer,
    severity_for_level,
    zero_as_missing,
)
from .logs import event_type_of

__all__ = ["SUFFIXES", "read"]

#: Names of the files taken from folders (a file named as input is read whatever its name).
SUFFIXES = (".json", ".json.gz", *JSON_LINES_SUFFIXES)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_INT64 = (1 << 63) - 1
#: Bounds of what ``data`` keeps of attributes and text.
_MAX_ATTRIBUTES = 64
_MAX_ITEMS = 32
_MAX_DEPTH = 4
_MAX_TEXT = 4096
_MAX_EXCEPTIONS = 5
_MAX_STACK_LINES = 20

_SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUS_CODES = ("unset", "ok", "error")
#: severityNumber ranges (TRACE 1-4 ... FATAL 21-24) → syslog-like level rank.
_RANK_BY_SEVERITY_NUMBER = {0: 8, 1: 7, 2: 6, 3: 4, 4: 3, 5: 1}
_SEVERITY_NAMES = {
    "TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21,
}  # fmt: skip
_LEVEL_NAMES = {8: "trace", 7: "debug", 6: "info", 5: "notice", 4: "warn", 3: "error"}
#: A severityNumber beyond this (int32) is not kept in ``data``: it is no severity at all.
_MAX_SEVERITY_NUMBER = (1 << 31) - 1


@dataclass(frozen=True, slots=True)
class _Options:
    slow_ms: float | None
    min_rank: int
    service: Rule | None
    component: Rule | None


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a span or log record inherits: its resource and instrumentation scope."""

    service: str | None
    resource: dict[str, Any]
    name: str | None
    version: str | None
    #: Canonical JSON of the raw resource attributes (a log record's identity).
    identity: str


# --- files -------------------------------------------------------------------------------------


# --- values ------------------------------------------------------------------------------------


def _text(value: str, limit: int = _MAX_TEXT) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _any(value: Any, depth: int = 0) -> Any:
    """An OTLP ``AnyValue`` as plain JSON (bounded in size and depth)."""
    if not isinstance(value, dict):
        return _plain(value, depth)
    if "stringValue" in value:
        return _plain(value["stringValue"], depth)
    if "boolValue" in value:
        return value["boolValue"] if isinstance(value["boolValue"], bool) else None
    if "intValue" in value:
        raw = value["intValue"]
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return int(raw) if isinstance(raw, str) else None
        except ValueError:
            return _plain(raw, depth)
    if "doubleValue" in value:
        raw = value["doubleValue"]
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw) if math.isfinite(raw) else str(raw)
        return _plain(raw, depth)  # "NaN", "Infinity" in protobuf JSON
    if "bytesValue" in value:
        return _plain(value["bytesValue"], depth)  # base64, kept as given
    if depth >= _MAX_DEPTH:
        return "…"
    if "arrayValue" in value:
        array = value["arrayValue"]
        items = array.get("values") if isinstance(array, dict) else None
        items = items if isinstance(items, list) else []
        return [_any(v, depth + 1) for v in items[:_MAX_ITEMS]]
    if "kvlistValue" in value:
        kv = value["kvlistValue"]
        pairs = kv.get("values") if isinstance(kv, dict) else None
        return _attributes(pairs if isinstance(pairs, list) else [], depth + 1, _MAX_ITEMS)[0]
    return None


def _plain(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _text(json.dumps(value, default=str)[:_MAX_TEXT]) if depth < _MAX_DEPTH else "…"


def _attributes(
    raw: Any, depth: int = 0, limit: int = _MAX_ATTRIBUTES
) -> tuple[dict[str, Any], int]:
    """``[{key, value}]`` → dict; returns (dict, entries dropped as malformed or too many)."""
    if not isinstance(raw, list):
        return {}, 0 if raw is None else 1
    out: dict[str, Any] = {}
    dropped = 0
    for entry in raw:
        key = entry.get("key") if isinstance(entry, dict) else None
        if isinstance(key, str) and (len(out) < limit or key in out):
            out[key] = _any(entry.get("value"), depth)
        else:
            dropped += 1
    return out, dropped


def _identity(value: Any) -> str:
    """Canonical JSON of raw input, for digests."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _attributes_identity(raw: Any) -> str:
    """Canonical JSON of a raw attribute list, whatever the order of its entries.

    >>> a, b = {"key": "pod", "value": {"stringValue": "a"}}, {"key": "ns", "value": 1}
    >>> _attributes_identity([a, b]) == _attributes_identity([b, a])
    True
    """
    if isinstance(raw, list):
        return _identity(sorted(_identity(entry) for entry in raw))
    return _identity(raw)


def _nanos(record: dict[str, Any], key: str, ctx: Context) -> int | None:
    """A ``*UnixNano`` field: int64 nanoseconds as text or number; None when unset.

    0 is unset (the OTLP spec says so): None, noted ``zero_time_as_missing``.
    """
    raw = record.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise Refused(
            Reason.INVALID_TYPE, f"{key} must be nanoseconds, got bool", field=key, value=raw
        )
    if isinstance(raw, float):
        if not raw.is_integer():
            raise Refused(
                Reason.INVALID_DATETIME,
                f"{key} {raw!r} is not whole nanoseconds",
                field=key,
                value=raw,
            )
        raw = int(raw)
    if isinstance(raw, str):
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):
            shown = raw if len(raw) <= 40 else raw[:39] + "…"
            raise Refused(
                Reason.INVALID_DATETIME,
                f"{key} {shown!r} is not a count of nanoseconds",
                field=key,
                value=raw,
            )
        raw = int(raw)
    if not isinstance(raw, int):
        raise Refused(
            Reason.INVALID_TYPE,
            f"{key} must be nanoseconds, got {kind_of(raw)}",
            field=key,
            value=raw,
        )
    if raw < 0 or raw > _MAX_INT64:
        raise Refused(
            Reason.INVALID_DATETIME,
            f"{key} {raw} is outside int64 nanoseconds",
            field=key,
            value=raw,
        )
    return zero_as_missing(raw, ctx, unix=True)


def _no_time(what: str, record: dict[str, Any], *keys: str) -> str:
    """Why a record has no time: its time fields absent, or 0 (unset)."""
    if all(record.get(k) in (None, "") for k in keys):
        return f"the {what} has no {' nor '.join(keys)}"
    return f"the {what} has no time: {' and '.join(keys)} absent or 0 (unset)"


def _time(nanos: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=nanos // 1000)


def _iso(nanos: int) -> str:
    return _time(nanos).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hex_id(record: dict[str, Any], key: str, size: int, ctx: Context) -> str | None:
    """A trace or span id as lower-case hex; None when absent, empty or all zeros.

    OTLP/JSON writes ids as hex; some exporters use protobuf's default base64 instead,
    which is recognised by its length and converted (noted ``base64_id_as_hex``).
    """
    raw = record.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise Refused(
            Reason.INVALID_TYPE,
            f"{key} must be hex text, got {kind_of(raw)}",
            field=key,
            value=raw,
        )
    value: str | None = None
    if len(raw) == 2 * size:
        try:
            bytes.fromhex(raw)
            value = raw.lower()
        except ValueError:
            value = None
    elif len(raw) == 4 * math.ceil(size / 3):
        try:
            value = base64.b64decode(raw, validate=True).hex()
        except (binascii.Error, ValueError):
            value = None
        if value is not None and len(value) == 2 * size:
            ctx.note("base64_id_as_hex")
        else:
            value = None
    if value is None:
        shown = raw if len(raw) <= 40 else raw[:39] + "…"
        raise Refused(
            Reason.INVALID_ID, f"{key} {shown!r} is not {size} bytes of hex", field=key, value=raw
        )
    return None if value.strip("0") == "" else value


def _enum(value: Any, names: tuple[str, ...], prefix: str, key: str) -> int:
    """A protobuf enum given as its number or its name (``STATUS_CODE_ERROR``)."""
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return value
    if isinstance(value, str):
        name = value.strip().upper().removeprefix(prefix).lower()
        if name in names:
            return names.index(name)
        if name.isascii() and name.isdigit() and len(name) <= 3 and int(name) < len(names):
            return int(name)
    raise Refused(
        Reason.INVALID_CHOICE,
        f"{key} {json.dumps(value)[:40]} is not a known value",
        field=key,  # a dotted key is its path: ``status.code``
        value=value,
    )


# --- records -----------------------------------------------------------------------------------


def _scope(resource: Any, scope: Any, options: _Options) -> tuple[_Scope, int]:
    raw = resource.get("attributes") if isinstance(resource, dict) else None
    attrs, dropped = _attributes(raw)
    name = attrs.get("service.name")
    name = name if isinstance(name, str) and name.strip() else None
    service = _mapped(options.service, name, default=name)
    scope = scope if isinstance(scope, dict) else {}
    scope_name = scope.get("name") if isinstance(scope.get("name"), str) else None
    version = scope.get("version") if isinstance(scope.get("version"), str) else None
    identity = _attributes_identity(raw)
    return _Scope(service, attrs, scope_name or None, version or None, identity), dropped


def _mapped(rule: Rule | None, *values: str | None, default: str | None) -> str | None:
    """What ``rule`` maps the first of ``values`` it maps to; else ``default``.

    A plain string is the answer for every record, even without a value to map.
    """
    if isinstance(rule, str):
        return rule
    for value in values:
        found = apply_rule(rule, value)
        if found:
            return found
    return default


def _exceptions(events: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or event.get("name") != "exception":
            continue
        attrs, _ = _attributes(event.get("attributes"))
        stack = attrs.get("exception.stacktrace")
        if isinstance(stack, str):
            stack = "\n".join(stack.splitlines()[:_MAX_STACK_LINES])
        found.append(
            {
                "type": attrs.get("exception.type"),
                "message": attrs.get("exception.message"),
                "stacktrace": stack,
            }
        )
        if len(found) >= _MAX_EXCEPTIONS:
            break
    return found


def _span(span: Any, scope: _Scope, options: _Options, ctx: Context) -> dict[str, Any] | None:
    """The event of one span, or None for a span neither failed nor slow.

    Raises:
        Refused: A field could not be read.
    """
    if not isinstance(span, dict):
        raise Refused(
            Reason.INVALID_TYPE, f"a span must be an object, got {kind_of(span)}", value=span
        )
    status = span.get("status")
    if status is not None and not isinstance(status, dict):
        raise Refused(
            Reason.INVALID_TYPE,
            f"status must be an object, got {kind_of(status)}",
            field="status",
            value=status,
        )
    code = _enum((status or {}).get("code"), _STATUS_CODES, "STATUS_CODE_", "status.code")
    start = _nanos(span, "startTimeUnixNano", ctx)
    if start is None:
        raise Refused(
            Reason.MISSING, _no_time("span", span, "startTimeUnixNano"), field="startTimeUnixNano"
        )
    end = _nanos(span, "endTimeUnixNano", ctx)
    duration = None if end is None else (end - start) / 1e6
    if duration is not None and duration < 0:
        ctx.note("span_ends_before_start")
        duration = None
    error = code == 2
    slow = duration is not None and options.slow_ms is not None and duration >= options.slow_ms
    if not (error or slow):
        ctx.skip("ok_span")
        return None
    trace_id = _hex_id(span, "traceId", 16, ctx)
    span_id = _hex_id(span, "spanId", 8, ctx)
    if trace_id is None or span_id is None:
        key = "traceId" if trace_id is None else "spanId"
        raise Refused(Reason.MISSING, f"the span has no {key} (absent, empty or zeros)", field=key)
    parent = _hex_id(span, "parentSpanId", 8, ctx)
    kind = _enum(span.get("kind"), _SPAN_KINDS, "SPAN_KIND_", "kind")
    name = span.get("name") if isinstance(span.get("name"), str) else None
    attrs, dropped = _attributes(span.get("attributes"))
    if dropped:
        ctx.note("attributes_dropped", dropped)
    message = (status or {}).get("message")
    component = _mapped(options.component, name, scope.name, default=None)
    tags = (["error"] if error else []) + (["slow"] if slow else [])
    return {
        "timestamp": _time(start),
        "source": "traces",
        "event_type": "span_error" if error else "slow_span",
        "severity": "high" if error else "medium",
        "component": component,
        "service": scope.service,
        "source_id": f"{trace_id}:{span_id}",
        "summary": _span_summary(name, error, message, duration),
        "data": {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": parent,
            "name": _text(name) if name else None,
            "kind": _SPAN_KINDS[kind],
            "status_code": _STATUS_CODES[code],
            "status_message": _text(message) if isinstance(message, str) and message else None,
            "duration_ms": round(duration, 6) if duration is not None else None,
            "end_time": _iso(end) if end is not None else None,
            "attributes": attrs,
            "exceptions": _exceptions(span.get("events")),
            "resource": scope.resource,
            "scope": {"name": scope.name, "version": scope.version},
        },
        "tags": tags,
    }


def _level(record: dict[str, Any], ctx: Context) -> tuple[int, int | None, str | None]:
    """(level rank, severityNumber, severityText) of a log record."""
    raw = record.get("severityNumber")
    number: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw if -_MAX_SEVERITY_NUMBER <= raw <= _MAX_SEVERITY_NUMBER else None
    elif isinstance(raw, str):
        name = raw.strip().upper().removeprefix("SEVERITY_NUMBER_")
        base = name.rstrip("0123456789")
        step = name[len(base) :]
        if not base and step:
            number = int(step) if len(step) <= 3 else None
        elif base in _SEVERITY_NAMES and step in ("", "1", "2", "3", "4"):
            number = _SEVERITY_NAMES[base] + int(step or 1) - 1
    text = record.get("severityText")
    text = text if isinstance(text, str) and text.strip() else None
    if number is not None and 1 <= number <= 24:
        return _RANK_BY_SEVERITY_NUMBER[(number - 1) // 4], number, text
    rank = level_rank(text) if text is not None else None
    if rank is not None:
        return rank, number or None, text
    given = text is not None or raw not in (None, "", 0)
    ctx.note("unknown_severity_as_info" if given else "no_severity_as_info")
    return 6, number or None, text


def _log(record: Any, scope: _Scope, options: _Options, ctx: Context) -> dict[str, Any] | None:
    """The event of one log record, or None below ``min_level``.

    Raises:
        Refused: A field could not be read.
    """
    if not isinstance(record, dict):
        raise Refused(
            Reason.INVALID_TYPE,
            f"a log record must be an object, got {kind_of(record)}",
            value=record,
        )
    rank, number, text = _level(record, ctx)
    if rank > options.min_rank:
        ctx.skip("below_min_level")
        return None
    nanos = _nanos(record, "timeUnixNano", ctx)
    if nanos is None:
        nanos = _nanos(record, "observedTimeUnixNano", ctx)
        if nanos is None:
            raise Refused(
                Reason.MISSING,
                _no_time("log record", record, "timeUnixNano", "observedTimeUnixNano"),
                field="timeUnixNano",
            )
        ctx.note("observed_time_as_time")
    trace_id = _hex_id(record, "traceId", 16, ctx)
    span_id = _hex_id(record, "spanId", 8, ctx)
    attrs, dropped = _attributes(record.get("attributes"))
    if dropped:
        ctx.note("attributes_dropped", dropped)
    raw_body = record.get("body")
    body = _any(raw_body)
    event_name = record.get("eventName")
    event_name = event_name if isinstance(event_name, str) and event_name else None
    key = digest(
        scope.identity,
        scope.name,
        nanos,
        number,
        text,
        trace_id,
        span_id,
        event_name,
        _identity(raw_body),
        _attributes_identity(record.get("attributes")),
        size=32,
    )
    component = _mapped(options.component, scope.name, default=scope.name)
    return {
        "timestamp": _time(nanos),
        "source": "logs",
        "event_type": event_type_of(rank),
        "severity": severity_for_level(rank),
        "component": component,
        "service": scope.service,
        "source_id": f"otlp:{key}",
        "summary": body if isinstance(body, str) else event_name,
        "data": {
            "body": body,
            "level": _LEVEL_NAMES.get(rank, "fatal"),
            "severity_text": text,
            "severity_number": number,
            "event_name": event_name,
            "trace_id": trace_id,
            "span_id": span_id,
            "attributes": attrs,
            "resource": scope.resource,
            "scope": {"name": scope.name, "version": scope.version},
        },
    }


# --- walking requests --------------------------------------------------------------------------

#: Signal → (scope list keys: current, legacy; scope keys: current, legacy; items key).
_SIGNALS = {
    "resourceSpans": (
        ("scopeSpans", "instrumentationLibrarySpans"),
        ("scope", "instrumentationLibrary"),
        "spans",
    ),
    "resourceLogs": (
        ("scopeLogs", "instrumentationLibraryLogs"),
        ("scope", "instrumentationLibrary"),
        "logRecords",
    ),
}
_NOT_READ = {"resourceMetrics": "metrics_not_read", "resourceProfiles": "profiles_not_read"}


def _list(value: Any, at: str, name: str, ctx: Context) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.reject(
            at,
            Reason.INVALID_TYPE,
            f"{name} must be a list, got {kind_of(value)}",
            field=name,
            value=value,
        )
        return []
    return value


def _request(
    prefix: str, parts: tuple[int, ...], request: Any, options: _Options, ctx: Context
) -> Iterator[Parsed]:
    if not isinstance(request, dict):
        ctx.reject(
            pointer(prefix, *parts),
            Reason.INVALID_TYPE,
            f"expected an OTLP export request (object), got {kind_of(request)}",
        )
        return
    known = False
    for signal, (scope_lists, scope_keys, items_key) in _SIGNALS.items():
        if signal not in request:
            continue
        known = True
        at = pointer(prefix, *parts, signal)
        for i, resource in enumerate(_list(request[signal], at, signal, ctx)):
            base: tuple[str | int, ...] = (*parts, signal, i)
            if not isinstance(resource, dict):
                ctx.reject(
                    pointer(prefix, *base),
                    Reason.INVALID_TYPE,
                    f"a {signal} entry must be an object, got {kind_of(resource)}",
                )
                continue
            list_key = scope_lists[1] if scope_lists[1] in resource else scope_lists[0]
            if list_key == scope_lists[1]:
                ctx.note("legacy_instrumentation_library")
            scopes = _list(resource.get(list_key), pointer(prefix, *base, list_key), list_key, ctx)
            for j, group in enumerate(scopes):
                yield from _group(
                    prefix, (*base, list_key, j), group, resource, scope_keys, items_key,
                    options, ctx,
                )  # fmt: skip
    for signal, reason in _NOT_READ.items():
        if signal in request:
            known = True
            count = _count(request[signal])
            if count:
                ctx.skip(reason, count)
    if not known:
        if request:
            ctx.reject(
                pointer(prefix, *parts),
                Reason.UNKNOWN_FORMAT,
                "no resourceSpans or resourceLogs: not an OTLP/JSON traces or logs request",
            )
        else:
            ctx.skip("empty_request")


def _count(resources: Any) -> int:
    """Metrics (or profiles) in a request that is not read, for the skip count."""
    n = 0
    for resource in resources if isinstance(resources, list) else []:
        for key, groups in resource.items() if isinstance(resource, dict) else ():
            if key == "resource":
                continue
            for group in groups if isinstance(groups, list) else []:
                for name, items in group.items() if isinstance(group, dict) else ():
                    if name not in ("scope", "schemaUrl") and isinstance(items, list):
                        n += len(items)
    return n


def _group(
    prefix: str,
    base: tuple[str | int, ...],
    group: Any,
    resource: dict[str, Any],
    scope_keys: tuple[str, str],
    items_key: str,
    options: _Options,
    ctx: Context,
) -> Iterator[Parsed]:
    if not isinstance(group, dict):
        ctx.reject(
            pointer(prefix, *base), Reason.INVALID_TYPE, f"expected an object, got {kind_of(group)}"
        )
        return
    scope_raw = group.get(scope_keys[0], group.get(scope_keys[1]))
    scope, dropped = _scope(resource.get("resource"), scope_raw, options)
    if dropped:
        ctx.note("attributes_dropped", dropped)
    items = _list(group.get(items_key), pointer(prefix, *base, items_key), items_key, ctx)
    make = _span if items_key == "spans" else _log
    for k, item in enumerate(items):
        at = (*base, items_key, k)
        try:
            record = make(item, scope, options, ctx)
        except Refused as bad:
            parts = at if not bad.field else (*at, *bad.field.split("."))
            ctx.refuse(bad, pointer(prefix, *parts))
            continue
        if record is not None:
            yield Parsed("event", record, pointer(prefix, *at))


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    slow_ms: float | None = 1000.0,
    min_level: str | int = "warning",
    service: Rule | None = None,
    component: Rule | None = None,
) -> Iterator[Parsed]:
    """Failed and slow spans, and log records at or above a level, of OTLP/JSON requests.

    Args:
        paths: Files or folders (folders: ``*.json``, ``*.jsonl``, ``*.ndjson``, also
            ``.gz``). A file holds one request (or a JSON list of them), or one request
            per line (collector file exporter): ``.jsonl``/``.ndjson`` always, ``.json``
            when its first line is a whole JSON value and more lines follow.
        ctx: Where rejects, skips and notes go.
        slow_ms: Spans lasting at least this many milliseconds become ``slow_span``
            events; None for failed spans only.
        min_level: Lowest log level kept (a name such as ``"error"``, or a syslog rank).
        service: A name for every record, or a rule (dict of exact names or globs, or a
            callable) mapping the resource's ``service.name`` (unmatched: kept as is).
        component: A name for every record, or a rule on the span name, then the scope
            name (spans: no component when nothing matches); on the scope name for logs
            (unmatched: the scope name).

    Yields:
        One event record per span or log record kept.

    Raises:
        ReaderError: A path does not exist, or an option is out of range or of the
            wrong type.
    """
    min_rank = level_rank(min_level)
    if min_rank is None:
        raise ReaderError(f"min_level {min_level!r} is not a log level (try 'error', 'warning')")
    if slow_ms is not None and (
        isinstance(slow_ms, bool) or not isinstance(slow_ms, int | float) or not slow_ms >= 0
    ):
        raise ReaderError(f"slow_ms must be a number of milliseconds ≥ 0 or None, not {slow_ms!r}")
    check_rule("service", service)
    check_rule("component", component)
    options = _Options(slow_ms, min_rank, service, component)
    for path in expand(paths, SUFFIXES, ctx=ctx):
        for prefix, parts, request in json_values(path, ctx):
            yield from _request(prefix, parts, request, options, ctx)


def _span_summary(name: str | None, error: bool, message: Any, duration: float | None) -> str:
    """``GET /pay failed (timeout) after 1.5 s`` or ``GET /pay slow: 2.6 s``."""
    what = _text(name) if name else "span"
    took = ""
    if duration is not None:
        took = f"{duration / 1000:.1f} s" if duration >= 1000 else f"{duration:.0f} ms"
    if error:
        why = f" ({_text(message)})" if isinstance(message, str) and message else ""
        return f"{what} failed{why}" + (f" after {took}" if took else "")
    return f"{what} slow" + (f": {took}" if took else "")
