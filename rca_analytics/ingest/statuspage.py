"""Reader of Atlassian Statuspage (API v2) incidents: an investigation per incident.

Accepts what the public API returns, saved as ``.json`` (or ``.json.gz``) files:
``/api/v2/incidents/<id>.json`` (``{"page": ..., "incident": {...}}``), the list forms
``/api/v2/incidents.json``, ``/api/v2/scheduled-maintenances.json`` and
``/api/v2/summary.json`` (``{"page": ..., "incidents": [...]}``), a bare incident object,
or a bare JSON list of incidents. Each incident becomes an investigation (title = the
incident's name, impact → impact severity and priority, created/started/monitoring/
resolved times, affected components); each of its ``incident_updates`` becomes a
``manual`` ``status_update`` event linked to it. Field mappings are in
``docs/readers/statuspage.md``.

Investigations are updated when a later export of the same incident is ingested
(:data:`ON_DUPLICATE`): only the fields this reader sets change, and only new updates
are added.

>>> import json, tempfile, pathlib
>>> from rca_analytics import read
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> incident = {"id": "rgy28jwprr1c", "name": "Notifications degraded", "impact": "major",
...     "status": "resolved", "created_at": "2019-09-23T16:12:01Z",
...     "resolved_at": "2019-09-23T16:37:46Z", "incident_updates": [
...         {"id": "y7yh", "status": "resolved", "body": "All clear.",
...          "display_at": "2019-09-23T16:37:46Z"},
...         {"id": "rkvg", "status": "investigating", "body": "Webhooks are late.",
...          "display_at": "2019-09-23T16:12:01Z"}]}
>>> _ = (folder / "incident.json").write_text(json.dumps(
...     {"page": {"id": "kctbh9vrtdwd", "name": "GitHub"}, "incident": incident}))
>>> reading = read("statuspage", folder)
>>> reading.investigations[["title", "status", "impact_severity", "priority"]].values.tolist()
[['Notifications degraded', 'resolved', 'high', 'P1']]
>>> reading.events[["severity", "source_id"]].values.tolist()
[['high', 'statuspage:rgy28jwprr1c:rkvg'], ['info', 'statuspage:rgy28jwprr1c:y7yh']]
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._reasons import Reason
from ..errors import ReaderError
from ._base import (
    Context,
    Parsed,
    Refused,
    Rule,
    apply_rule,
    check_rule,
    expand,
    json_document,
    pointer,
    repaired,
    revision,
    stable_id,
    summary_line,
    zero_as_missing,
)

__all__ = ["ON_DUPLICATE", "SUFFIXES", "read"]

#: Names of the files taken from folders (a file named as input is read whatever its name).
SUFFIXES = (".json", ".json.gz")

#: A later export of an incident (more updates, now resolved) updates its investigation;
#: updates already stored are skipped.
ON_DUPLICATE: dict[str, Literal["skip", "update"]] = {"investigation": "update"}

#: Statuspage impact → investigation impact severity (the ``impact`` option overrides).
IMPACT = {
    "critical": "critical",
    "major": "high",
    "minor": "medium",
    "none": "low",
    "maintenance": "low",
}
#: Impact severity → priority.
PRIORITY = {"critical": "P0", "high": "P1", "medium": "P2", "low": "P3"}
#: Statuspage incident (and scheduled-maintenance) status → investigation status.
STATUS = {
    "investigating": "in_progress",
    "identified": "in_progress",
    "monitoring": "in_progress",
    "resolved": "resolved",
    "postmortem": "resolved",
    "scheduled": "open",
    "in_progress": "in_progress",
    "verifying": "in_progress",
    "completed": "closed",
}
#: Longest update body kept in an event's ``data`` (characters).
MAX_BODY = 10_000
#: Longest investigation description and title kept (characters).
MAX_DESCRIPTION = 20_000
MAX_TITLE = 500

_DONE = frozenset({"resolved", "postmortem", "completed"})
_MITIGATED = frozenset({"monitoring", "verifying"})
_MAINTENANCE = frozenset({"scheduled", "in_progress", "verifying", "completed"})
#: Component statuses, least to most impacted.
_COMPONENT_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
_TIMES = (
    "created_at",
    "started_at",
    "monitoring_at",
    "resolved_at",
    "updated_at",
    "scheduled_for",
    "scheduled_until",
)
_SEVERITIES = frozenset(PRIORITY)


@dataclass(frozen=True, slots=True)
class _Update:
    """One readable incident update."""

    index: int
    id: str
    status: str | None
    body: str
    at: dt.datetime
    posted_at: dt.datetime | None
    affected: list[dict[str, Any]]


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    service: Rule | None = None,
    component: Rule | None = None,
    impact: Rule | None = None,
) -> Iterator[Parsed]:
    """Investigations and their ``status_update`` events from Statuspage JSON files.

    Args:
        paths: Files or folders (``*.json`` and ``*.json.gz`` in folders).
        ctx: Where rejects, skips, notes and progress go.
        service: ``service_affected`` of the investigations and ``service`` of the
            events: a name for all of them, or a rule (dict of exact names or globs,
            or a callable) mapping the status page's name; by default, and for names
            the rule does not map, the page's name (``GitHub``).
        component: A name for every component, or a rule mapping Statuspage
            component names (dict of exact names or globs, or a callable); names it
            does not map are kept.
        impact: Maps Statuspage impact values (``critical``, ``major``, ``minor``,
            ``none``, ``maintenance``) to impact severities (``critical``, ``high``,
            ``medium``, ``low``); values it does not map follow :data:`IMPACT`.

    Yields:
        Each investigation, then the events of its updates, oldest first.

    Raises:
        ReaderError: A path does not exist, an option is not a rule, or the ``impact``
            rule gives something that is not an impact severity.
    """
    for option, rule in (("service", service), ("component", component), ("impact", impact)):
        check_rule(option, rule)
    latest: dict[str, dt.datetime | None] = {}
    for path in expand(paths, SUFFIXES, ctx=ctx):
        rejected = len(ctx.rejects)
        document = json_document(path, ctx)
        if document is None:
            if len(ctx.rejects) == rejected:  # the file holds null
                ctx.reject(
                    pointer(path),
                    Reason.UNKNOWN_FORMAT,
                    "expected a Statuspage incident, not null",
                )
            continue
        for page, raw, parts, planned in _incidents(document, path, ctx):
            yield from _incident(
                raw, page, path, parts, planned, ctx, latest, service, component, impact
            )


def _incidents(
    document: Any, path: Path, ctx: Context
) -> Iterator[tuple[Mapping[str, Any], Any, tuple[str | int, ...], bool]]:
    """(page, incident, JSON pointer parts, from a maintenance list) of a document."""
    if isinstance(document, list):
        for i, item in enumerate(document):
            yield {}, item, (i,), False
        return
    if not isinstance(document, dict):
        ctx.reject(
            pointer(path),
            Reason.UNKNOWN_FORMAT,
            f"expected a Statuspage incident or a list of them, not {_kind(document)}",
        )
        return
    page = document.get("page")
    if not isinstance(page, dict):
        if page is not None:
            ctx.note("page_not_an_object")
        page = {}
    found = False
    if "incident" in document:
        found = True
        yield page, document["incident"], ("incident",), False
    for key in ("incidents", "scheduled_maintenances"):
        if key not in document:
            continue
        found = True
        items = document[key]
        if not isinstance(items, list):
            ctx.reject(
                pointer(path, key),
                Reason.INVALID_TYPE,
                f"{key} must be a list, not {_kind(items)}",
                key,
                value=items,
            )
            continue
        for i, item in enumerate(items):
            yield page, item, (key, i), key == "scheduled_maintenances"
    if not found:
        if "id" in document and ("name" in document or "incident_updates" in document):
            yield {}, document, (), False
        else:
            ctx.reject(
                pointer(path),
                Reason.UNKNOWN_FORMAT,
                "no incident, incidents or scheduled_maintenances in this object",
            )


def _incident(
    raw: Any,
    page: Mapping[str, Any],
    path: Path,
    parts: tuple[str | int, ...],
    planned: bool,
    ctx: Context,
    latest: dict[str, dt.datetime | None],
    service: Rule | None,
    component: Rule | None,
    impact: Rule | None,
) -> Iterator[Parsed]:
    here = pointer(path, *parts)
    try:
        fields = _fields(raw, ctx)
    except Refused as bad:
        ctx.refuse(bad, here)
        if isinstance(raw, dict) and isinstance(raw.get("incident_updates"), list):
            ctx.skip("update_of_rejected_incident", len(raw["incident_updates"]))
        return
    page_key = _first_text(page.get("id"), raw.get("page_id"), page.get("url")) or "unknown"
    investigation_id = stable_id("statuspage", page_key, fields.incident_id)
    if _older_copy(latest, investigation_id, fields.times["updated_at"], ctx):
        return

    updates = _updates(fields.updates_raw, path, (*parts, "incident_updates"), ctx)
    planned = _planned(planned, fields)
    status = _status(fields, updates, ctx)
    severity = _impact(impact, fields.impact_raw, ctx)
    page_name = _first_text(page.get("name"))
    service_name = (
        service if isinstance(service, str) else apply_rule(service, page_name) or page_name
    )
    names, component_affected = _components(fields, updates, component)
    record = _investigation(
        fields,
        investigation_id,
        updates,
        status,
        severity,
        component_affected,
        service_name,
        planned,
        names,
        ctx,
    )
    yield Parsed("investigation", record, here)

    for u in updates:
        yield _update_event(
            u,
            fields,
            names,
            severity,
            component_affected,
            service_name,
            page_key,
            investigation_id,
            path,
            parts,
            ctx,
        )


def _components(
    fields: _Fields, updates: list[_Update], component: Rule | None
) -> tuple[dict[str, str], str | None]:
    """Each component's name after the rule, and the component most affected."""
    ranks = _component_ranks(fields.components_raw, updates)
    names = {n: apply_rule(component, n) or n for n in ranks}
    component_affected = names[max(ranks, key=ranks.__getitem__)] if ranks else None
    if isinstance(component, str):
        component_affected = component  # one component for everything
    return names, component_affected


def _planned(planned: bool, fields: _Fields) -> bool:
    """Whether the incident is planned maintenance."""
    return (
        planned
        or fields.times["scheduled_for"] is not None
        or fields.impact_raw == "maintenance"
        or fields.status_raw in _MAINTENANCE
    )


def _status(fields: _Fields, updates: list[_Update], ctx: Context) -> str:
    """The investigation status: the incident's own, else its latest update's."""
    status_raw = fields.status_raw
    if status_raw is None and updates:
        status_raw = updates[-1].status
    status = STATUS.get(status_raw or "")
    if status is None:
        ctx.note("unknown_status")
        status = "resolved" if fields.times["resolved_at"] is not None else "open"
    return status


def _investigation(
    fields: _Fields,
    investigation_id: str,
    updates: list[_Update],
    status: str,
    severity: str,
    component_affected: str | None,
    service_name: str | None,
    planned: bool,
    names: dict[str, str],
    ctx: Context,
) -> dict[str, Any]:
    """The investigation record of an incident."""
    name, impact_raw, times = fields.name, fields.impact_raw, fields.times
    postmortem = fields.postmortem
    return {
        "id": investigation_id,
        "title": _capped(" ".join(name.split()), MAX_TITLE, "title_truncated", ctx),
        "description": _description(updates, postmortem, ctx),
        "status": status,
        "impact_severity": severity,
        "priority": PRIORITY[severity],
        "component_affected": component_affected,
        "service_affected": service_name,
        "tags": [
            "statuspage",
            *([f"impact:{impact_raw}"] if impact_raw else []),
            *(["scheduled"] if planned else []),
            *(["postmortem"] if postmortem and postmortem.strip() else []),
            *(f"component:{n}" for n in dict.fromkeys(names.values())),
        ],
        "created_by": "statuspage",
        "created_at": times["created_at"],
        "revision": revision(times["updated_at"]),
        **_times(times, updates, record_status=status, planned=planned, ctx=ctx),
    }


@dataclass(frozen=True, slots=True)
class _Fields:
    """The checked fields of one incident object."""

    incident_id: str
    name: str
    status_raw: str | None
    impact_raw: str | None
    times: dict[str, dt.datetime | None]
    updates_raw: list[Any]
    components_raw: list[Any]
    postmortem: str | None
    shortlink: str | None


def _fields(raw: Any, ctx: Context) -> _Fields:
    """The fields of an incident object; raises :class:`Refused` if one is unusable."""
    if not isinstance(raw, dict):
        raise Refused(
            Reason.INVALID_TYPE, f"an incident must be an object, not {_kind(raw)}", value=raw
        )
    incident_id = _ident(raw.get("id"), "id")
    name = raw.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise Refused(Reason.MISSING, "the incident has no name", field="name")
    if not isinstance(name, str):
        raise Refused(Reason.INVALID_TYPE, f"name must be text, not {_kind(name)}", field="name")
    status_raw = _text_or_none(raw, "status")
    impact_raw = _text_or_none(raw, "impact")
    times = {f: _time(raw.get(f), f, ctx) for f in _TIMES}
    updates_raw = _list(raw, "incident_updates")
    components_raw = _list(raw, "components")
    postmortem = _text_or_none(raw, "postmortem_body")
    shortlink = _text_or_none(raw, "shortlink")
    for i, c in enumerate(components_raw):
        if not isinstance(c, dict):
            raise Refused(
                Reason.INVALID_TYPE, f"components/{i} must be an object", field="components"
            )
    return _Fields(
        incident_id,
        name,
        status_raw,
        impact_raw,
        times,
        updates_raw,
        components_raw,
        postmortem,
        shortlink,
    )


def _older_copy(
    latest: dict[str, dt.datetime | None],
    investigation_id: str,
    updated: dt.datetime | None,
    ctx: Context,
) -> bool:
    """Whether a later copy of this incident came earlier in the input (noting this one)."""
    if investigation_id in latest:
        seen = latest[investigation_id]
        if updated is not None and seen is not None:
            if updated < seen:  # a later copy of this incident came earlier in the input
                ctx.skip("older_copy_of_incident")
                return True
            latest[investigation_id] = updated
    else:
        latest[investigation_id] = updated
    return False


def _component_ranks(components_raw: list[Any], updates: list[_Update]) -> dict[str, int]:
    """How badly each component was hit, by name.

    The incident's own list (page order) comes first, then any named only by updates.
    """
    ranks: dict[str, int] = {}
    for c in components_raw:
        if isinstance(c.get("name"), str) and c["name"].strip():
            ranks[c["name"].strip()] = _COMPONENT_RANK.get(str(c.get("status")), 0)
    for u in updates:
        for a in u.affected:
            if a["name"]:
                rank = max(
                    _COMPONENT_RANK.get(str(a.get(k)), 0) for k in ("old_status", "new_status")
                )
                ranks[a["name"]] = max(ranks.get(a["name"], 0), rank)
    return ranks


def _update_event(
    u: _Update,
    fields: _Fields,
    names: dict[str, str],
    severity: str,
    component_affected: str | None,
    service_name: str | None,
    page_key: str,
    investigation_id: str,
    path: Path,
    parts: tuple[str | int, ...],
    ctx: Context,
) -> Parsed:
    """The ``status_update`` event of one update of an incident."""
    incident_id, name, impact_raw = fields.incident_id, fields.name, fields.impact_raw
    shortlink = fields.shortlink
    worst = max(
        (a for a in u.affected if a["name"]),
        key=lambda a: max(
            _COMPONENT_RANK.get(str(a.get(k)), 0) for k in ("old_status", "new_status")
        ),
        default=None,
    )
    return Parsed(
        "event",
        {
            "timestamp": u.at,
            "source": "manual",
            "event_type": "status_update",
            "severity": _update_severity(u.status, severity),
            "component": names[worst["name"]] if worst else component_affected,
            "service": service_name,
            "source_id": f"statuspage:{incident_id}:{u.id}",
            "summary": summary_line(u.body or f"{name}: {u.status}"),
            "data": {
                "status": u.status,
                "body": _capped(u.body, MAX_BODY, "body_truncated", ctx),
                "affected_components": u.affected,
                "incident_id": incident_id,
                "incident_name": name,
                "impact": impact_raw,
                "shortlink": shortlink,
                "posted_at": _iso(u.posted_at),
            },
            "tags": ["statuspage", *([f"status:{u.status}"] if u.status else [])],
            "metadata": {"page_id": page_key},
            "investigation_ids": [investigation_id],
        },
        pointer(path, *parts, "incident_updates", u.index),
    )


def _updates(
    raw: list[Any], path: Path, parts: tuple[str | int, ...], ctx: Context
) -> list[_Update]:
    """The readable updates, oldest first (the API lists them newest first)."""
    found: list[_Update] = []
    for index, u in enumerate(raw):
        try:
            if not isinstance(u, dict):
                raise Refused(
                    Reason.INVALID_TYPE, f"an update must be an object, not {_kind(u)}", value=u
                )
            update_id = _ident(u.get("id"), "id")
            status = _text_or_none(u, "status")
            body = _text_or_none(u, "body") or ""
            posted = _time(u.get("created_at"), "created_at", ctx)
            shown = _time(u.get("display_at"), "display_at", ctx)
            at = shown or posted
            if at is None:
                raise Refused(
                    Reason.MISSING,
                    "the update has no display_at nor created_at",
                    field="created_at",
                )
            affected = []
            for i, a in enumerate(_list(u, "affected_components")):
                if not isinstance(a, dict):
                    raise Refused(
                        Reason.INVALID_TYPE,
                        f"affected_components/{i} must be an object, not {_kind(a)}",
                        field="affected_components",
                        value=a,
                    )
                label = a.get("name")
                affected.append(
                    {
                        "name": label.strip() if isinstance(label, str) else None,
                        "code": a.get("code"),
                        "old_status": a.get("old_status"),
                        "new_status": a.get("new_status"),
                    }
                )
        except Refused as bad:
            ctx.refuse(bad, pointer(path, *parts, index))
            continue
        found.append(_Update(index, update_id, status, body, at, posted, affected))
    # oldest first; of updates at the same time, the one listed later is the older
    found.sort(key=lambda u: (u.at, -u.index))
    return found


def _times(
    times: dict[str, dt.datetime | None],
    updates: list[_Update],
    *,
    record_status: str,
    planned: bool,
    ctx: Context,
) -> dict[str, dt.datetime | None]:
    """impact_started_at ≤ detected_at ≤ started_at ≤ mitigated_at ≤ resolved_at."""
    created = times["created_at"]
    first = updates[0].at if updates else None
    # A backfilled incident (written up afterwards) has updates dated before its creation.
    detected = min((t for t in (created, first) if t is not None), default=None)
    if planned:
        impact_started = times["scheduled_for"] or times["started_at"]
    else:
        impact_started = times["started_at"]
        if impact_started is not None and detected is not None and impact_started > detected:
            impact_started = detected
            ctx.note("impact_started_at_clamped")
    work = [u.at for u in updates if u.status != "scheduled"]
    started = work[0] if work else None
    if started is None and record_status != "open":
        started = (times["scheduled_for"] if planned else None) or detected
    if started is not None and detected is not None and started < detected:
        started = detected
        ctx.note("started_at_clamped")
    done = record_status in ("resolved", "closed")
    resolved = times["resolved_at"]
    if done and resolved is None:
        closing = [u.at for u in updates if u.status in _DONE]
        if closing:
            resolved = closing[-1]
            ctx.note("resolved_at_from_update")
    elif not done and resolved is not None:
        resolved = None
        ctx.note("resolved_at_ignored_while_open")
    floor = started or detected
    if resolved is not None and floor is not None and resolved < floor:
        resolved = floor
        ctx.note("resolved_at_clamped")
    candidates = [times["monitoring_at"], *(u.at for u in updates if u.status in _MITIGATED)]
    mitigated = min((t for t in candidates if t is not None), default=None)
    if mitigated is not None and (
        (floor is not None and mitigated < floor) or (resolved is not None and mitigated > resolved)
    ):
        mitigated = None
        ctx.note("mitigated_at_dropped")
    return {
        "impact_started_at": impact_started,
        "detected_at": detected,
        "started_at": started,
        "mitigated_at": mitigated,
        "resolved_at": resolved,
    }


def _impact(rule: Rule | None, value: str | None, ctx: Context) -> str:
    """The impact severity of a Statuspage impact value."""
    mapped = apply_rule(rule, value) if value is not None else None
    if mapped is not None:
        severity = str(mapped).strip().lower()
        if severity not in _SEVERITIES:
            raise ReaderError(
                f"the impact rule maps {value!r} to {mapped!r}; "
                "expected critical, high, medium or low"
            )
        return severity
    if value not in IMPACT:
        ctx.note("unknown_impact_as_medium")
        return "medium"
    return IMPACT[value]


def _update_severity(status: str | None, impact_severity: str) -> str:
    """Resolved/completed/scheduled → info; monitoring/verifying → low; else the impact's."""
    if status in _DONE or status == "scheduled":
        return "info"
    if status in _MITIGATED:
        return "low"
    return impact_severity


def _description(updates: list[_Update], postmortem: str | None, ctx: Context) -> str | None:
    """The first update's text, then the postmortem when there is one."""
    first = next((u.body.strip() for u in updates if u.body.strip()), "")
    text = first
    if postmortem and postmortem.strip():
        text = f"{first}\n\nPostmortem:\n{postmortem.strip()}" if first else postmortem.strip()
    return repaired(_capped(text, MAX_DESCRIPTION, "description_truncated", ctx), ctx) or None


def _capped(text: str, limit: int, note: str, ctx: Context) -> str:
    if len(text) <= limit:
        return text
    ctx.note(note)
    return text[: limit - 1] + "…"


def _time(value: Any, field: str, ctx: Context) -> dt.datetime | None:
    """An aware UTC time from ISO 8601 text; ``None`` when absent or a zero time (noted)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if zero_as_missing(value, ctx) is None:  # "0001-01-01T00:00:00Z": unset, not year 1
        return None
    if not isinstance(value, str):
        raise Refused(
            Reason.INVALID_DATETIME,
            f"{field} must be an ISO 8601 time, not {_kind(value)}",
            field=field,
            value=value,
        )
    try:
        t = dt.datetime.fromisoformat(value.strip())
        if t.tzinfo is None:
            ctx.note("naive_time_as_utc")
            t = t.replace(tzinfo=dt.UTC)
        return t.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise Refused(
            Reason.INVALID_DATETIME,
            f"{field}: {value[:60]!r} is not an ISO 8601 time",
            field=field,
            value=value,
        ) from None


def _ident(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Refused(Reason.MISSING, f"no {field}", field=field)
    if not isinstance(value, str):
        raise Refused(
            Reason.INVALID_TYPE,
            f"{field} must be text, not {_kind(value)}",
            field=field,
            value=value,
        )
    return value.strip()


def _text_or_none(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if value is None or isinstance(value, str):
        return value
    raise Refused(
        Reason.INVALID_TYPE, f"{field} must be text, not {_kind(value)}", field=field, value=value
    )


def _list(record: Mapping[str, Any], field: str) -> list[Any]:
    value = record.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refused(
            Reason.INVALID_TYPE,
            f"{field} must be a list, not {_kind(value)}",
            field=field,
            value=value,
        )
    return value


def _first_text(*values: Any) -> str | None:
    return next((v.strip() for v in values if isinstance(v, str) and v.strip()), None)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
