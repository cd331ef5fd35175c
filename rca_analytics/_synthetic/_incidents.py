"""The incidents of a synthetic history, planned before any event exists.

Kind, story, affected and culprit service and component, when the cause, impact and
detection happen, and the status and root-cause mode of each investigation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._settings import KINDS, HistorySettings, work_times
from ._tools import DAY, HOUR, MIN, Floats, allocate, lognormal, stream_rng
from ._topology import Topology
from ._vocabulary import CHANGE_STORIES, NO_CHANGE_STORIES, VENDORS, Story


@dataclass
class Incident:
    """One incident; times are µs after the start (true times, without clock skew)."""

    kind: str
    story: Story
    svc: int
    comp: int
    cause_svc: int = -1
    cause_comp: int = -1
    cause_type: str | None = None  # deploy / config
    t_cause: int = 0
    t_impact: int = 0
    t_detect: int = 0
    has_alerts: bool = True
    vendor: str = ""
    region: str = ""
    number: int = 0  # a number for texts (pct, k)
    # filled while generating
    inv: int = -1
    status: str = "resolved"
    mode: str | None = None
    culprit: dict[str, Any] = dataclasses.field(default_factory=dict)
    herring: dict[str, Any] = dataclasses.field(default_factory=dict)
    t_end: int = 0
    t_mitigated: int | None = None


def plan_incidents(s: HistorySettings, top: Topology) -> list[Incident]:
    """The incidents in detection order (``inv`` is the position), with their statuses."""
    rng = stream_rng(s.seed, "incidents")
    kinds = allocate(
        (s.deploy_share, s.config_share, s.upstream_share, s.no_change_share), s.incidents, rng
    )
    with_deps = [i for i in range(s.services) if top.deps[i]]
    p_svc = top.svc_weight / top.svc_weight.sum()
    incidents = [
        _plan(rng, s, top, KINDS[kind_index], with_deps, p_svc) for kind_index in kinds.tolist()
    ]
    incidents.sort(key=lambda i: i.t_detect)
    for i, inc in enumerate(incidents):
        inc.inv = i
    _statuses(s, incidents, rng)
    return incidents


def _plan(
    rng: np.random.Generator,
    s: HistorySettings,
    top: Topology,
    kind: str,
    with_deps: list[int],
    p_svc: Floats,
) -> Incident:
    """One incident of ``kind``: where, which story, and when."""
    if kind == "upstream" and not with_deps:
        kind = "deploy"
    if kind == "upstream":
        w = p_svc[with_deps] / p_svc[with_deps].sum()
        svc = int(rng.choice(with_deps, p=w))
    else:
        svc = int(rng.choice(s.services, p=p_svc))
    comps = top.comps_of(svc)
    comp = int(comps[0] if rng.random() < 0.5 else rng.choice(comps))
    if kind == "no_change":
        story = NO_CHANGE_STORIES[int(rng.integers(0, len(NO_CHANGE_STORIES)))]
    elif kind == "upstream":
        story = CHANGE_STORIES[int(rng.integers(0, 2))]  # errors or latency
    else:
        story = CHANGE_STORIES[int(rng.integers(0, len(CHANGE_STORIES)))]
    inc = Incident(kind, story, svc, comp)
    inc.vendor = VENDORS[int(rng.integers(0, len(VENDORS)))]
    inc.region = top.regions[svc][0]
    inc.number = int(rng.integers(2, 9))
    first_day = min(2, s.days - 2)
    if kind == "no_change":
        lo, hi = first_day * DAY, s.days * DAY - 6 * HOUR
        inc.t_impact = int(rng.integers(lo, max(lo + 1, hi)))
    else:
        _cause(rng, s, top, inc, first_day)
    _detection(rng, s, inc)
    return inc


def _cause(
    rng: np.random.Generator, s: HistorySettings, top: Topology, inc: Incident, first_day: int
) -> None:
    """The culprit change of an incident (its service, component, type and time)."""
    if inc.kind == "upstream":
        inc.cause_svc = int(rng.choice(top.deps[inc.svc]))
        dep_comps = top.comps_of(inc.cause_svc)
        inc.cause_comp = int(dep_comps[0] if rng.random() < 0.6 else rng.choice(dep_comps))
        deploy = rng.random() < s.upstream_deploy_share
        inc.cause_type = "deploy" if deploy else "config"
    else:
        inc.cause_svc, inc.cause_comp = inc.svc, inc.comp
        inc.cause_type = "deploy" if inc.kind == "deploy" else "config"
    inc.t_cause = int(work_times(rng, s, 1, first_day, s.days - 1)[0])
    lag = float(np.clip(lognormal(rng, 10.0, 0.9, 1)[0], 1.0, 180.0))
    inc.t_impact = inc.t_cause + int(lag * MIN)


def _detection(rng: np.random.Generator, s: HistorySettings, inc: Incident) -> None:
    """Whether alerts fire, and when the incident is detected (later without alerts)."""
    inc.has_alerts = bool(rng.random() < 0.88)
    detect = float(np.clip(lognormal(rng, 12.0, 1.0, 1)[0], 2.0, 600.0))
    if not inc.has_alerts:
        detect = min(detect * 2.5, 900.0)
    inc.t_detect = min(inc.t_impact + int(detect * MIN), s.days * DAY - MIN)
    inc.t_detect = max(inc.t_detect, inc.t_impact + MIN)


def _statuses(s: HistorySettings, incidents: list[Incident], rng: np.random.Generator) -> None:
    """Open, in progress, resolved or closed; how a resolved one's root cause names it."""
    n = len(incidents)
    n_open = round(s.open_share * n)
    if n_open:
        w = (np.arange(n, dtype=np.float64) + 1) ** 2
        for i in rng.choice(n, n_open, replace=False, p=w / w.sum()).tolist():
            incidents[i].status = "open" if rng.random() < 0.5 else "in_progress"
    for inc in incidents:
        if inc.status == "resolved" and rng.random() < 0.2:
            inc.status = "closed"
    done = [inc for inc in incidents if inc.status in ("resolved", "closed")]
    modes = ("id", "short", "words", "red_herring")
    rest = max(0.0, 1 - s.root_cause_id_share - s.root_cause_short_sha_share)
    herring = min(s.red_herring_share, rest)
    shares = (
        s.root_cause_id_share,
        s.root_cause_short_sha_share,
        rest - herring,
        herring,
    )
    for inc, m in zip(done, allocate(shares, len(done), rng).tolist(), strict=True):
        inc.mode = modes[m]
