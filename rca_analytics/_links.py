"""The one link writer: every way a link comes to be goes through :func:`write_links`.

``store.link`` and a reviewer's acceptance, :func:`~rca_analytics.linking.auto_link`,
loads and readers with ``investigation_ids`` / ``event_ids``, ``import_sqlite`` and
``import_lake`` all hand their pairs to it, so the rules live here once:

=====================  ===========================================================
who links              a stored link or verdict on the same pair
=====================  ===========================================================
``"person"``           replaces the stored link (its confidence, method, reasons);
                       overrides a reviewer's rejection (the rejection is removed,
                       the history keeps it)
``"linker"``           replaces only a link the linker made, on a pair no reviewer
                       judged; never links a pair a reviewer judged
``"bulk"``             adds missing links only; a stored link is kept as it is
=====================  ===========================================================

- A reviewer's rejection holds for everyone but a person (``"refused"``).
- A replaced link keeps the time it was first made unless the caller gives one.
- Both records' ``updated_at`` move when a link is made or changed, except a record
  the same operation has just written (the caller says which, per row).
- One history entry per link on each of its two records (action ``link``, the link
  as stored, ``replaced`` with what it replaced, and the caller's ``extra``).

Removing a link (:func:`remove_link`) lives here too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from ._data import Data, Params, jsonable
from .models import Link, utc_now

__all__ = [
    "INPUT_SCHEMA",
    "OUTCOMES",
    "LinkWrite",
    "Who",
    "input_table",
    "remove_link",
    "write_links",
]

#: Who makes the links: decides which stored link or verdict wins (module docs).
Who = Literal["person", "linker", "bulk"]
#: What happened to each input pair.
OUTCOMES = ("linked", "replaced", "unchanged", "kept", "refused", "repeated")

#: The columns :func:`write_links` reads. ``touch_*``: move that record's
#: ``updated_at`` (False for a record the same operation has just written);
#: ``row``: the caller's position of the pair (the first of repeated pairs wins).
INPUT_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("event_id", pa.string()),
        ("investigation_id", pa.string()),
        ("confidence", pa.float64()),
        ("method", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("linked_at", pa.timestamp("us", tz="UTC")),
        ("touch_event", pa.bool_()),
        ("touch_investigation", pa.bool_()),
    ]
)


def _iso(column: str) -> str:
    """SQL for a time as the models write it in JSON (no fraction when it is zero)."""
    return f"regexp_replace(strftime({column}, '%Y-%m-%dT%H:%M:%S.%fZ'), '\\.000000Z$', 'Z')"


_PLAN = """
CREATE OR REPLACE TEMP TABLE _rca_link_plan AS
SELECT n."row", n.event_id, n.investigation_id, n.confidence, n.method, n.reasons,
  CASE WHEN l.event_id IS NOT NULL AND $keep_time THEN l.linked_at ELSE n.linked_at END
    AS linked_at,
  n.touch_event, n.touch_investigation,
  l.confidence AS old_confidence, l.method AS old_method, l.reasons AS old_reasons,
  l.linked_at AS old_linked_at, r.reviewed_by,
  CASE
    WHEN n._nth > 1 THEN 'repeated'
    WHEN r.event_id IS NOT NULL AND ($who = 'linker' OR (NOT r.accepted AND $who <> 'person'))
      THEN 'refused'
    WHEN l.event_id IS NULL THEN 'linked'
    WHEN l.confidence = n.confidence AND l.method = n.method AND l.reasons = n.reasons
      THEN 'unchanged'
    WHEN $who = 'person' OR ($who = 'linker' AND l.method = 'linker') THEN 'replaced'
    ELSE 'kept'
  END AS outcome,
  r.event_id IS NOT NULL AND NOT r.accepted AS was_rejected
FROM (
  SELECT *, row_number() OVER (PARTITION BY event_id, investigation_id ORDER BY "row") AS _nth
  FROM _rca_link_input
) n
LEFT JOIN links l ON l.event_id = n.event_id AND l.investigation_id = n.investigation_id
LEFT JOIN link_reviews r ON r.event_id = n.event_id AND r.investigation_id = n.investigation_id
"""

_WRITTEN = "outcome IN ('linked', 'replaced')"

_DETAIL = f"""json_merge_patch(json_merge_patch(
  json_object('event_id', event_id, 'investigation_id', investigation_id,
    'confidence', confidence, 'method', method, 'reasons', reasons,
    'linked_at', {_iso("linked_at")}),
  CASE WHEN outcome = 'replaced' THEN json_object('replaced', json_object(
    'event_id', event_id, 'investigation_id', investigation_id,
    'confidence', old_confidence, 'method', old_method, 'reasons', old_reasons,
    'linked_at', {_iso("old_linked_at")})) ELSE '{{}}'::JSON END),
  $extra::JSON)"""

_HISTORY = f"""
INSERT INTO changes ("at", entity, record_id, action, detail)
SELECT $now, 'event', event_id, 'link', {_DETAIL} FROM _rca_link_plan WHERE {_WRITTEN}
UNION ALL
SELECT $now, 'investigation', investigation_id, 'link', {_DETAIL} FROM _rca_link_plan
WHERE {_WRITTEN}
"""  # noqa: S608 - constants only


@dataclass(frozen=True)
class LinkWrite:
    """What :func:`write_links` did.

    Attributes:
        counts: Input pairs by outcome (every one of :data:`OUTCOMES`).
        rows: One row per input pair: ``row``, ``event_id``, ``investigation_id``,
            ``confidence``, ``reasons``, ``outcome`` and ``reviewed_by`` (the reviewer
            whose rejection refused it).
    """

    counts: dict[str, int]
    rows: pd.DataFrame

    @property
    def written(self) -> int:
        """Links made or changed."""
        return self.counts["linked"] + self.counts["replaced"]


def input_table(
    pairs: pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    method: str,
    confidence: float = 1.0,
    reasons: list[str] | None = None,
    linked_at: Any = None,
    touch_event: bool = True,
    touch_investigation: bool = True,
) -> pa.Table:
    """The writer's input table from ``pairs``.

    ``pairs`` has ``event_id``, ``investigation_id`` and any of the other input
    columns; the missing ones take the values given here.
    """
    frame = pd.DataFrame(pairs)
    n = len(frame)
    now = utc_now() if linked_at is None else linked_at
    defaults: dict[str, Any] = {
        "row": range(n),
        "confidence": [confidence] * n,
        "method": [method] * n,
        "reasons": [list(reasons or [])] * n,
        "linked_at": [now] * n,
        "touch_event": [touch_event] * n,
        "touch_investigation": [touch_investigation] * n,
    }
    columns = {
        f.name: pa.array(list(frame[f.name]) if f.name in frame else list(defaults[f.name]), f.type)
        for f in INPUT_SCHEMA
    }
    return pa.table(columns, schema=INPUT_SCHEMA)


def write_links(
    data: Data,
    pairs: pa.Table | str,
    *,
    who: Who,
    params: Params | None = None,
    keep_time: bool = True,
    extra: Mapping[str, Any] | None = None,
    now: Any = None,
) -> LinkWrite:
    """Make or change the links ``pairs`` names, by the rules in the module docs.

    Runs in the caller's write transaction. The records must exist (callers check).

    Args:
        data: The store's data layer.
        pairs: An Arrow table with :data:`INPUT_SCHEMA`'s columns, or the text of a
            SELECT (over the caller's temporary tables) that gives them.
        params: The SELECT's parameters.
        who: Who links: ``"person"``, ``"linker"`` or ``"bulk"``.
        keep_time: A replaced link keeps the time it was first made.
        extra: Added to every history entry's detail.
        now: The time of the history entries and of ``updated_at`` (default: now).
    """
    now = utc_now() if now is None else now
    if isinstance(pairs, str):
        data.execute(f"CREATE OR REPLACE TEMP TABLE _rca_link_input AS {pairs}", params or ())
    else:
        with data.registered(_rca_link_arrow=pairs.select(INPUT_SCHEMA.names)):
            data.execute("CREATE OR REPLACE TEMP TABLE _rca_link_input AS FROM _rca_link_arrow")
    data.execute(_PLAN, {"who": who, "keep_time": keep_time})
    if who == "person":  # a person's link ends a reviewer's rejection (the history keeps it)
        data.execute(
            "DELETE FROM link_reviews USING _rca_link_plan p WHERE p.was_rejected "
            "AND p.outcome IN ('linked', 'replaced') AND link_reviews.event_id = p.event_id "
            "AND link_reviews.investigation_id = p.investigation_id"
        )
    data.execute(
        "DELETE FROM links USING _rca_link_plan p WHERE p.outcome = 'replaced' "
        "AND links.event_id = p.event_id AND links.investigation_id = p.investigation_id"
    )
    data.execute(
        "INSERT INTO links (event_id, investigation_id, confidence, method, reasons, "
        "linked_at) SELECT event_id, investigation_id, confidence, method, reasons, "
        "linked_at FROM _rca_link_plan WHERE outcome IN ('linked', 'replaced')"
    )
    data.execute(_HISTORY, {"now": now, "extra": json.dumps(jsonable(dict(extra or {})))})
    for table, column, touch in (
        ("events", "event_id", "touch_event"),
        ("investigations", "investigation_id", "touch_investigation"),
    ):
        data.execute(
            f"UPDATE {table} SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, "  # noqa: S608 - constants
            f"$now) WHERE id IN (SELECT {column} FROM _rca_link_plan WHERE {_WRITTEN} "
            f"AND {touch})",
            {"now": now},
        )
    rows = data.frame(
        'SELECT "row", event_id, investigation_id, confidence, reasons, outcome, '
        "CASE WHEN outcome = 'refused' THEN reviewed_by END AS reviewed_by "
        'FROM _rca_link_plan ORDER BY "row"'
    )
    data.execute("DROP TABLE temp._rca_link_plan")
    data.execute("DROP TABLE temp._rca_link_input")
    found = rows["outcome"].value_counts()
    return LinkWrite({o: int(found.get(o, 0)) for o in OUTCOMES}, rows)


def remove_link(
    data: Data, event_id: str, investigation_id: str, *, extra: Mapping[str, Any] | None = None
) -> Link | None:
    """Remove one link (history on both records, both ``updated_at`` moved).

    Returns the removed link, or None when the pair was not linked.
    """
    key = [event_id, investigation_id]
    cols = ", ".join(data.column(Link, c) for c in Link.stored_fields())
    found = data.rows(
        f"SELECT {cols} FROM links WHERE event_id = ? AND investigation_id = ?",  # noqa: S608
        key,
    )
    if not found:
        return None
    old = Link.model_validate(found[0])
    data.execute("DELETE FROM links WHERE event_id = ? AND investigation_id = ?", key)
    detail = {**link_json(old), **(extra or {})}
    data.log("event", event_id, "unlink", detail)
    data.log("investigation", investigation_id, "unlink", detail)
    now = utc_now()
    for table in ("events", "investigations"):
        data.execute(
            f"UPDATE {table} SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, ?) "  # noqa: S608 - constants
            "WHERE id = ?",
            [now, key[0] if table == "events" else key[1]],
        )
    return old


def link_json(link: Link) -> dict[str, Any]:
    """A link as the history records it (its stored fields)."""
    return link.model_dump(mode="json", exclude=set(Link.derived_fields))
