"""Choose the linker's default weights by evaluation, not by guess.

    .venv/bin/python bench/fit_linker.py            # train seeds 101-103, validate on 104-105

Builds labelled synthetic histories (``rca_analytics.synthetic``) for the training seeds,
computes every candidate pair's feature strengths with the linker's own candidate
pruning, and fits the weights as a logistic regression (Newton's method, a light L2
penalty; changes and everything else given equal say) for each lookback, burst window and
half-life of a small grid. For each, the intercepts are moved so that the default threshold
(0.7) gives the best F1 on the validation seeds, for symptoms and the rest and for changes
each on its own; the settings with the best mean of those two F1s win. The evaluation seed
of ``bench_linking.py`` (7) is never seen here. Prints the weights as they go into ``Weights`` in
``rca_analytics/_linker_config.py`` (rounded to 0.1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import rca_analytics as rca
from rca_analytics import _linker_features, linking
from rca_analytics.synthetic import history

TRAIN = (101, 102, 103)
VALIDATE = (104, 105)
HALF_LIVES = (30, 60, 120)  # minutes
LOOKBACKS = (12, 24, 48)  # hours
BURST_WINDOWS = (15, 30, 60)  # minutes


def labelled(store: rca.Store, truth: pd.DataFrame, config: linking.LinkerConfig) -> pd.DataFrame:
    """Feature strengths of every candidate pair, with ``y`` = 1 for true pairs."""
    ids = store.investigations(columns=["id"])["id"].tolist()
    frames = [linking.features(store, ids[i : i + 100], config) for i in range(0, len(ids), 100)]
    f = pd.concat(frames, ignore_index=True)
    true = truth[["investigation_id", "event_id"]].drop_duplicates().assign(y=1.0)
    f = f.merge(true, on=["investigation_id", "event_id"], how="left")
    f["y"] = f["y"].fillna(0.0)
    found = int(f["y"].sum())
    f.attrs["missed"] = len(true) - found  # true pairs the pruning never offers
    offered = f.loc[f["y"] == 1, ["investigation_id", "event_id"]]
    lost = true.merge(offered, how="left", indicator=True)
    lost = lost[lost["_merge"] == "left_only"]
    kinds = store.sql(
        "SELECT id AS event_id, event_type FROM events WHERE id IN (SELECT unnest(?))",
        [lost["event_id"].tolist()],
    )
    change_kinds = set(config.change_types) | set(config.code_types)
    lost_changes = int(kinds["event_type"].isin(change_kinds).sum())
    f.attrs["missed_by_family"] = {True: lost_changes, False: len(lost) - lost_changes}
    return f


def balance(frame: pd.DataFrame) -> np.ndarray:
    """Sample weights giving changes (change and code events) and everything else equal say.

    Symptoms outnumber culprits about 60 to 1; unweighted, the fit would tune the change
    features for the log floods' sake.
    """
    changes = (frame["x_change"] + frame["x_code"]).to_numpy(float) > 0
    n = len(frame)
    return np.where(changes, n / 2 / max(changes.sum(), 1), n / 2 / max((~changes).sum(), 1))


def fit(
    x: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float = 1.0, steps: int = 50
) -> np.ndarray:
    """Weighted logistic regression by Newton's method; returns [bias, weights...]."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    penalty = np.full(a.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (sw * (p - y)) + penalty * w
        hess = (a * (sw * p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def f1_at(x: np.ndarray, y: np.ndarray, w: np.ndarray, threshold: float, missed: int) -> float:
    p = 1 / (1 + np.exp(-(w[0] + x @ w[1:])))
    hit = p >= threshold
    tp = float((hit & (y == 1)).sum())
    fp = float((hit & (y == 0)).sum())
    fn = float(((~hit) & (y == 1)).sum()) + missed
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def pool(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several seeds' candidates as one frame, their misses added up."""
    out = pd.concat(frames, ignore_index=True)
    out.attrs["missed"] = sum(f.attrs["missed"] for f in frames)
    out.attrs["missed_by_family"] = {
        k: sum(f.attrs["missed_by_family"][k] for f in frames) for k in (True, False)
    }
    return out


def restrength(frame: pd.DataFrame, config: linking.LinkerConfig) -> pd.DataFrame:
    """The same candidates with the strengths of another half-life (no SQL again)."""
    out = _linker_features.strengths(frame, config)
    out.attrs.update(frame.attrs)
    return out


def calibrate(
    w: np.ndarray, val: pd.DataFrame, columns: list[str]
) -> tuple[np.ndarray, dict[str, float]]:
    """Move the intercepts so that 0.7 gives the best validation F1, per family.

    The bias for symptoms and the rest, then the change and code priors for changes; pairs
    the pruning never offers count as misses of their family.
    """
    xv, yv = val[columns].to_numpy(float), val["y"].to_numpy(float)
    changes = (val["x_change"] + val["x_code"]).to_numpy(float) > 0
    shifts = np.arange(-3.0, 3.01, 0.1)
    missed = val.attrs["missed_by_family"]

    def moved(bias: float, prior: float) -> np.ndarray:
        m = w.copy()
        m[0] += bias
        for name in ("change", "code"):
            m[1 + linking.FEATURES.index(name)] += prior
        return m

    rest = [f1_at(xv[~changes], yv[~changes], moved(b, 0), 0.7, missed[False]) for b in shifts]
    bias = float(shifts[int(np.argmax(rest))])
    ours = [f1_at(xv[changes], yv[changes], moved(bias, c), 0.7, missed[True]) for c in shifts]
    prior = float(shifts[int(np.argmax(ours))])
    moved_w = moved(bias, prior)
    return moved_w, {
        "rest": max(rest),
        "changes": max(ours),
        "all": f1_at(xv, yv, moved_w, 0.7, val.attrs["missed"]),
        "missed": val.attrs["missed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, nargs="+", default=list(TRAIN))
    parser.add_argument("--validate", type=int, nargs="+", default=list(VALIDATE))
    args = parser.parse_args()
    columns = ["x_" + f for f in linking.FEATURES]
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        truths = {}
        for seed in [*args.train, *args.validate]:
            h = history(seed=seed)
            store = rca.connect(Path(tmp) / f"seed-{seed}.duckdb")
            store.add_events(h.events)
            store.add_investigations(h.investigations)
            stores[seed], truths[seed] = store, h.truth
        best = None
        for lookback, burst in itertools.product(LOOKBACKS, BURST_WINDOWS):
            base = linking.LinkerConfig(
                lookback=dt.timedelta(hours=lookback), burst_window=dt.timedelta(minutes=burst)
            )
            train_raw = [labelled(stores[s], truths[s], base) for s in args.train]
            val_raw = pool([labelled(stores[s], truths[s], base) for s in args.validate])
            for minutes in HALF_LIVES:
                config = base.model_copy(update={"half_life": dt.timedelta(minutes=minutes)})
                train = pd.concat([restrength(f, config) for f in train_raw], ignore_index=True)
                w = fit(train[columns].to_numpy(float), train["y"].to_numpy(float), balance(train))
                val = restrength(val_raw, config)
                w, scores = calibrate(w, val, columns)
                print(
                    f"lookback {lookback:>2} h, burst_window {burst:>2} min, half_life "
                    f"{minutes:>3} min: validation F1 at 0.7 symptoms and the rest "
                    f"{scores['rest']:.3f}, changes {scores['changes']:.3f}, "
                    f"all {scores['all']:.3f}"
                )
                score = (scores["rest"] + scores["changes"]) / 2
                if best is None or score > best[0]:
                    best = (score, (lookback, burst, minutes), w, scores)
        assert best is not None
        _, (lookback, burst, minutes), w, scores = best
        print(
            f"\nlookback = {lookback} h, burst_window = {burst} min, half_life = {minutes} min "
            f"(validation F1 at 0.7: symptoms and the rest {scores['rest']:.3f}, changes "
            f"{scores['changes']:.3f}, all {scores['all']:.3f}; pairs never offered: "
            f"{scores['missed']})\n"
        )
        print(f"    bias = {w[0]:.1f}")
        for name, value in zip(linking.FEATURES, w[1:], strict=True):
            print(f"    {name} = {value:.1f}")
        for store in stores.values():
            store.close()


if __name__ == "__main__":
    main()
