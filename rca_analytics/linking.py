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

Every candidate has a **role** (:func:`role`: ``change``, ``symptom`` or ``context``);
a change at or above ``min_confidence`` is a **suspect** (:func:`is_suspect`).
``suggest_links`` and ``changes_before`` rank the suspects first, then the other rows at
or above the threshold, then the rest, each by confidence; ``suggest_links`` shows each
flood of repeated symptoms (one template, alert fingerprint or summary) as one row
(:func:`collapse_floods`, ``collapse=False`` for every row). ``auto_link`` links every
member of a flood and counts the floods in its report.

The defaults (windows and weights) were chosen by evaluation on labelled synthetic
histories (``bench/fit_linker.py`` fits them on training seeds;
``bench/bench_linking.py`` reports precision and recall on a held-out seed).

>>> from rca_analytics.linking import LinkerConfig
>>> config = LinkerConfig(lookback="12h", weights={"reference": 5.0})
>>> config.lookback, config.weights.reference, config.min_confidence
(datetime.timedelta(seconds=43200), 5.0, 0.7)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from . import _arguments, _data, _floods, _frames, _links, queries
from ._data import Data, StoreOrData
from ._floods import FLOOD_COLUMNS
from ._linker_config import (
    DEFAULT,
    FEATURES,
    KEY,
    ROLES,
    LinkerConfig,
    Weights,
    role,
    roles,
)
from ._linker_features import combine, features, reference_tokens
from ._linker_quality import LinkerQuality, precision_recall
from ._linker_reasons import reasons
from ._loading import progress_bar
from ._report_render import format_duration
from ._reports import OperationReport
from .errors import QueryError
from .models import Event, Investigation, LinkMethod, utc_now

__all__ = [
    "FEATURES",
    "ROLES",
    "AutoLinkReport",
    "LinkerConfig",
    "LinkerQuality",
    "Weights",
    "auto_link",
    "changes_before",
    "collapse_floods",
    "is_suspect",
    "linker_quality",
    "precision_recall",
    "reference_tokens",
    "role",
    "roles",
    "score_links",
    "suggest_links",
]


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
    return links.merge(reviews, on=list(KEY), how="outer")


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
            "role": roles(f, cfg),
            "reasons": pd.Series(reasons(f, contrib), dtype=object),
        }
    )
    for k, name in enumerate(FEATURES):
        out["w_" + name] = contrib[:, k]
    return out


#: Where each role sorts among rows of one tier and confidence (changes first).
_ROLE_ORDER = {r: i for i, r in enumerate(ROLES)}


def is_suspect(role: Any, confidence: float, config: LinkerConfig | None = None) -> bool:
    """Whether a candidate is a *suspect*: a change at or above the linker's threshold.

    The threshold is ``config.min_confidence`` (``auto_link``'s, 0.7 by default): a
    change the linker would not link is not called a suspect, however it ranks.

    >>> is_suspect("change", 0.85), is_suspect("change", 0.06), is_suspect("symptom", 0.99)
    (True, False, False)
    """
    threshold = (config or DEFAULT).min_confidence
    return str(role) == "change" and bool(confidence >= threshold)


def _rank(scored: pd.DataFrame, cfg: LinkerConfig) -> pd.DataFrame:
    """Scored rows in the order people read them, with ``suspect`` and ``rank`` (1...).

    Tiers first: the suspects (changes at or above ``cfg.min_confidence``), then every
    other row at or above it, then the rest; within a tier by confidence, then role
    (change, symptom, context), then event id.
    """
    conf = scored["confidence"].to_numpy(dtype=float)
    is_change = scored["role"].astype(object).eq("change").to_numpy(dtype=bool)
    above = conf >= cfg.min_confidence
    suspect = is_change & above
    ordered = scored.assign(
        suspect=suspect,
        _tier=np.where(suspect, 0, np.where(above, 1, 2)),
        _conf=-conf,
        _role=scored["role"].astype(object).map(_ROLE_ORDER).fillna(len(ROLES)).to_numpy(),
    ).sort_values(["_tier", "_conf", "_role", "event_id"], kind="stable")
    ordered = ordered.drop(columns=["_tier", "_conf", "_role"]).reset_index(drop=True)
    ordered.insert(0, "rank", np.arange(1, len(ordered) + 1, dtype="int64"))
    return ordered


def collapse_floods(frame: pd.DataFrame, config: LinkerConfig | None = None) -> pd.DataFrame:
    """A ``suggest_links`` frame (or any frame of events) with each flood as one row.

    See :mod:`rca_analytics._floods`: repeated symptoms of one source, type, component,
    service and template (or alert fingerprint, or summary) become their most confident
    member with ``count``, ``first_seen``, ``last_seen``, ``worst_severity`` and
    ``event_ids``; a ``reasons`` column gets a last reason ``flood: ...`` and a ``rank``
    column is renumbered.
    """
    cfg = config or DEFAULT
    out = _floods.collapse(frame, config=cfg)
    if "reasons" in out:
        out["reasons"] = [
            [*r, _flood_reason(row)] if row["count"] > 1 else r
            for r, (_, row) in zip(out["reasons"], out.iterrows(), strict=True)
        ]
    if "rank" in out:
        out["rank"] = np.arange(1, len(out) + 1, dtype="int64")
    return out


def _flood_reason(row: pd.Series) -> str:
    data = row.get("data")
    d = data if isinstance(data, Mapping) else {}
    what = next(
        (
            t
            for t in (d.get("template"), row.get("summary"), d.get("message"), d.get("alertname"))
            if isinstance(t, str) and t
        ),
        str(row.get("event_type")),
    )
    first, last = row["first_seen"], row["last_seen"]
    return (
        f"flood: {int(row['count'])} {row['event_type']} events {what[:60]!r} from "
        f"{first:%H:%M} to {last:%H:%M} UTC ({format_duration(last - first)}), "
        f"worst severity {row['worst_severity']}"
    )


def _event_columns(data: Data, scored: pd.DataFrame) -> pd.DataFrame:
    """Scored pairs joined with the events' columns (as :meth:`Store.events` gives them)."""
    ids = scored["event_id"].drop_duplicates().tolist()
    select, derived = queries.event_select(data, "e", list(Event.model_fields), False)
    sql = (
        f"SELECT {select} FROM events e {derived} "  # noqa: S608 - whitelisted
        "WHERE e.id IN (SELECT unnest(?::VARCHAR[]))"
    )
    events = queries.to_frame(data.arrow(sql, [ids]), _frames.kinds(Event))
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
    collapse: bool = True,
) -> pd.DataFrame:
    """Candidate events of one investigation, suspects first (see Store.suggest_links).

    Order (``rank``): the *suspects* (changes at or above ``config.min_confidence``),
    then every other candidate at or above it, then the rest; each by confidence, then
    role (change, symptom, context). With ``collapse`` (the default) each flood of
    symptoms (one template, fingerprint or summary: :mod:`rca_analytics._floods`) is
    one row, its most confident member, with ``count``, ``first_seen``, ``last_seen``,
    ``worst_severity`` and ``event_ids``; ``collapse=False`` gives every candidate.
    ``limit`` counts rows as returned.
    """
    data = _data.of(store)
    cfg = _config(config)
    min_confidence = _arguments.confidence("min_confidence", min_confidence)
    inv_id = _investigation_id(data, investigation_id)
    existing = _existing(data, inv_id)
    f = features(data, [inv_id], cfg)
    if not include_rejected:
        rejected = existing.loc[existing["accepted"].eq(False), "event_id"]
        f = f[~f["event_id"].isin(rejected)].reset_index(drop=True)
    scored = _rank(_with_reasons(f, cfg, min_confidence), cfg)
    if limit is not None:
        _arguments.limit_sql(limit)  # checks it
        if not collapse:
            scored = scored.head(limit)
    out = _event_columns(data, scored)
    out = out.merge(existing, on=list(KEY), how="left")
    if collapse:
        out = collapse_floods(out, cfg)
        if limit is not None:
            out = out.head(limit)
    return _order(out)


def _order(out: pd.DataFrame) -> pd.DataFrame:
    event_fields = [f for f in Event.model_fields if f != "id"]
    head = ["rank", "event_id", "confidence", "role", "suspect", "reasons"]
    head += [c for c in FLOOD_COLUMNS if c in out]
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
    """Changes (git, CI, deploys, config) before detection, most suspicious first.

    Ordered and ranked as :func:`suggest_links` (suspects first); ``role`` is
    ``change`` for deploys, config changes, commits... and ``context`` for CI runs
    (builds, jobs, test runs), which are listed but never suspects.
    """
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
    out = _event_columns(data, _rank(scored, cfg))
    out = out.merge(_existing(data, inv_id), on=list(KEY), how="left")
    ordered = _order(out)
    front = ["rank", "event_id", "confidence", "role", "suspect", "scope", "in_scope", "reasons"]
    return ordered[front + [c for c in ordered.columns if c not in front]]


@dataclass(kw_only=True, eq=False, repr=False)
class AutoLinkReport(OperationReport):
    """What :meth:`Store.auto_link` did; it counts links (candidate pairs).

    Attributes:
        stored: New links written (method ``linker``); also ``linked``.
        floods: Floods among the links written or updated: sets of two or more symptoms
            of one investigation with one template, alert fingerprint or summary
            (:mod:`rca_analytics._floods`). Each member is linked (all are evidence);
            ``suggest_links`` and the postmortem show each flood as one row.
        flooded: The links written or updated that belong to those floods.
        updated: Earlier linker links whose confidence or reasons changed.
        unchanged: Pairs above the threshold already linked as they are, or linked by a
            person, a rule or an import (those are never overwritten).
        skipped_rows: Pairs above the threshold a reviewer already judged (left alone);
            also ``reviewed``.
        investigations: Investigations scored.
        candidates: Candidate pairs scored.
        min_confidence: The threshold used.
        seconds: Wall time.
        links: The links written or updated: investigation_id, event_id, confidence,
            reasons.
    """

    unit: ClassVar[str] = "links"

    investigations: int = 0
    candidates: int = 0
    floods: int = 0
    flooded: int = 0
    min_confidence: float = 0.7
    seconds: float = 0.0
    links: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def linked(self) -> int:
        """New links written: ``stored``."""
        return self.stored

    @linked.setter
    def linked(self, value: int) -> None:
        self.stored = value

    @property
    def reviewed(self) -> int:
        """Pairs a reviewer already judged, left alone: ``skipped_rows``."""
        return self.skipped_rows

    @reviewed.setter
    def reviewed(self, value: int) -> None:
        self.skipped_rows = value

    def _title(self) -> str:
        return (
            f"auto_link: {self.investigations:,} investigations, {self.candidates:,} "
            f"candidates at min_confidence {self.min_confidence}, {self.seconds:.1f} s"
        )

    def _lines(self) -> list[str]:
        lines = [
            f"  links: {self.stored:,} stored, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.skipped_rows:,} skipped (judged by a reviewer)"
        ]
        if self.floods:
            plural = "s" if self.floods != 1 else ""
            lines.append(
                f"  floods: {self.flooded:,} of those links in {self.floods:,} flood{plural} of "
                "repeated symptoms (each one row in suggest_links and reports)"
            )
        return lines

    def _repr_fields(self) -> dict[str, Any]:
        return {
            "investigations": self.investigations,
            "candidates": self.candidates,
            "min_confidence": self.min_confidence,
        }


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
    threshold = _arguments.confidence(
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
        pairs = f.loc[keep, list(KEY)].merge(existing, on=list(KEY), how="left")
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
    report.floods, report.flooded = _flood_counts(data, report.links, cfg)
    report.seconds = time.perf_counter() - started
    return report


#: What ``data`` says about a symptom, for flood keys (see :mod:`rca_analytics._floods`).
_FLOOD_DATA = ("fingerprint", "template", "message", "status_message", "alertname", "name", "span")


def _flood_counts(data: Data, links: pd.DataFrame, cfg: LinkerConfig) -> tuple[int, int]:
    """Floods (2+ members of one investigation and key) among links, and their links."""
    if links.empty:
        return 0, 0
    summary = "summary" if "summary" in Event.model_fields else "NULL"
    texts = ", ".join(f"e.data->>'{k}' AS \"{k}\"" for k in _FLOOD_DATA)
    events = data.frame(
        "SELECT e.id AS event_id, CAST(e.source AS VARCHAR) AS source, e.event_type, "  # noqa: S608
        f"CAST(e.severity AS VARCHAR) AS severity, e.component, e.service, {summary} AS summary, "
        f"{texts} FROM events e WHERE e.id IN (SELECT unnest($ids::VARCHAR[]))",
        {"ids": links["event_id"].drop_duplicates().tolist()},
    )
    events["data"] = pd.Series(
        [
            {k: v for k, v in zip(_FLOOD_DATA, values, strict=True) if isinstance(v, str)}
            for values in zip(*(events[k].tolist() for k in _FLOOD_DATA), strict=True)
        ],
        index=events.index,
        dtype=object,
    )
    pairs = links[list(KEY)].merge(events, on="event_id", how="inner")
    pairs["_key"] = _floods.flood_keys(pairs, cfg)
    sizes = pairs.dropna(subset=["_key"]).groupby(["investigation_id", "_key"]).size()
    sizes = sizes[sizes > 1]
    return len(sizes), int(sizes.sum())


def _bar(total: int, enabled: bool | None) -> Any:
    bar = progress_bar(
        total, enabled if enabled is not None else (None if total > 1 else False), "linking"
    )
    if bar is not None:
        bar.unit = "investigations"
    return bar


def _write(data: Data, todo: pd.DataFrame, report: AutoLinkReport) -> pd.DataFrame:
    """Write the chosen links through the one link writer; returns what was written.

    Checked again under the write lock: the linker changes only its own links, never a
    person's link or a pair a reviewer judged.
    """
    table = _links.input_table(
        pd.DataFrame(
            {
                "event_id": todo["event_id"],
                "investigation_id": todo["investigation_id"],
                "confidence": todo["confidence"].round(4),
                "reasons": todo["reasons"],
            }
        ),
        method=LinkMethod.LINKER.value,
    )
    written = _links.write_links(data, table, who="linker")
    rows = written.rows
    report.linked += written.counts["linked"]
    report.updated += written.counts["replaced"]
    report.unchanged += len(todo) - written.written
    done = rows[rows["outcome"].isin(["linked", "replaced"])]
    return done[["investigation_id", "event_id", "confidence", "reasons"]].reset_index(drop=True)


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
        manual = manual.merge(labels[list(KEY)], on=list(KEY), how="left", indicator=True)
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
        pairs=labels[list(KEY)],
    )
    return precision_recall(scores, labels, min_confidence=threshold, labelled_only=True)
