"""The frames of a generated history, and times as aware UTC.

Events in time order, the truth links, what happened in each incident, the noise episodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ._events import Recorder
from ._incidents import Incident
from ._tools import Ints, Objs


def event_frame(rec: Recorder, ids: Objs) -> tuple[pd.DataFrame, Ints]:
    """The events in time order (ids by row), and the row of each in that order."""
    blocks = rec.blocks
    ts = np.concatenate([b.ts for b in blocks]) + rec.start_us
    order = np.argsort(ts, kind="stable")

    def cat(name: str) -> Objs:
        return np.concatenate([getattr(b, name) for b in blocks])[order]

    data = np.empty(rec.n, object)
    data[:] = [d for b in blocks for d in b.data]
    combos = sorted(rec.tag_codes, key=rec.tag_codes.__getitem__)
    tag_values = pa.array([list(c) for c in combos], pa.list_(pa.string()))
    tags = tag_values.take(pa.array(np.concatenate([b.tags for b in blocks])[order]))
    times = pd.Series(ts[order].astype("datetime64[us]")).dt.tz_localize("UTC")
    frame = pd.DataFrame(
        {
            "id": pd.array(ids[order], dtype="str"),
            "timestamp": times,
            "source": pd.array(cat("source"), dtype="str"),
            "event_type": pd.array(cat("event_type"), dtype="str"),
            "severity": pd.array(cat("severity"), dtype="str"),
            "component": pd.array(cat("component"), dtype="str"),
            "service": pd.array(cat("service"), dtype="str"),
            "source_id": pd.array(cat("source_id"), dtype="str"),
            "summary": pd.array(
                np.array([x for b in blocks for x in b.summary], object)[order], dtype="str"
            ),
            "data": pd.Series(data[order], dtype=object),
            "tags": pd.Series(pd.arrays.ArrowExtensionArray(tags)),
        }
    )
    return frame, order


def utc_times(start_us: int, values: Sequence[int | None]) -> pd.Series:
    """Aware UTC times of µs after the start (None: NaT)."""
    arr = np.array(
        [
            np.datetime64(start_us + v, "us") if v is not None else np.datetime64("NaT")
            for v in values
        ],
        dtype="datetime64[us]",
    )
    return pd.Series(arr).dt.tz_localize("UTC")


def truth_frame(rec: Recorder, ids: Objs, inv_ids: Objs, rank: Ints) -> pd.DataFrame:
    """The truth links by investigation, causes first, then in event time order."""
    if not rec.truth:
        empty = pd.array([], dtype="str")
        return pd.DataFrame(
            {"event_id": empty, "investigation_id": empty, "role": empty, "detail": empty}
        )
    row = np.asarray([t[0] for t in rec.truth], np.int64)
    inv = np.asarray([t[1] for t in rec.truth], np.int64)
    role = np.asarray([t[2] for t in rec.truth], object)
    detail = np.asarray([t[3] for t in rec.truth], object)
    order = np.lexsort((rank[row], role != "cause", inv))
    return pd.DataFrame(
        {
            "event_id": pd.array(ids[row[order]], dtype="str"),
            "investigation_id": pd.array(inv_ids[inv[order]], dtype="str"),
            "role": pd.array(role[order], dtype="str"),
            "detail": pd.array(detail[order], dtype="str"),
        }
    )


def incident_frame(rec: Recorder, incidents: list[Incident], inv_ids: Objs) -> pd.DataFrame:
    """What happened, one row per investigation."""
    top = rec.top

    def name(names: list[str], i: int) -> str | None:
        return names[i] if i >= 0 else None

    return pd.DataFrame(
        {
            "investigation_id": pd.array(inv_ids, dtype="str"),
            "kind": pd.array([i.kind for i in incidents], dtype="str"),
            "story": pd.array([i.story.key for i in incidents], dtype="str"),
            "service": pd.array([top.services[i.svc] for i in incidents], dtype="str"),
            "component": pd.array([top.components[i.comp] for i in incidents], dtype="str"),
            "cause_type": pd.array([i.cause_type for i in incidents], dtype="str"),
            "cause_service": pd.array(
                [name(top.services, i.cause_svc) for i in incidents], dtype="str"
            ),
            "cause_component": pd.array(
                [name(top.components, i.cause_comp) for i in incidents], dtype="str"
            ),
            "impact_at": utc_times(rec.start_us, [i.t_impact for i in incidents]),
            "root_cause_mode": pd.array(
                [i.mode if i.status in ("resolved", "closed") else None for i in incidents],
                dtype="str",
            ),
            "herring_sha": pd.array(
                [i.herring["sha"] if i.herring else None for i in incidents],
                dtype="str",
            ),
        }
    )


def noise_frame(rec: Recorder, ids: Objs, inv_ids: Objs) -> pd.DataFrame:
    """The noise episodes, with their times, investigations and events."""
    rows = rec.noise
    return pd.DataFrame(
        {
            "kind": pd.array([r["kind"] for r in rows], dtype="str"),
            "start": utc_times(rec.start_us, [r["start"] for r in rows]),
            "end": utc_times(rec.start_us, [r["end"] for r in rows]),
            "services": pd.array([r["services"] for r in rows], dtype="str"),
            "events": np.asarray([r["events"] for r in rows], np.int64),
            "investigation_id": pd.array(
                [inv_ids[r["inv"]] if "inv" in r else None for r in rows], dtype="str"
            ),
            "event_id": pd.array(
                [ids[r["row"]] if "row" in r else None for r in rows], dtype="str"
            ),
        }
    )
