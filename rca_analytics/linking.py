"""Explainable event linking: which events matter to an investigation, and why.

Every candidate pair (event, investigation) gets named **features** a reviewer can
read — how the event sits in time against the investigation's impact start (or
detection) and resolution, whether it is a change (deploy, config change) or a code
event (commit, build) or a symptom (error, alert), whether it concerns the same
component or service, shared tags, its severity, whether the investigation's text
names it (a commit SHA, build or deploy id, alert fingerprint) and whether a new
error-log template began just after it. Each feature has a strength between -1 and 1
and a weight (log-odds) in :class:`Weights`; the confidence is the logistic function
of their sum, and ``reasons`` lists every contributing feature with its share::

    change_before: deploy 12 min before impact start (+2.84)
    scope: same component 'payments' (+1.10)
    burst: new error 'timeout calling <*>' began 3 min later, 41 events (+1.52)

Candidates are pruned in SQL first: events from ``lookback`` before the anchor to
``after_end`` past the end of the incident that share the investigation's component
or service (all events, when the investigation names neither), every change event in
that window whatever its component, and every event the investigation's text names,
whenever it happened.

The defaults (windows and weights) were chosen by evaluation on labelled synthetic
histories (``bench/fit_linker.py`` fits them on training seeds;
``bench/bench_linking.py`` reports precision and recall on a held-out seed).

>>> from rca_analytics.linking import LinkerConfig
>>> config = LinkerConfig(lookback="12h", weights={"reference": 5.0})
>>> config.lookback, config.weights.reference, config.min_confidence
(datetime.timedelta(seconds=43200), 5.0, 0.7)
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from . import _data, queries
from . import _validate as v
from ._data import Data, StoreOrData
from .errors import QueryError, ValidationFailed
from .models import Event, Investigation, LinkMethod, utc_now

__all__ = [
    "FEATURES",
    "AutoLinkReport",
    "LinkerConfig",
    "LinkerQuality",
    "Weights",
    "auto_link",
    "changes_before",
    "linker_quality",
    "precision_recall",
    "score_links",
    "suggest_links",
]


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

_SEVERITY = {"critical": 1.0, "high": 0.6, "medium": 0.2, "low": 0.0, "info": -0.5}

#: Columns of a score frame besides the features.
_KEY = ("investigation_id", "event_id")


# --- references -------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#@-]*[A-Za-z0-9]")
_HEX = re.compile(r"[0-9a-f]{7,64}")
_TEXT_FIELDS = ("title", "description", "root_cause", "remediation", "lessons_learned")


def reference_tokens(text: str) -> set[str]:
    """Identifiers in free text that may name an event: SHAs, ids with digits.

    >>> sorted(reference_tokens("Rolled back deploy-1234 (commit 9f2c1ab), see #88."))
    ['9f2c1ab', 'deploy-1234']
    """
    out = set()
    for token in _TOKEN.findall(text):
        if len(token) >= 6 and any(c.isdigit() for c in token):
            out.add(token)
            if "/" in token or ":" in token:  # owner/repo@sha, build:123
                out.update(t for t in re.split(r"[/:@#]", token) if len(t) >= 6)
    return {t for t in out if any(c.isdigit() for c in t)}


def _tokens_table(rows: Iterable[tuple[str, Sequence[Any]]]) -> pa.Table:
    ids: list[str] = []
    tokens: list[str] = []
    for investigation_id, texts in rows:
        found: set[str] = set()
        for text in texts:
            if isinstance(text, str):
                found |= reference_tokens(text)
        for token in sorted(found):
            ids.append(investigation_id)
            tokens.append(token)
    # A SHA prefix needs a letter a-f: "2500000" is a number, not a commit.
    hexes = [t.lower() if _HEX.fullmatch(t.lower()) and not t.isdigit() else None for t in tokens]
    return pa.table(
        {
            "investigation_id": pa.array(ids, pa.string()),
            "token": pa.array(tokens, pa.string()),
            "hex": pa.array(hexes, pa.string()),
            "prefix": pa.array([h[:7] if h else None for h in hexes], pa.string()),
        }
    )


# --- candidate features in SQL ----------------------------------------------------------

_INVESTIGATIONS = """
SELECT i.id AS investigation_id, i.component_affected AS i_component,
       i.service_affected AS i_service, i.tags AS i_tags,
       coalesce(i.impact_started_at, i.detected_at, i.started_at, i.created_at) AS anchor,
       CASE WHEN i.impact_started_at IS NOT NULL THEN 'impact start'
            WHEN i.detected_at IS NOT NULL THEN 'detection'
            WHEN i.started_at IS NOT NULL THEN 'start' ELSE 'creation' END AS anchor_name,
       greatest(coalesce(i.mitigated_at, i.resolved_at,
                         coalesce(i.detected_at, i.impact_started_at, i.started_at,
                                  i.created_at) + $open_horizon),
                coalesce(i.impact_started_at, i.detected_at, i.started_at, i.created_at))
         AS end_at,
       CASE WHEN i.mitigated_at IS NOT NULL THEN 'mitigation'
            WHEN i.resolved_at IS NOT NULL THEN 'resolution' ELSE 'open horizon' END AS end_name
FROM investigations i
WHERE i.deleted_at IS NULL AND i.id IN (SELECT unnest($ids::VARCHAR[]))
"""

_WINDOW_PAIRS = """
SELECT v.investigation_id, e.id AS event_id
FROM _rca_inv v JOIN events e
  ON e."timestamp" >= v.anchor - $reach AND e."timestamp" <= v.end_at + $after_end
WHERE e.deleted_at IS NULL AND (
  (e."timestamp" >= v.anchor - $lookback AND (
    e.event_type IN (SELECT unnest($change_types::VARCHAR[]))
    OR e.component IN (v.i_component, v.i_service) OR e.service IN (v.i_component, v.i_service)
    OR (v.i_component IS NULL AND v.i_service IS NULL)))
  OR ($all_changes AND (e.event_type IN (SELECT unnest($change_types::VARCHAR[]))
                        OR e.event_type IN (SELECT unnest($code_types::VARCHAR[])))))
"""

#: Whether event ``e`` belongs to a non-production environment.
_NON_PROD = """(lower(coalesce(e.data->>'environment', '')) IN (SELECT unnest($envs::VARCHAR[]))
  OR list_has_any(list_transform(e.tags, lambda t: lower(t)), $env_tags::VARCHAR[]))"""

#: Code events shipped by the production changes among the window's candidates: those of
#: the change's component since that component's previous production change.
_SHIPPED_PAIRS = """
WITH d AS (
  SELECT id, "timestamp" AS ts, component,
         lag("timestamp") OVER (PARTITION BY component ORDER BY "timestamp", id) AS prev_ts
  FROM events e
  WHERE deleted_at IS NULL AND component IS NOT NULL
    AND event_type IN (SELECT unnest($change_types::VARCHAR[])) AND NOT <non_prod>
)
SELECT w.investigation_id, k.id AS event_id, arg_min(d.id, d.ts) AS shipped_by
FROM _rca_window w JOIN d ON d.id = w.event_id JOIN _rca_inv v USING (investigation_id)
JOIN events k ON k.component = d.component AND k."timestamp" <= d.ts
  AND k."timestamp" > coalesce(d.prev_ts, d.ts - $lookback)
WHERE k.deleted_at IS NULL AND k.event_type IN (SELECT unnest($code_types::VARCHAR[]))
  AND d.ts <= v.anchor + $clock_skew
GROUP BY ALL
""".replace("<non_prod>", _NON_PROD)

_REFERENCE_PAIRS = """
SELECT t.investigation_id, e.id AS event_id, any_value(t.token) AS ref_token, 'id' AS ref_kind
FROM _rca_tokens t JOIN events e ON e.source_id = t.token
WHERE e.deleted_at IS NULL GROUP BY ALL
UNION ALL
SELECT t.investigation_id, e.id, any_value(t.token), 'id'
FROM _rca_tokens t JOIN events e ON lower(left(e.source_id, 7)) = t.prefix
WHERE e.deleted_at IS NULL AND starts_with(lower(e.source_id), t.hex)
  AND e.source_id <> t.token GROUP BY ALL
UNION ALL
SELECT t.investigation_id, e.id, any_value(t.token), 'sha'
FROM _rca_tokens t JOIN (
  SELECT id, lower(data->>'sha') AS sha FROM events
  WHERE deleted_at IS NULL AND event_type IN (SELECT unnest($change_types::VARCHAR[]))
    AND data->>'sha' IS NOT NULL) e
  ON left(e.sha, 7) = t.prefix AND starts_with(e.sha, t.hex) GROUP BY ALL
"""

_FEATURES = """
WITH c AS (
  SELECT v.*, e.id AS event_id, e."timestamp" AS ts, e.source, e.event_type, e.severity,
         e.component, e.service, e.source_id, e.tags,
         epoch(v.anchor - e."timestamp") AS before_s,
         epoch(e."timestamp" - v.end_at) AS after_s,
         e.event_type IN (SELECT unnest($change_types::VARCHAR[])) AS is_change,
         e.event_type IN (SELECT unnest($code_types::VARCHAR[])) AS is_code,
         e.event_type IN (SELECT unnest($symptom_types::VARCHAR[])) AS is_signal,
         CASE WHEN e.source IN ('logs', 'traces') THEN
              coalesce(e.data->>'fingerprint', e.data->>'template') END AS fingerprint,
         CASE WHEN e.source IN ('logs', 'traces') THEN
              coalesce(e.data->>'template', e.data->>'message') END AS template,
         p.ref_token, p.ship_token, p.shipped_by, p.in_context, <non_prod> AS non_prod
  FROM _rca_pairs p JOIN _rca_inv v USING (investigation_id) JOIN events e ON e.id = p.event_id
  WHERE e.deleted_at IS NULL
), fp AS (
  SELECT investigation_id, fingerprint, min(ts) AS first_ts, count(*) AS n,
         any_value(anchor) AS anchor, any_value(template) AS template
  FROM c WHERE fingerprint IS NOT NULL AND is_signal AND in_context
  GROUP BY investigation_id, fingerprint
), new_fp AS (
  SELECT f.* FROM fp f
  WHERE f.n >= $burst_min AND f.first_ts >= f.anchor - $burst_window
    AND f.first_ts >= f.anchor - $lookback + $burst_window
), bursts AS (
  SELECT c.investigation_id, c.event_id,
         arg_min(f.template, f.first_ts) AS burst_template,
         min(epoch(f.first_ts - c.ts)) AS burst_after_s,
         arg_min(f.n, f.first_ts) AS burst_events
  FROM c JOIN new_fp f ON f.investigation_id = c.investigation_id
   AND f.first_ts >= c.ts - $clock_skew AND f.first_ts <= c.ts + $burst_window
  WHERE c.is_change GROUP BY ALL
)
SELECT c.investigation_id, c.event_id, c.anchor_name, c.end_name, c.before_s, c.after_s,
       c.source, c.event_type, c.severity, c.is_change, c.is_code, c.is_signal,
       c.component, c.service, c.i_component, c.i_service,
       coalesce(c.component = c.i_component, false) AS same_component,
       coalesce(c.service = c.i_service, false) OR coalesce(c.component = c.i_service, false)
         OR coalesce(c.service = c.i_component, false) AS same_service,
       coalesce(CASE WHEN c.service = c.i_service THEN c.service END,
                CASE WHEN c.component = c.i_service THEN c.component END,
                CASE WHEN c.service = c.i_component THEN c.service END) AS shared_service,
       (c.component IS NOT NULL OR c.service IS NOT NULL)
         AND (c.i_component IS NOT NULL OR c.i_service IS NOT NULL) AS both_scoped,
       list_intersect(c.tags, c.i_tags) AS shared_tags,
       len(list_distinct(c.i_tags)) AS i_tag_count,
       c.ref_token, c.ship_token, c.non_prod,
       coalesce(sd.source_id, sd.id) AS shipped_by,
       epoch(c.anchor - sd."timestamp") AS shipped_before_s,
       n.n IS NOT NULL AS new_template, n.n AS new_template_events,
       epoch(n.first_ts - c.anchor) AS new_template_after_s,
       b.burst_template, b.burst_after_s, b.burst_events
FROM c
LEFT JOIN new_fp n ON n.investigation_id = c.investigation_id AND n.fingerprint = c.fingerprint
     AND c.is_signal
LEFT JOIN bursts b ON b.investigation_id = c.investigation_id AND b.event_id = c.event_id
LEFT JOIN events sd ON sd.id = c.shipped_by
""".replace("<non_prod>", _NON_PROD)


def _run(data: Data, sql: str, config: LinkerConfig, **extra: Any) -> pa.Table:
    """Run one of the queries above with the parameters it names (and no others)."""
    given = {
        "change_types": list(config.change_types),
        "code_types": list(config.code_types),
        "symptom_types": list(config.symptom_types),
        "lookback": config.lookback,
        "after_end": config.after_end,
        "open_horizon": config.open_horizon,
        "burst_window": config.burst_window,
        "burst_min": config.burst_min_events,
        "clock_skew": config.clock_skew,
        "envs": [e.lower() for e in config.non_production],
        "env_tags": [f"{k}:{e}" for e in config.non_production for k in ("env", "environment")],
        **extra,
    }
    names = set(re.findall(r"\$(\w+)", sql))
    return data.arrow(sql, {k: val for k, val in given.items() if k in names})


def features(
    store: StoreOrData,
    investigation_ids: Sequence[str],
    config: LinkerConfig = DEFAULT,
    *,
    pairs: pd.DataFrame | None = None,
    all_changes: bool = False,
    reach: dt.timedelta | None = None,
) -> pd.DataFrame:
    """The raw facts and feature strengths of every candidate pair (one row per pair).

    With ``pairs`` (columns ``investigation_id``, ``event_id``) exactly those pairs are
    scored, wherever they sit in time; otherwise candidates are pruned as described in
    the module docstring (``all_changes`` adds code events of any component, and every
    change and code event from ``reach`` before the anchor when that is further back).
    """
    data = _data.of(store)
    inv = _run(data, _INVESTIGATIONS, config, ids=list(investigation_ids))
    texts = data.rows(
        f"SELECT id, {', '.join(_TEXT_FIELDS)} FROM investigations "  # noqa: S608 - constants
        "WHERE id IN (SELECT unnest($ids::VARCHAR[]))",
        {"ids": list(investigation_ids)},
    )
    tokens = _tokens_table((row["id"], [row[f] for f in _TEXT_FIELDS]) for row in texts)
    with data.registered(_rca_inv=inv, _rca_tokens=tokens):
        refs = _run(data, _REFERENCE_PAIRS, config)
        window = _run(
            data,
            _WINDOW_PAIRS,
            config,
            all_changes=all_changes,
            reach=max(config.lookback, reach or config.lookback),
        )
        asked = pa.table(
            {
                "investigation_id": pa.array(
                    [] if pairs is None else pairs["investigation_id"], pa.string()
                ),
                "event_id": pa.array([] if pairs is None else pairs["event_id"], pa.string()),
            }
        )
        # Asked pairs are scored among the usual candidates: new templates and bursts
        # depend on the events around them.
        with data.registered(_rca_window=window):
            shipped = _run(data, _SHIPPED_PAIRS, config)
        with data.registered(
            _rca_window=window, _rca_refs=refs, _rca_asked=asked, _rca_shipped=shipped
        ):
            wanted = (
                "SELECT investigation_id, event_id FROM _rca_window UNION "
                "SELECT investigation_id, event_id FROM _rca_refs UNION "
                "SELECT investigation_id, event_id FROM _rca_shipped UNION "
                "SELECT investigation_id, event_id FROM _rca_asked"
            )
            all_pairs = data.arrow(
                "SELECT w.investigation_id, w.event_id, r.ref_token, r.ship_token, "  # noqa: S608
                "s.shipped_by, c.investigation_id IS NOT NULL AS in_context "
                f"FROM ({wanted}) w "
                "LEFT JOIN (SELECT investigation_id, event_id, "
                "min(ref_token) FILTER (WHERE ref_kind = 'id') AS ref_token, "
                "min(ref_token) FILTER (WHERE ref_kind = 'sha') AS ship_token "
                "FROM _rca_refs GROUP BY ALL) r USING (investigation_id, event_id) "
                # Pairs asked for (reviewed ones) do not change the others' context.
                "LEFT JOIN (SELECT DISTINCT investigation_id, event_id FROM ("
                "SELECT investigation_id, event_id FROM _rca_window UNION ALL "
                "SELECT investigation_id, event_id FROM _rca_refs UNION ALL "
                "SELECT investigation_id, event_id FROM _rca_shipped)) c "
                "USING (investigation_id, event_id) "
                "LEFT JOIN _rca_shipped s USING (investigation_id, event_id)"
            )
        with data.registered(_rca_pairs=all_pairs):
            table = _run(data, _FEATURES, config)
    frame = table.to_pandas(types_mapper=None, ignore_metadata=True)
    if pairs is not None:
        keep = (
            frame[list(_KEY)]
            .merge(pairs[list(_KEY)].drop_duplicates(), on=list(_KEY), how="left", indicator=True)[
                "_merge"
            ]
            .eq("both")
        )
        frame = frame[keep.to_numpy()].reset_index(drop=True)
    return _strengths(frame, config)


def _strengths(frame: pd.DataFrame, config: LinkerConfig) -> pd.DataFrame:
    """Feature strengths (columns ``x_<feature>``) from the facts of each pair."""
    skew = config.clock_skew.total_seconds()
    half = max(config.half_life.total_seconds(), 1.0)
    before = frame["before_s"].to_numpy(dtype=float)
    after = frame["after_s"].to_numpy(dtype=float)
    is_before = (before >= -skew) & (after <= skew)
    decay = np.where(is_before, np.power(0.5, np.clip(before, 0, None) / half), 0.0)
    during = (before < -skew) & (after <= skew)
    ended = after > skew  # within the clock skew of the end still counts as during
    change = frame["is_change"].to_numpy(dtype=bool)
    code = frame["is_code"].to_numpy(dtype=bool) & ~change
    signal = frame["is_signal"].to_numpy(dtype=bool) & ~change & ~code
    # A symptom between the anchor and the end, or within the clock skew of the anchor.
    signal_during = signal & (during | (is_before & (before <= skew)))
    same_component = frame["same_component"].to_numpy(dtype=bool)
    same_service = frame["same_service"].to_numpy(dtype=bool) & ~same_component
    other = frame["both_scoped"].to_numpy(dtype=bool) & ~same_component & ~same_service
    shared = frame["shared_tags"].map(len).to_numpy(dtype=float)
    tag_count = frame["i_tag_count"].to_numpy(dtype=float)
    x = {
        "change": change.astype(float),
        "code": code.astype(float),
        "symptom": signal.astype(float),
        "change_before": np.where(change, decay, 0.0),
        "code_before": np.where(code, decay, 0.0),
        "change_during": (change & during).astype(float),
        "signal_before": np.where(signal & ~signal_during, decay, 0.0),
        "signal_during": signal_during.astype(float),
        "after_end": ended.astype(float),
        "component": same_component.astype(float),
        "service": same_service.astype(float),
        "other_scope": other.astype(float),
        "tags": np.divide(shared, tag_count, out=np.zeros_like(shared), where=tag_count > 0),
        # A symptom's severity; a deploy's or a build's says little about an incident.
        "severity": np.where(
            signal, frame["severity"].map(_SEVERITY).fillna(0.0).to_numpy(dtype=float), 0.0
        ),
        "reference": frame["ref_token"].notna().to_numpy(dtype=float),
        "ships_named": frame["ship_token"].notna().to_numpy(dtype=float),
        "new_errors": (frame["new_template"].to_numpy(dtype=bool) & signal).astype(float),
        "burst": frame["burst_template"].notna().to_numpy(dtype=float),
        "shipped": np.where(
            code
            & frame["source"].eq("git").to_numpy(dtype=bool)  # commits, not CI runs
            & frame["shipped_by"].notna().to_numpy(dtype=bool),
            np.power(0.5, np.clip(frame["shipped_before_s"].to_numpy(dtype=float), 0, None) / half),
            0.0,
        ),
        "non_production": frame["non_prod"].to_numpy(dtype=bool).astype(float),
    }
    out = frame.copy()
    for name in FEATURES:
        out["x_" + name] = x[name]
    return out


def combine(frame: pd.DataFrame, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """Confidence of each pair and the contributions (pairs × FEATURES) behind it."""
    strengths = frame[["x_" + f for f in FEATURES]].to_numpy(dtype=float)
    w = np.array([getattr(weights, f) for f in FEATURES])
    contributions = strengths * w
    logit = weights.bias + contributions.sum(axis=1)
    return 1.0 / (1.0 + np.exp(-logit)), contributions


# --- reasons ----------------------------------------------------------------------------


def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _count(value: Any) -> int:
    return 0 if value is None or value != value else int(value)


def _seconds(value: Any) -> float:
    return 0.0 if value is None or value != value else float(value)


def _when(seconds: float, anchor: str) -> str:
    return f"{_ago(seconds)} {'before' if seconds >= 0 else 'after'} {anchor}"


def _scope(row: Mapping[str, Any]) -> str:
    ours = row["component"] or row["service"]
    theirs = row["i_component"] or row["i_service"]
    return f"{ours!r}, not {theirs!r}"


#: The detail of each feature's reason, from the facts of the pair.
_DETAIL: dict[str, Any] = {
    "change": lambda r: f"{r['event_type']} is a change to production",
    "code": lambda r: f"{r['event_type']} is a code or CI event",
    "symptom": lambda r: f"{r['event_type']} is a symptom",
    "change_before": lambda r: f"{r['event_type']} {_when(r['before_s'], r['anchor_name'])}",
    "code_before": lambda r: f"{r['event_type']} {_when(r['before_s'], r['anchor_name'])}",
    "change_during": lambda r: (
        f"{r['event_type']} during the incident, {_when(r['before_s'], r['anchor_name'])}"
    ),
    "signal_before": lambda r: f"{r['event_type']} {_when(r['before_s'], r['anchor_name'])}",
    "signal_during": lambda r: (
        f"{r['event_type']} during the incident, {_when(r['before_s'], r['anchor_name'])}"
    ),
    "after_end": lambda r: f"{_ago(r['after_s'])} after {r['end_name']}",
    "component": lambda r: f"same component {r['component']!r}",
    "service": lambda r: f"same service {r['shared_service']!r}",
    "other_scope": _scope,
    "tags": lambda r: "shared tags " + ", ".join(sorted(r["shared_tags"])),
    "severity": lambda r: f"severity {r['severity']}",
    "reference": lambda r: f"the investigation names {r['ref_token']!r}",
    "ships_named": lambda r: f"ships {r['ship_token']!r}, which the investigation names",
    "new_errors": lambda r: (
        "error template unseen before, began "
        f"{_when(-_seconds(r['new_template_after_s']), r['anchor_name'])}, "
        f"{_count(r['new_template_events'])} events"
    ),
    "burst": lambda r: (
        f"new error {str(r['burst_template'] or '')[:60]!r} began "
        + (
            f"{_ago(_seconds(r['burst_after_s']))} later"
            if _seconds(r["burst_after_s"]) >= 0
            else f"{_ago(_seconds(r['burst_after_s']))} before it (within the clock skew)"
        )
        + f", {_count(r['burst_events'])} events"
    ),
    "shipped": lambda r: (
        f"shipped by {r['shipped_by']!r}, "
        f"{_when(_seconds(r['shipped_before_s']), r['anchor_name'])}"
    ),
    "non_production": lambda r: "a non-production environment",
}


def _reason(name: str, row: Mapping[str, Any]) -> str:
    return str(_DETAIL[name](row))


#: The facts the reasons are written from.
_FACTS = (
    "event_type",
    "before_s",
    "after_s",
    "anchor_name",
    "end_name",
    "component",
    "service",
    "i_component",
    "i_service",
    "shared_tags",
    "severity",
    "ref_token",
    "ship_token",
    "shared_service",
    "new_template_after_s",
    "new_template_events",
    "burst_template",
    "burst_after_s",
    "burst_events",
    "shipped_by",
    "shipped_before_s",
)


def reasons(frame: pd.DataFrame, contributions: np.ndarray) -> list[list[str]]:
    """Readable reasons of each pair: ``feature: detail (+weight)``, strongest first."""
    columns = [frame[c].tolist() for c in _FACTS]
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")
    shown = np.abs(contributions) >= 0.005
    out = []
    for i, values in enumerate(zip(*columns, strict=True)):
        row = dict(zip(_FACTS, values, strict=True))
        contrib = contributions[i]
        out.append(
            [
                f"{FEATURES[k]}: {_reason(FEATURES[k], row)} ({contrib[k]:+.2f})"
                for k in order[i]
                if shown[i, k]
            ]
        )
    return out


# --- public entry points (Store methods call these) ---------------------------------------


def _config(config: LinkerConfig | Mapping[str, Any] | None) -> LinkerConfig:
    if config is None:
        return DEFAULT
    if isinstance(config, LinkerConfig):
        return config
    if isinstance(config, Mapping):
        return LinkerConfig(**config)
    raise QueryError(f"config: expected a LinkerConfig or a dict, not {type(config).__name__}")


def _investigation_id(data: Data, investigation_id: Any) -> str:
    return str(data.peek(Investigation, investigation_id, (), include_deleted=False)["id"])


def score_links(
    store: StoreOrData,
    investigation_ids: Sequence[str] | None = None,
    config: LinkerConfig | Mapping[str, Any] | None = None,
    *,
    pairs: pd.DataFrame | None = None,
    batch: int = 100,
) -> pd.DataFrame:
    """Confidence and feature contributions of every candidate pair (no reasons, fast).

    One row per (investigation, event) candidate: ``investigation_id``, ``event_id``,
    ``confidence`` and one ``w_<feature>`` column per feature (its contribution in
    log-odds). Investigations default to every active one.
    """
    data = _data.of(store)
    cfg = _config(config)
    ids = _ids(data, investigation_ids, open_only=False)
    parts = []
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        chosen = None if pairs is None else pairs[pairs["investigation_id"].isin(chunk)]
        f = features(data, chunk, cfg, pairs=chosen)
        conf, contrib = combine(f, cfg.weights)
        part = pd.DataFrame({"investigation_id": f["investigation_id"], "event_id": f["event_id"]})
        part["confidence"] = conf
        for k, name in enumerate(FEATURES):
            part["w_" + name] = contrib[:, k]
        parts.append(part)
    if not parts:
        return pd.DataFrame(
            {
                "investigation_id": pd.Series([], dtype="str"),
                "event_id": pd.Series([], dtype="str"),
                "confidence": pd.Series([], dtype=float),
                **{"w_" + n: pd.Series([], dtype=float) for n in FEATURES},
            }
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(
        ["investigation_id", "confidence", "event_id"], ascending=[True, False, True]
    ).reset_index(drop=True)


def _ids(data: Data, investigation_ids: Sequence[str] | None, *, open_only: bool) -> list[str]:
    if investigation_ids is not None:
        # One query for the lot; a missing or deleted one gets get_investigation's error.
        rows = data.rows(
            "SELECT id FROM investigations WHERE deleted_at IS NULL "
            "AND id IN (SELECT unnest($ids::VARCHAR[]))",
            {"ids": [i for i in investigation_ids if isinstance(i, str)]},
        )
        active = {r["id"] for r in rows}
        return [i if i in active else _investigation_id(data, i) for i in investigation_ids]
    where = "deleted_at IS NULL" + (" AND status IN ('open', 'in_progress')" if open_only else "")
    # In time order: a batch of neighbours in time shares most of its candidate events.
    rows = data.rows(
        f"SELECT id FROM investigations WHERE {where} "  # noqa: S608 - constants
        "ORDER BY coalesce(impact_started_at, detected_at, started_at, created_at), id"
    )
    return [r["id"] for r in rows]


def _existing(data: Data, investigation_id: str | None) -> pd.DataFrame:
    """Current links (method) and verdicts of the pairs of one or all investigations."""
    where = "" if investigation_id is None else " WHERE investigation_id = $id"
    params = {} if investigation_id is None else {"id": investigation_id}
    links = data.frame(
        f"SELECT investigation_id, event_id, method AS linked_method, confidence AS "  # noqa: S608
        f"linked_confidence FROM links{where}",
        params,
    )
    reviews = queries.reviews(data, investigation_id)[["investigation_id", "event_id", "accepted"]]
    return links.merge(reviews, on=list(_KEY), how="outer")


def _with_reasons(f: pd.DataFrame, cfg: LinkerConfig, min_confidence: float) -> pd.DataFrame:
    conf, contrib = combine(f, cfg.weights)
    keep = conf >= min_confidence
    f = f[keep].reset_index(drop=True)
    conf, contrib = conf[keep], contrib[keep]
    out = pd.DataFrame(
        {
            "investigation_id": f["investigation_id"],
            "event_id": f["event_id"],
            "confidence": conf,
            "reasons": pd.Series(reasons(f, contrib), dtype=object),
        }
    )
    for k, name in enumerate(FEATURES):
        out["w_" + name] = contrib[:, k]
    return out


def _event_columns(data: Data, scored: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs joined with the events' columns (as :meth:`Store.events` gives them)."""
    ids = scored["event_id"].drop_duplicates().tolist()
    select, derived = queries._event_select(data, "e", list(Event.model_fields), False)
    sql = (
        f"SELECT {select} FROM events e {derived} "  # noqa: S608 - whitelisted
        "WHERE e.id IN (SELECT unnest(?::VARCHAR[]))"
    )
    events = queries.to_frame(data.arrow(sql, [ids]), queries._kinds(Event))
    events = events.rename(columns={"id": "event_id"})
    return scored.merge(events, on="event_id", how="left")


def suggest_links(
    store: StoreOrData,
    investigation_id: str,
    *,
    config: LinkerConfig | Mapping[str, Any] | None = None,
    min_confidence: float = 0.0,
    limit: int | None = None,
    include_rejected: bool = False,
) -> pd.DataFrame:
    """Candidate events of one investigation, most likely first (see Store.suggest_links)."""
    data = _data.of(store)
    cfg = _config(config)
    min_confidence = queries._confidence("min_confidence", min_confidence)
    inv_id = _investigation_id(data, investigation_id)
    existing = _existing(data, inv_id)
    f = features(data, [inv_id], cfg)
    if not include_rejected:
        rejected = existing.loc[existing["accepted"].eq(False), "event_id"]
        f = f[~f["event_id"].isin(rejected)].reset_index(drop=True)
    scored = _with_reasons(f, cfg, min_confidence)
    scored = scored.sort_values(["confidence", "event_id"], ascending=[False, True])
    if limit is not None:
        queries._limit(limit)  # checks it
        scored = scored.head(limit)
    out = _event_columns(data, scored.reset_index(drop=True))
    out = out.merge(existing, on=list(_KEY), how="left")
    return _order(out)


def _order(out: pd.DataFrame) -> pd.DataFrame:
    event_fields = [f for f in Event.model_fields if f != "id"]
    head = ["event_id", "confidence", "reasons"]
    state = ["linked_method", "linked_confidence", "accepted"]
    weights = ["w_" + f for f in FEATURES]
    rest = [c for c in out.columns if c not in {*head, *event_fields, *state, *weights}]
    out = out[head + event_fields + state + weights + rest]
    out["linked_method"] = pd.Categorical(
        out["linked_method"], categories=[m.value for m in LinkMethod]
    )
    out["accepted"] = out["accepted"].astype("boolean")
    return out.drop(columns=[c for c in rest if c == "investigation_id"]).reset_index(drop=True)


def changes_before(
    store: StoreOrData,
    investigation_id: str,
    *,
    window: Any = "6h",
    config: LinkerConfig | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Changes (git, CI, deploys, config) before detection, most suspicious first."""
    data = _data.of(store)
    cfg = _config(config)
    span = queries.duration("window", window)
    inv_id = _investigation_id(data, investigation_id)
    f = features(data, [inv_id], cfg, all_changes=True, reach=span)
    kinds = f["is_change"] | f["is_code"] | f["source"].isin(["git", "ci"])
    before = f["before_s"]
    f = f[
        kinds & (before >= -cfg.clock_skew.total_seconds()) & (before <= span.total_seconds())
    ].reset_index(drop=True)
    scored = _with_reasons(f, cfg, 0.0)
    scope = np.select(
        [f["same_component"], f["same_service"], f["both_scoped"]],
        ["component", "service", "other"],
        default="unknown",
    )
    scored["scope"] = pd.Categorical(scope, categories=["component", "service", "other", "unknown"])
    scored["in_scope"] = scored["scope"].isin(["component", "service"])
    scored = scored.sort_values(["confidence", "event_id"], ascending=[False, True])
    out = _event_columns(data, scored.reset_index(drop=True))
    out = out.merge(_existing(data, inv_id), on=list(_KEY), how="left")
    ordered = _order(out)
    front = ["event_id", "confidence", "scope", "in_scope", "reasons"]
    return ordered[front + [c for c in ordered.columns if c not in front]]


@dataclass
class AutoLinkReport:
    """What :meth:`Store.auto_link` did.

    Attributes:
        investigations: Investigations scored.
        candidates: Candidate pairs scored.
        linked: New links written (method ``linker``).
        updated: Earlier linker links whose confidence or reasons changed.
        unchanged: Pairs above the threshold already linked as they are, or linked by a
            person, a rule or an import (those are never overwritten).
        reviewed: Pairs above the threshold a reviewer already judged (left alone).
        min_confidence: The threshold used.
        seconds: Wall time.
        links: The links written or updated: investigation_id, event_id, confidence,
            reasons.
    """

    investigations: int = 0
    candidates: int = 0
    linked: int = 0
    updated: int = 0
    unchanged: int = 0
    reviewed: int = 0
    min_confidence: float = 0.7
    seconds: float = 0.0
    links: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def __repr__(self) -> str:
        return (
            f"<AutoLinkReport investigations={self.investigations} "
            f"candidates={self.candidates} linked={self.linked} updated={self.updated} "
            f"unchanged={self.unchanged} reviewed={self.reviewed} "
            f"min_confidence={self.min_confidence}>"
        )


def auto_link(
    store: StoreOrData,
    investigation_id: str | None = None,
    *,
    min_confidence: float | None = None,
    config: LinkerConfig | Mapping[str, Any] | None = None,
    progress: bool | None = None,
    batch: int = 100,
) -> AutoLinkReport:
    """Link the candidates at or above the threshold (see Store.auto_link)."""
    data = _data.of(store)
    started = time.perf_counter()
    cfg = _config(config)
    threshold = queries._confidence(
        "min_confidence", cfg.min_confidence if min_confidence is None else min_confidence
    )
    data.require_writable()
    ids = _ids(data, None if investigation_id is None else [investigation_id], open_only=True)
    report = AutoLinkReport(min_confidence=threshold)
    bar = _bar(len(ids), progress)
    existing = _existing(data, None if investigation_id is None else ids[0])
    # Score first, write once: scans inside a transaction that has written are slower.
    chosen = []
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        f = features(data, chunk, cfg)
        report.candidates += len(f)
        conf, contrib = combine(f, cfg.weights)
        keep = conf >= threshold
        pairs = f.loc[keep, list(_KEY)].merge(existing, on=list(_KEY), how="left")
        reviewed = pairs["accepted"].notna().to_numpy()
        method = pairs["linked_method"]
        by_others = method.notna().to_numpy() & (method != LinkMethod.LINKER.value).to_numpy()
        report.reviewed += int(reviewed.sum())
        report.unchanged += int((~reviewed & by_others).sum())
        todo = np.flatnonzero(keep)[~reviewed & ~by_others]
        if len(todo):
            rows = f.iloc[todo].reset_index(drop=True)
            chosen.append(
                pd.DataFrame(
                    {
                        "investigation_id": rows["investigation_id"],
                        "event_id": rows["event_id"],
                        "confidence": conf[todo],
                        "reasons": pd.Series(reasons(rows, contrib[todo]), dtype=object),
                    }
                )
            )
        if bar is not None:
            bar.update(len(chunk))
    report.investigations = len(ids)
    written = []
    with data.write():
        if chosen:
            written.append(_write(data, pd.concat(chosen, ignore_index=True), report))
        if report.linked or report.updated:
            data.log(
                "batch",
                f"auto_link-{utc_now().isoformat()}",
                "link",
                {
                    "auto_link": {
                        "investigations": report.investigations,
                        "linked": report.linked,
                        "updated": report.updated,
                        "min_confidence": threshold,
                        "config": cfg.model_dump(mode="json"),
                    }
                },
            )
    if bar is not None:
        bar.close()
    links = [w for w in written if len(w)]
    report.links = (
        pd.concat(links, ignore_index=True)
        if links
        else pd.DataFrame(columns=["investigation_id", "event_id", "confidence", "reasons"])
    )
    report.seconds = time.perf_counter() - started
    return report


def _bar(total: int, enabled: bool | None) -> Any:
    from ._loading import _progress

    bar = _progress(
        total, enabled if enabled is not None else (None if total > 1 else False), "linking"
    )
    if bar is not None:
        bar.unit = "investigations"
    return bar


_LINK_JSON = """json_object('event_id', event_id, 'investigation_id', investigation_id,
  'confidence', confidence, 'method', method, 'reasons', reasons,
  'linked_at', strftime(coalesce(old_linked_at, linked_at), '%Y-%m-%dT%H:%M:%S.%fZ'),
  'replaced', CASE WHEN was_linked THEN json_object('event_id', event_id,
    'investigation_id', investigation_id, 'confidence', old_confidence, 'method', 'linker',
    'reasons', old_reasons,
    'linked_at', strftime(old_linked_at, '%Y-%m-%dT%H:%M:%S.%fZ')) END)"""

_AUDIT = f"""
INSERT INTO changes ("at", entity, record_id, action, detail)
SELECT $now, 'event', event_id, 'link', {_LINK_JSON} FROM _rca_auto_changed
UNION ALL
SELECT $now, 'investigation', investigation_id, 'link', {_LINK_JSON} FROM _rca_auto_changed
"""  # noqa: S608 - constants only


def _write(data: Data, todo: pd.DataFrame, report: AutoLinkReport) -> pd.DataFrame:
    """Write the chosen links (new or changed linker links); returns what was written."""
    now = utc_now()
    table = pa.table(
        {
            "event_id": pa.array(todo["event_id"], pa.string()),
            "investigation_id": pa.array(todo["investigation_id"], pa.string()),
            "confidence": pa.array(todo["confidence"].round(4), pa.float64()),
            "method": pa.array([LinkMethod.LINKER.value] * len(todo), pa.string()),
            "reasons": pa.array(todo["reasons"].tolist(), pa.list_(pa.string())),
            "linked_at": pa.array([now] * len(todo), pa.timestamp("us", tz="UTC")),
        }
    )
    with data.registered(_rca_auto_links=table):
        # Checked again under the write lock: never over a person's link or verdict.
        data.execute(
            "CREATE OR REPLACE TEMP TABLE _rca_auto_changed AS "
            "SELECT n.*, l.event_id IS NOT NULL AS was_linked, l.confidence AS old_confidence, "
            "l.reasons AS old_reasons, l.linked_at AS old_linked_at FROM _rca_auto_links n "
            "LEFT JOIN links l ON l.event_id = n.event_id "
            "AND l.investigation_id = n.investigation_id "
            "ANTI JOIN link_reviews r ON r.event_id = n.event_id "
            "AND r.investigation_id = n.investigation_id "
            "WHERE l.event_id IS NULL OR (l.method = 'linker' "
            "AND (l.confidence <> n.confidence OR l.reasons <> n.reasons))"
        )
        [counts] = data.rows(
            "SELECT count(*) FILTER (WHERE NOT was_linked) AS new, "
            "count(*) FILTER (WHERE was_linked) AS changed FROM _rca_auto_changed"
        )
        new, changed = int(counts["new"]), int(counts["changed"])
        data.execute(
            "DELETE FROM links USING _rca_auto_changed c WHERE links.method = 'linker' "
            "AND links.event_id = c.event_id AND links.investigation_id = c.investigation_id"
        )
        data.execute(
            "INSERT INTO links (event_id, investigation_id, confidence, method, reasons, "
            "linked_at) SELECT event_id, investigation_id, confidence, method, reasons, "
            "coalesce(old_linked_at, linked_at) FROM _rca_auto_changed"  # made when first made
        )
        # Each link in both records' history, as link() writes it (with what it replaced).
        data.execute(_AUDIT, {"now": now})
        for other, column in (("investigations", "investigation_id"), ("events", "event_id")):
            data.execute(
                f"UPDATE {other} SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, "  # noqa: S608
                f"?) WHERE id IN (SELECT {column} FROM _rca_auto_changed)",
                [now],
            )
        written = data.frame(
            "SELECT investigation_id, event_id, confidence, reasons FROM _rca_auto_changed"
        )
        data.execute("DROP TABLE temp._rca_auto_changed")
    report.linked += new
    report.updated += changed
    report.unchanged += len(todo) - new - changed
    return written


@dataclass
class LinkerQuality:
    """How the linker does against reviewers' verdicts (or any labelled pairs).

    Attributes:
        min_confidence: The threshold the figures are for.
        precision: Of the labelled pairs the linker would link, the share accepted.
        recall: Of the accepted pairs, the share the linker would link.
        f1: Harmonic mean of precision and recall.
        true_positives, false_positives, false_negatives: The counts behind them.
        labelled: Labelled pairs (accepted + rejected).
        curve: precision, recall and f1 at every threshold (a DataFrame).
    """

    min_confidence: float
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    labelled: int
    curve: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"<LinkerQuality at {self.min_confidence:.2f}: precision={self.precision:.3f} "
            f"recall={self.recall:.3f} f1={self.f1:.3f} ({self.labelled} labelled pairs)>"
        )


def precision_recall(
    scores: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    min_confidence: float = 0.7,
    labelled_only: bool = False,
) -> LinkerQuality:
    """Precision, recall and F1 of scored pairs against true pairs, and the curve.

    Args:
        scores: ``investigation_id``, ``event_id``, ``confidence`` (pairs not listed
            score 0).
        truth: ``investigation_id``, ``event_id`` and optionally ``accepted`` (rows with
            ``accepted`` False are known negatives); every other row is a true pair.
        min_confidence: The threshold for the headline figures.
        labelled_only: Count only pairs in ``truth`` (reviewers' verdicts); otherwise
            every scored pair not in ``truth`` is a negative (complete labels, as in a
            synthetic history).

    >>> s = pd.DataFrame({"investigation_id": ["i"] * 3, "event_id": ["a", "b", "c"],
    ...                   "confidence": [0.9, 0.8, 0.2]})
    >>> t = pd.DataFrame({"investigation_id": ["i", "i"], "event_id": ["a", "c"]})
    >>> q = precision_recall(s, t)
    >>> q.precision, q.recall, q.true_positives
    (0.5, 0.5, 1)
    """
    threshold = queries._confidence("min_confidence", min_confidence)
    truth = truth.copy()
    if "accepted" not in truth:
        truth["accepted"] = True
    truth = truth[[*list(_KEY), "accepted"]].drop_duplicates(list(_KEY), keep="last")
    joined = scores[[*list(_KEY), "confidence"]].merge(truth, on=list(_KEY), how="outer")
    if labelled_only:
        joined = joined[joined["accepted"].notna()]
    conf = joined["confidence"].fillna(0.0).to_numpy(dtype=float)
    positive = joined["accepted"].fillna(False).to_numpy(dtype=bool)
    order = np.argsort(-conf, kind="stable")
    conf, positive = conf[order], positive[order]
    tp = np.cumsum(positive)
    fp = np.cumsum(~positive)
    total = int(positive.sum())
    # One point per distinct threshold (the last index of each run of equal scores).
    last = np.r_[conf[1:] != conf[:-1], True] if len(conf) else np.array([], dtype=bool)
    th, tps, fps = conf[last], tp[last], fp[last]
    precision = np.divide(tps, tps + fps, out=np.ones(len(th)), where=(tps + fps) > 0)
    recall = tps / total if total else np.zeros(len(th))
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros(len(th)),
        where=(precision + recall) > 0,
    )
    curve = pd.DataFrame({"threshold": th, "precision": precision, "recall": recall, "f1": f1})
    curve = curve[curve["threshold"] > 0].reset_index(drop=True)
    at = conf >= threshold
    t_p = int((at & positive).sum())
    f_p = int((at & ~positive).sum())
    f_n = total - t_p
    p = t_p / (t_p + f_p) if t_p + f_p else math.nan
    r = t_p / total if total else math.nan
    f = 2 * p * r / (p + r) if t_p else 0.0 if total else math.nan
    return LinkerQuality(
        min_confidence=threshold,
        precision=p,
        recall=r,
        f1=f,
        true_positives=t_p,
        false_positives=f_p,
        false_negatives=f_n,
        labelled=int(joined["accepted"].notna().sum()),
        curve=curve,
    )


def linker_quality(
    store: StoreOrData,
    *,
    min_confidence: float | None = None,
    config: LinkerConfig | Mapping[str, Any] | None = None,
    manual_as_accepted: bool = True,
) -> LinkerQuality:
    """Precision / recall of the linker (as configured now) against reviewed pairs."""
    data = _data.of(store)
    cfg = _config(config)
    threshold = cfg.min_confidence if min_confidence is None else min_confidence
    labels = queries.reviews(data)[["investigation_id", "event_id", "accepted"]]
    if manual_as_accepted:
        manual = data.frame(
            "SELECT investigation_id, event_id, true AS accepted FROM links WHERE method = 'manual'"
        )
        manual = manual.merge(labels[list(_KEY)], on=list(_KEY), how="left", indicator=True)
        manual = manual[manual["_merge"] == "left_only"].drop(columns="_merge")
        labels = pd.concat([labels, manual], ignore_index=True)
    if labels.empty:
        raise QueryError(
            "linker_quality: no reviewed links yet; label some with store.label_link(event_id, "
            "investigation_id, accepted=True/False)"
        )
    labels = labels.astype({"accepted": bool})
    # Verdicts on records deleted since are not counted.
    active = set(_ids(data, None, open_only=False))
    live = data.frame(
        "SELECT id AS event_id FROM events WHERE deleted_at IS NULL "
        "AND id IN (SELECT unnest($ids::VARCHAR[]))",
        {"ids": labels["event_id"].unique().tolist()},
    )
    labels = labels[
        labels["investigation_id"].isin(active) & labels["event_id"].isin(live["event_id"])
    ]
    if labels.empty:
        raise QueryError("linker_quality: every reviewed pair names a deleted record")
    scores = score_links(
        data,
        sorted(labels["investigation_id"].unique()),
        cfg,
        pairs=labels[list(_KEY)],
    )
    return precision_recall(scores, labels, min_confidence=threshold, labelled_only=True)
