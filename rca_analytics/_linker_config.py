"""The linker's settings.

The weight of each feature and the configuration (windows, thresholds, what counts
as a shipped change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from . import _validate as v
from . import queries
from .errors import ValidationFailed


def _window(value: Any) -> dt.timedelta:
    return queries.duration("duration", value)


Window = Annotated[dt.timedelta, BeforeValidator(_window)]


class Weights(BaseModel):
    """Log-odds weight of each feature (positive: evidence for a link).

    A feature's contribution is its weight times its strength (between -1 and 1).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    bias: float = Field(-6.9, description="Log-odds of a candidate with no evidence.")
    change: float = Field(2.2, description="The event changes production (deploy, config).")
    code: float = Field(1.3, description="The event is a code or CI event (commit, build).")
    symptom: float = Field(-2.7, description="The event shows trouble (error, alert).")
    change_before: float = Field(
        4.3, description="Change (deploy, config) before the anchor; halves every half_life."
    )
    code_before: float = Field(
        0.7, description="Code event (commit, build) before the anchor; halves every half_life."
    )
    change_during: float = Field(
        -0.4, description="Change between the anchor and the end (often the fix)."
    )
    signal_before: float = Field(
        6.3, description="Symptom (error, alert) shortly before the anchor; decays."
    )
    signal_during: float = Field(7.6, description="Symptom between the anchor and the end.")
    after_end: float = Field(-1.7, description="Anything after the incident ended.")
    component: float = Field(1.1, description="Same component as the investigation.")
    service: float = Field(-0.2, description="Same service (component differs or unknown).")
    other_scope: float = Field(
        -0.9, description="Both name a component or service, and they differ."
    )
    tags: float = Field(0.4, description="Share of the investigation's tags the event has.")
    severity: float = Field(
        6.0,
        description="A symptom's severity: critical 1, high 0.6, medium 0.2, low 0, info -0.5.",
    )
    reference: float = Field(
        4.2, description="The investigation's text names the event (SHA, id, fingerprint)."
    )
    ships_named: float = Field(
        1.6, description="A change that ships the commit the investigation's text names."
    )
    new_errors: float = Field(
        3.3, description="Error of a template unseen before, beginning around the anchor."
    )
    burst: float = Field(
        1.9, description="Change followed within burst_window by a new error template."
    )
    shipped: float = Field(
        4.0,
        description="Commit shipped by a production change before the anchor (the "
        "first one after it, same component); decays with that change's time.",
    )
    non_production: float = Field(
        -4.4, description="Event of a non-production environment (staging, dev...)."
    )


#: The features, in the order of :class:`Weights` (without the bias).
FEATURES: tuple[str, ...] = tuple(f for f in Weights.model_fields if f != "bias")


class LinkerConfig(BaseModel):
    """Windows, event kinds and weights of the linker; every value can be overridden.

    Durations accept ``"6h"``, ``"30m"``, a timedelta or seconds. ``weights`` accepts a
    :class:`Weights` or a dict of the weights to change.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback: Window = Field(
        dt.timedelta(hours=12), description="How far before the anchor candidates start."
    )
    after_end: Window = Field(
        dt.timedelta(hours=1), description="How far past the end of the incident they go."
    )
    open_horizon: Window = Field(
        dt.timedelta(hours=6),
        description="End of an incident with no mitigation or resolution: after detection.",
    )
    clock_skew: Window = Field(
        dt.timedelta(minutes=5),
        description="Events this much after the anchor still count as before it.",
    )
    half_life: Window = Field(
        dt.timedelta(minutes=120),
        description="A change's time weight halves for each half_life before the anchor.",
    )
    burst_window: Window = Field(
        dt.timedelta(minutes=60),
        description="A new error template beginning this soon after a change is a burst.",
    )
    burst_min_events: int = Field(3, ge=1, description="Events a new template needs.")
    change_types: tuple[str, ...] = Field(
        (
            "deploy",
            "deployment",
            "config_change",
            "release",
            "rollback",
            "feature_flag",
            "migration",
            "infra_change",
        ),
        description="Event types that change production: prime suspects.",
    )
    code_types: tuple[str, ...] = Field(
        ("commit", "push", "merge", "pull_request", "tag", "build", "job", "check", "test_run"),
        description="Code and CI event types: suspects once shipped.",
    )
    symptom_types: tuple[str, ...] = Field(
        ("error", "critical", "warning", "alert", "span_error", "slow_span", "exception", "crash"),
        description="Event types that show an incident.",
    )
    non_production: tuple[str, ...] = Field(
        ("staging", "stage", "dev", "development", "test", "testing", "qa", "sandbox", "preview"),
        description="Environments that are not production (``data.environment`` or an "
        "``env:``/``environment:`` tag).",
    )
    min_confidence: float = Field(0.7, ge=0.0, le=1.0, description="auto_link's default threshold.")
    weights: Weights = Field(default_factory=Weights, description="Feature weights.")

    def __init__(self, **data: Any) -> None:
        weights = data.get("weights")
        if isinstance(weights, Mapping):  # the weights to change; the rest as default
            try:
                data["weights"] = Weights.model_validate({**Weights().model_dump(), **weights})
            except ValidationError as err:
                failures = v.failures_from_pydantic(err, "weights", list(Weights.model_fields))
                raise ValidationFailed(failures, "LinkerConfig") from None
        try:
            super().__init__(**data)
        except ValidationError as err:
            failures = v.failures_from_pydantic(err, "LinkerConfig", list(type(self).model_fields))
            raise ValidationFailed(failures, "LinkerConfig") from None


DEFAULT = LinkerConfig()

SEVERITY = {"critical": 1.0, "high": 0.6, "medium": 0.2, "low": 0.0, "info": -0.5}

#: Columns of a score frame besides the features.
KEY = ("investigation_id", "event_id")


# --- roles ------------------------------------------------------------------------------

#: What a candidate is to an investigation, in the order people read them: a ``change``
#: (something that changes the system: a deploy, config change, release, feature flag,
#: migration, commit...), a ``symptom`` (an error, alert, anomaly, failed request or
#: span...) or ``context`` (everything else: CI runs, notes, info logs...).
ROLES: tuple[str, ...] = ("change", "symptom", "context")

#: Code event types that change the system, besides ``change_types``: role ``change``
#: (the features count them as code events, suspects once shipped). CI runs (build,
#: job, check, test_run) are context.
CODE_CHANGES: tuple[str, ...] = ("commit", "push", "merge", "pull_request", "tag")

#: Sources of signals: their events are symptoms by type words or by severity.
SIGNAL_SOURCES: tuple[str, ...] = ("logs", "metrics", "traces")

#: Words that make the type of a signal-source event a symptom (``error_span``,
#: ``failed_request``, ``anomaly``, ``alert_firing``...).
SYMPTOM_WORDS: tuple[str, ...] = (
    "error",
    "fail",
    "alert",
    "anomal",
    "exception",
    "crash",
    "timeout",
    "incident",
    "outage",
)

#: Severities that make any signal-source event a symptom.
SYMPTOM_SEVERITIES: tuple[str, ...] = ("critical", "high")


def role(source: Any, event_type: Any, severity: Any = None, config: LinkerConfig = DEFAULT) -> str:
    """The role of an event: ``change``, ``symptom`` or ``context`` (see :data:`ROLES`).

    In this order, the first that holds:

    1. ``change``: the type is one of ``config.change_types`` (deploy, config change,
       release, rollback, feature flag, migration...) or :data:`CODE_CHANGES` (commit,
       push, merge, pull request, tag), from any source;
    2. ``symptom``: the type is one of ``config.symptom_types`` (error, warning, alert,
       span error, slow span, exception, crash), from any source; or the event comes
       from logs, metrics or traces and its type contains one of :data:`SYMPTOM_WORDS`
       (``error_span``, ``failed_request``, ``anomaly``...) or its severity is critical
       or high (a ``log`` at high severity);
    3. ``context``: everything else (CI builds, jobs and test runs, notes, status
       updates, info logs...).

    Types compare in lower case without surrounding space.

    >>> [role("ci", "deploy"), role("git", "commit"), role("ci", "build", "medium")]
    ['change', 'change', 'context']
    >>> [role("traces", "error_span", "high"), role("logs", "log", "high"),
    ...  role("logs", "log", "info"), role("manual", "note")]
    ['symptom', 'symptom', 'context', 'context']
    """
    kind = "" if event_type is None or event_type != event_type else str(event_type)
    kind = kind.strip().lower()
    if kind in config.change_types or kind in CODE_CHANGES:
        return "change"
    if kind in config.symptom_types:
        return "symptom"
    if str(source) in SIGNAL_SOURCES and (
        any(word in kind for word in SYMPTOM_WORDS)
        or ("" if severity is None else str(severity)) in SYMPTOM_SEVERITIES
    ):
        return "symptom"
    return "context"


def roles(frame: pd.DataFrame, config: LinkerConfig = DEFAULT) -> pd.Series:
    """:func:`role` of every row of a frame, as a categorical in :data:`ROLES` order.

    The frame has ``source``, ``event_type`` and (optionally) ``severity`` columns.
    """
    severity = frame["severity"] if "severity" in frame else pd.Series(None, index=frame.index)
    cache: dict[tuple[str, str, str], str] = {}
    out = []
    for parts in zip(
        frame["source"].astype(object).tolist(),
        frame["event_type"].astype(object).tolist(),
        severity.astype(object).tolist(),
        strict=True,
    ):
        k = (str(parts[0]), str(parts[1]), str(parts[2]))
        found = cache.get(k)
        if found is None:
            found = cache[k] = role(*parts, config=config)
        out.append(found)
    return pd.Series(pd.Categorical(out, categories=list(ROLES)), index=frame.index, name="role")
