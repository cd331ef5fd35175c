"""Validated records: events, investigations and the links between them.

The models are the single source of truth for the store's schema: each stored field
is a column (see :mod:`rca_analytics.schema`); the few *derived* fields
(``Event.investigation_ids``, ``Investigation.event_ids`` ...) are filled by the store
from the link tables and are never stored twice.

Inputs are forgiving where people are sloppy (``"CRITICAL "``, ``"p0"``, ISO strings
with ``Z`` or offsets, epoch seconds, pandas NaN/NaT as missing, duplicate tags) and
strict where data would be lost (naive datetimes, unknown fields, over-long text):

>>> from rca_analytics import Event
>>> ev = Event(source="GIT", event_type="Commit", severity=" info",
...            timestamp="2026-03-01T10:02:00+01:00", tags=["deploy", "deploy"])
>>> ev.source, ev.severity, ev.timestamp.isoformat(), ev.tags
(<EventSource.GIT: 'git'>, <EventSeverity.INFO: 'info'>, '2026-03-01T09:02:00+00:00', ['deploy'])
"""

from __future__ import annotations

import datetime as dt
import html
import json
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    Strict,
    ValidationError,
    model_validator,
)

from . import _validate as v
from .errors import ValidationFailed

__all__ = [
    "Alias",
    "Change",
    "Event",
    "EventSeverity",
    "EventSource",
    "ImpactSeverity",
    "Investigation",
    "InvestigationStatus",
    "Link",
    "LinkMethod",
    "Priority",
    "Relation",
    "Review",
]

#: Longest root cause, remediation and lessons-learned text, in characters.
MAX_TEXT = 2000


# --- enums ------------------------------------------------------------------------------


class EventSource(StrEnum):
    """Where an event came from."""

    GIT = "git"
    CI = "ci"
    LOGS = "logs"
    METRICS = "metrics"
    TRACES = "traces"
    MANUAL = "manual"


class EventSeverity(StrEnum):
    """Severity of one event, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class InvestigationStatus(StrEnum):
    """Lifecycle of an investigation."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ImpactSeverity(StrEnum):
    """How bad an incident was, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    """Priority of an investigation, most urgent first."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class LinkMethod(StrEnum):
    """How an event–investigation link was made."""

    MANUAL = "manual"
    RULE = "rule"
    LINKER = "linker"
    IMPORT = "import"


def _new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC (microsecond precision)."""
    return dt.datetime.now(dt.UTC)


Utc = Annotated[dt.datetime, BeforeValidator(v.to_utc)]
OptUtc = Annotated[dt.datetime | None, BeforeValidator(v.optional_utc)]
Name = Annotated[str | None, BeforeValidator(v.clean_name)]
Id = Annotated[str, BeforeValidator(v.record_id)]
Tags = Annotated[list[str], BeforeValidator(v.clean_tags)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(v.to_json_object)]
Text = Annotated[str | None, BeforeValidator(v.text)]
Summary = Annotated[str | None, BeforeValidator(v.summary_text)]
LongText = Annotated[str | None, BeforeValidator(v.text), Field(max_length=MAX_TEXT)]


SourceIn = Annotated[EventSource, BeforeValidator(v.enum_lower)]
SeverityIn = Annotated[EventSeverity, BeforeValidator(v.enum_lower)]
StatusIn = Annotated[InvestigationStatus, BeforeValidator(v.enum_lower)]
ImpactIn = Annotated[ImpactSeverity, BeforeValidator(v.enum_lower)]
PriorityIn = Annotated[Priority, BeforeValidator(v.enum_upper)]
MethodIn = Annotated[LinkMethod, BeforeValidator(v.enum_lower)]


# --- base ---------------------------------------------------------------------------------


class Record(BaseModel):
    """Common behaviour of all records: strict fields, typed errors, readable reprs."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_default=False,
        arbitrary_types_allowed=False,
    )

    #: Fields filled by the store from other tables; not columns of this record's table.
    derived_fields: ClassVar[tuple[str, ...]] = ()
    #: Fields that ``Store.update_*`` refuses to change.
    read_only_fields: ClassVar[tuple[str, ...]] = ()
    #: Fields where None/NaN is an error rather than "missing, use the default".
    missing_is_error: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _typed_errors(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, Mapping):
            # pandas NaN/NaT/NA and None mean "not given": defaults apply.
            data = {
                k: val
                for k, val in data.items()
                if k in cls.missing_is_error or not v.is_missing(val)
            }
        try:
            return handler(data)
        except ValidationError as err:
            failures = v.failures_from_pydantic(err, cls._label(data), list(cls.model_fields))
            raise ValidationFailed(failures, cls.__name__) from None

    @classmethod
    def _label(cls, data: Any) -> str | None:
        """How failures name a record: its id, else ``source:source_id`` when known."""
        if not isinstance(data, Mapping):
            return None
        if isinstance(data.get("id"), (str, uuid.UUID)):
            return str(data["id"])
        if isinstance(data.get("source_id"), (str, int)) and isinstance(data.get("source"), str):
            return f"{data['source'].strip().lower()}:{data['source_id']}"
        if isinstance(data.get("title"), str) and data["title"].strip():
            return f"title={data['title'].strip()[:60]!r}"
        return None

    @classmethod
    def stored_fields(cls) -> tuple[str, ...]:
        """Names of the fields that are columns of the record's table, in order."""
        return tuple(f for f in cls.model_fields if f not in cls.derived_fields)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (ISO timestamps, enum values); ``from_dict`` reverses it.

        >>> from rca_analytics import Investigation
        >>> inv = Investigation(title="Checkout 500s", created_at=0)
        >>> Investigation.from_dict(inv.to_dict()) == inv
        True
        """
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Validate a dict (as made by ``to_dict`` or by the earlier system)."""
        return cls.model_validate(data)

    def _summary(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._summary()}>"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        rows = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, dt.datetime):
                shown = _iso(value)
            elif isinstance(value, (dict, list)):
                shown = json.dumps(value, ensure_ascii=False, default=str)
            elif isinstance(value, StrEnum):
                shown = value.value
            else:
                shown = "" if value is None else str(value)
            rows.append(
                f"<tr><th style='text-align:left'>{name}</th>"
                f"<td style='text-align:left'>{html.escape(shown)}</td></tr>"
            )
        title = html.escape(f"{type(self).__name__} {self._summary()}")
        return f"<table><caption>{title}</caption>{''.join(rows)}</table>"


def _iso(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- records --------------------------------------------------------------------------------


class Event(Record):
    """A signal from one source: a commit, a build, a deploy, an alert, an error log...

    ``(source, source_id)`` is unique in a store when ``source_id`` is set, so
    re-ingesting a source adds nothing twice. ``investigation_ids`` and ``linked_at``
    are derived from the store's links.

    >>> ev = Event(source="ci", event_type="build", severity="HIGH", timestamp=1772355720,
    ...            source_id=4711, component="payments")
    >>> ev
    <Event ci/build high 2026-03-01T09:02:00Z payments source_id='4711'>
    """

    derived_fields: ClassVar[tuple[str, ...]] = ("investigation_ids", "linked_at")
    read_only_fields: ClassVar[tuple[str, ...]] = (
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        *derived_fields,
    )

    id: Id = Field(default_factory=_new_id, description="UUID4 text, generated when absent.")
    timestamp: Utc = Field(description="When it happened (aware; stored in UTC).")
    source: SourceIn = Field(description="git, ci, logs, metrics, traces or manual.")
    event_type: Annotated[str, BeforeValidator(v.event_type_name)] = Field(
        description="commit, build, deploy, error, alert, ... (lower-case)."
    )
    severity: SeverityIn = Field(description="critical, high, medium, low or info.")
    component: Name = Field(default=None, description="Component the event concerns.")
    service: Name = Field(default=None, description="Service the event concerns.")
    source_id: Name = Field(
        default=None, description="Identity in its source: commit SHA, build id, fingerprint."
    )
    data: JsonObject = Field(default_factory=dict, description="Source-specific JSON payload.")
    tags: Tags = Field(default_factory=list, description="Tags, unique, first-seen order.")
    metadata: JsonObject = Field(default_factory=dict, description="Free JSON metadata.")
    parsed_at: OptUtc = Field(default=None, description="When a reader parsed it.")
    created_at: Utc = Field(default_factory=utc_now, description="When it was recorded.")
    updated_at: Utc = Field(
        default_factory=lambda data: data.get("created_at") or utc_now(),
        description="Last change of the record (moves on every update).",
    )
    deleted_at: OptUtc = Field(default=None, description="Soft-delete time; None when active.")
    revision: Name = Field(
        default=None,
        description="Version of the record in its source (e.g. the time it last changed "
        "there, as ISO text); an ingest replaces a stored record only with a newer revision.",
    )
    summary: Summary = Field(
        default=None,
        description="What happened, in one line for a person (at most 200 characters): a "
        "commit's subject and short SHA, a deploy's service, version and environment, an "
        "alert's name and summary... Derived from the event when a load leaves it out "
        "(schema v5).",
    )
    investigation_ids: Annotated[list[str], BeforeValidator(v.clean_tags)] = Field(
        default_factory=list, description="Linked investigations (derived from links)."
    )
    linked_at: OptUtc = Field(default=None, description="Time of the latest link (derived).")

    @property
    def is_deleted(self) -> bool:
        """True when the event is soft-deleted."""
        return self.deleted_at is not None

    def _summary(self) -> str:
        parts = [
            f"{self.source.value}/{self.event_type}",
            self.severity.value,
            _iso(self.timestamp),
        ]
        where = "/".join(p for p in (self.component, self.service) if p)
        if where:
            parts.append(where)
        if self.source_id:
            parts.append(f"source_id={self.source_id!r}")
        if self.summary:
            shown = self.summary if len(self.summary) <= 60 else self.summary[:59] + "…"
            parts.append(repr(shown))
        if self.deleted_at:
            parts.append("(deleted)")
        return " ".join(parts)


class Investigation(Record):
    """One incident under analysis.

    Only ``title`` is required; records of the earlier system's first generation
    (``id, title, status, created_at, updated_at``) load with defaults for the rest.
    ``event_ids`` and ``related_investigation_ids`` are derived from the store's links.

    >>> Investigation(title="Checkout 500s", impact_severity="critical", priority="p0")
    <Investigation 'Checkout 500s' open critical P0>
    """

    derived_fields: ClassVar[tuple[str, ...]] = ("event_ids", "related_investigation_ids")
    read_only_fields: ClassVar[tuple[str, ...]] = (
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        *derived_fields,
    )

    id: Id = Field(default_factory=_new_id, description="UUID4 text, generated when absent.")
    title: Annotated[str, BeforeValidator(v.required_name)] = Field(description="Short title.")
    description: Text = Field(default=None, description="What happened.")
    status: StatusIn = Field(
        default=InvestigationStatus.OPEN, description="open, in_progress, resolved, closed."
    )
    impact_severity: ImpactIn = Field(
        default=ImpactSeverity.MEDIUM, description="critical, high, medium or low."
    )
    priority: PriorityIn = Field(default=Priority.P2, description="P0 (most urgent) to P3.")
    impact_started_at: OptUtc = Field(
        default=None, description="When users started to be affected (schema v2)."
    )
    detected_at: OptUtc = Field(default=None, description="When the problem was noticed.")
    started_at: OptUtc = Field(default=None, description="When work on it started.")
    mitigated_at: OptUtc = Field(
        default=None, description="When the impact was stopped or worked around (schema v2)."
    )
    resolved_at: OptUtc = Field(default=None, description="When it was resolved.")
    root_cause: LongText = Field(default=None, description="At most 2,000 characters.")
    remediation: LongText = Field(default=None, description="At most 2,000 characters.")
    lessons_learned: LongText = Field(default=None, description="At most 2,000 characters.")
    component_affected: Name = Field(default=None, description="Affected component.")
    service_affected: Name = Field(default=None, description="Affected service.")
    tags: Tags = Field(default_factory=list, description="Tags, unique, first-seen order.")
    created_by: Name = Field(default=None, description="Who opened it.")
    assigned_to: Name = Field(default=None, description="Who owns it.")
    created_at: Utc = Field(default_factory=utc_now, description="When it was recorded.")
    updated_at: Utc = Field(
        default_factory=lambda data: data.get("created_at") or utc_now(),
        description="Last change of the record (moves on every update).",
    )
    deleted_at: OptUtc = Field(default=None, description="Soft-delete time; None when active.")
    revision: Name = Field(
        default=None,
        description="Version of the record in its source (e.g. the time it last changed "
        "there, as ISO text); an ingest replaces a stored record only with a newer revision.",
    )
    event_ids: Annotated[list[str], BeforeValidator(v.clean_tags)] = Field(
        default_factory=list, description="Linked events (derived from links)."
    )
    related_investigation_ids: Annotated[list[str], BeforeValidator(v.clean_tags)] = Field(
        default_factory=list, description="Related investigations (derived)."
    )

    @property
    def is_deleted(self) -> bool:
        """True when the investigation is soft-deleted."""
        return self.deleted_at is not None

    def _summary(self) -> str:
        title = self.title if len(self.title) <= 60 else self.title[:59] + "…"
        parts = [repr(title), self.status.value, self.impact_severity.value, self.priority.value]
        if self.component_affected:
            parts.append(self.component_affected)
        if self.deleted_at:
            parts.append("(deleted)")
        return " ".join(parts)


class Link(Record):
    """A link between one event and one investigation, stored once.

    >>> Link(event_id="e1", investigation_id="i1", confidence=0.9,
    ...      reasons="deploy 47 min before detection", linked_at=0)
    <Link e1 -> i1 0.90 manual>
    """

    # A NaN score from a linker must not silently become the default 1.0.
    missing_is_error: ClassVar[tuple[str, ...]] = ("confidence",)

    event_id: Id = Field(description="The event.")
    investigation_id: Id = Field(description="The investigation.")
    confidence: Annotated[
        float, BeforeValidator(v.not_bool), Field(ge=0.0, le=1.0, allow_inf_nan=False)
    ] = Field(default=1.0, description="How sure the link is, 0..1.")
    method: MethodIn = Field(
        default=LinkMethod.MANUAL, description="manual, rule, linker or import."
    )
    reasons: Tags = Field(default_factory=list, description="Why the link was made.")
    linked_at: Utc = Field(default_factory=utc_now, description="When the link was made.")
    accepted: bool | None = Field(
        default=None,
        description="A reviewer's verdict (derived from the link's review): True when "
        "accepted, None when not reviewed. Rejected pairs are not links.",
    )
    reviewed_at: OptUtc = Field(default=None, description="When it was reviewed (derived).")
    reviewed_by: Name = Field(default=None, description="Who reviewed it (derived).")

    derived_fields: ClassVar[tuple[str, ...]] = ("accepted", "reviewed_at", "reviewed_by")

    def _summary(self) -> str:
        verdict = {True: " accepted", False: " rejected", None: ""}[self.accepted]
        return (
            f"{self.event_id} -> {self.investigation_id} {self.confidence:.2f} "
            f"{self.method.value}{verdict}"
        )


class Review(Record):
    """A reviewer's verdict on one event–investigation pair, kept with what was judged.

    An accepted pair stays (or becomes) a link; a rejected pair is unlinked, and
    neither ``auto_link`` nor ``suggest_links`` (unless asked) proposes it again.
    ``confidence``, ``method`` and ``reasons`` are the link as the reviewer saw it (None
    when the pair was not linked), so the linker's quality can be measured against
    verdicts.

    >>> Review(event_id="e1", investigation_id="i1", accepted=False, reviewed_at=0)
    <Review e1 -> i1 rejected>
    """

    event_id: Id = Field(description="The event.")
    investigation_id: Id = Field(description="The investigation.")
    accepted: Annotated[bool, Strict()] = Field(description="True: accepted; False: rejected.")
    reviewed_at: Utc = Field(default_factory=utc_now, description="When the verdict was given.")
    reviewed_by: Name = Field(default=None, description="Who gave it.")
    note: Text = Field(default=None, description="Why, in the reviewer's words.")
    confidence: Annotated[
        float | None, BeforeValidator(v.not_bool), Field(ge=0.0, le=1.0, allow_inf_nan=False)
    ] = Field(default=None, description="The link's confidence when reviewed, if linked.")
    method: Annotated[LinkMethod | None, BeforeValidator(v.enum_lower)] = Field(
        default=None, description="The link's method, if linked."
    )
    reasons: Tags = Field(default_factory=list, description="The link's reasons, if linked.")

    def _summary(self) -> str:
        verdict = "accepted" if self.accepted else "rejected"
        return f"{self.event_id} -> {self.investigation_id} {verdict}"


class Relation(Record):
    """Two investigations related to each other (symmetric; stored once per pair)."""

    investigation_id: Id = Field(description="The lesser id of the pair.")
    related_investigation_id: Id = Field(description="The greater id of the pair.")
    related_at: Utc = Field(default_factory=utc_now, description="When they were related.")

    def _summary(self) -> str:
        return f"{self.investigation_id} <-> {self.related_investigation_id}"


class Alias(Record):
    """Another way of writing a component or service name, declared once per store.

    ``alias`` is the name's comparison key (lower case, white space runs as one space);
    ``name`` is the name the team uses. Filters, frames, metrics and reports read
    component and service names through the store's aliases (schema v5).

    >>> Alias(alias="Payments-API", name="payments", created_at=0)
    <Alias 'payments-api' -> 'payments'>
    """

    alias: Annotated[str, BeforeValidator(v.name_key)] = Field(
        description="The alias's comparison key (lower case, single spaces)."
    )
    name: Annotated[str, BeforeValidator(v.required_name)] = Field(
        description="The name the alias stands for, as the team writes it."
    )
    created_at: Utc = Field(default_factory=utc_now, description="When it was declared.")

    def _summary(self) -> str:
        return f"{self.alias!r} -> {self.name!r}"


class ImportReject(Record):
    """A row of an import that could not be brought across, kept in the store.

    Rejected rows and dropped (dangling) links of :meth:`Store.import_sqlite` land
    here with the file, table, record id and the reason, next to the returned report.
    """

    source: str = Field(description="The file imported from.")
    table_name: Literal["events", "investigations", "links"] = Field(
        description="Which table of the file the row came from."
    )
    record_id: Name = Field(default=None, description="Id of the row (or link) in the file.")
    field: Name = Field(default=None, description="The field at fault, when one is.")
    code: Annotated[str, BeforeValidator(v.required_name)] = Field(description="Reason code.")
    message: Annotated[str, BeforeValidator(v.required_name)] = Field(description="Why.")
    imported_at: Utc = Field(default_factory=utc_now, description="When the import ran.")

    def _summary(self) -> str:
        return f"{self.table_name} {self.record_id} {self.code}"


class Change(Record):
    """One entry of a store's audit history (who-changed-what is never overwritten).

    ``detail`` holds, for updates, ``{field: {"old": ..., "new": ...}}``; for links,
    the other side and the link's attributes.
    """

    seq: int = Field(description="Order of the change in the store.")
    at: Utc = Field(description="When the change was made.")
    entity: Literal["event", "investigation", "batch"] = Field(
        description="Kind of record; 'batch' for a bulk load (one entry per batch)."
    )
    record_id: Id = Field(description="Id of the changed record, or of the batch.")
    action: Literal[
        "insert",
        "update",
        "delete",
        "restore",
        "link",
        "unlink",
        "relate",
        "unrelate",
        "bulk_insert",
    ] = Field(description="What was done.")
    detail: JsonObject = Field(default_factory=dict, description="What changed.")

    def _summary(self) -> str:
        return f"#{self.seq} {_iso(self.at)} {self.action} {self.entity} {self.record_id}"
