"""Prometheus Alertmanager webhook bodies → ``metrics`` ``alert`` events.

Each alert of a notification (``alerts[]``, old and v4 formats, firing or resolved)
becomes one event identified by its fingerprint and start time, so the firing and the
resolved notification of one alert are one event: later input that knows more (the
alert resolved, a later ``endsAt``) replaces what was stored. Mappings and options are
in ``docs/readers/alerts.md``.

>>> import json, pathlib, tempfile
>>> from rca_analytics.ingest._base import Context
>>> body = {"status": "firing", "receiver": "pager", "alerts": [{
...     "labels": {"alertname": "HighLatency", "service": "checkout", "severity": "page"},
...     "annotations": {"summary": "p99 above 2s"}, "fingerprint": "9f3383a449a6af15",
...     "startsAt": "2026-03-01T09:58:01.123456789Z", "endsAt": "0001-01-01T00:00:00Z"}]}
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp, "alert.json")
...     _ = path.write_text(json.dumps(body))
...     [parsed] = read([path], Context())
>>> event = parsed.record
>>> event["source_id"], event["severity"], event["service"], event["data"]["ends_at"]
('9f3383a449a6af15:2026-03-01T09:58:01.123456Z', 'critical', 'checkout', None)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._reasons import Reason
from ..errors import ReaderError
from ._base import (
    JSON_LINES_SUFFIXES,
    Context,
    Parsed,
    apply_rule,
    check_rule,
    expand,
    json_values,
    kind_of,
    level_rank,
    pointer,
    severity_for_level,
    zero_as_missing,
)

__all__ = [
    "COMPONENT_LABELS",
    "ON_DUPLICATE",
    "SERVICE_LABELS",
    "SUFFIXES",
    "fingerprint",
    "read",
    "revision",
]

#: Names of the files taken from folders (a file named as input is read whatever its name).
SUFFIXES = (".json", ".json.gz", *JSON_LINES_SUFFIXES)

#: A resolved notification knows more than the firing one stored before it (records
#: carry a ``revision``: only a greater one replaces the stored record).
ON_DUPLICATE = {"event": "update"}

#: Labels naming the event's service, first present wins (``service=`` overrides).
SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "job")
#: Labels naming the event's component, first present wins (``component=`` overrides).
COMPONENT_LABELS = ("component", "app_kubernetes_io_component", "container", "container_name")

#: One name for every alert; label names tried in order (a list or tuple); a dict mapping
#: the name the default labels give (exact, then glob patterns); or a callable on the labels.
LabelRule = (
    str
    | list[str]
    | tuple[str, ...]
    | Mapping[str, str | None]
    | Callable[[dict[str, str]], str | None]
)
#: ``severity`` label value → event severity, or a callable on the labels.
SeverityRule = Mapping[str, str] | Callable[[dict[str, str]], str | None]

#: Severity label values of alerting setups (beyond log level names, see ``level_rank``).
_ALERT_SEVERITIES = {
    "page": "critical", "disaster": "critical", "p0": "critical", "p1": "critical",
    "high": "high", "major": "high", "p2": "high",
    "medium": "medium", "average": "medium", "moderate": "medium", "p3": "medium",
    "low": "low", "minor": "low", "p4": "low",
    "none": "info", "ok": "info", "p5": "info",
}  # fmt: skip
_SEVERITIES = ("critical", "high", "medium", "low", "info")
#: Longest label or annotation value kept in ``data``; longest component/service name.
_MAX_VALUE = 4096
_MAX_NAME = 256
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))"
)


# --- identity ------------------------------------------------------------------------------


def fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager gives an alert with these labels (16 hex digits).

    FNV-1a (64 bit) over the label names in byte order, each name and value followed by
    the byte ``0xff``: Prometheus' ``LabelSet.Fingerprint()``, which Alertmanager puts
    in the ``fingerprint`` field of v4 webhooks.

    >>> fingerprint({"name": "garland, briggs", "fear": "love is not enough"})
    '507a62d79ee76c9a'
    >>> fingerprint({})
    'cbf29ce484222325'
    """
    h = 0xCBF29CE484222325
    for name in sorted(labels, key=lambda n: n.encode("utf-8", "surrogatepass")):
        chunk = b"".join(
            (
                name.encode("utf-8", "surrogatepass"),
                b"\xff",
                labels[name].encode("utf-8", "surrogatepass"),
                b"\xff",
            )
        )
        for byte in chunk:
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def revision(status: str, ends_at: str | None) -> str:
    """The version of an alert's state: a later notification has a greater one.

    ``firing`` < ``firing:<endsAt>`` < ``resolved`` < ``resolved:<endsAt>`` (ISO, so
    a later end sorts later). The store replaces a stored alert only with a greater
    revision, so an older firing notification ingested after the resolved one changes
    nothing, and the same notification read again neither.

    >>> revision("firing", None) < revision("resolved", "2026-03-01T10:20:00.000000Z")
    True
    """
    return status if ends_at is None else f"{status}:{ends_at}"


# --- times -------------------------------------------------------------------------------------


def _parse_time(text: str) -> tuple[dt.datetime, bool]:
    """RFC 3339 text → (aware UTC datetime, fraction cut).

    Go's zero time is no time: :func:`_time` takes it as absent before parsing.

    Raises:
        ValueError: Not an RFC 3339 time.
    """
    m = _RFC3339.fullmatch(text.strip())
    if m is None:
        raise ValueError("not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    fraction = m.group(7) or ""
    micro = int((fraction + "000000")[:6])
    cut = bool(fraction[6:].strip("0"))
    if m.group(8):
        tz = dt.UTC
    else:
        offset = dt.timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        tz = dt.timezone(-offset if m.group(9) == "-" else offset)
    when = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    return when.astimezone(dt.UTC), cut


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- files -------------------------------------------------------------------------------------


# --- mapping -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Alert:
    record: dict[str, Any]
    where: str
    labels: tuple[tuple[str, str], ...]
    given: str | None  # fingerprint from the payload
    derived: str
    starts: str


def _cut(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[: limit - 1] + "…", True)


def _pick(labels: dict[str, str], rule: LabelRule | None, default: tuple[str, ...]) -> str | None:
    if isinstance(rule, str):
        return rule
    if isinstance(rule, Mapping):
        found = _first_label(labels, default)
        return apply_rule(rule, found) or found
    if callable(rule):
        return rule(labels)
    return _first_label(labels, default if rule is None else tuple(rule))


def _first_label(labels: dict[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        value = labels.get(name, "").strip()
        if value:
            return value
    return None


def _check_label_rule(option: str, rule: object) -> None:
    if isinstance(rule, list | tuple):
        if not all(isinstance(name, str) for name in rule):
            raise ReaderError(f"{option}: a list of label names must hold only text")
        return
    check_rule(option, rule)


def _severity(labels: dict[str, str], rule: SeverityRule | None, ctx: Context) -> str:
    if rule is not None and callable(rule):
        chosen = rule(labels)
        if chosen is not None:
            return chosen
    raw = labels.get("severity")
    if raw is None or not raw.strip():
        ctx.note("no_severity_label_as_medium")
        return "medium"
    key = raw.strip().lower()
    if rule is not None and not callable(rule):
        mapped = rule.get(raw, rule.get(key))
        if mapped is not None:
            return mapped
    if key in _SEVERITIES:
        return key
    if key in _ALERT_SEVERITIES:
        return _ALERT_SEVERITIES[key]
    rank = level_rank(key)
    if rank is not None:
        return severity_for_level(rank)
    ctx.note("unknown_severity_as_medium")
    return "medium"


def _strings(
    value: Any, at: str, name: str, ctx: Context, required: bool
) -> tuple[dict[str, str] | None, bool]:
    """A label/annotation map checked: (map or None after a reject, ok)."""
    if value is None:
        if required:
            ctx.reject(at, Reason.MISSING, f"the alert has no {name}", field=name)
            return None, False
        return {}, True
    if not isinstance(value, dict):
        ctx.reject(
            at,
            Reason.INVALID_TYPE,
            f"{name} must be an object, got {kind_of(value)}",
            field=name,
            value=value,
        )
        return None, False
    for key, item in value.items():
        if not isinstance(item, str):
            ctx.reject(
                f"{at}/{key.replace('~', '~0').replace('/', '~1')}",
                Reason.INVALID_TYPE,
                f"{name} values must be strings, got {kind_of(item)}",
                field=name,
                value=item,
            )
            return None, False
    return value, True


def _time(
    alert: dict[str, Any], key: str, at: str, ctx: Context, required: bool
) -> tuple[dt.datetime | None, bool]:
    raw = alert.get(key)
    if raw is None or raw == "":
        if required:
            ctx.reject(at, Reason.MISSING, f"the alert has no {key}", field=key)
            return None, False
        return None, True
    if zero_as_missing(raw, ctx) is None:  # Go's zero time.Time: "0001-01-01T00:00:00Z"
        if required:
            ctx.reject(at, Reason.MISSING, f"{key} is Go's zero time (unset)", field=key, value=raw)
            return None, False
        return None, True
    if not isinstance(raw, str):
        ctx.reject(
            at,
            Reason.INVALID_TYPE,
            f"{key} must be RFC 3339 text, got {kind_of(raw)}",
            field=key,
            value=raw,
        )
        return None, False
    try:
        when, cut = _parse_time(raw)
    except (ValueError, OverflowError):
        shown = raw if len(raw) <= 60 else raw[:59] + "…"
        ctx.reject(
            at,
            Reason.INVALID_DATETIME,
            f"{key} {shown!r} is not an RFC 3339 time",
            field=key,
            value=raw,
        )
        return None, False
    if cut:
        ctx.note("sub_microsecond_time_truncated")
    return when, True


def _bounded(values: dict[str, str], ctx: Context) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in values.items():
        out[key], cut = _cut(value, _MAX_VALUE)
        if cut:
            ctx.note("long_value_truncated")
    return out


def _name(value: str | None, ctx: Context) -> str | None:
    if not isinstance(value, str):
        return value  # a caller's callable gave no text: the record's validation says so
    text, cut = _cut(value, _MAX_NAME)
    if cut:
        ctx.note("long_name_truncated")
    return text


def _alert(
    body: dict[str, Any],
    body_at: str,
    alert: Any,
    at: str,
    ctx: Context,
    rules: tuple[LabelRule | None, LabelRule | None, SeverityRule | None],
) -> _Alert | None:
    if not isinstance(alert, dict):
        ctx.reject(at, Reason.INVALID_TYPE, f"an alert must be an object, got {kind_of(alert)}")
        return None
    labels, ok = _strings(alert.get("labels"), f"{at}/labels", "labels", ctx, required=True)
    if not ok or labels is None:
        return None
    annotations, ok = _strings(
        alert.get("annotations"), f"{at}/annotations", "annotations", ctx, required=False
    )
    if not ok or annotations is None:
        return None
    starts, ok = _time(alert, "startsAt", f"{at}/startsAt", ctx, required=True)
    if not ok or starts is None:
        return None
    ends, ok = _time(alert, "endsAt", f"{at}/endsAt", ctx, required=False)
    if not ok:
        return None
    given = alert.get("fingerprint")
    if given is not None and not isinstance(given, str):
        ctx.reject(
            f"{at}/fingerprint",
            Reason.INVALID_TYPE,
            f"fingerprint must be text, got {kind_of(given)}",
            field="fingerprint",
            value=given,
        )
        return None
    given = (given or "").strip() or None
    status = alert.get("status")
    if status is None or status == "":
        status = body.get("status")
        if status is None or status == "":
            status = "resolved" if ends is not None else "firing"
            ctx.note("status_from_ends_at")
    if isinstance(status, str):
        status = status.strip().lower()
    if status not in ("firing", "resolved"):
        ctx.reject(
            f"{at}/status" if alert.get("status") not in (None, "") else body_at + "/status",
            Reason.INVALID_CHOICE,
            f"status must be 'firing' or 'resolved', got {json.dumps(status)[:60]}",
            field="status",
            value=status,
        )
        return None
    component_rule, service_rule, severity_rule = rules
    derived = fingerprint(labels)
    if given is None:
        ctx.note("fingerprint_from_labels")
    starts_iso = _iso(starts)
    text = {k: v for k, v in body.items() if isinstance(v, str | int) and not isinstance(v, bool)}
    data: dict[str, Any] = {
        "alertname": labels.get("alertname"),
        "status": status,
        "resolved": status == "resolved",
        "fingerprint": given or derived,
        "ends_at": _iso(ends) if ends is not None else None,
        "summary": annotations.get("summary") or annotations.get("message"),
        "description": annotations.get("description"),
        "labels": _bounded(labels, ctx),
        "annotations": _bounded(annotations, ctx),
        "generator_url": alert.get("generatorURL") or None,
        "receiver": text.get("receiver"),
        "external_url": text.get("externalURL"),
        "group_key": text.get("groupKey"),
    }
    if isinstance(alert.get("valueString"), str) and alert["valueString"]:
        data["value_string"] = _cut(alert["valueString"], _MAX_VALUE)[0]  # Grafana
    for key in ("summary", "description"):
        if isinstance(data[key], str):
            data[key] = _cut(data[key], _MAX_VALUE)[0]
    if not isinstance(data["generator_url"], str | None):
        data["generator_url"] = None
    record: dict[str, Any] = {
        "timestamp": starts,
        "source": "metrics",
        "event_type": "alert",
        "severity": _severity(labels, severity_rule, ctx),
        "component": _name(_pick(labels, component_rule, COMPONENT_LABELS), ctx),
        "service": _name(_pick(labels, service_rule, SERVICE_LABELS), ctx),
        "source_id": f"{given or derived}:{starts_iso}",
        "summary": ": ".join(
            str(x)
            for x in (data["alertname"] or "alert", data["summary"] or data["description"])
            if x
        )
        + (" (resolved)" if status == "resolved" else ""),
        "data": data,
        "tags": [status],
        "revision": revision(status, data["ends_at"]),
    }
    return _Alert(record, at, tuple(sorted(labels.items())), given, derived, starts_iso)


def _body(
    prefix: str, parts: tuple[int, ...], body: Any, ctx: Context, rules: Any
) -> Iterator[_Alert]:
    if not isinstance(body, dict):
        ctx.reject(
            pointer(prefix, *parts),
            Reason.INVALID_TYPE,
            f"expected an Alertmanager webhook body (object), got {kind_of(body)}",
        )
        return
    alerts = body.get("alerts")
    at = pointer(prefix, *parts, "alerts")
    if alerts is None:
        ctx.reject(
            at, Reason.MISSING, "no 'alerts': not an Alertmanager webhook body", field="alerts"
        )
        return
    if not isinstance(alerts, list):
        ctx.reject(
            at, Reason.INVALID_TYPE, f"alerts must be a list, got {kind_of(alerts)}", field="alerts"
        )
        return
    truncated = body.get("truncatedAlerts")
    if isinstance(truncated, int) and not isinstance(truncated, bool) and truncated > 0:
        ctx.note("alerts_truncated_by_alertmanager", truncated)
    for i, alert in enumerate(alerts):
        found = _alert(
            body, pointer(prefix, *parts), alert, pointer(prefix, *parts, "alerts", i), ctx, rules
        )
        if found is not None:
            yield found


def _merged(found: list[_Alert], ctx: Context) -> list[_Alert]:
    """One record per alert: the most complete delivery of each (see :func:`revision`).

    A fingerprint given with different label sets (not from one Alertmanager) cannot
    name one alert: those alerts are keyed by the fingerprint of their labels instead.
    """
    owners: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for a in found:
        if a.given is not None:
            owners.setdefault(f"{a.given}:{a.starts}", set()).add(a.labels)
    best: dict[str, _Alert] = {}
    for a in found:
        key = a.record["source_id"]
        if a.given is not None and len(owners[key]) > 1:
            ctx.note("fingerprint_conflict_keyed_by_labels")
            key = f"{a.derived}:{a.starts}"
            a.record["source_id"] = key
            a.record["data"]["payload_fingerprint"] = a.given
            a.record["data"]["fingerprint"] = a.derived
        kept = best.get(key)
        if kept is None:
            best[key] = a
        elif a.record["revision"] >= kept.record["revision"]:
            best[key] = a  # later input wins a tie: annotations may have moved on
    if len(found) > len(best):
        ctx.skip("superseded_delivery", len(found) - len(best))
    return list(best.values())


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    component: LabelRule | None = None,
    service: LabelRule | None = None,
    severity: SeverityRule | None = None,
) -> Iterator[Parsed]:
    """Alerts of Alertmanager webhook bodies as ``metrics`` ``alert`` events.

    Files (folders: ``*.json``, ``*.jsonl``, ``*.ndjson``, also ``.gz``) hold one body,
    a JSON list of bodies, or one body per line. All alerts of the input are merged
    before any is yielded: each alert (fingerprint and start) once, in its most
    complete state.

    Args:
        paths: Files or folders.
        ctx: Where rejects, skips and notes go.
        component: The component of every alert (a name); label names tried in
            order (a list or tuple, replacing :data:`COMPONENT_LABELS`); a dict mapping
            the value of the first of :data:`COMPONENT_LABELS` present (exact names,
            then glob patterns; unmatched values kept); or a callable on the labels dict.
        service: The same for the service, with :data:`SERVICE_LABELS`.
        severity: ``severity`` label value → event severity (exact, then lower-case;
            before the built-in mapping), or a callable on the labels (None → built-in).

    Yields:
        One event record per alert.

    Raises:
        ReaderError: A path does not exist, or an option has the wrong type.
    """
    _check_label_rule("component", component)
    _check_label_rule("service", service)
    if severity is not None and not (isinstance(severity, Mapping) or callable(severity)):
        raise ReaderError("severity must be a mapping or a callable on the labels")
    rules = (component, service, severity)
    found: list[_Alert] = []
    for path in expand(paths, SUFFIXES, ctx=ctx):
        for prefix, parts, body in json_values(path, ctx):
            found.extend(_body(prefix, parts, body, ctx, rules))
    for a in _merged(found, ctx):
        yield Parsed("event", a.record, a.where)
