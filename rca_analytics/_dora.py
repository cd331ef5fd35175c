"""DORA's four keys from the store's events and investigations (see ``rca.metrics.dora``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from . import _data, queries
from ._data import Data
from ._linker_config import DEFAULT
from ._report_render import format_duration
from .errors import QueryError
from .models import utc_now

if TYPE_CHECKING:
    from .store import Store

__all__ = ["BANDS", "MIN_COMMITS", "MIN_DEPLOYS", "MIN_RECOVERIES", "dora", "dora_sensitivity"]

_DAY = 86400.0

#: Rating bands, after the clusters of the 2023 Accelerate State of DevOps report
#: (elite: deploys on demand, lead time under a day, 5 % failed changes, recovery under
#: an hour). Each metric: the upper (or lower, for deployment frequency) bound of
#: elite, high and medium; anything beyond medium is low. The report's clusters are
#: survey medians with overlapping ranges; these boundaries are where we draw the lines.
BANDS: dict[str, dict[str, Any]] = {
    "deployment_frequency": {  # deploys per day, at least
        "unit": "per day",
        "higher_is_better": True,
        "elite": 1.0,  # on demand: daily or more
        "high": 1 / 7,  # between once a day and once a week
        "medium": 1 / 30,  # between once a week and once a month
    },
    "lead_time": {  # seconds, below
        "unit": "duration",
        "higher_is_better": False,
        "elite": _DAY,
        "high": 7 * _DAY,
        "medium": 30 * _DAY,
    },
    "change_failure_rate": {  # share, at most
        "unit": "share",
        "higher_is_better": False,
        "elite": 0.05,
        "high": 0.10,
        "medium": 0.15,
    },
    "recovery_time": {  # seconds, below
        "unit": "duration",
        "higher_is_better": False,
        "elite": 3600.0,
        "high": _DAY,
        "medium": 7 * _DAY,
    },
}

#: The fewest deploys in the period for any of the four keys to be rated: below ten, one
#: failed deploy more or less moves the change failure rate by more than ten points, wider
#: than the elite, high and medium bands (five points each), and a deployment frequency
#: over a handful of deploys says little of a habit.
MIN_DEPLOYS = 10
#: The fewest commits first shipped in the period for the lead time to be rated (a median
#: of fewer is a few changes' story).
MIN_COMMITS = 10
#: The fewest failed deploys that recovered for the recovery time to be rated (a median of
#: fewer than five is one or two incidents).
MIN_RECOVERIES = 5

_DEPLOY_TYPES = ("deploy", "deployment")
_DEFAULT_BRANCHES = ("main", "master")


def _minimum(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QueryError(f"{name}: expected a whole number of 0 or more, got {value!r}")
    return value


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n != 1 else f"1 {what.removesuffix('s')}"


def _not_rated(
    metric: str, value: float, count: int, deploys: int, minimums: dict[str, int]
) -> str | None:
    """Why ``metric`` gets no rating (``"2 deploys, needs ≥ 10"``), or None when it gets one."""
    if value != value:
        return "not measured"
    if deploys < minimums["deploys"]:
        return f"{_count(deploys, 'deploys')}, needs ≥ {minimums['deploys']}"
    if metric == "lead_time" and count < minimums["commits"]:
        return f"{_count(count, 'commits')}, needs ≥ {minimums['commits']}"
    if metric == "recovery_time" and count < minimums["recoveries"]:
        return f"{_count(count, 'recovered failed deploys')}, needs ≥ {minimums['recoveries']}"
    return None


def _rating(metric: str, value: float) -> str | None:
    if value is None or value != value:
        return None
    band = BANDS[metric]
    for level in ("elite", "high", "medium"):
        bound = band[level]
        if (value >= bound) if band["higher_is_better"] else (value <= bound):
            return level
    return "low"


def _period(
    data: Data, since: Any, until: Any, as_of: Any
) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    when = utc_now() if as_of is None else queries.utc_bound("as_of", as_of)
    end = when
    if until is not None:
        end = min(end, queries.utc_bound("until", until))
    start = end - dt.timedelta(days=90) if since is None else queries.utc_bound("since", since)
    if start >= end:
        raise QueryError(
            f"since ({start:%Y-%m-%d %H:%M}) must be before until ({end:%Y-%m-%d %H:%M})"
        )
    return start, end, when


_DEPLOY_KIND = "e.event_type IN ('deploy', 'deployment')"
_RUN_KIND = (
    "e.event_type = 'build' AND e.source = 'ci' "
    "AND lower(coalesce(e.data->>'branch', '')) IN (SELECT unnest($branches::VARCHAR[]))"
)

#: Every production deploy (or CI run) known at $when and before $end; the period's are
#: those from $start.
_DEPLOYS = """
SELECT e.id, e."timestamp", e.component, e.service, e.source_id,
       lower(e.data->>'sha') AS sha, e."timestamp" >= $start AS in_period
FROM events e
WHERE (e.deleted_at IS NULL OR e.deleted_at > $when) AND e."timestamp" < $end
  AND <kind>
  AND NOT (lower(coalesce(e.data->>'environment', '')) IN (SELECT unnest($envs::VARCHAR[]))
           OR list_has_any(list_transform(e.tags, lambda t: lower(t)), $tags::VARCHAR[]))
ORDER BY e."timestamp", e.id
"""


def _deploys(
    data: Data, start: dt.datetime, end: dt.datetime, branches: Sequence[str], when: dt.datetime
) -> tuple[pd.DataFrame, str]:
    """Production deploys (or CI runs on the default branch) up to the period's end.

    ``in_period`` marks those of the period; the earlier ones tell what was shipped
    before it.
    """
    envs = [e.lower() for e in DEFAULT.non_production]
    tags = [f"{k}:{e}" for e in envs for k in ("env", "environment")]
    params = {"start": start, "end": end, "envs": envs, "tags": tags, "when": when}
    deploys = data.frame(_DEPLOYS.replace("<kind>", _DEPLOY_KIND), params)
    if deploys["in_period"].any():
        return deploys, "deploy events (production)"
    runs = data.frame(
        _DEPLOYS.replace("<kind>", _RUN_KIND),
        {**params, "branches": [b.lower() for b in branches]},
    )
    return runs, f"CI runs on {'/'.join(branches)} (no deploy events in the period)"


def _lead_times(data: Data, deploys: pd.DataFrame, when: dt.datetime) -> tuple[pd.Series, int]:
    """Commit → first deploy times (seconds) of the commits first shipped in the period.

    A deploy ships the commits of its component since that component's previous deploy
    (within 30 days when it has none); a deploy without a component ships the commit its
    ``data.sha`` names. A commit (one per SHA) counts once, at its first deploy. Also
    returns how many of the period's deploys shipped no commit we know of.
    """
    if not deploys["in_period"].any():
        return pd.Series([], dtype=float), 0
    frame = deploys[["id", "timestamp", "component", "sha", "in_period"]].copy()
    with data.registered(_rca_deploys=frame):
        rows = data.frame(
            """
WITH d AS (
  SELECT id, "timestamp" AS ts, component, sha, in_period,
         lag("timestamp") OVER (PARTITION BY component ORDER BY "timestamp", id) AS prev_ts
  FROM _rca_deploys
), c AS (
  SELECT coalesce(lower(source_id), id) AS commit_key, min("timestamp") AS ts,
         any_value(component) AS component, any_value(lower(source_id)) AS sha
  FROM events
  WHERE event_type = 'commit' AND (deleted_at IS NULL OR deleted_at > $when)
  GROUP BY coalesce(lower(source_id), id)
), shipped AS (
  SELECT c.commit_key, arg_min(d.id, d.ts) AS deploy_id, min(d.ts) AS deployed,
         arg_min(d.in_period, d.ts) AS in_period, any_value(c.ts) AS committed
  FROM d JOIN c ON c.ts <= d.ts AND (
    (d.component IS NOT NULL AND c.component = d.component
       AND c.ts > coalesce(d.prev_ts, d.ts - INTERVAL 30 DAY))
    OR (d.component IS NULL AND d.sha IS NOT NULL AND c.sha = d.sha))
  GROUP BY c.commit_key
)
SELECT deploy_id, epoch(deployed - committed) AS seconds FROM shipped WHERE in_period
""",
            {"when": when},
        )
    period = frame.loc[frame["in_period"], "id"]
    empty = int((~period.isin(rows["deploy_id"])).sum())
    return rows["seconds"].astype(float), empty


#: The columns of the deploy-investigation pairs (``attrs["failures"]``).
_PAIR_COLUMNS = ["deploy_id", "deployed_at", "component", "investigation_id", "title",
                 "began", "delay", "recovered_at", "recovery", "in_window"]  # fmt: skip


def _failures(
    data: Data, deploys: pd.DataFrame, window: dt.timedelta, as_of: dt.datetime
) -> pd.DataFrame:
    """Every (deploy, linked investigation) pair with its delay and recovery."""
    if deploys.empty:
        return pd.DataFrame({c: [] for c in _PAIR_COLUMNS})
    with data.registered(_rca_deploys=deploys[["id", "timestamp", "component"]].copy()):
        pairs = data.frame(
            """
SELECT d.id AS deploy_id, d."timestamp" AS deployed_at, d.component,
       i.id AS investigation_id, i.title,
       coalesce(i.impact_started_at, i.detected_at, i.created_at) AS began,
       CASE WHEN coalesce(i.mitigated_at, i.resolved_at) <= $as_of
            THEN coalesce(i.mitigated_at, i.resolved_at) END AS recovered_at
FROM _rca_deploys d JOIN links l ON l.event_id = d.id
JOIN investigations i ON i.id = l.investigation_id
  AND (i.deleted_at IS NULL OR i.deleted_at > $as_of)
WHERE coalesce(i.impact_started_at, i.detected_at, i.created_at) <= $as_of
  AND l.linked_at <= $as_of
ORDER BY d."timestamp", d.id, i.id
""",
            {"as_of": as_of},
        )
    pairs["delay"] = (pairs["began"] - pairs["deployed_at"]).astype("timedelta64[us]")
    pairs["recovery"] = (pairs["recovered_at"] - pairs["deployed_at"]).astype("timedelta64[us]")
    # Attributed when the incident began from (a clock skew's worth) before the deploy to
    # `window` after it.
    skew = pd.Timedelta(minutes=5)
    pairs["in_window"] = (pairs["delay"] >= -skew) & (pairs["delay"] <= pd.Timedelta(window))
    return pairs[_PAIR_COLUMNS]


def _display(metric: str, value: float) -> str:
    if value != value:
        return "n/a"
    if metric == "deployment_frequency":
        return f"{value:.2f} per day ({value * 7:.1f} per week)"
    if metric == "change_failure_rate":
        return f"{value:.1%}"
    return format_duration(pd.Timedelta(seconds=value))


def dora(
    store: Store,
    *,
    since: Any = None,
    until: Any = None,
    window: Any = "24h",
    as_of: Any = None,
    default_branches: Sequence[str] = _DEFAULT_BRANCHES,
    min_deploys: int = MIN_DEPLOYS,
    min_commits: int = MIN_COMMITS,
    min_recoveries: int = MIN_RECOVERIES,
) -> pd.DataFrame:
    """DORA's four keys over a period, each with its sample size, rating and definition.

    - **deployment frequency**: production ``deploy`` events per day (deploys in a
      non-production environment left out, as the linker does). With no deploy events
      in the period, successful or not, CI ``build`` runs on the default branch instead.
    - **lead time for changes**: median commit → deploy time of the commits each deploy
      shipped (its component's commits since that component's previous deploy; a deploy
      without a component ships the commit its ``data.sha`` names).
    - **change failure rate**: the share of deploys linked to an investigation that
      began (impact start, else detection) within ``window`` after the deploy.
    - **failed deployment recovery time**: median time from such a deploy to its
      investigation's mitigation (else resolution).

    Args:
        store: The store.
        since: Start of the period (default: 90 days before ``until``).
        until: End of the period (default: now, or ``as_of``).
        window: How long after a deploy an incident is still attributed to it.
        as_of: Compute as the data stood then (later events, links to later incidents
            and later recoveries do not count).
        default_branches: The branches whose CI runs stand in for deploys.
        min_deploys: No metric is rated with fewer deploys in the period (default
            :data:`MIN_DEPLOYS`, 10: below it one failure moves the change failure rate
            across a whole band).
        min_commits: The lead time is not rated over fewer commits (default
            :data:`MIN_COMMITS`, 10).
        min_recoveries: The recovery time is not rated over fewer failed deploys that
            recovered (default :data:`MIN_RECOVERIES`, 5).

    Returns:
        One row per metric: ``metric``, ``value`` (per day, seconds or share), ``shown``
        (for people; durations as ``format_duration`` writes them), ``rating``
        (elite/high/medium/low, see :data:`BANDS`; None when not rated), ``not_rated``
        (why not: ``"2 deploys, needs ≥ 10"``, ``"not measured"``; None when rated),
        ``n`` (what the value was computed over) and ``definition``.
        ``attrs["definition"]`` has the period, window, counts and minimums;
        ``attrs["failures"]`` every deploy-investigation
        link considered, with its delay and whether it fell in the window, as records
        (``pd.DataFrame(frame.attrs["failures"])``): ``attrs`` holds plain values only,
        so that pandas can copy and compare them (``astype``, ``concat``).
    """
    minimums = {
        "deploys": _minimum("min_deploys", min_deploys),
        "commits": _minimum("min_commits", min_commits),
        "recoveries": _minimum("min_recoveries", min_recoveries),
    }
    data = _data.of(store)
    start, end, when = _period(data, since, until, as_of)
    span = queries.duration("window", window)
    everything, source = _deploys(data, start, end, default_branches, when)
    deploys = everything[everything["in_period"]]
    days = (end - start).total_seconds() / _DAY
    leads, no_commits = _lead_times(data, everything, when)
    pairs = _failures(data, deploys, span, when)
    failed = pairs[pairs["in_window"]] if len(pairs) else pairs
    per_deploy = _recovery_per_deploy(failed)
    recoveries = per_deploy["recovery"].dropna().dt.total_seconds()
    unrecovered = len(per_deploy) - len(recoveries)
    n = len(deploys)
    measured = n > 0 or not everything.empty
    values = {
        "deployment_frequency": (n / days if measured else float("nan"), n),
        "lead_time": (float(np.median(leads)) if len(leads) else float("nan"), len(leads)),
        "change_failure_rate": (len(per_deploy) / n if n else float("nan"), n),
        "recovery_time": (
            float(np.median(recoveries)) if len(recoveries) else float("nan"),
            len(recoveries),
        ),
    }
    definitions = _definitions(
        n=n,
        source=source,
        days=days,
        measured=measured,
        leads=len(leads),
        no_commits=no_commits,
        failed=len(per_deploy),
        span=span,
        recovered=len(recoveries),
        unrecovered=unrecovered,
    )
    rows = []
    for metric, (value, count) in values.items():
        withheld = _not_rated(metric, value, count, n, minimums)
        rows.append(
            {
                "metric": metric,
                "value": value,
                "shown": _display(metric, value),
                "rating": None if withheld else _rating(metric, value),
                "not_rated": withheld,
                "n": count,
                "definition": definitions[metric],
            }
        )
    out = _with_none(pd.DataFrame(rows), ["rating", "not_rated"])
    out.attrs["definition"] = {
        "since": start,
        "until": end,
        "window": span,
        "deploys": source,
        "deploy_count": n,
        "failed_deploys": len(per_deploy),
        "linked_pairs": len(pairs),
        "bands": "2023 Accelerate State of DevOps clusters (rca_analytics.metrics.BANDS)",
        "minimums": minimums,
    }
    out.attrs["failures"] = pairs.to_dict("records")
    return out


def _with_none(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Text columns whose missing values are None (not NaN): "no rating", also in JSON."""
    for c in columns:
        frame[c] = pd.Series(
            [None if pd.isna(v) else v for v in frame[c]], index=frame.index, dtype=object
        )
    return frame


def _recovery_per_deploy(failed: pd.DataFrame) -> pd.DataFrame:
    """Each failed deploy's recovery: the latest of its incidents'.

    An incident recovers when mitigated (else resolved); NaT while one has not.
    """
    if not len(failed):
        return pd.DataFrame({"recovery": pd.Series([], dtype="timedelta64[us]")})
    return failed.groupby("deploy_id").agg(
        recovery=("recovery", lambda r: r.max() if r.notna().all() else pd.NaT)
    )


def _definitions(
    *,
    n: int,
    source: str,
    days: float,
    measured: bool,
    leads: int,
    no_commits: int,
    failed: int,
    span: dt.timedelta,
    recovered: int,
    unrecovered: int,
) -> dict[str, str]:
    """What each of the four keys was computed over, for people."""
    return {
        "deployment_frequency": (
            f"{n} {source} over {days:.1f} days"
            if measured
            else "no deploy events and no CI runs on the default branch: not measured"
        ),
        "lead_time": f"median commit -> first deploy over {leads} commits first shipped "
        f"in the period"
        + (f" ({no_commits} deploys shipped no commit known here)" if no_commits else ""),
        "change_failure_rate": f"{failed} of {n} deploys linked to an incident "
        f"that began within {_display('recovery_time', span.total_seconds())} after (or up "
        "to 5 min before, for clock skew)",
        "recovery_time": "median deploy -> mitigation (else resolution) of the last of its "
        f"incidents, over {recovered} failed deploys that recovered"
        + (f" ({unrecovered} not yet)" if unrecovered else ""),
    }


def dora_sensitivity(
    store: Store,
    *,
    windows: Sequence[Any] = ("1h", "6h", "24h", "72h", "7d"),
    **options: Any,
) -> pd.DataFrame:
    """How the change failure rate, recovery time and ratings move with the window.

    One row per window: ``window``, ``change_failure_rate``, ``deploys`` (its n),
    ``failed_deploys``, ``recovery_time`` (Timedelta), ``recovered_deploys`` (its n),
    and both ratings (None when not rated: see :func:`dora`'s minimums, which
    ``options`` pass on). ``attrs["classification"]`` has one
    record per deploy-investigation link with one boolean per window (named as given):
    whether that incident counts as the deploy's failure at that window
    (``pd.DataFrame(frame.attrs["classification"])``).
    """
    if not windows:
        raise QueryError("windows: give at least one window")
    rows = []
    classification: pd.DataFrame | None = None
    for w in windows:
        span = queries.duration("windows", w)
        result = dora(store, window=span, **options).set_index("metric")
        pairs = pd.DataFrame(result.attrs["failures"], columns=_PAIR_COLUMNS)
        label = w if isinstance(w, str) else _display("recovery_time", span.total_seconds())
        if classification is None:
            classification = pairs.drop(columns=["in_window"]).copy()
        classification[label] = pairs["in_window"].to_numpy(dtype=bool)
        recovery = float(cast(float, result.loc["recovery_time", "value"]))
        rows.append(
            {
                "window": span,
                "change_failure_rate": result.loc["change_failure_rate", "value"],
                "deploys": result.loc["change_failure_rate", "n"],
                "failed_deploys": result.attrs["definition"]["failed_deploys"],
                "recovery_time": pd.Timedelta(seconds=recovery) if recovery == recovery else pd.NaT,
                "recovered_deploys": result.loc["recovery_time", "n"],
                "change_failure_rating": result.loc["change_failure_rate", "rating"],
                "recovery_rating": result.loc["recovery_time", "rating"],
            }
        )
    out = _with_none(pd.DataFrame(rows), ["change_failure_rating", "recovery_rating"])
    out.attrs["classification"] = (
        classification.to_dict("records") if classification is not None else []
    )
    return out
