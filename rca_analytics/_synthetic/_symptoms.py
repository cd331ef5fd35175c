"""What an incident shows once it starts, each event a ``symptom`` in the truth.

How long it lasts, a flood of new error logs in the affected component (and in an
upstream culprit's), alerts and failing spans.

Each incident draws from a random stream of its own, in a fixed order.
"""

from __future__ import annotations

import numpy as np

from ._events import Recorder
from ._incidents import Incident
from ._signals import alert_block, log_block, span_block
from ._tools import MIN, US, full_objects, lognormal, stream_rng
from ._vocabulary import STORM_ALERTS, UPSTREAM_TEMPLATES


def symptoms(rec: Recorder, inc: Incident) -> None:
    """The symptoms of one incident; sets its end (and mitigation) time."""
    top = rec.top
    rng = stream_rng(rec.s.seed, f"incident-{inc.inv}")
    dep = top.services[inc.cause_svc] if inc.kind == "upstream" else ""
    names = {"dep": dep, "vendor": inc.vendor, "region": inc.region, "svc": top.services[inc.svc]}
    end = _duration(rec, rng, inc)
    _error_logs(rec, rng, inc, end, names)
    # upstream: the dependency shows errors of its own, sometimes
    if inc.kind == "upstream" and rng.random() < 0.6 and end > inc.t_impact:
        _upstream_logs(rec, rng, inc, end, names)
    if inc.has_alerts:
        _alerts(rec, rng, inc, end)
    if rng.random() < 0.8 and end > inc.t_impact:
        _spans(rec, rng, inc, end)


def _duration(rec: Recorder, rng: np.random.Generator, inc: Incident) -> int:
    """When the incident ends, in true time (mitigated, unless still going on)."""
    mitigate = float(np.clip(lognormal(rng, 45.0, 0.9, 1)[0], 8.0, 720.0))
    if inc.status == "open" or (inc.status == "in_progress" and rng.random() < 0.5):
        end = min(inc.t_detect + int(rng.uniform(60, 360) * MIN), rec.span - 1)
    else:
        end = min(inc.t_detect + int(mitigate * MIN), rec.span - 1)
        inc.t_mitigated = end
    inc.t_end = end
    return end


def _error_logs(
    rec: Recorder, rng: np.random.Generator, inc: Incident, end: int, names: dict[str, str]
) -> None:
    """The new error-log flood in the affected component, from impact to end."""
    start = inc.t_impact + int(rng.uniform(0, 3) * MIN)
    size = int(np.clip(lognormal(rng, rec.s.symptom_logs_median, 0.8, 1)[0], 10, 3000))
    specs = list(UPSTREAM_TEMPLATES if inc.kind == "upstream" else inc.story.templates)
    if len(specs) > 1 and rng.random() < 0.5:
        specs = specs[:1]
    if end <= start:
        return
    frac = rng.beta(1.0, 2.5, size)
    t = np.sort(start + (frac * (end - start)).astype(np.int64))
    spec = rng.integers(0, len(specs), size).astype(np.int64)
    first = log_block(
        rec,
        rng,
        t,
        np.full(size, inc.comp, np.int64),
        specs,
        spec,
        with_component=rng.random(size) < 0.95,
        names=names,
    )
    component = rec.top.components[inc.comp]
    for j in range(size):
        tp = rec.blocks[-1].data[j]["template"]
        rec.truth.append((first + j, inc.inv, "symptom", f"new log template in {component}: {tp}"))


def _upstream_logs(
    rec: Recorder, rng: np.random.Generator, inc: Incident, end: int, names: dict[str, str]
) -> None:
    """Errors of the upstream dependency that caused the incident."""
    top = rec.top
    k = int(rng.integers(10, 50))
    t = np.sort(rng.integers(inc.t_impact, end, k)).astype(np.int64)
    first = log_block(
        rec,
        rng,
        t,
        np.full(k, inc.cause_comp, np.int64),
        inc.story.templates[:1],
        np.zeros(k, np.int64),
        names=names,
    )
    detail = f"logs of the upstream dependency {names['dep']} ({top.components[inc.cause_comp]})"
    for j in range(k):
        rec.truth.append((first + j, inc.inv, "symptom", detail))


def _alerts(rec: Recorder, rng: np.random.Generator, inc: Incident, end: int) -> None:
    """The alerts the incident fires: its story's first, then more until it ends."""
    top = rec.top
    k = 1 + int(rng.poisson(max(rec.s.alerts_per_incident - 1, 0.0)))
    first_alert = max(inc.t_detect - int(rng.uniform(0.5, 4) * MIN), inc.t_impact + 30 * US)
    others = np.sort(rng.integers(first_alert, max(end, first_alert + 1), k - 1))
    t = np.concatenate([[first_alert], others]).astype(np.int64)
    svc = np.full(k, inc.svc, np.int64)
    names_a = np.asarray(
        [inc.story.alert]
        + [
            inc.story.alert if rng.random() < 0.5 else str(rng.choice(STORM_ALERTS[1:4]))
            for _ in range(k - 1)
        ],
        object,
    )
    if inc.kind == "upstream" and k > 1 and rng.random() < 0.5:
        svc[-1] = inc.cause_svc
        names_a[-1] = "HighErrorRate"
    comp = np.where(rng.random(k) < 0.4, np.where(svc == inc.svc, inc.comp, inc.cause_comp), -1)
    mitigated = inc.t_mitigated
    duration = np.where(mitigated is None, 0, np.maximum((mitigated or 0) - t, MIN)).astype(
        np.int64
    )
    sev = np.where(
        np.arange(k) == 0,
        "critical",
        np.where(rng.random(k) < 0.5, "critical", "warning"),
    ).astype(object)
    first = alert_block(rec, rng, t, svc, names_a, sev, comp.astype(np.int64), duration)
    for j in range(k):
        rec.truth.append(
            (
                first + j,
                inc.inv,
                "symptom",
                f"alert {names_a[j]} fired for {top.services[int(svc[j])]}",
            )
        )


def _spans(rec: Recorder, rng: np.random.Generator, inc: Incident, end: int) -> None:
    """Failing spans of the affected service while the incident lasts."""
    k = int(rng.poisson(rec.s.spans_per_incident))
    if not k:
        return
    t = np.sort(rng.integers(inc.t_impact, end, k)).astype(np.int64)
    svc = np.full(k, inc.svc, np.int64)
    comp = np.where(rng.random(k) < 0.5, inc.comp, -1).astype(np.int64)
    msgs = full_objects("upstream unavailable" if inc.kind == "upstream" else "internal error", k)
    first = span_block(rec, rng, t, svc, comp, msgs)
    svc_name = rec.top.services[inc.svc]
    for j in range(k):
        rec.truth.append((first + j, inc.inv, "symptom", f"failing span on {svc_name}"))
