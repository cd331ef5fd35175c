"""The order a synthetic history is generated in.

Fleet, incidents, changes, background signals, noise, the incidents' symptoms, then the
frames.

The order matters: events are numbered as they are added, and ties in time keep that
order. Each part draws from random streams of its own (see ``_tools.stream_rng``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ._changes import changes
from ._events import Recorder
from ._frames import event_frame, incident_frame, noise_frame, truth_frame
from ._incidents import plan_incidents
from ._postmortem import investigations
from ._settings import HistorySettings
from ._signals import alert_storms, alerts, error_floods, logs, spans
from ._symptoms import symptoms
from ._tools import random_uuids, stream_rng
from ._topology import build_topology


class Generated(NamedTuple):
    """The frames of a generated history (see ``SyntheticHistory``)."""

    events: pd.DataFrame
    investigations: pd.DataFrame
    truth: pd.DataFrame
    incidents: pd.DataFrame
    noise: pd.DataFrame
    clock_skew: dict[str, float]


def generate(s: HistorySettings) -> Generated:
    """Generate the history of settings ``s``."""
    rec = Recorder(s, build_topology(s))
    incidents = plan_incidents(s, rec.top)
    commits = changes(rec, incidents)
    logs(rec)
    error_floods(rec)
    alerts(rec)
    alert_storms(rec)
    spans(rec)
    for inc in incidents:
        symptoms(rec, inc)
    ids = random_uuids(stream_rng(s.seed, "event-ids"), rec.n)
    events, order = event_frame(rec, ids)
    inv_ids = random_uuids(stream_rng(s.seed, "investigation-ids"), len(incidents))
    investigation_frame = investigations(rec, commits, incidents, inv_ids)
    rank = np.empty(rec.n, np.int64)
    rank[order] = np.arange(rec.n)
    return Generated(
        events=events,
        investigations=investigation_frame,
        truth=truth_frame(rec, ids, inv_ids, rank),
        incidents=incident_frame(rec, incidents, inv_ids),
        noise=noise_frame(rec, ids, inv_ids),
        clock_skew=dict(rec.skew),
    )
