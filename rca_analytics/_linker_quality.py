"""How good the linker is: precision, recall and F1 against labelled pairs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _arguments
from ._linker_config import KEY


@dataclass
class LinkerQuality:
    """How the linker does against reviewers' verdicts (or any labelled pairs).

    Attributes:
        min_confidence: The threshold the figures are for.
        precision: Of the labelled pairs the linker would link, the share accepted.
        recall: Of the accepted pairs, the share the linker would link.
        f1: Harmonic mean of precision and recall.
        true_positives, false_positives, false_negatives: The counts behind them.
        labelled: Labelled pairs (accepted + rejected).
        curve: precision, recall and f1 at every threshold (a DataFrame).
    """

    min_confidence: float
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    labelled: int
    curve: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"<LinkerQuality at {self.min_confidence:.2f}: precision={self.precision:.3f} "
            f"recall={self.recall:.3f} f1={self.f1:.3f} ({self.labelled} labelled pairs)>"
        )


def precision_recall(
    scores: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    min_confidence: float = 0.7,
    labelled_only: bool = False,
) -> LinkerQuality:
    """Precision, recall and F1 of scored pairs against true pairs, and the curve.

    Args:
        scores: ``investigation_id``, ``event_id``, ``confidence`` (pairs not listed
            score 0).
        truth: ``investigation_id``, ``event_id`` and optionally ``accepted`` (rows with
            ``accepted`` False are known negatives); every other row is a true pair.
        min_confidence: The threshold for the headline figures.
        labelled_only: Count only pairs in ``truth`` (reviewers' verdicts); otherwise
            every scored pair not in ``truth`` is a negative (complete labels, as in a
            synthetic history).

    >>> s = pd.DataFrame({"investigation_id": ["i"] * 3, "event_id": ["a", "b", "c"],
    ...                   "confidence": [0.9, 0.8, 0.2]})
    >>> t = pd.DataFrame({"investigation_id": ["i", "i"], "event_id": ["a", "c"]})
    >>> q = precision_recall(s, t)
    >>> q.precision, q.recall, q.true_positives
    (0.5, 0.5, 1)
    """
    threshold = _arguments.confidence("min_confidence", min_confidence)
    truth = truth.copy()
    if "accepted" not in truth:
        truth["accepted"] = True
    truth = truth[[*list(KEY), "accepted"]].drop_duplicates(list(KEY), keep="last")
    joined = scores[[*list(KEY), "confidence"]].merge(truth, on=list(KEY), how="outer")
    if labelled_only:
        joined = joined[joined["accepted"].notna()]
    conf = joined["confidence"].fillna(0.0).to_numpy(dtype=float)
    positive = joined["accepted"].fillna(False).to_numpy(dtype=bool)
    order = np.argsort(-conf, kind="stable")
    conf, positive = conf[order], positive[order]
    tp = np.cumsum(positive)
    fp = np.cumsum(~positive)
    total = int(positive.sum())
    # One point per distinct threshold (the last index of each run of equal scores).
    last = np.r_[conf[1:] != conf[:-1], True] if len(conf) else np.array([], dtype=bool)
    th, tps, fps = conf[last], tp[last], fp[last]
    precision = np.divide(tps, tps + fps, out=np.ones(len(th)), where=(tps + fps) > 0)
    recall = tps / total if total else np.zeros(len(th))
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros(len(th)),
        where=(precision + recall) > 0,
    )
    curve = pd.DataFrame({"threshold": th, "precision": precision, "recall": recall, "f1": f1})
    curve = curve[curve["threshold"] > 0].reset_index(drop=True)
    at = conf >= threshold
    t_p = int((at & positive).sum())
    f_p = int((at & ~positive).sum())
    f_n = total - t_p
    p = t_p / (t_p + f_p) if t_p + f_p else math.nan
    r = t_p / total if total else math.nan
    f = 2 * p * r / (p + r) if t_p else 0.0 if total else math.nan
    return LinkerQuality(
        min_confidence=threshold,
        precision=p,
        recall=r,
        f1=f,
        true_positives=t_p,
        false_positives=f_p,
        false_negatives=f_n,
        labelled=int(joined["accepted"].notna().sum()),
        curve=curve,
    )
