"""Import a Parquet lake (this store's, or another team's export) into a store.

Records are merged, never duplicated: events by ``(source, source_id)`` when they have
one, else by id; investigations by id. Both go through the bulk loader, so they are
validated exactly like any other input. A lake event whose source key is already
stored here under another id is the same event: the lake's links, reviews and
relations that name it are moved onto the stored id. Everything runs in one
transaction; everything not brought across is listed with its reason.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from . import _lake, _loading
from .errors import SchemaVersionError
from .models import Event, Investigation, LinkMethod, utc_now
from .schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from .store import Store

__all__ = ["LakeImport", "import_lake"]

_REJECT_COLUMNS = ["table", "row", "record", "field", "code", "message"]
_METHODS = [m.value for m in LinkMethod]


@dataclass(frozen=True)
class LakeImport:
    """What :meth:`Store.import_lake` did.

    Attributes:
        source: The lake folder.
        events: The events' :class:`~rca_analytics.LoadReport` (rows counted in the
            lake's scan order; ``record`` names the lake's id).
        investigations: The investigations' load report.
        remapped: Lake events that were already stored here under another id (same
            ``(source, source_id)``); what named them now names the stored event.
        links: ``read``, ``imported``, ``existing`` (the pair was linked here already:
            the stored link is kept), ``refused`` (a reviewer here rejected the pair),
            ``rejected`` (a side is missing, or a bad value).
        reviews: ``read``, ``imported``, ``existing`` (the pair was reviewed here:
            that verdict stays), ``conflicting`` (the lake rejects a pair that is linked
            here: the link stays), ``rejected``.
        relations: ``read``, ``imported``, ``existing``, ``rejected``.
        rejects: One row per record or link not brought across: ``table``, ``row``,
            ``record``, ``field``, ``code``, ``message``.
        seconds: Wall time.
    """

    source: Path
    events: _loading.LoadReport
    investigations: _loading.LoadReport
    remapped: int
    links: dict[str, int]
    reviews: dict[str, int]
    relations: dict[str, int]
    rejects: pd.DataFrame = field(repr=False)
    seconds: float = 0.0

    def summary(self) -> str:
        """A few lines for people: what came across, what was there, what did not."""
        lines = [f"imported lake {self.source}"]
        for name, rep in (("investigations", self.investigations), ("events", self.events)):
            lines.append(
                f"  {name}: {rep.inserted:,} new, {rep.updated:,} updated, "
                f"{rep.duplicates:,} already there, {rep.rejected_rows:,} rejected"
            )
        if self.remapped:
            lines.append(f"  {self.remapped:,} events were stored here under another id")
        for name, counts in (
            ("links", self.links),
            ("reviews", self.reviews),
            ("relations", self.relations),
        ):
            lines.append(f"  {name}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        if not self.rejects.empty:
            reasons = self.rejects.groupby(["table", "code"]).size().reset_index(name="n")
            for table, reason, n in reasons.itertuples(index=False, name=None):
                lines.append(f"  not brought across: {n:,} × {reason} in {table}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<LakeImport {self.source.name}: events {self.events.inserted:,} new, "
            f"investigations {self.investigations.inserted:,} new, links "
            f"{self.links['imported']:,} new, {len(self.rejects):,} not brought across>"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _dataset(root: Path, table: str, partition_by: list[str]) -> Any:
    import pyarrow.dataset as ds

    partitioning = "hive" if table == "events" and partition_by else None
    return ds.dataset(str(root / table), format="parquet", partitioning=partitioning)


def _batches(dataset: Any, model: Any, rows: int) -> Iterator[tuple[int, pa.Table]]:
    """The lake table's stored fields in tables of about ``rows`` rows, numbered on."""
    columns = [c for c in model.stored_fields() if c in dataset.schema.names]
    pending: list[pa.RecordBatch] = []
    size = first = 0
    for batch in dataset.to_batches(columns=columns, batch_size=rows):
        pending.append(batch)
        size += batch.num_rows
        if size >= rows:
            yield first, _plain(pa.Table.from_batches(pending))
            first, size, pending = first + size, 0, []
    if pending or first == 0:
        schema = dataset.schema
        table = (
            pa.Table.from_batches(pending)
            if pending
            else pa.schema([schema.field(c) for c in columns]).empty_table()
        )
        yield first, _plain(table)


def _plain(table: pa.Table) -> pa.Table:
    """Partition keys come back dictionary-encoded: plain strings for the loader."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def _rejects(store: Store, table: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows ``(row, record, field, code, message)`` of internal SQL, tagged with the table."""
    return [(table, *r.values()) for r in store._rows(sql)]


def import_lake(
    store: Store,
    path: str | os.PathLike[str],
    *,
    on_duplicate: _loading.OnDuplicate = "skip",
    progress: bool | None = None,
) -> LakeImport:
    """See :meth:`Store.import_lake`."""
    started = time.perf_counter()
    root = Path(path)
    manifest = _lake._read_manifest(root, missing_ok=False)
    assert manifest is not None
    found = int(manifest.get("schema_version", 0))
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{root}: the lake has schema version {found}, written by rca_analytics "
            f"{manifest.get('package_version')}; this one reads up to {SCHEMA_VERSION}: "
            "upgrade rca_analytics to import it",
            found=found,
            supported=SCHEMA_VERSION,
        )
    keys = list(manifest.get("partition_by", []))
    present = {t for t in ("events", *_lake._WHOLE) if (root / t).is_dir()}
    data = {t: _dataset(root, t, keys) for t in present}
    now = utc_now()
    empty = _loading.LoadReport(0, 0, 0, *_empty_frames())
    reports = {"investigations": empty, "events": empty}
    rejects: list[tuple[Any, ...]] = []
    links = {"read": 0, "imported": 0, "existing": 0, "refused": 0, "rejected": 0}
    reviews = {"read": 0, "imported": 0, "existing": 0, "conflicting": 0, "rejected": 0}
    relations = {"read": 0, "imported": 0, "existing": 0, "rejected": 0}
    remapped = 0
    nothing = pa.array([], pa.string())
    ids = (
        _plain(data["events"].to_table(columns=["id", "source", "source_id"]))
        if "events" in data
        else pa.table({"id": nothing, "source": nothing, "source_id": nothing})
    )
    inv_ids = (
        data["investigations"].to_table(columns=["id"])
        if "investigations" in data
        else pa.table({"id": nothing})
    )
    with store.transaction():
        with _loading._registered(store, _rca_lake_ids=ids, _rca_lake_inv_ids=inv_ids):
            # What was here before: records gaining a link from the lake then changed.
            store._execute(f"CREATE OR REPLACE TEMP TABLE _rca_before AS {_MAP_SQL}")
            store._execute(
                "CREATE OR REPLACE TEMP TABLE _rca_before_inv AS SELECT i.id FROM "
                "_rca_lake_inv_ids l JOIN investigations i ON i.id = l.id"
            )
            [row] = store._rows("SELECT count(*) AS n FROM _rca_before WHERE local_id <> lake_id")
            remapped = int(row["n"])
            for table, model in (("investigations", Investigation), ("events", Event)):
                if table in data:
                    reports[table] = _loading.load_chunks(
                        store,
                        model,
                        _batches(data[table], model, _loading.BATCH_ROWS),
                        total=data[table].count_rows(),
                        on_duplicate=on_duplicate,
                        progress=progress,
                    )
            store._execute(f"CREATE OR REPLACE TEMP TABLE _rca_id_map AS {_MAP_SQL}")
        # (temp tables made in the transaction go with it when it rolls back)
        with _loading._registered(
            store, **{f"_rca_lake_{t}": _numbered(data[t]) for t in _lake._WHOLE if t in data}
        ):
            if "link_reviews" in data:
                reviews = _import_reviews(store, rejects)
            if "links" in data:
                links = _import_links(store, rejects, now)
            if "investigation_relations" in data:
                relations = _import_relations(store, rejects, now)
        for temp in ("_rca_before", "_rca_before_inv", "_rca_id_map"):
            store._execute(f"DROP TABLE temp.{temp}")
        store._log(
            "batch",
            str(root.resolve()),
            "bulk_insert",
            {
                "import_lake": str(root.resolve()),
                "events": reports["events"].inserted,
                "investigations": reports["investigations"].inserted,
                "links": links["imported"],
                "reviews": reviews["imported"],
                "relations": relations["imported"],
            },
        )
    for table in ("investigations", "events"):
        rep = reports[table].rejected
        rejects.extend((table, *r) for r in rep.itertuples(index=False, name=None))
    frame = pd.DataFrame(rejects, columns=_REJECT_COLUMNS).astype(
        {c: "Int64" if c == "row" else "str" for c in _REJECT_COLUMNS}
    )
    return LakeImport(
        source=root,
        events=reports["events"],
        investigations=reports["investigations"],
        remapped=remapped,
        links=links,
        reviews=reviews,
        relations=relations,
        rejects=frame,
        seconds=time.perf_counter() - started,
    )


def _numbered(dataset: Any) -> pa.Table:
    """A small lake table with each row's position (``_row``) for the rejects."""
    table = dataset.to_table()
    return table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))


def _empty_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rejected = pd.DataFrame(
        {"row": pd.Series([], dtype="int64")}
        | {c: pd.Series([], dtype="str") for c in ("record", "field", "code", "message")}
    )
    dups = pd.DataFrame({"row": [], "existing_id": [], "first_row": []}).astype(
        {"row": "int64", "existing_id": "str", "first_row": "Int64"}
    )
    return rejected, dups


#: Lake event id → the id of the same event here: by source key when it has one (the
#: loader's rule), else by id. Events not here (rejected) have no row.
_MAP_SQL = """
    SELECT l.id AS lake_id,
           CASE WHEN l.source_id IS NOT NULL THEN k.id ELSE i.id END AS local_id
    FROM _rca_lake_ids l
    LEFT JOIN events k ON l.source_id IS NOT NULL AND k.source = l.source::VARCHAR
         AND k.source_id = l.source_id
    LEFT JOIN events i ON i.id = l.id
    WHERE CASE WHEN l.source_id IS NOT NULL THEN k.id ELSE i.id END IS NOT NULL
"""

#: A lake pair (``x.event_id``, ``x.investigation_id``) with both sides mapped here.
_PAIRS = """
    SELECT x.*, m.local_id AS here_event,
           inv.id AS here_investigation
    FROM {table} x
    LEFT JOIN _rca_id_map m ON m.lake_id = x.event_id
    LEFT JOIN investigations inv ON inv.id = x.investigation_id
"""

#: Why a pair cannot come across (NULL when it can).
_PAIR_PROBLEM = """
    CASE
        WHEN here_event IS NULL THEN
            'event ' || coalesce('''' || event_id || '''', 'NULL') || ' is not here'
        WHEN here_investigation IS NULL THEN 'investigation '
            || coalesce('''' || investigation_id || '''', 'NULL') || ' is not here'
        WHEN confidence IS NULL OR NOT confidence BETWEEN 0 AND 1
            THEN 'confidence must be between 0 and 1'
        WHEN method IS NULL OR method NOT IN ({methods})
            THEN 'method must be one of {names}'
        {extra}
    END
"""


def _problem(extra: str = "") -> str:
    return _PAIR_PROBLEM.format(
        methods=", ".join(f"'{m}'" for m in _METHODS), names=", ".join(_METHODS), extra=extra
    )


def _checked(store: Store, table: str, name: str, extra: str = "") -> list[tuple[Any, ...]]:
    """Stage a lake link table mapped onto ids here; return its bad rows."""
    store._execute(
        f"CREATE OR REPLACE TEMP TABLE _rca_pairs AS SELECT *, {_problem(extra)} AS problem "  # noqa: S608
        f"FROM ({_PAIRS.format(table=table)})"
    )
    return _rejects(
        store,
        name,
        "SELECT _row, event_id || ' -> ' || investigation_id AS record, NULL AS field, "
        "CASE WHEN here_event IS NULL OR here_investigation IS NULL THEN 'dangling_link' "
        "ELSE 'invalid_value' END AS code, problem AS message "
        "FROM _rca_pairs WHERE problem IS NOT NULL ORDER BY _row",
    )


def _import_reviews(store: Store, rejects: list[tuple[Any, ...]]) -> dict[str, int]:
    bad = _checked(
        store,
        "_rca_lake_link_reviews",
        "link_reviews",
        "WHEN accepted IS NULL THEN 'accepted must be true or false' "
        "WHEN reviewed_at IS NULL THEN 'reviewed_at is missing'",
    )
    rejects.extend(bad)
    # One verdict per pair (the latest, should the lake name a pair twice after remapping).
    store._execute(
        "CREATE OR REPLACE TEMP TABLE _rca_good AS SELECT * FROM _rca_pairs "
        "WHERE problem IS NULL QUALIFY row_number() OVER (PARTITION BY here_event, "
        "here_investigation ORDER BY reviewed_at DESC, _row) = 1"
    )
    [counts] = store._rows(
        "SELECT (SELECT count(*) FROM _rca_pairs) AS read, "
        "(SELECT count(*) FROM _rca_good g SEMI JOIN link_reviews r "
        " ON r.event_id = g.here_event AND r.investigation_id = g.here_investigation) "
        "AS existing"
    )
    conflicting = _rejects(
        store,
        "link_reviews",
        "SELECT g._row, g.event_id || ' -> ' || g.investigation_id AS record, "
        "NULL AS field, 'review_conflicts_link' AS code, "
        "'the lake rejects a link that is kept here (method ' || l.method || "
        "'); review it here with label_link()' AS message "
        "FROM _rca_good g JOIN links l ON l.event_id = g.here_event "
        "AND l.investigation_id = g.here_investigation "
        "WHERE NOT g.accepted AND NOT EXISTS (SELECT 1 FROM link_reviews r "
        "WHERE r.event_id = g.here_event AND r.investigation_id = g.here_investigation) "
        "ORDER BY g._row",
    )
    rejects.extend(conflicting)
    [before] = store._rows("SELECT count(*) AS n FROM link_reviews")
    store._execute(
        "INSERT INTO link_reviews (event_id, investigation_id, accepted, reviewed_at, "
        "reviewed_by, note, confidence, method, reasons) "
        "SELECT here_event, here_investigation, accepted, reviewed_at, reviewed_by, note, "
        "confidence, method, reasons FROM _rca_good g "
        "WHERE NOT EXISTS (SELECT 1 FROM link_reviews r WHERE r.event_id = g.here_event "
        "AND r.investigation_id = g.here_investigation) "
        "AND (g.accepted OR NOT EXISTS (SELECT 1 FROM links l "
        "WHERE l.event_id = g.here_event AND l.investigation_id = g.here_investigation))"
    )
    [after] = store._rows("SELECT count(*) AS n FROM link_reviews")
    store._execute("DROP TABLE temp._rca_good")
    store._execute("DROP TABLE temp._rca_pairs")
    existing = int(counts["existing"])
    return {
        "read": int(counts["read"]),
        "imported": int(after["n"]) - int(before["n"]),
        "existing": existing,
        "conflicting": len(conflicting),
        "rejected": len(bad),
    }


def _import_links(store: Store, rejects: list[tuple[Any, ...]], now: Any) -> dict[str, int]:
    bad = _checked(
        store,
        "_rca_lake_links",
        "links",
        "WHEN linked_at IS NULL THEN 'linked_at is missing'",
    )
    rejects.extend(bad)
    store._execute(
        "CREATE OR REPLACE TEMP TABLE _rca_good AS SELECT * FROM _rca_pairs "
        "WHERE problem IS NULL QUALIFY row_number() OVER (PARTITION BY here_event, "
        "here_investigation ORDER BY linked_at, _row) = 1"
    )
    [counts] = store._rows(
        "SELECT (SELECT count(*) FROM _rca_pairs) AS read, "
        "(SELECT count(*) FROM _rca_good) AS good, "
        "(SELECT count(*) FROM _rca_good g SEMI JOIN links l "
        " ON l.event_id = g.here_event AND l.investigation_id = g.here_investigation) "
        "AS existing"
    )
    refused = _rejects(
        store,
        "links",
        "SELECT g._row, g.event_id || ' -> ' || g.investigation_id AS record, "
        "NULL AS field, 'link_rejected_by_review' AS code, "
        "'a reviewer rejected this pair' || coalesce(' (' || r.reviewed_by || ')', '') "
        "|| '; accept it with label_link() to link it' AS message "
        "FROM _rca_good g JOIN link_reviews r ON r.event_id = g.here_event "
        "AND r.investigation_id = g.here_investigation AND NOT r.accepted "
        "WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.event_id = g.here_event "
        "AND l.investigation_id = g.here_investigation) ORDER BY g._row",
    )
    rejects.extend(refused)
    store._execute(
        "CREATE OR REPLACE TEMP TABLE _rca_new_links AS SELECT here_event AS event_id, "
        "here_investigation AS investigation_id, confidence, method, reasons, linked_at "
        "FROM _rca_good g WHERE NOT EXISTS (SELECT 1 FROM links l "
        "WHERE l.event_id = g.here_event AND l.investigation_id = g.here_investigation) "
        "AND NOT EXISTS (SELECT 1 FROM link_reviews r WHERE NOT r.accepted "
        "AND r.event_id = g.here_event AND r.investigation_id = g.here_investigation)"
    )
    store._execute(
        "INSERT INTO links (event_id, investigation_id, confidence, method, reasons, "
        "linked_at) SELECT event_id, investigation_id, confidence, method, reasons, "
        "linked_at FROM _rca_new_links"
    )
    # Records that were here before and gained a link changed (their lists did).
    store._execute(
        "UPDATE events SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, $now) "
        "WHERE id IN (SELECT n.event_id FROM _rca_new_links n "
        "SEMI JOIN _rca_before b ON b.local_id = n.event_id)",
        {"now": now},
    )
    store._execute(
        "UPDATE investigations SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, "
        "$now) WHERE id IN (SELECT n.investigation_id FROM _rca_new_links n "
        "SEMI JOIN _rca_before_inv b ON b.id = n.investigation_id)",
        {"now": now},
    )
    [new] = store._rows("SELECT count(*) AS n FROM _rca_new_links")
    for temp in ("_rca_new_links", "_rca_good", "_rca_pairs"):
        store._execute(f"DROP TABLE temp.{temp}")
    return {
        "read": int(counts["read"]),
        "imported": int(new["n"]),
        "existing": int(counts["existing"]),
        "refused": len(refused),
        "rejected": len(bad),
    }


def _import_relations(store: Store, rejects: list[tuple[Any, ...]], now: Any) -> dict[str, int]:
    store._execute(
        "CREATE OR REPLACE TEMP TABLE _rca_pairs AS SELECT x.*, "
        "least(a.id, b.id) AS lo, "
        "greatest(a.id, b.id) AS hi, CASE "
        "WHEN a.id IS NULL THEN 'investigation ' || coalesce('''' || x.investigation_id "
        "|| '''', 'NULL') || ' is not here' "
        "WHEN b.id IS NULL THEN 'investigation ' || coalesce('''' || "
        "x.related_investigation_id || '''', 'NULL') || ' is not here' "
        "WHEN a.id = b.id THEN 'an investigation cannot be related to itself' "
        "END AS problem FROM _rca_lake_investigation_relations x "
        "LEFT JOIN investigations a ON a.id = x.investigation_id "
        "LEFT JOIN investigations b ON b.id = x.related_investigation_id"
    )
    bad = _rejects(
        store,
        "investigation_relations",
        "SELECT _row, investigation_id || ' ~ ' || related_investigation_id AS record, "
        "NULL AS field, 'dangling_relation' AS code, problem AS message "
        "FROM _rca_pairs WHERE problem IS NOT NULL ORDER BY _row",
    )
    rejects.extend(bad)
    [counts] = store._rows(
        "SELECT count(*) AS read, count(*) FILTER (WHERE problem IS NULL AND EXISTS ("
        "SELECT 1 FROM investigation_relations r WHERE r.investigation_id = p.lo "
        "AND r.related_investigation_id = p.hi)) AS existing FROM _rca_pairs p"
    )
    [new] = store._rows(
        "SELECT count(DISTINCT (lo, hi)) AS n FROM _rca_pairs p WHERE problem IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM investigation_relations r "
        "WHERE r.investigation_id = p.lo AND r.related_investigation_id = p.hi)"
    )
    store._execute(
        "INSERT INTO investigation_relations (investigation_id, related_investigation_id, "
        "related_at) SELECT lo, hi, coalesce(min(related_at), $now) FROM _rca_pairs p "
        "WHERE problem IS NULL AND NOT EXISTS (SELECT 1 FROM investigation_relations r "
        "WHERE r.investigation_id = p.lo AND r.related_investigation_id = p.hi) "
        "GROUP BY lo, hi",
        {"now": now},
    )
    store._execute("DROP TABLE temp._rca_pairs")
    return {
        "read": int(counts["read"]),
        "imported": int(new["n"]),
        "existing": int(counts["existing"]),
        "rejected": len(bad),
    }
