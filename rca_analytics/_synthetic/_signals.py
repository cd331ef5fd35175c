"""Signals besides changes: error and warning logs, alerts and failing spans.

As their readers make them: the steady background of each, unrelated error floods and
alert storms, and the blocks an incident's symptoms are made of.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..ingest._base import digest
from ..ingest._logformats import template as log_template
from ..ingest.alerts import fingerprint as alert_fingerprint
from ._events import Recorder
from ._settings import FLOOD_MEDIAN, STORM_MEAN
from ._tools import (
    HOUR,
    MIN,
    US,
    Bools,
    Floats,
    Ints,
    Objs,
    fill_names,
    full_objects,
    iso_text,
    lognormal,
    lookup_names,
    pick_uniform,
    random_hex,
    render,
    stream_rng,
    where_objects,
)
from ._topology import Topology
from ._vocabulary import (
    BACKGROUND,
    BACKGROUND_ALERTS,
    CHANGE_STORIES,
    INFRA,
    SPAN_MESSAGES,
    STORM_ALERTS,
)


def log_block(
    rec: Recorder,
    rng: np.random.Generator,
    t: Ints,
    comp: Ints,
    specs: Sequence[tuple[str, str]],
    spec_idx: Ints,
    *,
    with_component: Bools | None = None,
    staging: Bools | None = None,
    names: dict[str, str] | None = None,
) -> int:
    """Log events of formats ``specs[spec_idx]`` in components ``comp`` (-1: none)."""
    top = rec.top
    n = len(t)
    messages = np.empty(n, object)
    level = np.empty(n, object)
    tpl = np.empty(n, object)
    fp = np.empty(n, object)
    for k in np.unique(spec_idx).tolist():
        rows = np.flatnonzero(spec_idx == k)
        lvl, fmt = specs[k]
        fmt = fill_names(fmt, **(names or {}))
        rendered = render(fmt, rng, len(rows))
        messages[rows] = rendered
        level[rows] = lvl
        template = log_template(rendered[0])
        tpl[rows] = template
        fp[rows] = digest(template)
    svc = np.where(comp >= 0, top.comp_service[np.maximum(comp, 0)], -1)
    comp_names = lookup_names(comp, top.components, with_component)
    loggers = [
        f"{c}.{m}" if c else "system"
        for c, m in zip(
            lookup_names(comp, top.components).tolist(),
            pick_uniform(rng, ("app", "http", "db", "jobs"), n).tolist(),
            strict=True,
        )
    ]
    data = [
        {"message": m, "level": lv, "logger": lg, "template": tp, "fingerprint": f}
        for m, lv, lg, tp, f in zip(
            messages.tolist(), level.tolist(), loggers, tpl.tolist(), fp.tolist(), strict=True
        )
    ]
    event_type = np.where(level == "warning", "warning", "error").astype(object)
    severity = np.select(
        [level == "warning", level == "critical"], ["medium", "critical"], "high"
    ).astype(object)
    env = None
    if staging is not None:
        env = np.where(staging, "env:staging", "env:prod").astype(object)
    elif n:
        env = where_objects(comp >= 0, "env:prod", None)
    skewed = t + int(rec.skew["logs"] * US)
    return rec.add(
        skewed,
        "logs",
        event_type,
        severity,
        comp_names,
        lookup_names(svc, top.services),
        random_hex(rng, n, 20),
        data,
        [level, env, lookup_names(svc, top.team)],
    )


def logs(rec: Recorder) -> None:
    """Steady background errors and warnings, and unattributed infrastructure logs."""
    s, top, rng = rec.s, rec.top, stream_rng(rec.s.seed, "logs")
    hours = s.days * 24.0
    nc = len(top.components)
    rate = (s.errors_per_component_hour + s.warnings_per_component_hour) * hours
    per = rng.poisson(rate * top.comp_weight)
    n = int(per.sum())
    comp = np.repeat(np.arange(nc, dtype=np.int64), per)
    t = rng.integers(0, rec.span, n).astype(np.int64)
    # each component's templates, by weight; warnings and errors at the settings' rates
    want_error = rng.random(n) < s.errors_per_component_hour / max(
        s.errors_per_component_hour + s.warnings_per_component_hour, 1e-12
    )
    spec = _background_templates(top, comp, want_error, rng.random(n))
    log_block(
        rec,
        rng,
        t,
        comp,
        BACKGROUND,
        spec,
        with_component=rng.random(n) < 0.85,
        staging=rng.random(n) < 0.1,
    )
    k = int(rng.poisson(s.unattributed_logs_per_hour * hours))
    log_block(
        rec,
        rng,
        rng.integers(0, rec.span, k).astype(np.int64),
        np.full(k, -1, np.int64),
        INFRA,
        rng.integers(0, len(INFRA), k).astype(np.int64),
    )


def _background_templates(top: Topology, comp: Ints, want_error: Bools, u: Floats) -> Ints:
    """Template of each background log: one of its component's, an error where wanted.

    The uniform draw ``u`` of each log picks by the templates' odds.
    """
    spec = np.empty(len(comp), np.int64)
    is_error = np.asarray([lvl == "error" for lvl, _ in BACKGROUND])
    for c in range(len(top.components)):
        rows = np.flatnonzero(comp == c)
        ids, p = top.comp_templates[c], top.comp_template_p[c]
        for err in (True, False):
            sub = rows[want_error[rows] == err]
            mine = is_error[ids] == err
            pool = ids[mine] if mine.any() else np.flatnonzero(is_error == err)[:2]
            pp = p[mine] if mine.any() else np.ones(len(pool))
            cum = np.cumsum(pp / pp.sum())
            spec[sub] = pool[np.minimum(np.searchsorted(cum, u[sub]), len(pool) - 1)]
    return spec


def error_floods(rec: Recorder) -> None:
    """Bursts of one template in one component for minutes, unrelated to incidents."""
    s, top, rng = rec.s, rec.top, stream_rng(rec.s.seed, "floods")
    incident_specs = [tp for st in CHANGE_STORIES for tp in st.templates]
    for _ in range(int(rng.poisson(s.error_floods_per_week * s.days / 7))):
        comp = int(rng.integers(0, len(top.components)))
        start = int(rng.integers(0, rec.span - HOUR))
        duration = int(rng.uniform(5, 40) * MIN)
        size = int(np.clip(lognormal(rng, FLOOD_MEDIAN, 0.7, 1)[0], 20, 2000))
        if rng.random() < 0.5:
            spec = incident_specs[int(rng.integers(0, len(incident_specs)))]
        else:
            spec = BACKGROUND[int(rng.choice(top.comp_templates[comp]))]
        spec = (spec[0] if spec[0] != "warning" else "error", spec[1])
        t = start + np.sort(rng.integers(0, duration, size)).astype(np.int64)
        log_block(
            rec,
            rng,
            t,
            np.full(size, comp, np.int64),
            [spec],
            np.zeros(size, np.int64),
            names={"dep": top.services[int(rng.integers(0, s.services))]},
        )
        rec.noise.append(
            {
                "kind": "error_flood",
                "start": start,
                "end": start + duration,
                "services": top.services[int(top.comp_service[comp])],
                "events": size,
            }
        )


def alert_block(
    rec: Recorder,
    rng: np.random.Generator,
    t: Ints,
    svc: Ints,
    alertname: Objs,
    severity_label: Objs,
    comp: Ints,
    duration: Ints,
    node: Objs | None = None,
) -> int:
    """Alert events as the alerts reader makes them (fingerprint:startsAt ids)."""
    top = rec.top
    n = len(t)
    skewed = t + int(rec.skew["metrics"] * US)
    ends = skewed + duration
    firing = (duration <= 0) | (ends > rec.span)
    ends_iso = iso_text(ends + rec.start_us)
    region = top.region(rng, np.maximum(svc, 0))
    cache: dict[tuple[tuple[str, str], ...], str] = {}
    data = []
    source_id = np.empty(n, object)
    starts = iso_text(skewed + rec.start_us)
    nodes = node if node is not None else full_objects(None, n)
    for j in range(n):
        labels = {"alertname": alertname[j], "severity": severity_label[j]}
        if svc[j] >= 0:
            labels["service"] = top.services[int(svc[j])]
            labels["namespace"] = top.services[int(svc[j])]
        if comp[j] >= 0:
            labels["component"] = top.components[int(comp[j])]
        if nodes[j]:
            labels["node"] = nodes[j]
        labels["region"] = region[j]
        key = tuple(sorted(labels.items()))
        fp = cache.get(key)
        if fp is None:
            fp = cache[key] = alert_fingerprint(labels)
        source_id[j] = f"{fp}:{starts[j]}"
        status = "firing" if firing[j] else "resolved"
        where = labels.get("service") or labels.get("node") or "cluster"
        data.append(
            {
                "alertname": alertname[j],
                "fingerprint": fp,
                "status": status,
                "ends_at": None if firing[j] else ends_iso[j],
                "summary": f"{alertname[j]} on {where}",
                "labels": labels,
            }
        )
    severity = np.select(
        [severity_label == "critical", severity_label == "warning"],
        ["critical", "medium"],
        "info",
    ).astype(object)
    status_tag = np.where(firing, "firing", "resolved").astype(object)
    return rec.add(
        skewed,
        "metrics",
        "alert",
        severity,
        lookup_names(comp, top.components),
        lookup_names(svc, top.services),
        source_id,
        data,
        [status_tag, "region:" + region.astype(str), lookup_names(svc, top.team)],
    )


def alerts(rec: Recorder) -> None:
    """Background alerts of every service, most resolving by themselves."""
    s, top, rng = rec.s, rec.top, stream_rng(rec.s.seed, "alerts")
    per = rng.poisson(s.alerts_per_service_day * s.days * top.svc_weight)
    n = int(per.sum())
    svc = np.repeat(np.arange(s.services, dtype=np.int64), per)
    comp = np.full(n, -1, np.int64)
    with_comp = np.flatnonzero(rng.random(n) < 0.3)
    for j in with_comp.tolist():
        comp[j] = int(rng.choice(top.comps_of(int(svc[j]))))
    u = rng.random(n)
    sev = np.where(u < 0.1, "critical", np.where(u < 0.8, "warning", "info")).astype(object)
    resolved = rng.random(n) < 0.85
    duration = np.where(resolved, (rng.uniform(2, 60, n) * MIN).astype(np.int64), 0)
    alert_block(
        rec,
        rng,
        rng.integers(0, rec.span, n).astype(np.int64),
        svc,
        pick_uniform(rng, BACKGROUND_ALERTS, n),
        sev,
        comp,
        duration.astype(np.int64),
    )


def alert_storms(rec: Recorder) -> None:
    """Many alerts across several services within minutes (a network or node blip)."""
    s, top, rng = rec.s, rec.top, stream_rng(rec.s.seed, "storms")
    for _ in range(int(rng.poisson(s.alert_storms_per_week * s.days / 7))):
        start = int(rng.integers(0, rec.span - HOUR))
        width = int(rng.uniform(2, 8) * MIN)
        k = int(np.clip(rng.poisson(STORM_MEAN), 15, 80))
        n_svc = min(s.services, int(rng.integers(3, 7)))
        chosen = rng.choice(s.services, n_svc, replace=False).astype(np.int64)
        svc = chosen[rng.integers(0, n_svc, k)]
        node_alert = rng.random(k) < 0.25
        svc = np.where(node_alert, -1, svc)
        node_names = [f"ip-10-0-{a}-{b}" for a, b in rng.integers(0, 255, (k, 2)).tolist()]
        nodes = where_objects(node_alert, np.asarray(node_names, object), None)
        names = np.where(node_alert, "KubeNodeNotReady", pick_uniform(rng, STORM_ALERTS, k))
        t = start + np.sort(rng.integers(0, width, k)).astype(np.int64)
        alert_block(
            rec,
            rng,
            t,
            svc.astype(np.int64),
            names.astype(object),
            np.where(rng.random(k) < 0.4, "critical", "warning").astype(object),
            np.full(k, -1, np.int64),
            (rng.uniform(3, 25, k) * MIN).astype(np.int64),
            nodes,
        )
        rec.noise.append(
            {
                "kind": "alert_storm",
                "start": start,
                "end": start + width,
                "services": ",".join(top.services[int(i)] for i in sorted(chosen.tolist())),
                "events": k,
            }
        )


def span_block(
    rec: Recorder, rng: np.random.Generator, t: Ints, svc: Ints, comp: Ints, messages: Objs
) -> int:
    """Failing spans of services ``svc`` (on one of each service's endpoints)."""
    top = rec.top
    n = len(t)
    trace = random_hex(rng, n, 32)
    span = random_hex(rng, n, 16)
    names = np.empty(n, object)
    pick = rng.integers(0, 3, n)
    for i in range(rec.s.services):
        rows = np.flatnonzero(svc == i)
        names[rows] = np.asarray(top.endpoints[i], object)[pick[rows]]
    duration = np.round(lognormal(rng, 900.0, 1.0, n), 1).tolist()
    data = [
        {
            "trace_id": tr,
            "span_id": sp,
            "name": nm,
            "kind": "server",
            "status_code": "error",
            "status_message": msg,
            "duration_ms": d,
        }
        for tr, sp, nm, msg, d in zip(
            trace.tolist(),
            span.tolist(),
            names.tolist(),
            messages.tolist(),
            duration,
            strict=True,
        )
    ]
    source_id = np.char.add(np.char.add(trace.astype(str), ":"), span.astype(str))
    return rec.add(
        t + int(rec.skew["traces"] * US),
        "traces",
        "span_error",
        "high",
        lookup_names(comp, top.components),
        lookup_names(svc, top.services),
        source_id.astype(object),
        data,
        ["error", lookup_names(svc, top.team)],
    )


def spans(rec: Recorder) -> None:
    """Background failing spans of every service."""
    s, top, rng = rec.s, rec.top, stream_rng(rec.s.seed, "spans")
    per = rng.poisson(s.span_errors_per_service_hour * s.days * 24 * top.svc_weight)
    n = int(per.sum())
    svc = np.repeat(np.arange(s.services, dtype=np.int64), per)
    comp = np.where(
        rng.random(n) < 0.5,
        np.asarray([top.comps_of(int(i))[0] for i in svc.tolist()], np.int64),
        -1,
    ).astype(np.int64)
    span_block(
        rec,
        rng,
        rng.integers(0, rec.span, n).astype(np.int64),
        svc,
        comp,
        pick_uniform(rng, SPAN_MESSAGES, n),
    )
