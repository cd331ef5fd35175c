"""The investigations of a synthetic history, as the responders wrote them up.

Title, description, timeline, priority, and for resolved ones the root cause (naming the
culprit by id, by short sha, in words only, or blaming an innocent commit), remediation
and lessons.

All draw from the one ``investigations`` random stream, incident by incident, in a fixed
order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ._changes import Commits
from ._events import Recorder
from ._frames import utc_times
from ._incidents import Incident
from ._tools import DAY, MIN, Objs, capitalize, fill_names, lognormal, stream_rng
from ._topology import Topology
from ._vocabulary import PEOPLE

_COLUMNS = (
    "title",
    "description",
    "status",
    "impact_severity",
    "priority",
    "impact_started_at",
    "detected_at",
    "started_at",
    "mitigated_at",
    "resolved_at",
    "root_cause",
    "remediation",
    "lessons_learned",
    "component_affected",
    "service_affected",
    "tags",
    "created_by",
    "assigned_to",
    "created_at",
    "updated_at",
)
_IMPACTS = ("critical", "high", "medium", "low")
_LESSONS = (
    "Changes need a canary stage with automatic rollback.",
    "Alert on saturation, not only on errors.",
    "Dependencies need timeouts and circuit breakers.",
    "Config changes need the same review as code.",
)


def investigations(
    rec: Recorder, commits: Commits, incidents: list[Incident], inv_ids: Objs
) -> pd.DataFrame:
    """One investigation per incident, columns named as the Investigation fields."""
    rng = stream_rng(rec.s.seed, "investigations")
    rows: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    for inc in incidents:
        for name, value in _investigation(rec, commits, inc, rng).items():
            rows[name].append(value)
    frame = pd.DataFrame({"id": pd.array(inv_ids, dtype="str")})
    for name, values in rows.items():
        if name.endswith("_at"):
            frame[name] = utc_times(rec.start_us, values)
        elif name == "tags":
            frame[name] = pd.Series(
                pd.arrays.ArrowExtensionArray(pa.array(values, pa.list_(pa.string())))
            )
        else:
            frame[name] = pd.array(values, dtype="str")
    return frame


def _investigation(
    rec: Recorder, commits: Commits, inc: Incident, rng: np.random.Generator
) -> dict[str, Any]:
    """The write-up of one incident (times as µs after the start), by column."""
    top, story = rec.top, inc.story
    svc, comp = top.services[inc.svc], top.components[inc.comp]
    fill = _names(top, inc, rng)
    impact = _IMPACTS[int(rng.choice(4, p=[0.1, 0.3, 0.4, 0.2]))]
    prio = _IMPACTS.index(impact)
    if rng.random() < 0.2:
        prio = int(np.clip(prio + rng.choice([-1, 1]), 0, 3))
    description = _description(rec, inc, fill, rng)
    created, started, mitigated, resolved, updated = _timeline(inc, rng)
    root = root_cause(top, commits, inc, fill, rng) if resolved is not None else None
    remediation = _remediation(inc, fill) if resolved is not None else None
    lessons = None
    if resolved is not None and rng.random() < 0.5:
        lessons = str(rng.choice(list(_LESSONS)))
    missing_start = rng.random() < rec.s.missing_impact_start_share
    return {
        "title": fill_names(story.title, **fill),
        "description": description,
        "status": inc.status,
        "impact_severity": impact,
        "priority": f"P{prio}",
        "impact_started_at": None if missing_start else inc.t_impact,
        "detected_at": inc.t_detect,
        "started_at": started,
        "mitigated_at": mitigated,
        "resolved_at": resolved,
        "root_cause": root,
        "remediation": remediation,
        "lessons_learned": lessons,
        "component_affected": comp if rng.random() < 0.8 else None,
        "service_affected": svc,
        "tags": list(dict.fromkeys([f"sev{prio + 1}", top.team[inc.svc], story.key])),
        "created_by": str(rng.choice(PEOPLE)),
        "assigned_to": str(rng.choice(PEOPLE)) if started else None,
        "created_at": created,
        "updated_at": updated,
    }


def _names(top: Topology, inc: Incident, rng: np.random.Generator) -> dict[str, str]:
    """The names and numbers that fill the incident's story texts."""
    svc = top.services[inc.svc]
    return {
        "svc": svc,
        "Svc": capitalize(svc),
        "comp": top.components[inc.comp],
        "vendor": inc.vendor,
        "region": inc.region,
        "k": str(inc.number),
        "pct": str(int(rng.integers(3, 40))),
        "n": str(int(rng.integers(2, 90)) * 1000),
        "dep": top.services[inc.cause_svc] if inc.cause_svc >= 0 else "",
    }


def _description(
    rec: Recorder, inc: Incident, fill: dict[str, str], rng: np.random.Generator
) -> str:
    """What is wrong since when, and how it was noticed."""
    story = inc.story
    start = rec.s.start.astimezone(dt.UTC)
    when = (start + dt.timedelta(microseconds=inc.t_impact)).strftime("%H:%M")
    description = fill_names(story.description, **fill) + f" since about {when} UTC."
    if inc.has_alerts:
        description += f" Alert {story.alert} fired."
    else:
        description += " Reported by customers through support."
    if inc.kind == "upstream" and rng.random() < 0.5:
        description += f" Many failures are on calls to {fill['dep']}."
    return description


def _timeline(
    inc: Incident, rng: np.random.Generator
) -> tuple[int, int | None, int | None, int | None, int]:
    """When the investigation was created, started, mitigated, resolved and updated."""
    created = inc.t_detect + int(rng.uniform(1, 10) * MIN)
    started = None if inc.status == "open" else created + int(rng.uniform(0, 10) * MIN)
    mitigated = inc.t_mitigated if inc.status != "open" else None
    if mitigated is not None and started is not None:
        mitigated = max(mitigated, started)
    resolved = None
    if inc.status in ("resolved", "closed"):
        assert mitigated is not None
        resolved = mitigated + int(np.clip(lognormal(rng, 180.0, 1.2, 1)[0], 10.0, 7200.0) * MIN)
    updated = (resolved or mitigated or started or created) + int(rng.uniform(0, 2 * 24 * 60) * MIN)
    return created, started, mitigated, resolved, updated


def _remediation(inc: Incident, fill: dict[str, str]) -> str:
    """What was done about it."""
    if inc.kind == "config":
        return "Reverted the config change."
    if inc.kind == "upstream":
        return f"The {fill['dep']} team rolled back their change."
    return fill_names(inc.story.remediation, **fill)


# --- root causes ----------------------------------------------------------------------------


def root_cause(
    top: Topology,
    commits: Commits,
    inc: Incident,
    fill: dict[str, str],
    rng: np.random.Generator,
) -> str:
    """The postmortem's root cause; sets ``inc.mode`` to how it names the culprit."""
    mode = inc.mode or "words"
    herring = _herring(commits, inc) if mode == "red_herring" else None
    if mode == "red_herring" and herring is None:
        mode = "words"
    if inc.kind == "no_change" and mode in ("id", "short"):
        mode = "words"
    inc.mode = mode
    words = fill_names(inc.story.words, **fill)
    if inc.cause_type == "config":
        words = f"a config change ({inc.story.config[3]})"
    where = top.components[inc.cause_comp] if inc.cause_comp >= 0 else fill["comp"]
    if herring is not None:
        inc.herring = herring
        short = herring["sha"][:7]
        if inc.kind == "no_change" or rng.random() < 0.5:
            return (
                f"Commit {short} ({herring['message']}) was reverted first as the "
                f"suspect, without effect. The cause was {words}."
            )
        return f"Caused by commit {short} in {top.components[herring['comp']]}: {words}."
    if inc.kind == "no_change":
        return f"{capitalize(words)}."
    text = _change_text(top, inc, mode, words, where, rng)
    if inc.kind == "upstream":
        text += f" {capitalize(fill['svc'])} depends on {fill['dep']} and failed with it."
    return text


def _change_text(
    top: Topology, inc: Incident, mode: str, words: str, where: str, rng: np.random.Generator
) -> str:
    """The root cause of a bad change, naming it as ``mode`` says."""
    c = inc.culprit
    service = top.services[inc.cause_svc]
    if "config" in c:
        effect = inc.story.config[3]
        if mode == "id":
            return (
                f"Config change {c['config']} set {c['key']} from {c['old']} to {c['new']} "
                f"on {service}; {effect}."
            )
        if mode == "short":
            return f"{c['key']} was changed from {c['old']} to {c['new']} on {service}: {effect}."
        return f"A configuration change on {service}: {effect}."
    if mode == "id":
        ref = (
            f"Deploy {c['deploy']} ({c['version']}) of {service}",
            f"Commit {c['sha']}",
            f"Build {c['build']}",
        )[int(rng.integers(0, 3))]
        return f"{ref} introduced {words} in {where}."
    if mode == "short":
        return f"Commit {c['sha'][:8]} ({c['message']}) introduced {words} in {where}."
    return f"The release that day introduced {words} in {where}."


def _herring(c: Commits, inc: Incident) -> dict[str, Any] | None:
    """An innocent commit of the affected component in the 3 days before impact."""
    comp = inc.comp
    ok = (c.comp == comp) & (c.t < inc.t_impact) & (c.t > inc.t_impact - 3 * DAY) & c.innocent()
    rows = np.flatnonzero(ok)
    if not len(rows):
        return None
    i = int(rows[-1])
    return {"sha": c.sha[i], "message": c.messages[i], "comp": comp, "row": i}
