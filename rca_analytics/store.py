"""The store: one DuckDB file holding events, investigations and their links.

>>> import rca_analytics as rca
>>> with rca.connect(":memory:") as store:
...     ev = store.add_event({"source": "git", "event_type": "commit", "severity": "info",
...                           "timestamp": "2026-03-01T10:02:00+01:00", "source_id": "9fceb02"})
...     inv = store.add_investigation({"title": "Checkout 500s", "priority": "p0"})
...     _ = store.link(ev.id, inv.id, confidence=0.9, reasons=["deploy 47 min before"])
...     store.get_investigation(inv.id).event_ids == [ev.id]
True
"""

from __future__ import annotations

import datetime as dt
import html
import os
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from . import (
    _aliases,
    _connection,
    _data,
    _importing,
    _ingesting,
    _lake,
    _lake_import,
    _lake_read,
    _loading,
    _readsql,
    _records,
    linking,
    queries,
)
from ._connection import MEMORY
from ._importing import ImportReport
from ._ingesting import IngestReport, Paths
from ._loading import LoadReport, OnDuplicate
from ._version import __version__
from .linking import AutoLinkReport, LinkerConfig, LinkerQuality
from .models import (
    Change,
    Event,
    Investigation,
    Link,
    LinkMethod,
    Record,
    Review,
)
from .schema import quote

__all__ = ["Store", "connect", "connect_lake", "default_path"]

R = TypeVar("R", bound=Record)
#: The two kinds of record with ids, lifecycles and histories.
E = TypeVar("E", Event, Investigation)

#: Environment variable naming the default store file.
ENV_VAR = "RCA_DB"
DEFAULT_FILE = "rca.duckdb"


def default_path() -> str:
    """The store used when ``connect()`` gets no path: ``$RCA_DB``, else ``./rca.duckdb``."""
    return os.environ.get(ENV_VAR) or DEFAULT_FILE


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    backup: bool = False,
    wait: float = 0.0,
    allow_dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
    external_access: bool = False,
) -> Store:
    """Open (or create) a store.

    Args:
        path: The DuckDB file. ``None`` uses ``$RCA_DB``, else ``./rca.duckdb``;
            ``":memory:"`` keeps everything in memory.
        read_only: Open an existing file for reading only. Several processes may
            read a file at once; while one process writes, DuckDB lets no other
            process open it (in the same process, stores share the connection).
            A read-only open of a file written by an older rca_analytics leaves it
            untouched; a writable open upgrades it in place, in one transaction.
        backup: Before upgrading an older file, copy it to ``<file>.v<N>.bak``.
        wait: Seconds to keep trying while another process holds the file (for
            scripts that run beside a notebook); 0 fails at once.
        allow_dirs: Folders that SQL run through the store (``store.sql``, exports)
            may read and write. By default it may touch no file but its own, fetch
            no URL, attach no database and load no extension.
        external_access: Lift that restriction altogether (you trust every query).

    Raises:
        StoreLocked: Another process holds the file (``.pid`` names it).
        CorruptStore: The file is not a readable rca_analytics store.
        SchemaVersionError: The file was written by a newer rca_analytics.

    >>> store = connect(":memory:")
    >>> store.stats()["events"]
    0
    >>> store.close()
    """
    return Store(
        path,
        read_only=read_only,
        backup=backup,
        wait=wait,
        allow_dirs=allow_dirs,
        external_access=external_access,
    )


def connect_lake(path: str | os.PathLike[str]) -> Store:
    """A read-only store over a lake written by :meth:`Store.export_lake`.

    The lake's tables stand in for the store's, so every query helper (``events``,
    ``investigations``, ``event_investigations``, ``timeline``, ``counts``, ``sql``,
    the linker's suggestions and :mod:`rca_analytics.metrics`) answers as it did on the
    file the lake was exported from. Parquet is read by pyarrow, not by DuckDB's file
    access (which stays off).

    Raises:
        CorruptStore: The folder has no readable lake manifest, or the lake is damaged
            (an unfinished export, a link, a file that is not Parquet...), or a table
            lacks a column or holds other kinds of values than the store's.
        SchemaVersionError: The lake was written by a newer rca_analytics.
    """
    root = Path(path)
    tables = _lake_read.lake_tables(root, doing="read it")
    store = connect(MEMORY)
    try:
        _lake_read.attach(store._data, root, tables)
    except BaseException:
        store.close()
        raise
    store._data.read_only = True
    return store


class Store:
    """A store file opened for reading and writing records; use :func:`connect`.

    All writes run in transactions (a failed call changes nothing); the store may be
    shared between threads (calls are serialised). Stores on the same file in one
    process share one connection, so re-running a notebook's ``connect`` cell works.
    Use it as a context manager, or call :meth:`close`, to release the file for other
    processes.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        backup: bool = False,
        wait: float = 0.0,
        allow_dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
        external_access: bool = False,
    ):
        raw = os.fspath(path) if path is not None else default_path()
        resolved = None if raw == MEMORY else Path(raw).expanduser().resolve()
        self._handle = _connection.acquire(
            resolved,
            read_only=read_only,
            backup=backup,
            access=_connection.Access.of(external_access, allow_dirs),
            wait=wait,
        )
        self._data = _data.Data(self._handle, read_only=read_only)
        _data.attach(self, self._data)
        # Garbage collection may run inside any lock of this thread: the finalizer
        # never waits for a lock (see _connection.release_soon).
        self._release = weakref.finalize(self, _connection.release_soon, self._handle)

    # --- basics -------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The store file, or ``None`` for an in-memory store."""
        return self._handle.path

    @property
    def store_id(self) -> str | None:
        """The store's identity: kept when the file is moved or copied, new for a new store.

        ``None`` only for a read-only open of a file written before stores had ids
        (the first writable open gives it one).
        """
        return self._handle.store_id

    @property
    def read_only(self) -> bool:
        """Whether the store was opened with ``read_only=True``."""
        return self._data.read_only

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return self._handle.schema_version

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return not self._release.alive

    def close(self) -> None:
        """Release the file (the last store on it closes the connection). Idempotent."""
        if self._release.detach() is not None:
            self._data.closed = True
            _connection.release(self._handle)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group several calls into one transaction: all of them land, or none.

        Calls inside join the outer transaction. An exception leaving the block rolls
        everything back. A block that returns normally is in the file, or leaving it
        raises :class:`TransactionAborted`: DuckDB has no savepoints, so a call inside
        that failed (a write, or even a query through :meth:`sql`) discards the whole
        transaction, even if the exception was caught.

        >>> store = connect(":memory:")
        >>> try:
        ...     with store.transaction():
        ...         _ = store.add_investigation({"title": "kept only if all succeed"})
        ...         raise RuntimeError("boom")
        ... except RuntimeError:
        ...     pass
        >>> store.stats()["investigations"]
        0
        """
        with self._data.transaction():
            yield self

    # --- generic record plumbing ----------------------------------------------------------

    # --- events -------------------------------------------------------------------------

    def add_event(self, event: Event | Mapping[str, Any]) -> Event:
        """Validate and store one event; returns it as stored.

        ``investigation_ids``, when given, become manual links (the investigations
        must exist).

        Raises:
            ValidationFailed: The event is invalid (every problem is listed).
            DuplicateRecord: The id, or ``(source, source_id)``, is taken.
            NotFound: A named investigation does not exist.
        """
        return _records.add_event(self._data, event)

    def add_events(
        self,
        events: pd.DataFrame | Iterable[Event | Mapping[str, Any]],
        *,
        on_duplicate: OnDuplicate = "skip",
        progress: bool | None = None,
    ) -> LoadReport:
        """Validate and store many events at once (columnar; one transaction).

        Every row is checked against exactly the rules of :class:`Event`. Valid rows
        are stored; invalid rows are reported, never silently dropped; rows whose
        ``(source, source_id)`` (or id) is already stored, or appeared earlier in the
        input, are duplicates.

        Args:
            events: A DataFrame (columns named as the fields), an Arrow table, or an
                iterable of dicts or :class:`Event` models.
            on_duplicate: ``"skip"`` (default: count and skip; the first occurrence
                wins), ``"raise"`` (:class:`DuplicateRecord`, nothing stored), or
                ``"update"`` (overwrite the stored event's fields, keeping its id,
                creation and deletion times; the last occurrence wins).
            progress: Show a progress bar; by default only for 50,000 rows or more
                (``RCA_PROGRESS=0`` turns it off everywhere).

        Returns:
            A :class:`LoadReport`: counts, and every rejected row with its reasons.

        >>> store = connect(":memory:")
        >>> report = store.add_events([
        ...     {"source": "ci", "event_type": "build", "severity": "low",
        ...      "timestamp": "2026-03-01T10:00:00Z", "source_id": "b1"},
        ...     {"source": "ci", "event_type": "build", "severity": "low",
        ...      "timestamp": "2026-03-01T10:00:00Z", "source_id": "b1"},
        ...     {"source": "ci", "event_type": "build", "severity": "urgent",
        ...      "timestamp": "2026-03-01T10:05:00Z", "source_id": "b2"},
        ... ])
        >>> report
        <LoadReport stored=1 updated=0 unchanged=1 rejected_rows=1 skipped_rows=0>
        >>> report.rejects[["row", "field", "code"]].values.tolist()
        [[2, 'severity', 'invalid_choice']]
        """
        return _loading.load(
            self._data, Event, events, on_duplicate=on_duplicate, progress=progress
        )

    def add_investigations(
        self,
        investigations: pd.DataFrame | Iterable[Investigation | Mapping[str, Any]],
        *,
        on_duplicate: OnDuplicate = "skip",
        progress: bool | None = None,
    ) -> LoadReport:
        """Validate and store many investigations at once; like :meth:`add_events`.

        Duplicates are rows whose id is already stored or appeared earlier in the input.
        ``event_ids`` and ``related_investigation_ids`` become links and relations.
        """
        return _loading.load(
            self._data, Investigation, investigations, on_duplicate=on_duplicate, progress=progress
        )

    def get_event(self, event_id: str, *, include_deleted: bool = False) -> Event:
        """Return one event, with its linked ``investigation_ids``.

        Raises:
            NotFound: No such event, or it is soft-deleted (unless ``include_deleted``).
        """
        return _records.get_event(self._data, event_id, include_deleted=include_deleted)

    def update_event(self, event_id: str, **changes: Any) -> Event:
        """Change fields of an event; the whole result is validated first.

        A failed update changes nothing. ``updated_at`` moves when something changed.

        Raises:
            ValidationFailed: A value is invalid, a field is unknown or read-only.
            DuplicateRecord: The new ``(source, source_id)`` is taken.
            NotFound: No such active event.
        """
        with self._data.write():
            _records.update(self._data, Event, event_id, changes)
            return self.get_event(event_id)

    def delete_event(self, event_id: str) -> None:
        """Soft-delete an event: hidden from reads, kept with its links and history."""
        _records.set_deleted(self._data, Event, event_id, deleted=True)

    def restore_event(self, event_id: str) -> Event:
        """Bring a soft-deleted event back (with its links)."""
        _records.set_deleted(self._data, Event, event_id, deleted=False)
        return self.get_event(event_id)

    def tag_event(self, event_id: str, *tags: str) -> Event:
        """Add tags to an event (existing tags are kept, duplicates ignored)."""
        with self._data.write():
            current = _records.fetch(self._data, Event, event_id, include_deleted=False)
            return self.update_event(event_id, tags=[*current.tags, *tags])

    def untag_event(self, event_id: str, *tags: str) -> Event:
        """Remove tags from an event (tags it does not have are ignored)."""
        with self._data.write():
            current = _records.fetch(self._data, Event, event_id, include_deleted=False)
            drop = {t.strip() for t in tags}
            return self.update_event(event_id, tags=[t for t in current.tags if t not in drop])

    # --- investigations -------------------------------------------------------------------

    def add_investigation(self, investigation: Investigation | Mapping[str, Any]) -> Investigation:
        """Validate and store one investigation; returns it as stored.

        ``event_ids`` and ``related_investigation_ids``, when given, become manual
        links and relations (the records must exist).
        """
        return _records.add_investigation(self._data, investigation)

    def get_investigation(
        self, investigation_id: str, *, include_deleted: bool = False
    ) -> Investigation:
        """Return one investigation with its ``event_ids`` and related investigations."""
        return _records.get_investigation(
            self._data, investigation_id, include_deleted=include_deleted
        )

    def update_investigation(self, investigation_id: str, **changes: Any) -> Investigation:
        """Change fields of an investigation; validated as a whole, all or nothing.

        >>> store = connect(":memory:")
        >>> inv = store.add_investigation({"title": "Checkout 500s"})
        >>> store.update_investigation(inv.id, status="RESOLVED").status
        <InvestigationStatus.RESOLVED: 'resolved'>
        """
        with self._data.write():
            _records.update(self._data, Investigation, investigation_id, changes)
            return self.get_investigation(investigation_id)

    def delete_investigation(self, investigation_id: str) -> None:
        """Soft-delete an investigation: hidden from reads, kept with links and history."""
        _records.set_deleted(self._data, Investigation, investigation_id, deleted=True)

    def restore_investigation(self, investigation_id: str) -> Investigation:
        """Bring a soft-deleted investigation back (with its links)."""
        _records.set_deleted(self._data, Investigation, investigation_id, deleted=False)
        return self.get_investigation(investigation_id)

    def tag_investigation(self, investigation_id: str, *tags: str) -> Investigation:
        """Add tags to an investigation (duplicates ignored)."""
        with self._data.write():
            current = _records.fetch(
                self._data, Investigation, investigation_id, include_deleted=False
            )
            return self.update_investigation(investigation_id, tags=[*current.tags, *tags])

    def untag_investigation(self, investigation_id: str, *tags: str) -> Investigation:
        """Remove tags from an investigation (absent tags are ignored)."""
        with self._data.write():
            current = _records.fetch(
                self._data, Investigation, investigation_id, include_deleted=False
            )
            drop = {t.strip() for t in tags}
            return self.update_investigation(
                investigation_id, tags=[t for t in current.tags if t not in drop]
            )

    # --- links ------------------------------------------------------------------------------

    def link(
        self,
        event_id: str,
        investigation_id: str,
        *,
        confidence: float = 1.0,
        method: LinkMethod | str = LinkMethod.MANUAL,
        reasons: Sequence[str] | str = (),
        linked_at: dt.datetime | str | float | None = None,
    ) -> Link:
        """Link an event to an investigation (both must be active).

        Linking a pair that is already linked replaces the link's confidence, method
        and reasons (the change is kept in :meth:`history`); its ``linked_at`` stays
        the time it was first made unless one is given.

        Raises:
            NotFound: Either record is missing or soft-deleted.
            ValidationFailed: Confidence outside 0..1, unknown method...
        """
        return _records.link(
            self._data,
            event_id,
            investigation_id,
            confidence=confidence,
            method=method,
            reasons=reasons,
            linked_at=linked_at,
        )

    def unlink(self, event_id: str, investigation_id: str) -> Link:
        """Remove the link between an event and an investigation; returns the removed link.

        Raises:
            NotFound: The two are not linked.
        """
        return _records.unlink(self._data, event_id, investigation_id)

    def get_links(
        self, *, event_id: str | None = None, investigation_id: str | None = None
    ) -> list[Link]:
        """The stored links of an event and/or an investigation (all, when neither is given).

        Each carries its reviewer's verdict (``accepted``, ``reviewed_at``,
        ``reviewed_by``) when it has one; rejected pairs are not links (see
        :meth:`reviews`).
        """
        where, params = ["TRUE"], []
        if event_id is not None:
            where.append("l.event_id = ?")
            params.append(_key(event_id, "event"))
        if investigation_id is not None:
            where.append("l.investigation_id = ?")
            params.append(_key(investigation_id, "investigation"))
        cols = ", ".join(self._data.column(Link, c, "l") for c in Link.stored_fields())
        verdict = "NULL::BOOLEAN AS accepted, NULL::TIMESTAMPTZ AS reviewed_at, NULL AS reviewed_by"
        join = ""
        if self._data.has_table("link_reviews"):
            verdict = "r.accepted, r.reviewed_at, r.reviewed_by"
            join = (
                " LEFT JOIN link_reviews r ON r.event_id = l.event_id "
                "AND r.investigation_id = l.investigation_id AND r.accepted"
            )
        sql = (
            f"SELECT {cols}, {verdict} FROM links l{join} "  # noqa: S608 - whitelisted
            f"WHERE {' AND '.join(where)} ORDER BY l.linked_at, l.event_id, l.investigation_id"
        )
        return [_records.load(Link, row) for row in self._data.rows(sql, params)]

    def label_link(
        self,
        event_id: str,
        investigation_id: str,
        *,
        accepted: bool,
        by: str | None = None,
        note: str | None = None,
    ) -> Review:
        """Record a reviewer's verdict on an event–investigation pair.

        Accepting keeps the link (or makes one, method ``manual``, when the pair was not
        linked); rejecting removes the link. Either way the verdict is kept with what was
        judged (the link's confidence, method and reasons), no load, ingest or
        :meth:`auto_link` links a rejected pair again, and :meth:`linker_quality`
        measures the linker against the verdicts. A later verdict replaces an earlier
        one; :meth:`link` by hand overrides a rejection.

        Args:
            event_id: The event.
            investigation_id: The investigation.
            accepted: True to accept, False to reject.
            by: Who reviewed (kept as ``reviewed_by``).
            note: Why, in the reviewer's words.

        Returns:
            The stored :class:`Review`.

        Raises:
            NotFound: Either record is missing or soft-deleted.

        >>> store = connect(":memory:")
        >>> inv = store.add_investigation({"title": "Checkout 500s"})
        >>> ev = store.add_event({"source": "ci", "event_type": "deploy", "severity": "info",
        ...                       "timestamp": "2026-03-01T10:00:00Z"})
        >>> _ = store.link(ev.id, inv.id, confidence=0.8, method="linker")
        >>> store.label_link(ev.id, inv.id, accepted=False, by="ana").confidence
        0.8
        >>> store.get_investigation(inv.id).event_ids
        []
        """
        return _records.label_link(
            self._data, event_id, investigation_id, accepted=accepted, by=by, note=note
        )

    def reviews(self, investigation_id: str | None = None) -> pd.DataFrame:
        """Reviewers' verdicts (accepted and rejected pairs), one row per pair.

        Columns are the fields of :class:`Review`, newest verdict last.
        """
        return queries.reviews(self._data, investigation_id)

    # --- linking --------------------------------------------------------------------------

    def suggest_links(
        self,
        investigation_id: str,
        *,
        min_confidence: float = 0.0,
        limit: int | None = None,
        config: LinkerConfig | Mapping[str, Any] | None = None,
        include_rejected: bool = False,
        collapse: bool = True,
    ) -> pd.DataFrame:
        """Candidate events for an investigation with a confidence and the reasons for it.

        One row per candidate, suspects first: ``rank``, ``role`` (``change``,
        ``symptom`` or ``context``), ``suspect`` (a change at or above the linker's
        threshold), ``event_id``, ``confidence`` (0..1), ``reasons`` (``"feature:
        detail (+weight)"``, strongest first), the event's fields (``summary`` says
        what it was), the pair's current state (``linked_method``,
        ``linked_confidence``, ``accepted``) and each feature's contribution in
        log-odds (``w_<feature>``). After the suspects come the other candidates at or
        above the threshold, then the rest, each group by confidence.

        With ``collapse`` (the default) repeated symptoms of one template or
        fingerprint are one row, its most confident event, with ``count``,
        ``first_seen``, ``last_seen``, ``worst_severity`` and ``event_ids``;
        ``collapse=False`` gives every event its own row. Pairs a reviewer rejected
        are left out unless ``include_rejected``. Nothing is written. See
        :mod:`rca_analytics.linking` for the features and
        :class:`~rca_analytics.linking.LinkerConfig` for ``config``.

        >>> store = connect(":memory:")
        >>> inv = store.add_investigation({"title": "Checkout 500s", "component_affected":
        ...     "payments", "impact_started_at": "2026-03-01T10:00:00Z"})
        >>> ev = store.add_event({"source": "ci", "event_type": "deploy", "severity": "info",
        ...     "component": "payments", "timestamp": "2026-03-01T09:50:00Z"})
        >>> top = store.suggest_links(inv.id).iloc[0]
        >>> float(round(top["confidence"], 2)), top["reasons"][0]
        (0.61, 'change_before: deploy 10 min before impact start (+4.06)')
        """
        return linking.suggest_links(
            self,
            investigation_id,
            config=config,
            min_confidence=min_confidence,
            limit=limit,
            include_rejected=include_rejected,
            collapse=collapse,
        )

    def auto_link(
        self,
        investigation_id: str | None = None,
        *,
        min_confidence: float | None = None,
        config: LinkerConfig | Mapping[str, Any] | None = None,
        progress: bool | None = None,
    ) -> AutoLinkReport:
        """Link every candidate at or above ``min_confidence`` (method ``linker``).

        For one investigation, or every open or in-progress one (with a progress bar).
        Links made by a person, a rule or an import are never overwritten, pairs a
        reviewer judged are left alone, and earlier linker links are refreshed when
        their confidence or reasons changed. Running it twice changes nothing.

        Args:
            investigation_id: One investigation (any status); None for all open ones.
            min_confidence: The threshold (default ``config.min_confidence``, 0.7).
            config: A :class:`~rca_analytics.linking.LinkerConfig` or a dict of changes.
            progress: Show a progress bar (default: when linking several).

        Returns:
            An :class:`~rca_analytics.linking.AutoLinkReport` with the counts and the
            links written.
        """
        return linking.auto_link(
            self,
            investigation_id,
            min_confidence=min_confidence,
            config=config,
            progress=progress,
        )

    def changes_before(
        self,
        investigation_id: str,
        *,
        window: Any = "6h",
        config: LinkerConfig | Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """What changed before the incident: git, CI and deploy events, most suspect first.

        Changes from ``window`` before the investigation's anchor (impact start, else
        detection) to ``clock_skew`` after it, of every component: ``scope`` says how
        each relates to the affected component/service (``component``, ``service``,
        ``other``, ``unknown``) and ``in_scope`` flags the first two. Columns as
        :meth:`suggest_links`, plus ``scope`` and ``in_scope``.
        """
        return linking.changes_before(self, investigation_id, window=window, config=config)

    def linker_quality(
        self,
        *,
        min_confidence: float | None = None,
        config: LinkerConfig | Mapping[str, Any] | None = None,
        manual_as_accepted: bool = True,
    ) -> LinkerQuality:
        """Precision, recall and F1 of the linker against reviewers' verdicts.

        Every reviewed pair (see :meth:`label_link`), and links made by hand unless
        ``manual_as_accepted=False``, is scored by the linker as configured now; a pair
        scoring at least ``min_confidence`` counts as linked. ``curve`` holds the
        figures at every threshold.

        Raises:
            QueryError: Nothing has been reviewed yet.
        """
        return linking.linker_quality(
            self,
            min_confidence=min_confidence,
            config=config,
            manual_as_accepted=manual_as_accepted,
        )

    def export_lake(
        self,
        path: str | Path,
        *,
        partition_by: str | Sequence[str] = "auto",
        replace: bool = False,
    ) -> _lake.LakeExport:
        """Write the store as a Parquet lake that Spark, Trino or BigQuery can read.

        Events go to hive partitions (``events/source=git/day=2026-03-01/``; keys
        ``source``, ``day``, ``month``, or none), the other tables to one file each;
        columns are the models' stored fields (UTC timestamps, ``LIST<STRING>`` tags,
        JSON as text), soft-deleted records included with their ``deleted_at``.
        ``manifest.json`` holds the schema version, the store's id, row counts, export
        time, the layout and the high-water mark. Running it again rewrites only the
        partitions holding events changed since (updates, soft deletes, moves between
        partitions). What changed is staged in a hidden folder and committed by writing
        the manifest, then each partition is moved in with one rename: stopped at any
        point, the lake reads as before or after, and the next export finishes the job.
        The export never touches a path outside the lake and follows no links.

        Args:
            path: The lake folder (created; brought up to date when it holds a lake).
            partition_by: ``"auto"`` (default): the finest of source/day, day,
                source/month, month and none whose median event file holds at least
                32 MB of Parquet, measured on this store (see ``bench/RESULTS.md``:
                thousands of tiny files slow every engine down); a lake keeps its layout
                while it stays within a factor of two of that. Or the keys themselves,
                e.g. ``("source", "day")``; ``()`` for one file. A new layout rewrites
                the whole events table.
            replace: Let this store replace a lake exported from another store (by
                default that is refused, so one store's export never silently wipes
                another's lake).

        Returns:
            A :class:`~rca_analytics.LakeExport` with what was written.

        Raises:
            QueryError: The folder holds something other than a lake, or a lake of
                another store (without ``replace``).
            CorruptStore: The lake's manifest or files are damaged.
            SchemaVersionError: The lake was written by a newer rca_analytics.
            WriteFailed: The folder could not be written (disk full...); the message
                says whether the lake is as it was or committed.
        """
        return _lake.export_lake(self._data, path, partition_by=partition_by, replace=replace)

    def import_lake(
        self,
        path: str | Path,
        *,
        on_duplicate: OnDuplicate = "skip",
        progress: bool | None = None,
    ) -> _lake_import.LakeImport:
        """Merge a lake written by :meth:`export_lake` (here or by another team) into this store.

        Records are matched, never duplicated: events by ``(source, source_id)`` when
        they have one, else by id; investigations by id. New records come across with
        their ids, times, tags and deletion state, validated like any other input. A lake
        event already stored here under another id (the same source key, ingested by
        both teams) is that stored event: the lake's links, reviews and relations naming
        it are moved onto it. Links keep their method, confidence, reasons and time;
        what is already here wins (a stored link, a stored verdict), a pair rejected by a
        reviewer here is not linked, and a lake rejection of a pair linked here is not
        taken. Everything runs in one transaction; importing the same lake again adds
        nothing.

        Args:
            path: The lake folder (with its ``manifest.json``).
            on_duplicate: ``"skip"`` (default: stored records stay as they are) or
                ``"update"`` (the lake's fields replace them, under the rules of
                :meth:`add_events`: a record's ``revision`` only moves forward; deletions
                in the lake do not delete records here).
            progress: Show progress bars (by default for 50,000 rows or more).

        Returns:
            A :class:`~rca_analytics.LakeImport`: counts per table, and every record or
            link not brought across with its reason (``rejects``).

        Raises:
            CorruptStore: The folder is not a lake (no readable manifest), or the lake
                is damaged (an export that stopped before committing, a link, a file
                that is not Parquet or whose columns lie); nothing is imported.
            SchemaVersionError: The lake was written by a newer rca_analytics.
        """
        self._data.require_writable()
        if on_duplicate not in ("skip", "update"):
            raise ValueError(f"on_duplicate must be 'skip' or 'update', not {on_duplicate!r}")
        return _lake_import.import_lake(
            self._data, path, on_duplicate=on_duplicate, progress=progress
        )

    def relate(self, investigation_id: str, other_id: str) -> None:
        """Mark two investigations as related (symmetric; relating twice is harmless)."""
        _records.relate(self._data, investigation_id, other_id)

    def unrelate(self, investigation_id: str, other_id: str) -> None:
        """Remove the relation between two investigations.

        Raises:
            NotFound: They are not related.
        """
        _records.unrelate(self._data, investigation_id, other_id)

    # --- import -------------------------------------------------------------------------------

    def import_sqlite(
        self, path: str | os.PathLike[str], *, progress: bool | None = None
    ) -> ImportReport:
        """Bring a SQLite store of the earlier system across, in one transaction.

        Every event and investigation is loaded through the same validation as
        :meth:`add_events`: JSON-text lists and dicts become lists and dicts,
        ``investigation_ids``/``event_ids`` become links (method ``import``, each pair
        once), related investigations become relations, lower-case enums and ``p0``-``p3``
        are read, timestamps without an offset are taken as UTC (and counted),
        soft-deleted rows stay soft-deleted, first-generation investigation tables get
        defaults. Rows that cannot come across (bad JSON, unknown value, missing field)
        and links with a missing side are listed in the report and kept in the
        ``import_rejects`` table; everything else is imported. Running it again adds
        nothing; an interruption leaves the store as it was.

        Args:
            path: The SQLite file (opened read-only with Python's ``sqlite3``).
            progress: Show a progress bar (by default for 50,000 rows or more).

        Raises:
            ReaderError: The file is missing or is not a store of the earlier system.
        """
        self._data.require_writable()
        return _importing.import_sqlite(self._data, path, progress=progress)

    def ingest(
        self,
        kind: str,
        paths: Paths,
        *,
        progress: bool | None = None,
        on_duplicate: OnDuplicate | None = None,
        **options: Any,
    ) -> IngestReport:
        """Read files (or a repository) of another system into the store, in one transaction.

        ``kind`` names the reader: ``git``, ``github``, ``junit``, ``logs``, ``alerts``,
        ``otlp`` or ``statuspage`` (field mappings, severity rules and options of each in
        ``docs/readers/<kind>.md``). Every record goes through the same validation as
        :meth:`add_events`. Records carry a deterministic ``source_id`` (investigations a
        deterministic id), so ingesting the same input again, or overlapping exports,
        adds nothing twice. What cannot be read (bad line, broken JSON, a value the
        models refuse) is listed in the report with its ``file:line`` or
        ``file#/json/path`` and reason; everything else is stored.

        Args:
            kind: The reader.
            paths: Files or folders (folders are walked), or the repository for ``git``.
            progress: Show a progress bar; by default for large inputs only.
            on_duplicate: What to do with records already stored: the reader's choice by
                default (``"skip"``, or ``"update"`` where later input knows more, like
                a resolved incident), or ``"skip"``/``"update"``/``"raise"``.
            **options: The reader's options (``min_level="error"``, ``since=...``).

        Raises:
            ReaderError: No such reader or option, or an input path does not exist;
                nothing was stored.
        """
        self._data.require_writable()
        return _ingesting.ingest(
            self._data, kind, paths, progress=progress, on_duplicate=on_duplicate, **options
        )

    # --- DataFrame queries --------------------------------------------------------------------

    def events(
        self,
        *,
        severity: str | Iterable[str] | None = None,
        min_severity: str | None = None,
        source: str | Iterable[str] | None = None,
        event_type: str | Iterable[str] | None = None,
        component: str | Iterable[str] | None = None,
        service: str | Iterable[str] | None = None,
        source_id: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        match: str = "any",
        since: Any = None,
        until: Any = None,
        investigation_id: str | Iterable[str] | None = None,
        include_deleted: bool = False,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Events as a DataFrame, one row per event, in time order; all filters combine.

        Args:
            severity: One severity or a list: ``info``, ``low``, ``medium``, ``high``,
                ``critical``.
            min_severity: This severity or worse (``high`` gives high and critical).
            source: One source or a list: ``git``, ``ci``, ``logs``, ``metrics``,
                ``traces``, ``manual``.
            event_type: One event type or a list (``deploy``, ``error``...).
            component: One component or a list (any case or spacing; an alias stands for
                its name).
            service: One service or a list (any case or spacing; an alias stands for its
                name).
            source_id: One identifier in the source (commit SHA, build id...) or a list.
            tags: A tag or a list; ``match`` says whether any or all of them must be there.
            match: How ``tags`` combine: ``any`` (the default) or ``all``.
            since: Events at or after this time (inclusive).
            until: Events before this time (exclusive).
            investigation_id: Events linked to this investigation (or to any of a list).
            include_deleted: Include soft-deleted events (``deleted_at`` tells them).
            columns: Only these columns (model field names).
            limit: At most this many rows.

        Raises:
            QueryError: A filter value, column or time that cannot be used (before
                any SQL runs).

        >>> store = connect(":memory:")
        >>> _ = store.add_events([
        ...     {"source": "ci", "event_type": "deploy", "severity": "info",
        ...      "timestamp": "2026-03-01T09:28:00Z", "component": "payments"},
        ...     {"source": "logs", "event_type": "error", "severity": "critical",
        ...      "timestamp": "2026-03-01T09:14:00Z", "component": "payments"}])
        >>> store.events(min_severity="high")[["event_type", "severity"]].values.tolist()
        [['error', 'critical']]
        >>> store.events(component="payments", since="2026-03-01")["event_type"].tolist()
        ['error', 'deploy']
        """
        return queries.events(
            self._data,
            severity=severity,
            min_severity=min_severity,
            source=source,
            event_type=event_type,
            component=component,
            service=service,
            source_id=source_id,
            tags=tags,
            match=match,
            since=since,
            until=until,
            investigation_id=investigation_id,
            include_deleted=include_deleted,
            columns=columns,
            limit=limit,
        )

    def investigations(
        self,
        *,
        status: str | Iterable[str] | None = None,
        priority: str | Iterable[str] | None = None,
        min_priority: str | None = None,
        impact_severity: str | Iterable[str] | None = None,
        min_impact_severity: str | None = None,
        component: str | Iterable[str] | None = None,
        service: str | Iterable[str] | None = None,
        assigned_to: str | Iterable[str] | None = None,
        created_by: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        match: str = "any",
        since: Any = None,
        until: Any = None,
        include_deleted: bool = False,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Investigations as a DataFrame, ordered by when they happened; all filters combine.

        Args:
            status: One status or a list: ``open``, ``in_progress``, ``resolved``, ``closed``.
            priority: One priority or a list: ``P0`` (the most urgent), ``P1``, ``P2``, ``P3``.
            min_priority: This priority or more urgent (``P1`` gives P1 and P0).
            impact_severity: One impact severity or a list: ``low``, ``medium``, ``high``,
                ``critical``.
            min_impact_severity: This impact severity or worse (``high`` gives high and
                critical).
            component: One component or a list, of ``component_affected`` (any case or
                spacing; an alias stands for its name).
            service: One service or a list, of ``service_affected`` (any case or spacing;
                an alias stands for its name).
            assigned_to: Assigned to this person (or any of a list).
            created_by: Created by this person (or any of a list).
            tags: A tag or a list; ``match`` says whether any or all of them must be there.
            match: How ``tags`` combine: ``any`` (the default) or ``all``.
            since: Investigations detected at or after this time (inclusive; ``created_at``
                when ``detected_at`` is missing).
            until: Investigations detected before this time (exclusive; ``created_at`` when
                ``detected_at`` is missing).
            include_deleted: Include soft-deleted investigations (``deleted_at`` tells them).
            columns: Only these columns (model field names).
            limit: At most this many rows.

        Raises:
            QueryError: A filter value, column or time that cannot be used (before
                any SQL runs).

        >>> store = connect(":memory:")
        >>> _ = store.add_investigations([{"title": "A", "priority": "P0", "status": "open"},
        ...                               {"title": "B", "priority": "P3"}])
        >>> store.investigations(min_priority="P1")["title"].tolist()
        ['A']
        """
        return queries.investigations(
            self._data,
            status=status,
            priority=priority,
            min_priority=min_priority,
            impact_severity=impact_severity,
            min_impact_severity=min_impact_severity,
            component=component,
            service=service,
            assigned_to=assigned_to,
            created_by=created_by,
            tags=tags,
            match=match,
            since=since,
            until=until,
            include_deleted=include_deleted,
            columns=columns,
            limit=limit,
        )

    def event_investigations(
        self,
        *,
        min_confidence: float | None = None,
        method: Any = None,
        include_deleted: bool = False,
        limit: int | None = None,
        **filters: Any,
    ) -> pd.DataFrame:
        """One row per event–investigation link, with both sides' columns.

        Columns are the event's fields prefixed ``event_``, the investigation's
        prefixed ``investigation_``, then the link's ``confidence``, ``method``,
        ``reasons`` and ``linked_at``. Event-side filters take the :meth:`events`
        names (``severity=``, ``component=``, ``since=`` ...), investigation-side
        filters the :meth:`investigations` names with an ``investigation_`` prefix
        (``investigation_status="open"``, ``investigation_id=``). Links to
        soft-deleted records are hidden unless ``include_deleted=True``.

        >>> store = connect(":memory:")
        >>> ev = store.add_event({"source": "ci", "event_type": "deploy", "severity": "info",
        ...                       "timestamp": "2026-03-01T09:28:00Z"})
        >>> inv = store.add_investigation({"title": "Checkout 500s", "status": "open"})
        >>> _ = store.link(ev.id, inv.id, confidence=0.9)
        >>> frame = store.event_investigations(min_confidence=0.5, investigation_status="open")
        >>> frame[["event_event_type", "investigation_title", "confidence"]].values.tolist()
        [['deploy', 'Checkout 500s', 0.9]]
        """
        return queries.event_investigations(
            self._data,
            min_confidence=min_confidence,
            method=method,
            include_deleted=include_deleted,
            limit=limit,
            **filters,
        )

    def timeline(
        self,
        investigation_id: str,
        *,
        before: Any = "2h",
        after: Any = "30m",
        include_unrelated: bool = False,
        include_deleted: bool = False,
    ) -> pd.DataFrame:
        """Events around one incident, in time order, with how they relate to it.

        The window runs from ``before`` ahead of the investigation's detection time
        (or its earliest time when it has none) to ``after`` past it. It holds the
        events linked to the investigation and the unlinked events of its component
        or service (all events with ``include_unrelated=True``). Extra columns:
        ``relation`` (linked, component, service, other), ``offset`` from detection
        (negative before it) and the link's ``confidence``.

        >>> store = connect(":memory:")
        >>> inv = store.add_investigation({"title": "t", "detected_at": "2026-03-01T10:00:00Z",
        ...                                "component_affected": "payments"})
        >>> _ = store.add_event({"source": "ci", "event_type": "deploy", "severity": "info",
        ...                      "timestamp": "2026-03-01T09:13:00Z", "component": "payments"})
        >>> row = store.timeline(inv.id).iloc[0]
        >>> row["relation"], str(row["offset"])
        ('component', '-1 days +23:13:00')
        """
        return queries.timeline(
            self._data,
            investigation_id,
            before=before,
            after=after,
            include_unrelated=include_unrelated,
            include_deleted=include_deleted,
        )

    def counts(
        self,
        table: str = "events",
        *,
        by: str | Sequence[str] = (),
        freq: str | None = None,
        fill: bool = True,
        include_deleted: bool = False,
        **filters: Any,
    ) -> pd.DataFrame:
        """Record counts grouped by columns and/or time periods.

        Args:
            table: ``"events"`` or ``"investigations"`` (timed by detection).
            by: Columns to group by (``"component"``, ``["component", "severity"]``;
                ``"tags"`` counts a record once per tag).
            freq: Time periods: fixed (``"15min"``, ``"1h"``, ``"1D"``) or calendar
                (``"W"`` weeks from Monday, ``"M"`` months, ``"Q"``, ``"Y"``); each
                labelled by its start, in UTC.
            fill: With ``freq``, add zero rows for empty periods between ``since``
                and ``until`` (or the first and last record).
            include_deleted: Count soft-deleted records too.
            **filters: The filters of :meth:`events` or :meth:`investigations`.

        Returns:
            Columns ``period`` (with ``freq``), the ``by`` columns, and ``count``.

        >>> store = connect(":memory:")
        >>> _ = store.add_events([{"source": "logs", "event_type": "error", "severity": s,
        ...     "timestamp": f"2026-03-01T{h}:10:00Z"} for s, h in
        ...     [("high", "09"), ("low", "09"), ("high", "11")]])
        >>> frame = store.counts(by="severity", freq="1h", min_severity="high",
        ...                      since="2026-03-01T09:00", until="2026-03-01T12:00")
        >>> frame["count"].tolist()
        [1, 0, 1]
        """
        return queries.counts(
            self._data,
            table,
            by=by,
            freq=freq,
            fill=fill,
            include_deleted=include_deleted,
            **filters,
        )

    # --- component and service names ------------------------------------------------------

    def alias(self, name: str, *aliases: str) -> None:
        """Declare other ways of writing a component or service name, once per store.

        Filters match ``name`` and its aliases alike, and frames (hence metrics and
        reports) show them all as ``name``, written as given here. Names compare in any
        case and spacing, so ``alias("payments")`` alone makes ``Payments`` and
        ``PAYMENTS`` show as ``payments``. Declaring again is harmless. The records keep
        the spelling they were stored with.

        Args:
            name: The name as the team writes it.
            *aliases: Other names for it (``"payments-api"``, ``"pay"``).

        Raises:
            ValidationFailed: A blank name, or an alias that stands for another name
                already, or ``name`` is itself an alias of another name (code
                ``duplicate_id``; :meth:`remove_alias` first); nothing is stored.
            ReadOnlyStore: The store was opened read-only.

        >>> store = connect(":memory:")
        >>> _ = store.add_events([{"source": "ci", "event_type": "deploy", "severity": "info",
        ...     "timestamp": "2026-03-01T09:28:00Z", "component": c}
        ...     for c in ("Payments", "payments-api", "checkout")])
        >>> store.alias("payments", "payments-api")
        >>> store.events(component="PAYMENTS")["component"].tolist()
        ['payments', 'payments']
        """
        _aliases.declare(self._data, name, aliases)

    def aliases(self) -> pd.DataFrame:
        """The store's aliases: ``alias`` (lower case, single spaces), ``name``, ``created_at``.

        A name with aliases is listed as an alias of itself too (every spelling of it
        shows as written here).

        >>> store = connect(":memory:")
        >>> store.alias("payments", "Payments-API")
        >>> store.aliases()[["alias", "name"]].values.tolist()
        [['payments', 'payments'], ['payments-api', 'payments']]
        """
        return _aliases.frame(self._data)

    def remove_alias(self, *aliases: str) -> None:
        """Remove aliases (any case or spacing); removing a name removes all its aliases.

        Raises:
            NotFound: One of them is not an alias (nothing is removed).
            ReadOnlyStore: The store was opened read-only.

        >>> store = connect(":memory:")
        >>> store.alias("payments", "payments-api", "pay")
        >>> store.remove_alias("PAY")
        >>> store.aliases()["alias"].tolist()
        ['payments', 'payments-api']
        """
        _aliases.remove(self._data, aliases)

    # --- SQL escape hatch --------------------------------------------------------------------

    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> pd.DataFrame:
        """Run one read query with ``?`` (or ``$name``) parameters; returns a DataFrame.

        Values are always passed as parameters, never formatted into the text. Only
        queries that read run here (SELECT, WITH ..., DESCRIBE, SHOW, SUMMARIZE,
        EXPLAIN); records change through the store's methods, which validate and keep
        history. What the query would do is read from DuckDB's own parse of it, nested
        queries and table functions included (SQL hidden in a string, ``DELETE`` inside
        ``WITH``, ``nextval`` are refused), and outside a :meth:`transaction` it runs in
        a transaction of its own that is always rolled back.

        Raises:
            QueryError: Not one read statement, or DuckDB refused the query (inside a
                :meth:`transaction`, that also discards the transaction).

        >>> store = connect(":memory:")
        >>> store.sql("SELECT ? AS answer", [42])["answer"].tolist()
        [42]
        """
        _readsql.require_read_only(query)
        return self._data.user_query(query, params)

    # --- history and overview ---------------------------------------------------------------

    def verify(self) -> dict[str, int]:
        """Read every row of every table, so that DuckDB checks every block's checksum.

        Opening a store reads only its catalog; damage inside a data block shows when a
        query first reads that block. Call this after a crash or a copy to find out at
        once. Returns the rows read per table.

        Raises:
            CorruptStore: A block is damaged (nothing is changed).

        >>> connect(":memory:").verify()["events"]
        0
        """
        out = {}
        for name in sorted(self._data.handle.columns):  # the tables this file has
            table = self._data.arrow(f"SELECT * FROM {quote(name)}")  # noqa: S608
            out[name] = table.num_rows
        return out

    def history(self, record_id: str | None = None) -> list[Change]:
        """The audit trail: inserts, updates (old and new values), deletes, restores, links.

        >>> store = connect(":memory:")
        >>> inv = store.add_investigation({"title": "Checkout 500s"})
        >>> _ = store.update_investigation(inv.id, status="resolved")
        >>> [c.action for c in store.history(inv.id)]
        ['insert', 'update']
        """
        if record_id is None:
            return _records.select(self._data, Change, "TRUE ORDER BY seq", [])
        return _records.select(
            self._data, Change, "record_id = ? ORDER BY seq", [_key(record_id, "record")]
        )

    def stats(self) -> dict[str, int]:
        """Record counts: active and soft-deleted events and investigations, links."""
        row = self._data.rows(
            "SELECT "
            "(SELECT count(*) FROM events WHERE deleted_at IS NULL) AS events, "
            "(SELECT count(*) FROM events WHERE deleted_at IS NOT NULL) AS deleted_events, "
            "(SELECT count(*) FROM investigations WHERE deleted_at IS NULL) AS investigations, "
            "(SELECT count(*) FROM investigations WHERE deleted_at IS NOT NULL) "
            "  AS deleted_investigations, "
            "(SELECT count(*) FROM links) AS links"
        )[0]
        return {k: int(v) for k, v in row.items()}

    def __repr__(self) -> str:
        mode = "read-only" if self._data.read_only else "read-write"
        if self.closed:
            return f"<Store {self._data.label!r} closed>"
        s = self.stats()
        return (
            f"<Store {self._data.label!r} schema v{self.schema_version} {mode}: "
            f"{s['events']} events, {s['investigations']} investigations, {s['links']} links>"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("path", self._data.label),
            ("schema version", str(self.schema_version)),
            ("mode", "read-only" if self._data.read_only else "read-write"),
        ]
        if self.closed:
            rows.append(("state", "closed"))
        else:
            s = self.stats()
            rows += [
                ("events", f"{s['events']} (+{s['deleted_events']} deleted)"),
                (
                    "investigations",
                    f"{s['investigations']} (+{s['deleted_investigations']} deleted)",
                ),
                ("links", str(s["links"])),
            ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        caption = f"rca_analytics {html.escape(__version__)} store"
        return f"<table><caption>{caption}</caption>{body}</table>"


#: A record id as stored (see :func:`._data.record_key`).
_key = _data.record_key
