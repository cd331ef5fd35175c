"""The event linker: quality on labelled synthetic histories, and speed at scale.

    .venv/bin/python bench/bench_linking.py              # quality (seed 7 + 4 more) and 1M/1000
    .venv/bin/python bench/bench_linking.py --no-scale   # quality only

Quality: a labelled history (``rca_analytics.synthetic``, default settings, evaluation
seed 7, never used to fit the weights — see ``bench/fit_linker.py``) is loaded into a
fresh store and every investigation is auto-linked at the default threshold. Reported:
precision, recall and F1 against the answer key, for all links and for causes only
(links to change and code events against the true culprits), side by side with the
peers' rules on the same data:

- DevLake: the latest production deploy before the incident (same service when the
  investigation names one) is its cause;
- Four Keys: the commits (and deploys of them) whose SHA the incident's text names.

Then the same on seeds 8-11 (spread of the figures), and the precision/recall curve.

Scale: a history of about 1,000,000 events and 1,000 investigations (all open), timed
``store.auto_link()`` over all of them, against the bare candidate join (events within
each investigation's window, counted) run in the same process. Target: under 30 s.

Figures go to stdout and to the ``linking`` section of bench/RESULTS.md (``--no-write``:
stdout only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from _results import write_section  # bench/ is the script's folder

import rca_analytics as rca
from rca_analytics import linking
from rca_analytics.synthetic import HistorySettings, history

HERE = Path(__file__).parent
SEED = 7
MORE_SEEDS = (8, 9, 10, 11)
KEY = ["investigation_id", "event_id"]


def load(path: Path, h: Any, *, all_open: bool = False) -> rca.Store:
    store = rca.connect(path)
    store.add_events(h.events, progress=False)
    invs = h.investigations
    if all_open:
        invs = invs.assign(status="open")
    store.add_investigations(invs, progress=False)
    return store


def prf(predicted: pd.DataFrame, true: pd.DataFrame) -> dict[str, float]:
    p = predicted[KEY].drop_duplicates()
    t = true[KEY].drop_duplicates()
    tp = len(p.merge(t, on=KEY))
    precision = tp / len(p) if len(p) else float("nan")
    recall = tp / len(t) if len(t) else float("nan")
    f1 = 2 * tp / (len(p) + len(t)) if len(p) + len(t) else float("nan")
    return {"precision": precision, "recall": recall, "f1": f1, "links": len(p), "true": len(t)}


def linker_links(store: rca.Store) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    for inv_id in store.investigations(columns=["id"])["id"]:
        store.auto_link(inv_id)
    seconds = time.perf_counter() - started
    links = store.sql("SELECT investigation_id, event_id FROM links WHERE method = 'linker'")
    return links, seconds


CHANGE_KINDS = set(linking.DEFAULT.change_types) | set(linking.DEFAULT.code_types)


def devlake(h: Any) -> pd.DataFrame:
    """The latest production deploy before each incident (same service when named)."""
    ev = h.events
    deploys = ev[(ev["event_type"] == "deploy")].copy()
    env = deploys["data"].map(lambda d: d.get("environment"))
    deploys = deploys[env.isin(["production", "prod"]) | env.isna()]
    out = []
    for inv in h.investigations.itertuples():
        anchor = next(
            t for t in (inv.impact_started_at, inv.detected_at, inv.created_at) if pd.notna(t)
        )
        pool = deploys[deploys["timestamp"] <= anchor]
        if isinstance(inv.service_affected, str):
            pool = pool[pool["service"] == inv.service_affected]
        if len(pool):
            out.append((inv.id, pool["id"].iloc[pool["timestamp"].to_numpy().argmax()]))
    return pd.DataFrame(out, columns=KEY)


def four_keys(h: Any) -> pd.DataFrame:
    """Commits named (by SHA or a 7+ character prefix) in the incident, and their deploys."""
    ev = h.events
    commits = ev[ev["event_type"] == "commit"][["id", "source_id"]]
    deploys = ev[ev["event_type"] == "deploy"]
    deploy_sha = deploys["data"].map(lambda d: d.get("sha"))
    by_prefix: dict[str, list[str]] = {}
    for event_id, sha in zip(commits["id"], commits["source_id"], strict=True):
        by_prefix.setdefault(str(sha)[:7], []).append(event_id)
    for event_id, sha in zip(deploys["id"], deploy_sha, strict=True):
        if isinstance(sha, str):
            by_prefix.setdefault(sha[:7], []).append(event_id)
    sha_of = dict(zip(commits["id"], commits["source_id"], strict=True))
    sha_of.update({e: s for e, s in zip(deploys["id"], deploy_sha, strict=True) if s})
    out = []
    for inv in h.investigations.itertuples():
        text = " ".join(
            str(x) for x in (inv.title, inv.description, inv.root_cause) if isinstance(x, str)
        )
        for token in set(re.findall(r"\b[0-9a-f]{7,40}\b", text)):
            for event_id in by_prefix.get(token[:7], ()):
                if str(sha_of[event_id]).startswith(token):
                    out.append((inv.id, event_id))
    return pd.DataFrame(out, columns=KEY)


def causes_only(links: pd.DataFrame, h: Any) -> pd.DataFrame:
    kinds = h.events.set_index("id")["event_type"]
    return links[links["event_id"].map(kinds).isin(CHANGE_KINDS)]


def ranking(store: rca.Store, h: Any) -> dict[str, Any]:
    """Where the first true culprit stands in suggest_links, by confidence alone and
    uncollapsed (the order before roles and floods) and as suggest_links orders it now
    (suspects first, floods collapsed), over the investigations that have a culprit."""
    causes = h.truth[h.truth["role"] == "cause"]
    before, after = [], []
    for inv_id, culprits in causes.groupby("investigation_id")["event_id"]:
        wanted = set(culprits)
        full = linking.suggest_links(store, inv_id, collapse=False)
        old = full.sort_values(["confidence", "event_id"], ascending=[False, True])
        new = linking.suggest_links(store, inv_id)
        for frame, out in ((old, before), (new, after)):
            hits = np.flatnonzero(frame["event_id"].isin(wanted).to_numpy())
            out.append(int(hits[0]) + 1 if len(hits) else None)
    return {"investigations": len(before), "before": before, "after": after}


def _ranks(positions: list[int | None]) -> str:
    found = [p for p in positions if p is not None]
    n = len(positions)
    at = {k: sum(p <= k for p in found) for k in (1, 5, 10, 20)}
    median = statistics.median(found) if found else float("nan")
    return (
        f"{at[1]}/{n} first, {at[5]}/{n} in the first 5 rows, {at[10]}/{n} in 10, "
        f"{at[20]}/{n} in 20 (median row {median:g})"
    )


def quality(seed: int, folder: Path) -> dict[str, Any]:
    h = history(seed=seed)
    store = load(folder / f"q{seed}.duckdb", h)
    links, seconds = linker_links(store)
    scores = linking.score_links(store)
    curve = linking.precision_recall(scores, h.truth).curve
    ranks = ranking(store, h) if seed == SEED else None
    store.close()
    cause_truth = h.truth[h.truth["role"] == "cause"]
    result = {
        "seed": seed,
        "history": h,
        "seconds": seconds,
        "linker": prf(links, h.truth),
        "linker_causes": prf(causes_only(links, h), cause_truth),
        "devlake": prf(devlake(h), cause_truth),
        "four_keys": prf(four_keys(h), cause_truth),
        "devlake_all": prf(devlake(h), h.truth),
        "four_keys_all": prf(four_keys(h), h.truth),
        "curve": curve,
        "ranking": ranks,
    }
    return result


def scale(folder: Path, events: int, incidents: int) -> dict[str, Any]:
    started = time.perf_counter()
    h = history(HistorySettings.scaled(events=events, incidents=incidents, seed=SEED))
    generated = time.perf_counter() - started
    store = load(folder / "scale.duckdb", h, all_open=True)
    del h
    path = store.path
    store.close()
    # The floor: the candidate window join alone, counted, in bare DuckDB.
    con = duckdb.connect(str(path), read_only=True)
    bare_started = time.perf_counter()
    config = linking.DEFAULT
    (pairs,) = con.execute(
        "SELECT count(*) FROM investigations i JOIN events e ON e.timestamp >= "
        "coalesce(i.impact_started_at, i.detected_at, i.created_at) - ? "
        "AND e.timestamp <= coalesce(i.mitigated_at, i.resolved_at, i.detected_at + ?) + ? "
        "WHERE e.component = i.component_affected OR e.service = i.service_affected "
        "OR e.event_type IN ('deploy', 'config_change')",
        [config.lookback, config.open_horizon, config.after_end],
    ).fetchone() or (0,)
    bare = time.perf_counter() - bare_started
    con.close()
    with rca.connect(path) as store:
        report = store.auto_link(progress=False)
        n_events = store.stats()["events"]
    return {
        "events": n_events,
        "investigations": report.investigations,
        "candidates": report.candidates,
        "links": report.stored,
        "seconds": report.seconds,
        "bare": bare,
        "bare_pairs": pairs,
        "generated": generated,
    }


def pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def render(q: dict[str, Any], more: list[dict[str, Any]], big: dict[str, Any] | None) -> str:
    h = q["history"]
    s = h.summary()
    lines = [
        "## Event linker\n",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, duckdb "
        f"{duckdb.__version__}. Command: `.venv/bin/python bench/bench_linking.py`.\n",
        f"Evaluation history: `rca_analytics.synthetic.history(seed={q['seed']})` (default "
        f"settings; weights fitted on seeds 101-103, validated on 104-105 by "
        f"`bench/fit_linker.py`): {s['events']:,} events, {s['investigations']} "
        f"investigations ({s['incidents_by_kind']}), {s['truth']:,} true links "
        f"({s['truth_by_role']}), noise {s['noise']}, clock skew {s['clock_skew_s']} s.\n",
        "| links at the default threshold (0.7) | precision | recall | F1 | links | true |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    rows = [
        ("auto_link, all links", q["linker"]),
        ("auto_link, causes (links to changes vs true culprits)", q["linker_causes"]),
        ("DevLake rule (latest prod deploy before), causes", q["devlake"]),
        ("Four Keys rule (commit named in the incident), causes", q["four_keys"]),
        ("DevLake rule, all links", q["devlake_all"]),
        ("Four Keys rule, all links", q["four_keys_all"]),
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {pct(r['precision'])} | {pct(r['recall'])} | {pct(r['f1'])} | "
            f"{r['links']:,} | {r['true']:,} |"
        )
    lines.append("")
    lines.append(
        "Target: F1 >= 0.8 for auto_link on seed 7: "
        + ("**met**" if q["linker"]["f1"] >= 0.8 else "**missed**")
        + f" ({q['linker']['f1']:.3f}). auto_link of the {s['investigations']} investigations one "
        f"by one took {q['seconds']:.1f} s.\n"
    )
    if more:
        f1s = [m["linker"]["f1"] for m in more]
        cf1 = [m["linker_causes"]["f1"] for m in more]
        dl = [m["devlake"]["f1"] for m in more]
        fk = [m["four_keys"]["f1"] for m in more]
        lines.append(
            f"Other seeds ({', '.join(str(m['seed']) for m in more)}): auto_link F1 all links "
            f"median {statistics.median(f1s):.3f} (min {min(f1s):.3f}); causes median "
            f"{statistics.median(cf1):.3f} (min {min(cf1):.3f}); DevLake causes median "
            f"{statistics.median(dl):.3f}; Four Keys causes median {statistics.median(fk):.3f}.\n"
        )
    if q.get("ranking"):
        r = q["ranking"]
        lines.append(
            f"Where the true culprit stands in `suggest_links` on seed {q['seed']} "
            f"({r['investigations']} investigations with a culprit): by confidence alone, "
            f"every candidate a row (the order before roles and floods): {_ranks(r['before'])}; "
            f"suspects first, floods collapsed (now): {_ranks(r['after'])}.\n"
        )
    curve = q["curve"]
    lines.append("Precision/recall curve of the linker's scores on seed 7 (all links):\n")
    lines.append("| threshold | precision | recall | F1 |")
    lines.append("| --- | --- | --- | --- |")
    for t in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        row = curve[curve["threshold"] >= t].iloc[-1] if (curve["threshold"] >= t).any() else None
        if row is not None:
            lines.append(
                f"| {t:.2f} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} |"
            )
    lines.append("")
    if big is not None:
        lines.append(
            f"Scale: `store.auto_link()` over {big['investigations']:,} open investigations "
            f"and {big['events']:,} events: **{big['seconds']:.1f} s** (target < 30 s: "
            + ("met" if big["seconds"] < 30 else "missed")
            + f"), {big['candidates']:,} candidate pairs scored, {big['links']:,} links "
            f"written. Bare DuckDB candidate join alone (counted, not scored): "
            f"{big['bare']:.2f} s for {big['bare_pairs']:,} pairs, so auto_link is "
            f"{big['seconds'] / max(big['bare'], 1e-9):.1f}x the bare join. (Generating the "
            f"history took {big['generated']:.1f} s.)\n"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--no-more-seeds", action="store_true")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=1_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    np.seterr(all="ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        q = quality(SEED, folder)
        more = [] if args.no_more_seeds else [quality(s, folder) for s in MORE_SEEDS]
        big = None if args.no_scale else scale(folder, args.events, args.incidents)
    text = render(q, more, big)
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "linking", text)


if __name__ == "__main__":
    main()
