"""The linker's settings.

The weight of each feature and the configuration (windows, thresholds, what counts
as a shipped change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

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
