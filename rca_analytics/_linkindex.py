"""The links of a store in memory, for timelines: event -> investigations and back.

Kept per store file (on the shared connection handle, so it serves every store on the
file) and built again after any write through a store: the file has one writer, and
every write goes through its handle. A link table larger than :data:`LINK_INDEX_MAX`
is not held; the index then asks the file each time. Its SQL runs through the
:class:`~._data.Data` of the query that asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._data import Data

__all__ = ["LINK_INDEX_MAX", "LinkIndex", "link_index"]

#: Link tables up to this size are kept in memory, per store file, between writes.
LINK_INDEX_MAX = 200_000


class LinkIndex:
    """The links of a store file: event -> investigations, investigation -> events."""

    def __init__(self, data: Data) -> None:
        [row] = data.rows("SELECT count(*) AS n FROM links")
        self.loaded = row["n"] <= LINK_INDEX_MAX
        #: event id -> (investigation id, link time in epoch microseconds), in link order
        self.by_event: dict[str, list[tuple[str, int]]] = {}
        self.by_investigation: dict[str, dict[str, float]] = {}
        self.deleted: set[str] = set()
        if not self.loaded:
            return
        links = data.arrow(
            "SELECT event_id, investigation_id, epoch_us(linked_at) AS at, confidence "
            "FROM links ORDER BY linked_at, investigation_id"
        )  # times as integers: far cheaper to read than aware datetimes
        columns = (links.column(c).to_pylist() for c in links.column_names)
        for event_id, investigation_id, at, confidence in zip(*columns, strict=True):
            self.by_event.setdefault(event_id, []).append((investigation_id, at))
            self.by_investigation.setdefault(investigation_id, {})[event_id] = confidence
        self.deleted = _deleted(data)

    def own(self, data: Data, investigation_id: str) -> dict[str, float]:
        """Event id -> confidence of the links of one investigation."""
        if self.loaded:
            return self.by_investigation.get(investigation_id, {})
        rows = data.rows(
            "SELECT event_id, confidence FROM links WHERE investigation_id = ?",
            [investigation_id],
        )
        return {r["event_id"]: r["confidence"] for r in rows}

    def of(
        self, data: Data, event_ids: Sequence[str], *, include_deleted: bool
    ) -> dict[str, tuple[list[str], int]]:
        """Event id -> (linked investigation ids in link order, latest link time).

        Link times are microseconds since the epoch.
        """
        out: dict[str, tuple[list[str], int]] = {}
        if self.loaded:
            pairs: Iterable[tuple[str, str, int]] = (
                (e, i, at) for e in event_ids for i, at in self.by_event.get(e, ())
            )
        else:
            rows = data.rows(
                "SELECT event_id, investigation_id, epoch_us(linked_at) AS at FROM links "
                "WHERE event_id IN (SELECT unnest(?::VARCHAR[])) "
                "ORDER BY linked_at, investigation_id",
                [list(event_ids)],
            )
            pairs = ((r["event_id"], r["investigation_id"], r["at"]) for r in rows)
            self.deleted = _deleted(data)
        for event_id, investigation_id, at in pairs:
            if not include_deleted and investigation_id in self.deleted:
                continue
            ids, last = out.get(event_id, ([], at))
            ids.append(investigation_id)
            out[event_id] = (ids, max(last, at))
        return out


def _deleted(data: Data) -> set[str]:
    rows = data.rows("SELECT id FROM investigations WHERE deleted_at IS NOT NULL")
    return {r["id"] for r in rows}


def link_index(data: Data) -> LinkIndex:
    """The store file's link index, built again when a store has written since."""
    handle = data.handle
    with handle.lock:
        cached = handle.cache.get("links")
        if cached is not None and cached[0] == handle.writes:
            index: LinkIndex = cached[1]
            return index
        data.connection()  # a closed store says so
        index = LinkIndex(data)
        handle.cache["links"] = (handle.writes, index)
        return index
