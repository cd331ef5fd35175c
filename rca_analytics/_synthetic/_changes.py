"""Changes: commits, CI builds and test runs, deploys and config changes.

In the background and around incidents (their culprits, and innocent near misses just
before them), with the truth links that name the culprits.

Every part draws from the one ``changes`` random stream, in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._events import Recorder
from ._incidents import Incident
from ._settings import HistorySettings, work_days, work_times
from ._tools import (
    HOUR,
    MIN,
    Bools,
    Ints,
    Objs,
    full_objects,
    lognormal,
    lookup_names,
    pick_uniform,
    random_hex,
    stream_rng,
    where_objects,
)
from ._topology import Topology
from ._vocabulary import CONFIG_KEYS, OBJECTS, PEOPLE, VERBS

# Roles of a change: background, an incident's culprit, an innocent change just before an
# incident, and (deploys only) the culprit's deploy to staging.
_BACKGROUND = 0
_CULPRIT = 1
_NEAR_MISS = 3
_STAGED = 4

# A planned deploy (time, service, incident, environment, role) and config change (time,
# service, component or -1, incident, role).
_Deploy = tuple[int, int, int, str, int]
_Config = tuple[int, int, int, int, int]


@dataclass
class Commits:
    """The commits of a history in time order (index ``i`` is event row ``first + i``)."""

    t: Ints
    comp: Ints
    svc: Ints
    sha: Objs
    inc: Ints  # the incident of a culprit or near miss, else -1
    role: Ints
    messages: list[str]
    first: int
    build_of: dict[int, str] = field(default_factory=dict)  # build id by commit index

    def innocent(self) -> Bools:
        """Commits that caused nothing (background and near misses)."""
        return np.asarray((self.role == _BACKGROUND) | (self.role == _NEAR_MISS), np.bool_)


@dataclass
class _Planned:
    """The changes of the incidents: culprits and near misses."""

    commits: list[tuple[int, int, int, int]] = field(default_factory=list)  # t, comp, inc, role
    deploys: list[_Deploy] = field(default_factory=list)
    configs: list[_Config] = field(default_factory=list)


def changes(rec: Recorder, incidents: list[Incident]) -> Commits:
    """Commits, builds, test runs, deploys and config changes, culprits among them."""
    s, top = rec.s, rec.top
    rng = stream_rng(s.seed, "changes")
    # background commits, then the incidents' commits
    expect = s.commits_per_component_day * work_days(s) * top.comp_weight
    per_comp = rng.poisson(expect)
    c_t = [work_times(rng, s, int(k)) for k in per_comp]
    planned = _Planned()
    for inc in incidents:
        _plan_changes(rng, s, inc, planned)
    n_bg = int(per_comp.sum())
    extra = planned.commits
    ct = np.concatenate([*c_t, np.asarray([e[0] for e in extra], np.int64)])
    ccomp = np.concatenate(
        [
            *[np.full(int(k), c, np.int64) for c, k in enumerate(per_comp)],
            np.asarray([e[1] for e in extra], np.int64),
        ]
    )
    cinc = np.concatenate(
        [np.full(n_bg, -1, np.int64), np.asarray([e[2] for e in extra], np.int64)]
    )
    crole = np.concatenate([np.zeros(n_bg, np.int64), np.asarray([e[3] for e in extra], np.int64)])
    order = np.argsort(ct, kind="stable")
    commits = _commits(rec, rng, ct[order], ccomp[order], cinc[order], crole[order], incidents)
    _builds(rec, rng, commits)
    _deploys(rec, rng, planned.deploys, incidents, commits)
    _configs(rec, rng, planned.configs, incidents)
    return commits


def _plan_changes(
    rng: np.random.Generator, s: HistorySettings, inc: Incident, planned: _Planned
) -> None:
    """The culprit of one incident (commit and deploy, or config change), and near misses."""
    if inc.cause_type == "deploy":
        lead = float(np.clip(lognormal(rng, 300.0, 1.0, 1)[0], 40.0, 4320.0))
        t_commit = max(inc.t_cause - int(lead * MIN), 0)
        planned.commits.append((t_commit, inc.cause_comp, inc.inv, _CULPRIT))
        planned.deploys.append((inc.t_cause, inc.cause_svc, inc.inv, "production", _CULPRIT))
        if rng.random() < s.staged_culprit_share:
            t_stage = inc.t_cause - int(rng.uniform(1, 20) * HOUR)
            if t_stage > t_commit + 20 * MIN:
                planned.deploys.append((t_stage, inc.cause_svc, inc.inv, "staging", _STAGED))
    elif inc.cause_type == "config":
        comp = inc.cause_comp if rng.random() < 0.6 else -1
        planned.configs.append((inc.t_cause, inc.cause_svc, comp, inc.inv, _CULPRIT))
    for _ in range(int(rng.poisson(s.near_miss_changes))):
        t = inc.t_impact - int(rng.uniform(5, 180) * MIN)
        if t < 0:
            continue
        what = rng.random()
        if what < 0.35:
            planned.commits.append((t, inc.comp, inc.inv, _NEAR_MISS))
        elif what < 0.6:
            planned.deploys.append((t, inc.svc, inc.inv, "production", _NEAR_MISS))
        elif what < 0.8:
            planned.deploys.append((t, inc.svc, inc.inv, "staging", _NEAR_MISS))
        else:
            comp = inc.comp if rng.random() < 0.5 else -1
            planned.configs.append((t, inc.svc, comp, inc.inv, _NEAR_MISS))


# --- commits, builds, test runs -----------------------------------------------------------


def _commits(
    rec: Recorder,
    rng: np.random.Generator,
    ct: Ints,
    ccomp: Ints,
    cinc: Ints,
    crole: Ints,
    incidents: list[Incident],
) -> Commits:
    """Commit events (files, authors, messages; culprits' messages tell, sometimes)."""
    top = rec.top
    n = len(ct)
    csvc = top.comp_service[ccomp]
    sha = random_hex(rng, n, 40)
    authors = pick_uniform(rng, PEOPLE, n)
    messages = _commit_messages(rng, top, ccomp, cinc, crole, incidents)
    files = _commit_files(rng, top, ccomp)
    data: list[dict[str, Any]] = [
        {
            "sha": sha[i],
            "author": authors[i],
            "message": messages[i],
            "files": files[i],
            "insertions": sum(f["added"] for f in files[i]),
            "deletions": sum(f["deleted"] for f in files[i]),
            "repository": top.components[int(ccomp[i])],
        }
        for i in range(n)
    ]
    with_service = rng.random(n) < 0.4
    first = rec.add(
        ct,
        "git",
        "commit",
        "info",
        lookup_names(ccomp, top.components),
        lookup_names(csvc, top.services, with_service),
        sha,
        data,
        [lookup_names(csvc, top.team)],
    )
    for i in np.flatnonzero(crole == _NEAR_MISS).tolist():
        rec.near_miss(int(cinc[i]), first + i, int(ct[i]), top.services[int(csvc[i])])
    return Commits(ct, ccomp, csvc, sha, cinc, crole, messages, first)


def _commit_messages(
    rng: np.random.Generator,
    top: Topology,
    ccomp: Ints,
    cinc: Ints,
    crole: Ints,
    incidents: list[Incident],
) -> list[str]:
    """Random messages; most culprits say what their story's bad change was."""
    n = len(ccomp)
    story_msg = {inc.inv: inc.story.commit for inc in incidents if inc.cause_type == "deploy"}
    messages = [
        f"{v} {o} in {top.components[c]}"
        for v, o, c in zip(
            pick_uniform(rng, VERBS, n), pick_uniform(rng, OBJECTS, n), ccomp.tolist(), strict=True
        )
    ]
    relate = rng.random(n) < 0.6
    for i in np.flatnonzero(crole == _CULPRIT).tolist():
        if relate[i]:
            messages[i] = story_msg[int(cinc[i])]
    return messages


def _commit_files(
    rng: np.random.Generator, top: Topology, ccomp: Ints
) -> list[list[dict[str, Any]]]:
    """The files each commit touches (of its component), with lines added and deleted."""
    nfiles = rng.integers(1, 6, len(ccomp))
    added = rng.integers(1, 200, int(nfiles.sum())).tolist()
    deleted = rng.integers(0, 80, int(nfiles.sum())).tolist()
    file_pick = rng.random(int(nfiles.sum()))
    out: list[list[dict[str, Any]]] = []
    pos = 0
    for i, k in enumerate(nfiles.tolist()):
        paths = top.comp_paths[int(ccomp[i])]
        files = []
        seen = set()
        for j in range(pos, pos + k):
            path = paths[int(file_pick[j] * len(paths))]
            if path not in seen:
                seen.add(path)
                files.append({"path": path, "added": added[j], "deleted": deleted[j]})
        pos += k
        out.append(files)
    return out


def _builds(rec: Recorder, rng: np.random.Generator, c: Commits) -> None:
    """CI builds of most commits (every culprit), then test runs of some builds."""
    s, top = rec.s, rec.top
    n = len(c.t)
    build = (rng.random(n) < s.build_share) | (c.role == _CULPRIT)
    bi = np.flatnonzero(build)
    nb = len(bi)
    bt = c.t[bi] + (rng.uniform(3, 15, nb) * MIN).astype(np.int64)
    failed = (rng.random(nb) < 0.1) & (c.role[bi] != _CULPRIT)
    start_no = int(rng.integers(40_000, 60_000))
    build_no = start_no + np.argsort(np.argsort(bt, kind="stable"), kind="stable")
    build_id = np.asarray([f"build-{k}" for k in build_no.tolist()], object)
    pipeline = [f"{top.components[k]}/ci" for k in c.comp[bi].tolist()]
    status = np.where(failed, "failure", "success").astype(object)
    durations = rng.integers(90, 1200, nb).tolist()
    bdata = [
        {
            "status": st,
            "sha": c.sha[i],
            "pipeline": p,
            "branch": "main",
            "duration_s": d,
        }
        for st, i, p, d in zip(status.tolist(), bi.tolist(), pipeline, durations, strict=True)
    ]
    first_b = rec.add(
        bt,
        "ci",
        "build",
        np.where(failed, "high", "info"),
        lookup_names(c.comp[bi], top.components),
        lookup_names(c.svc[bi], top.services, rng.random(nb) < 0.5),
        build_id,
        bdata,
        [lookup_names(c.svc[bi], top.team), where_objects(failed, "failed", None)],
    )
    c.build_of = dict(zip(bi.tolist(), build_id.tolist(), strict=True))
    for j in np.flatnonzero(c.role[bi] == _NEAR_MISS).tolist():
        i = int(bi[j])
        rec.near_miss(int(c.inc[i]), first_b + j, int(bt[j]), top.services[int(c.svc[i])])
    _test_runs(rec, rng, c, bi, bt, failed, build_id, pipeline)


def _test_runs(
    rec: Recorder,
    rng: np.random.Generator,
    c: Commits,
    bi: Ints,
    bt: Ints,
    failed: Bools,
    build_id: Objs,
    pipeline: list[str],
) -> None:
    """Test runs reported by some builds (a failed build's run has failures)."""
    s, top = rec.s, rec.top
    nb = len(bi)
    ti = np.flatnonzero(rng.random(nb) < s.test_run_share)
    nt = len(ti)
    tt = bt[ti] + (rng.uniform(1, 6, nt) * MIN).astype(np.int64)
    tests = rng.integers(40, 2500, nt)
    failures = np.where(failed[ti] | (rng.random(nt) < 0.05), rng.integers(1, 12, nt), 0).astype(
        np.int64
    )
    tdata = [
        {
            "status": "failure" if f else "success",
            "sha": c.sha[int(bi[j])],
            "pipeline": pipeline[j],
            "suite": "pytest",
            "tests": t,
            "failures": f,
        }
        for j, t, f in zip(ti.tolist(), tests.tolist(), failures.tolist(), strict=True)
    ]
    rec.add(
        tt,
        "ci",
        "test_run",
        np.where(failures > 0, "medium", "info"),
        lookup_names(c.comp[bi][ti], top.components),
        None,
        np.char.add(build_id[ti].astype(str), ":tests").astype(object),
        tdata,
        [lookup_names(c.svc[bi][ti], top.team)],
    )


# --- deploys --------------------------------------------------------------------------------


def _deploys(
    rec: Recorder,
    rng: np.random.Generator,
    extra: list[_Deploy],
    incidents: list[Incident],
    c: Commits,
) -> None:
    """Production and staging deploys; each ships the latest commit of its service."""
    s, top = rec.s, rec.top
    t, svc, env, inc, role = _deploy_schedule(rng, s, top, extra)
    n = len(t)
    by_inv = {x.inv: x for x in incidents}
    commit_idx = _shipped_commits(s, c, t, svc, env, inc, role, by_inv)
    missing = commit_idx < 0
    random_sha = random_hex(rng, n, 40)
    sha = np.where(missing, random_sha, c.sha[np.maximum(commit_idx, 0)]).astype(object)
    comp_first = np.asarray([top.comps_of(i)[0] for i in range(s.services)], np.int64)
    comp = np.where(missing, comp_first[svc], c.comp[np.maximum(commit_idx, 0)])
    version = _versions(rng, s, c, svc, commit_idx)
    failed = (rng.random(n) < 0.04) & (role != _CULPRIT)
    number = int(rng.integers(1000, 5000)) + np.arange(n)
    deploy_id = np.asarray([f"deploy-{k}" for k in number.tolist()], object)
    region = top.region(rng, svc)
    strategy = pick_uniform(rng, ("rolling", "canary", "blue-green"), n)
    data = [
        {
            "version": v,
            "sha": h,
            "environment": e,
            "service": top.services[sv],
            "status": "failure" if f else "success",
            "region": r,
            "strategy": st,
            "triggered_by": a,
        }
        for v, h, e, sv, f, r, st, a in zip(
            version,
            sha.tolist(),
            env.tolist(),
            svc.tolist(),
            failed.tolist(),
            region.tolist(),
            strategy.tolist(),
            pick_uniform(rng, PEOPLE, n).tolist(),
            strict=True,
        )
    ]
    env_tag = np.where(env == "production", "env:prod", "env:staging").astype(object)
    first = rec.add(
        t,
        "ci",
        "deploy",
        np.where(failed, "high", "info"),
        lookup_names(comp, top.components),
        lookup_names(svc, top.services),
        deploy_id,
        data,
        [env_tag, "region:" + region.astype(str), lookup_names(svc, top.team), "deploy"],
    )
    culprit_commit = {int(c.inc[i]): i for i in np.flatnonzero(c.role == _CULPRIT).tolist()}
    for j in np.flatnonzero(role == _CULPRIT).tolist():
        x = by_inv[int(inc[j])]
        ci, head = culprit_commit[x.inv], int(commit_idx[j])
        _deploy_culprit(rec, c, x, ci, head, first + j, deploy_id[j], version[j])
    for j in np.flatnonzero(role == _NEAR_MISS).tolist():
        rec.near_miss(int(inc[j]), first + j, int(t[j]), top.services[int(svc[j])])


def _deploy_schedule(
    rng: np.random.Generator, s: HistorySettings, top: Topology, extra: list[_Deploy]
) -> tuple[Ints, Ints, Objs, Ints, Ints]:
    """Background and planned deploys, in time order.

    Returns:
        Time, service, environment, incident and role of each.
    """
    work = work_days(s)
    t_parts, svc_parts, env_parts = [], [], []
    for env_name, rate in (
        ("production", s.prod_deploys_per_service_day),
        ("staging", s.staging_deploys_per_service_day),
    ):
        per = rng.poisson(rate * work * top.svc_weight)
        for i, k in enumerate(per.tolist()):
            t_parts.append(work_times(rng, s, k))
            svc_parts.append(np.full(k, i, np.int64))
            env_parts.append(full_objects(env_name, k))
    nbg = sum(len(t) for t in t_parts)
    t = np.concatenate([*t_parts, np.asarray([e[0] for e in extra], np.int64)])
    svc = np.concatenate([*svc_parts, np.asarray([e[1] for e in extra], np.int64)])
    env_extra = np.empty(len(extra), object)
    env_extra[:] = [e[3] for e in extra]
    env: Objs = np.concatenate([*env_parts, env_extra])
    inc = np.concatenate([np.full(nbg, -1, np.int64), np.asarray([e[2] for e in extra])])
    role = np.concatenate([np.zeros(nbg, np.int64), np.asarray([e[4] for e in extra])])
    inc = inc.astype(np.int64)
    role = role.astype(np.int64)
    order = np.argsort(t, kind="stable")
    return t[order], svc[order], env[order], inc[order], role[order]


def _shipped_commits(
    s: HistorySettings,
    c: Commits,
    t: Ints,
    svc: Ints,
    env: Objs,
    inc: Ints,
    role: Ints,
    by_inv: dict[int, Incident],
) -> Ints:
    """The commit each deploy ships (-1: none).

    That is the latest innocent commit of the service before it; a bad deploy ships the
    latest commit of the culprit's component (the culprit or one that landed after it).
    """
    n = len(t)
    commit_idx = np.full(n, -1, np.int64)
    eligible = c.innocent()
    lag = np.where(env == "production", 45 * MIN, 15 * MIN).astype(np.int64)
    for i in range(s.services):
        rows = np.flatnonzero(svc == i)
        cands = np.flatnonzero(eligible & (c.svc == i))
        if len(rows) and len(cands):
            pos = np.searchsorted(c.t[cands], t[rows] - lag[rows], side="right") - 1
            commit_idx[rows] = np.where(pos >= 0, cands[np.maximum(pos, 0)], -1)
    for j in np.flatnonzero((role == _CULPRIT) | (role == _STAGED)).tolist():
        # a bad deploy ships the latest commit of the component: the culprit, or an
        # innocent commit that landed after it
        x = by_inv[int(inc[j])]
        ships = (c.comp == x.cause_comp) & (c.t <= t[j] - 20 * MIN) & (eligible | (c.inc == x.inv))
        commit_idx[j] = int(np.flatnonzero(ships)[-1])
    return commit_idx


def _versions(
    rng: np.random.Generator, s: HistorySettings, c: Commits, svc: Ints, commit_idx: Ints
) -> list[str]:
    """Version of each deploy: the position of the shipped commit among its service's."""
    n = len(svc)
    missing = commit_idx < 0
    seq = np.zeros(len(c.t), np.int64)
    for i in range(s.services):
        rows = np.flatnonzero(c.svc == i)
        seq[rows] = np.arange(len(rows))
    cseq = np.where(missing, rng.integers(0, 9, n), seq[np.maximum(commit_idx, 0)] + 10)
    major = 1 + svc % 3
    return [f"v{m}.{q // 20}.{q % 20}" for m, q in zip(major.tolist(), cseq.tolist(), strict=True)]


def _deploy_culprit(
    rec: Recorder,
    c: Commits,
    x: Incident,
    ci: int,
    head: int,
    row: int,
    deploy_id: str,
    version: str,
) -> None:
    """Truth for a bad deploy (event ``row``) and the bad commit ``ci`` it shipped.

    The deploy's head commit is ``head``: the culprit, or one that landed after it.
    """
    top = rec.top
    up = f"upstream dependency {top.services[x.cause_svc]}: " if x.kind == "upstream" else ""
    x.culprit = {
        "deploy": deploy_id,
        "version": version,
        "sha": c.sha[ci],
        "build": c.build_of[ci],
        "message": c.messages[ci],
        "head": ci == head,
    }
    rec.truth.append((row, x.inv, "cause", f"{up}{deploy_id} shipped the bad change to prod"))
    where = "its head commit"
    if ci != head:  # commits are in time order: those of the component in between
        later = int((c.comp[ci + 1 : head + 1] == x.cause_comp).sum())
        where = f"not its head: {later} later commit(s) shipped with it"
    rec.truth.append(
        (
            c.first + ci,
            x.inv,
            "cause",
            f"{up}commit {c.sha[ci][:10]} is the bad change, shipped by "
            f"{deploy_id} ({where}); the deploy is a cause too",
        )
    )


# --- config changes -------------------------------------------------------------------------


def _configs(
    rec: Recorder, rng: np.random.Generator, extra: list[_Config], incidents: list[Incident]
) -> None:
    """Config changes, manual tickets or by CI, on production or staging."""
    s, top = rec.s, rec.top
    t, svc, comp, inc, role = _config_schedule(rng, s, top, extra)
    n = len(t)
    manual = rng.random(n) < 0.4
    staging = (rng.random(n) < 0.2) & (role != _CULPRIT)
    by_inv = {x.inv: x for x in incidents}
    rows = _config_values(rng, inc, role, by_inv)
    manual_no = int(rng.integers(1000, 9000)) + np.cumsum(manual)
    ci_no = int(rng.integers(100, 900)) + np.cumsum(~manual)
    source_id = np.asarray(
        [
            f"CHG-{m:05d}" if is_manual else f"config-{k}"
            for is_manual, m, k in zip(
                manual.tolist(), manual_no.tolist(), ci_no.tolist(), strict=True
            )
        ],
        object,
    )
    env = np.where(staging, "staging", "production").astype(object)
    authors = pick_uniform(rng, PEOPLE, n)
    data = [
        {"key": key, "old": old, "new": new, "environment": e, "changed_by": a}
        for (key, old, new), e, a in zip(rows, env.tolist(), authors.tolist(), strict=True)
    ]
    first = rec.add(
        t,
        np.where(manual, "manual", "ci"),
        "config_change",
        np.where(manual, "low", "info"),
        lookup_names(comp, top.components),
        lookup_names(svc, top.services),
        source_id,
        data,
        [
            np.where(staging, "env:staging", "env:prod").astype(object),
            lookup_names(svc, top.team),
            "config",
        ],
    )
    for j in np.flatnonzero(role == _CULPRIT).tolist():
        x = by_inv[int(inc[j])]
        key, old, new = rows[j]
        x.culprit = {"config": source_id[j], "key": key, "old": old, "new": new}
        up = f"upstream dependency {top.services[x.cause_svc]}: " if x.kind == "upstream" else ""
        rec.truth.append(
            (first + j, x.inv, "cause", f"{up}config change {source_id[j]}: {key} {old} -> {new}")
        )
    for j in np.flatnonzero(role == _NEAR_MISS).tolist():
        rec.near_miss(int(inc[j]), first + j, int(t[j]), top.services[int(svc[j])])


def _config_schedule(
    rng: np.random.Generator, s: HistorySettings, top: Topology, extra: list[_Config]
) -> tuple[Ints, Ints, Ints, Ints, Ints]:
    """Background and planned config changes, in time order.

    Returns:
        Time, service, component (-1: the whole service), incident and role of each.
    """
    k = int(rng.poisson(s.config_changes_per_day * work_days(s)))
    p = top.svc_weight / top.svc_weight.sum()
    t = np.concatenate([work_times(rng, s, k), np.asarray([e[0] for e in extra], np.int64)])
    svc = np.concatenate(
        [rng.choice(s.services, k, p=p), np.asarray([e[1] for e in extra], np.int64)]
    ).astype(np.int64)
    comp_bg = np.where(
        rng.random(k) < 0.4,
        np.asarray([rng.choice(top.comps_of(int(x))) for x in svc[:k]], np.int64),
        -1,
    )
    comp = np.concatenate([comp_bg, np.asarray([e[2] for e in extra], np.int64)])
    inc = np.concatenate([np.full(k, -1), np.asarray([e[3] for e in extra])]).astype(np.int64)
    role = np.concatenate([np.zeros(k), np.asarray([e[4] for e in extra])]).astype(np.int64)
    order = np.argsort(t, kind="stable")
    return t[order], svc[order], comp[order], inc[order], role[order]


def _config_values(
    rng: np.random.Generator, inc: Ints, role: Ints, by_inv: dict[int, Incident]
) -> list[tuple[str, str, str]]:
    """Key, old and new value of each change (a culprit's come from its story)."""
    n = len(inc)
    keys = rng.integers(0, len(CONFIG_KEYS), n)
    rows: list[tuple[str, str, str]] = []
    for j in range(n):
        if role[j] == _CULPRIT:
            rows.append(by_inv[int(inc[j])].story.config[:3])
            continue
        key, values = CONFIG_KEYS[int(keys[j])]
        a, b = rng.choice(len(values), 2, replace=False).tolist()
        rows.append((key, values[a], values[b]))
    return rows
