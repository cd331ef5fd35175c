"""Labelled synthetic incident histories, to evaluate event linkers honestly.

:func:`history` generates weeks or months of signals from a made-up fleet of services
(commits, CI builds and test runs, deploys, config changes, error and warning logs,
alerts, span errors) together with the incidents that happened in it, as the frames a
store loads (``store.add_events(h.events)``, ``store.add_investigations(
h.investigations)``), and the answer key in ``h.truth``: which events a careful reviewer
would link to which investigation, as its ``cause`` or as a ``symptom``.

The noise is the point: changes that caused nothing (also in the affected component
just before an incident, and on staging), a steady background of recurring errors,
unrelated error floods and alert storms, clock skew per source, incidents without a
change behind them, incidents caused upstream in another service, and postmortem text
that names the culprit's id only sometimes (and an innocent commit, rarely).
Everything is deterministic for a seed, ids included.

>>> from rca_analytics.synthetic import history
>>> h = history(seed=3, days=7, incidents=4)
>>> sorted(h.truth["role"].unique()), bool(h.truth["event_id"].isin(h.events["id"]).all())
(['cause', 'symptom'], True)
>>> h.events["timestamp"].dtype, history(seed=3, days=7, incidents=4).events.equals(h.events)
(datetime64[us, UTC], True)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._synthetic._generator import generate
from ._synthetic._settings import KINDS, START, HistorySettings

__all__ = ["KINDS", "START", "HistorySettings", "SyntheticHistory", "history"]


@dataclass(frozen=True, repr=False, eq=False)
class SyntheticHistory:
    """A generated history: frames to load into a store, and the answer key.

    Attributes:
        events: One row per event, columns named as the :class:`~rca_analytics.Event`
            fields (``id``, ``timestamp`` ... ``tags``), in time order; loads with
            ``store.add_events(h.events)``.
        investigations: One row per incident, columns named as the
            :class:`~rca_analytics.Investigation` fields, without ``event_ids``: the
            links are the question.
        truth: ``event_id``, ``investigation_id``, ``role`` (``cause`` or
            ``symptom``) and ``detail`` (why a reviewer would link them).
        incidents: What happened, one row per investigation (same order): ``kind``
            (one of :data:`KINDS`), ``story``, the affected and the culprit
            ``service``/``component``, ``cause_type``, ``impact_at`` (the true start,
            also when the investigation does not tell), ``root_cause_mode`` (``id``,
            ``short``, ``words``, ``red_herring``, or None while open), and the innocent
            commit named by a red herring.
        noise: The injected noise episodes: ``kind`` (``alert_storm``, ``error_flood``,
            ``near_miss_change``), ``start``, ``end``, ``services``, ``events``, and for
            near misses the ``investigation_id`` and ``event_id``.
        clock_skew: Seconds added to the true time of each source's events.
        settings: The settings used.
    """

    events: pd.DataFrame
    investigations: pd.DataFrame
    truth: pd.DataFrame
    incidents: pd.DataFrame
    noise: pd.DataFrame
    clock_skew: dict[str, float]
    settings: HistorySettings

    def summary(self) -> dict[str, Any]:
        """Counts: events by source and type, incidents by kind, truth by role, noise.

        >>> sorted(history(seed=1, days=5, incidents=2).summary())
        ['clock_skew_s', 'events', 'events_by_source', 'events_by_type', 'incidents_by_kind',
         'investigations', 'investigations_by_status', 'noise', 'truth', 'truth_by_role']
        """
        ev, inv = self.events, self.investigations

        def counts(s: pd.Series) -> dict[str, int]:
            return {str(k): int(n) for k, n in s.value_counts().sort_index().items()}

        noise = Counter(self.noise["kind"].tolist()) if len(self.noise) else Counter()
        staging = ev["data"][ev["event_type"].eq("deploy").to_numpy()].map(
            lambda d: d.get("environment") == "staging"
        )
        return {
            "events": len(ev),
            "investigations": len(inv),
            "truth": len(self.truth),
            "events_by_source": counts(ev["source"]),
            "events_by_type": counts(ev["source"] + "/" + ev["event_type"]),
            "incidents_by_kind": {k: int((self.incidents["kind"] == k).sum()) for k in KINDS},
            "investigations_by_status": counts(inv["status"]),
            "truth_by_role": counts(self.truth["role"]),
            "noise": {
                "alert_storms": noise["alert_storm"],
                "error_floods": noise["error_flood"],
                "near_miss_changes": noise["near_miss_change"],
                "staging_deploys": int(staging.sum()),
            },
            "clock_skew_s": dict(self.clock_skew),
        }

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"<SyntheticHistory seed={s.seed} {s.days} days: {len(self.events):,} events, "
            f"{len(self.investigations)} investigations, {len(self.truth):,} truth links>"
        )


def history(settings: HistorySettings | None = None, /, **changes: Any) -> SyntheticHistory:
    """Generate a labelled synthetic incident history.

    Args:
        settings: The settings (default :class:`HistorySettings()`).
        **changes: Settings to change (``history(seed=3, days=30)``).

    Returns:
        The :class:`SyntheticHistory`: events, investigations, truth and more.
    """
    s = settings if settings is not None else HistorySettings()
    if changes:
        s = s.replace(**changes)
    g = generate(s)
    return SyntheticHistory(
        events=g.events,
        investigations=g.investigations,
        truth=g.truth,
        incidents=g.incidents,
        noise=g.noise,
        clock_skew=g.clock_skew,
        settings=s,
    )
