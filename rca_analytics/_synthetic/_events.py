"""The record of a history being generated: events, truth links, noise.

Events are added in blocks and numbered in the order they are added; the truth links and
noise episodes name those rows. Also the tag combinations and each source's clock skew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._settings import HistorySettings
from ._tools import DAY, Ints, Objs, full_objects, stream_rng
from ._topology import Topology


@dataclass
class Block:
    """Events added together, one array (or list) per column."""

    ts: Ints  # true time, µs after the start
    source: Objs
    event_type: Objs
    severity: Objs
    component: Objs
    service: Objs
    source_id: Objs
    data: list[dict[str, Any]]
    tags: Ints  # codes into the tag combinations
    summary: list[str]  # what the source would have said, in one line


class Recorder:
    """The events, truth links and noise of a history while it is generated.

    Attributes:
        s: The settings.
        top: The fleet.
        span: Length of the history, in µs.
        start_us: The start, in µs after the epoch.
        skew: Seconds added to the true time of each source's events.
        blocks: The events, in the order they were added (rows count across blocks).
        n: Number of events so far.
        tag_codes: The tag combinations, by code.
        truth: ``(row, incident, role, detail)`` of each true link.
        noise: The noise episodes (``kind``, ``start``, ``end`` ... as µs and rows).
    """

    def __init__(self, s: HistorySettings, top: Topology) -> None:
        self.s = s
        self.top = top
        self.span = s.days * DAY
        start = s.start.astimezone(dt.UTC)
        self.start_us = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
            microseconds=1
        )
        self.blocks: list[Block] = []
        self.n = 0
        self.tag_codes: dict[tuple[str, ...], int] = {}
        # (global row, incident, role, detail)
        self.truth: list[tuple[int, int, str, str]] = []
        self.noise: list[dict[str, Any]] = []
        self.skew = _clock_skew(s)

    def add(
        self,
        ts: Ints,
        source: Any,
        event_type: Any,
        severity: Any,
        component: Any,
        service: Any,
        source_id: Any,
        data: list[dict[str, Any]],
        tag_parts: Sequence[Any],
    ) -> int:
        """Add events (scalars are broadcast); returns the global row of the first."""
        n = len(ts)

        def col(value: Any) -> Objs:
            if isinstance(value, np.ndarray):
                return value.astype(object)
            if isinstance(value, list):
                out = np.empty(n, object)
                out[:] = value
                return out
            return full_objects(value, n)

        block = Block(
            np.asarray(ts, np.int64),
            col(source),
            col(event_type),
            col(severity),
            col(component),
            col(service),
            col(source_id),
            data,
            self._tags([col(p) for p in tag_parts], n),
            [summary_of(str(t), d) for t, d in zip(col(event_type), data, strict=True)],
        )
        assert len(block.data) == n, "one data dict per event"
        self.blocks.append(block)
        first = self.n
        self.n += n
        return first

    def _tags(self, parts: list[Objs], n: int) -> Ints:
        """Codes of each row's tag combination (the parts that are set, in order)."""
        if not parts:
            parts = [full_objects(None, n)]
        key = np.zeros(n, np.int64)
        uniques = []
        for p in parts:
            codes, values = _factor_codes(p)
            key = key * (len(values) + 1) + (codes + 1)
            uniques.append(values)
        distinct, inverse = np.unique(key, return_inverse=True)
        mapped = np.empty(len(distinct), np.int64)
        for j, k in enumerate(distinct.tolist()):
            combo: list[str] = []
            for values in reversed(uniques):
                k, c = divmod(k, len(values) + 1)
                if c:
                    combo.append(values[c - 1])
            combo.reverse()
            mapped[j] = self.tag_codes.setdefault(tuple(dict.fromkeys(combo)), len(self.tag_codes))
        return np.asarray(mapped[inverse.ravel()], np.int64)

    def near_miss(self, inv: int, row: int, t: int, service: str) -> None:
        """Note an innocent change (event ``row``) shortly before incident ``inv``."""
        self.noise.append(
            {
                "kind": "near_miss_change",
                "start": t,
                "end": t,
                "services": service,
                "events": 1,
                "inv": inv,
                "row": row,
            }
        )


def _clock_skew(s: HistorySettings) -> dict[str, float]:
    """One offset per source with a clock of its own, in seconds."""
    skew_rng = stream_rng(s.seed, "skew")
    skew: dict[str, float] = {}
    for source in ("logs", "metrics", "traces"):
        size = s.max_clock_skew_s * skew_rng.uniform(1 / 3, 1.0)
        skew[source] = round(float(size * skew_rng.choice([-1.0, 1.0])), 3)
    return skew


def _factor_codes(values: Objs) -> tuple[Ints, list[Any]]:
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, np.int64), list(uniques)


def summary_of(event_type: str, d: dict[str, Any]) -> str:
    """The one-line summary a reader would write for a generated event of this type.

    >>> summary_of("deploy", {"service": "cart", "version": "v2.1.0", "environment": "prod",
    ...                       "status": "success"})
    'Deploy cart v2.1.0 to prod (success)'
    """
    if event_type == "commit":
        return f"{d['message']} ({d['sha'][:7]})"
    if event_type == "deploy":
        return f"Deploy {d['service']} {d['version']} to {d['environment']} ({d['status']})"
    if event_type == "config_change":
        return f"Config {d['key']}: {d['old']} -> {d['new']} ({d['environment']})"
    if event_type == "build":
        return f"{d['pipeline']} on {d['branch']}: {d['status']}"
    if event_type == "test_run":
        bad = d["failures"]
        return (
            f"{d['suite']}: {bad} of {d['tests']} failed"
            if bad
            else (f"{d['suite']}: {d['tests']} passed")
        )
    if event_type == "alert":
        return f"{d['alertname']}: {d['summary']}" + (
            " (resolved)" if d.get("status") == "resolved" else ""
        )
    if "duration_ms" in d:  # spans
        took = f"{d['duration_ms'] / 1000:.1f} s"
        if d.get("status_code") == "error":
            return f"{d['name']} failed ({d.get('status_message') or 'error'}) after {took}"
        return f"{d['name']} slow: {took}"
    text = d.get("message") or d.get("summary") or d.get("name") or event_type
    return " ".join(str(text).split())[:200]
