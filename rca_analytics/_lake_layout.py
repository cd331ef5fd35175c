"""The event partitioning of a lake: ``partition_by="auto"`` measures the store and chooses.

What an export is partitioned by: the caller's keys, the lake's own (kept while its
files stay near the target size, or as the caller first gave them), or the finest
layout whose median event file reaches :data:`TARGET_FILE_BYTES` of Parquet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ._data import Data
from ._lake_disk import PARTITIONS, layout_name, partition_keys, select_columns
from .models import Event

__all__ = ["AUTO_LAYOUTS", "TARGET_FILE_BYTES", "Layout", "choose_layout", "pick_layout"]

#: ``partition_by="auto"`` wants each event file to hold at least this much Parquet.
TARGET_FILE_BYTES = 32 * 2**20
#: The layouts ``auto`` chooses among, finest first (a day is the finest it goes).
AUTO_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("source", "day"),
    ("day",),
    ("source", "month"),
    ("month",),
    (),
)
#: Events written to measure their Parquet size when choosing a layout.
_SAMPLE_ROWS = 50_000


@dataclass(frozen=True)
class Layout:
    """The event partitioning ``partition_by="auto"`` chose, and why.

    Attributes:
        partition_by: The partition keys.
        reason: One sentence for people.
        bytes_per_event: Parquet bytes per event, measured on a sample of the store.
        median_file_bytes: The expected median event file per candidate layout
            (``"source/day"``, ..., ``"none"``).
    """

    partition_by: tuple[str, ...]
    reason: str
    bytes_per_event: float
    median_file_bytes: dict[str, float]


def choose_layout(data: Data, current: Sequence[str] | None = None) -> Layout:
    """The finest layout whose median event file holds at least 32 MB of Parquet.

    Per day at the finest, no partitions when even a month is smaller (one file, whose
    row groups in time order still let engines skip by time). The estimate is each
    candidate's median events per partition times the Parquet size of a sample of the
    store's events (a reservoir sample). An existing lake's layout (``current``) is kept
    while its median file stays within a factor of two of the target, so a lake near a
    threshold is not rewritten back and forth.
    """
    import pyarrow.parquet as pq

    total = int(data.rows("SELECT count(*) AS n FROM events")[0]["n"])
    sample = data.arrow(
        f"SELECT {select_columns(Event)} FROM events "  # noqa: S608 - constants
        f"USING SAMPLE reservoir({_SAMPLE_ROWS} ROWS) REPEATABLE (7)"
    )
    per_event = 0.0
    if sample.num_rows:
        sink = pa.BufferOutputStream()
        pq.write_table(sample, sink)
        per_event = sink.getvalue().size / sample.num_rows
    medians: dict[str, float] = {}
    for keys in AUTO_LAYOUTS:
        if keys:
            group = ", ".join(PARTITIONS[k] for k in keys)
            [row] = data.rows(
                f"SELECT coalesce(median(n), 0) AS m FROM "  # noqa: S608 - whitelisted keys
                f"(SELECT count(*) AS n FROM events GROUP BY {group})"
            )
            medians[layout_name(keys)] = float(row["m"]) * per_event
        else:
            medians["none"] = total * per_event
    target = TARGET_FILE_BYTES
    goal = f"{target / 2**20:.0f} MB"
    chosen = next((k for k in AUTO_LAYOUTS if medians[layout_name(k)] >= target), ())
    mb = medians[layout_name(chosen)] / 2**20
    reason = (
        f"the finest layout whose median event file reaches {goal} ({mb:.0f} MB)"
        if chosen
        else f"even a month is below {goal}, so one file ({mb:.1f} MB)"
    )
    if current is not None and tuple(current) in AUTO_LAYOUTS and tuple(current) != chosen:
        kept = medians[layout_name(current)]
        if target / 2 <= kept <= 2 * target:
            chosen = tuple(current)
            reason = (
                f"the lake's layout, kept: its median file ({kept / 2**20:.0f} MB) is within "
                f"a factor of two of the {goal} target"
            )
    return Layout(tuple(chosen), reason, per_event, medians)


def pick_layout(
    data: Data, manifest: dict[str, Any] | None, partition_by: str | Sequence[str]
) -> tuple[tuple[str, ...], str, Layout | None]:
    """The event partition keys, why those, and what ``"auto"`` measured (if it chose)."""
    chosen_by = (manifest or {}).get("layout", {}).get("chosen_by")
    if partition_by == "auto" and manifest is not None and chosen_by == "caller":
        return (
            partition_keys(manifest.get("partition_by", [])),
            "the lake's, as given by the caller when it was first written",
            None,
        )
    if partition_by == "auto":
        layout = choose_layout(data, manifest.get("partition_by") if manifest else None)
        return layout.partition_by, layout.reason, layout
    return partition_keys(partition_by), "given by the caller", None
