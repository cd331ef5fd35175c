"""Why the linker linked a pair, in words.

The facts behind the features that contributed most, written as people write them
("deploy 47 min before").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._linker_config import FEATURES

# --- reasons ----------------------------------------------------------------------------


def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _count(value: Any) -> int:
    return 0 if value is None or value != value else int(value)


def _seconds(value: Any) -> float:
    return 0.0 if value is None or value != value else float(value)


def _when(seconds: float, anchor: str) -> str:
    return f"{_ago(seconds)} {'before' if seconds >= 0 else 'after'} {anchor}"


def _scope(row: Mapping[str, Any]) -> str:
    ours = row["component"] or row["service"]
    theirs = row["i_component"] or row["i_service"]
    return f"{ours!r}, not {theirs!r}"


#: The detail of each feature's reason, from the facts of the pair.
_DETAIL: dict[str, Any] = {
    "change": lambda r: f"{r['event_type']} is a change to production",
    "code": lambda r: f"{r['event_type']} is a code or CI event",
    "symptom": lambda r: f"{r['event_type']} is a symptom",
    "change_before": lambda r: f"{r['event_type']} {_when(r['before_s'], r['anchor_name'])}",
    "code_before": lambda r: f"{r['event_type']} {_when(r['before_s'], r['anchor_name'])}",
    "change_during": lambda r: (
        f"{r['event_type']} during the incident, {_when(r['before_s'], r['anchor_name'])}"
    ),
    "signal_before": lambda r: f"{r['event_type']} {_when(r['before_s'], r['anchor_name'])}",
    "signal_during": lambda r: (
        f"{r['event_type']} during the incident, {_when(r['before_s'], r['anchor_name'])}"
    ),
    "after_end": lambda r: f"{_ago(r['after_s'])} after {r['end_name']}",
    "component": lambda r: f"same component {r['component']!r}",
    "service": lambda r: f"same service {r['shared_service']!r}",
    "other_scope": _scope,
    "tags": lambda r: "shared tags " + ", ".join(sorted(r["shared_tags"])),
    "severity": lambda r: f"severity {r['severity']}",
    "reference": lambda r: f"the investigation names {r['ref_token']!r}",
    "ships_named": lambda r: f"ships {r['ship_token']!r}, which the investigation names",
    "new_errors": lambda r: (
        "error template unseen before, began "
        f"{_when(-_seconds(r['new_template_after_s']), r['anchor_name'])}, "
        f"{_count(r['new_template_events'])} events"
    ),
    "burst": lambda r: (
        f"new error {str(r['burst_template'] or '')[:60]!r} began "
        + (
            f"{_ago(_seconds(r['burst_after_s']))} later"
            if _seconds(r["burst_after_s"]) >= 0
            else f"{_ago(_seconds(r['burst_after_s']))} before it (within the clock skew)"
        )
        + f", {_count(r['burst_events'])} events"
    ),
    "shipped": lambda r: (
        f"shipped by {r['shipped_by']!r}, "
        f"{_when(_seconds(r['shipped_before_s']), r['anchor_name'])}"
    ),
    "non_production": lambda r: "a non-production environment",
}


def _reason(name: str, row: Mapping[str, Any]) -> str:
    return str(_DETAIL[name](row))


#: The facts the reasons are written from.
_FACTS = (
    "event_type",
    "before_s",
    "after_s",
    "anchor_name",
    "end_name",
    "component",
    "service",
    "i_component",
    "i_service",
    "shared_tags",
    "severity",
    "ref_token",
    "ship_token",
    "shared_service",
    "new_template_after_s",
    "new_template_events",
    "burst_template",
    "burst_after_s",
    "burst_events",
    "shipped_by",
    "shipped_before_s",
)


def reasons(frame: pd.DataFrame, contributions: np.ndarray) -> list[list[str]]:
    """Readable reasons of each pair: ``feature: detail (+weight)``, strongest first."""
    columns = [frame[c].tolist() for c in _FACTS]
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")
    shown = np.abs(contributions) >= 0.005
    out = []
    for i, values in enumerate(zip(*columns, strict=True)):
        row = dict(zip(_FACTS, values, strict=True))
        contrib = contributions[i]
        out.append(
            [
                f"{FEATURES[k]}: {_reason(FEATURES[k], row)} ({contrib[k]:+.2f})"
                for k in order[i]
                if shown[i, k]
            ]
        )
    return out
