"""What the linker measures about an event–investigation pair.

References between their texts, candidate pairs and their features in SQL, each
feature's strength and the combined score.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import _data
from ._data import Data, StoreOrData
from ._linker_config import DEFAULT, FEATURES, KEY, SEVERITY, LinkerConfig, Weights
from ._names import key_sql

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
       <key(i.component_affected)> AS i_component_key, <key(i.service_affected)> AS i_service_key,
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
    OR <key(e.component)> IN (v.i_component_key, v.i_service_key)
    OR <key(e.service)> IN (v.i_component_key, v.i_service_key)
    OR (v.i_component_key IS NULL AND v.i_service_key IS NULL)))
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
  SELECT id, "timestamp" AS ts, <key(component)> AS component,
         lag("timestamp") OVER (PARTITION BY <key(component)> ORDER BY "timestamp", id) AS prev_ts
  FROM events e
  WHERE deleted_at IS NULL AND <key(component)> IS NOT NULL
    AND event_type IN (SELECT unnest($change_types::VARCHAR[])) AND NOT <non_prod>
)
SELECT w.investigation_id, k.id AS event_id, arg_min(d.id, d.ts) AS shipped_by
FROM _rca_window w JOIN d ON d.id = w.event_id JOIN _rca_inv v USING (investigation_id)
JOIN events k ON <key(k.component)> = d.component AND k."timestamp" <= d.ts
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
         <key(e.component)> AS component_key, <key(e.service)> AS service_key,
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
       coalesce(c.component_key = c.i_component_key, false) AS same_component,
       coalesce(c.service_key = c.i_service_key, false)
         OR coalesce(c.component_key = c.i_service_key, false)
         OR coalesce(c.service_key = c.i_component_key, false) AS same_service,
       coalesce(CASE WHEN c.service_key = c.i_service_key THEN c.service END,
                CASE WHEN c.component_key = c.i_service_key THEN c.component END,
                CASE WHEN c.service_key = c.i_component_key THEN c.service END) AS shared_service,
       (c.component_key IS NOT NULL OR c.service_key IS NOT NULL)
         AND (c.i_component_key IS NOT NULL OR c.i_service_key IS NOT NULL) AS both_scoped,
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


def _keys(sql: str) -> str:
    """``<key(expr)>`` in a query as the SQL of that name's comparison key."""
    return re.sub(r"<key\(([\w.]+)\)>", lambda m: key_sql(m.group(1)), sql)


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
    sql = _keys(sql)
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
            frame[list(KEY)]
            .merge(pairs[list(KEY)].drop_duplicates(), on=list(KEY), how="left", indicator=True)[
                "_merge"
            ]
            .eq("both")
        )
        frame = frame[keep.to_numpy()].reset_index(drop=True)
    return strengths(frame, config)


def strengths(frame: pd.DataFrame, config: LinkerConfig) -> pd.DataFrame:
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
            signal, frame["severity"].map(SEVERITY).fillna(0.0).to_numpy(dtype=float), 0.0
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
