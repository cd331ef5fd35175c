"""Every way a link comes to be goes through one writer, with one set of rules.

The same pairs are linked by each path (``store.link``, ``auto_link``, loads with
``investigation_ids`` and with ``event_ids``, ``import_sqlite``, ``import_lake``); each
must give the same links, one history entry per link on each record, and ``updated_at``
moved on the records that were there before. Then the rules: a reviewer's rejection
holds for every path but a person's; a stored link is replaced only by a person (or
by the linker when the linker made it); running a path again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rca_analytics as rca
from rca_analytics import _data
from rca_analytics.ingest.sqlite_legacy import LEGACY_DDL

T = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
INVESTIGATIONS = [
    {
        "id": f"inv-{k}",
        "title": f"Checkout errors {k}",
        "status": "open",
        "impact_severity": "high",
        "detected_at": T + dt.timedelta(hours=k),
        "started_at": T + dt.timedelta(hours=k),
        "service_affected": "payments",
        "component_affected": "payments",
    }
    for k in range(2)
]
EVENTS = [
    {
        "id": f"ev-{k}",
        "source": "ci",
        "source_id": f"deploy-{k}",
        "event_type": "deploy",
        "severity": "info",
        "timestamp": T + dt.timedelta(hours=k % 2, minutes=-4 - k),
        "service": "payments",
        "component": "payments",
        "data": {"service": "payments", "version": f"1.{k}"},
    }
    for k in range(3)
]


def _base(store: rca.Store, *, events: bool = True, investigations: bool = True) -> None:
    if investigations:
        store.add_investigations(INVESTIGATIONS)
    if events:
        store.add_events(EVENTS)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """The pairs the linker links on the base records: every other path links them too."""
    with rca.connect(tmp_path_factory.mktemp("linker") / "s.duckdb") as store:
        _base(store)
        store.auto_link(min_confidence=0.0)
        found = sorted((link.event_id, link.investigation_id) for link in store.get_links())
    assert len(found) >= 3, found
    return found


def _legacy(tmp: Path, pairs: list[tuple[str, str]]) -> Path:
    legacy = tmp / "legacy.sqlite"
    if legacy.exists():
        return legacy
    with sqlite3.connect(legacy) as con:
        con.executescript(LEGACY_DDL)
        for e in EVENTS:
            con.execute(
                "INSERT INTO events (id, timestamp, source, event_type, severity, data, "
                "tags, investigation_ids, source_id, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, '{}', ?)",
                [e["id"], e["timestamp"].isoformat(), e["source"], e["event_type"],
                 e["severity"], json.dumps(e["data"]),
                 json.dumps([i for x, i in pairs if x == e["id"]]), e["source_id"],
                 T.isoformat()],
            )  # fmt: skip
        for v in INVESTIGATIONS:
            con.execute(
                "INSERT INTO investigations (id, title, status, impact_severity, "
                "detected_at, started_at, component_affected, service_affected, tags, "
                "event_ids, related_investigation_ids, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', '[]', ?, ?)",
                [v["id"], v["title"], v["status"], v["impact_severity"],
                 v["detected_at"].isoformat(), v["started_at"].isoformat(),
                 v["component_affected"], v["service_affected"], T.isoformat(),
                 T.isoformat()],
            )  # fmt: skip
    con.close()
    return legacy


def _lake(tmp: Path, pairs: list[tuple[str, str]]) -> Path:
    lake = tmp / "lake"
    if not lake.exists():
        with rca.connect(tmp / "source.duckdb") as source:
            _base(source)
            for e, i in pairs:
                source.link(e, i)
            source.export_lake(lake)
    return lake


def _event_rows(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{**e, "investigation_ids": [i for x, i in pairs if x == e["id"]]} for e in EVENTS]


def _investigation_rows(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{**v, "event_ids": [e for e, i in pairs if i == v["id"]]} for v in INVESTIGATIONS]


Act = Callable[[rca.Store, list[tuple[str, str]], Path], Any]
#: Each path: which base records exist first (events, investigations), then the act.
PATHS: dict[str, tuple[tuple[bool, bool], Act]] = {
    "link": ((True, True), lambda s, p, t: [s.link(e, i) for e, i in p]),
    "auto_link": ((True, True), lambda s, p, t: s.auto_link(min_confidence=0.0)),
    "add_events": ((False, True), lambda s, p, t: s.add_events(_event_rows(p))),
    "add_investigations": (
        (True, False),
        lambda s, p, t: s.add_investigations(_investigation_rows(p)),
    ),
    "import_sqlite": ((False, False), lambda s, p, t: s.import_sqlite(_legacy(t, p))),
    "import_lake": ((True, True), lambda s, p, t: s.import_lake(_lake(t, p))),
}


def _link_history(store: rca.Store) -> list[dict[str, Any]]:
    return _data.of(store).rows(
        "SELECT entity, record_id, detail FROM changes WHERE action = 'link' "
        "AND entity <> 'batch' ORDER BY entity, record_id"
    )


def _times(store: rca.Store) -> dict[str, dt.datetime]:
    rows = _data.of(store).rows(
        "SELECT id, updated_at FROM events UNION ALL SELECT id, updated_at FROM investigations"
    )
    return {r["id"]: r["updated_at"] for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_gives_the_same_links_and_history(
    path: str, pairs: list[tuple[str, str]], tmp_path: Path
) -> None:
    (events, investigations), act = PATHS[path]
    with rca.connect(tmp_path / "s.duckdb") as store:
        _base(store, events=events, investigations=investigations)
        before = _times(store)
        act(store, pairs, tmp_path)
        links = store.get_links()
        assert sorted((x.event_id, x.investigation_id) for x in links) == pairs
        # one history entry per link on each of its records, the link as stored
        history = _link_history(store)
        expected = sorted(
            [("event", e) for e, _ in pairs] + [("investigation", i) for _, i in pairs]
        )
        assert sorted((h["entity"], h["record_id"]) for h in history) == expected
        stored = {(x.event_id, x.investigation_id): x for x in links}
        for h in history:
            detail = json.loads(h["detail"])
            link = stored[(detail["event_id"], detail["investigation_id"])]
            assert detail["confidence"] == link.confidence
            assert detail["method"] == link.method.value
            assert detail["reasons"] == link.reasons
            assert dt.datetime.fromisoformat(detail["linked_at"]) == link.linked_at
            assert "replaced" not in detail
        # records that were there before gained links: their updated_at moved
        after = _times(store)
        linked = {x for p in pairs for x in p}
        for record_id, at in before.items():
            assert (after[record_id] > at) == (record_id in linked), record_id
        # the same path once more adds no link, no history and moves nothing
        act(store, pairs, tmp_path)
        assert len(store.get_links()) == len(pairs)
        assert len(_link_history(store)) == len(history)
        assert _times(store) == after


#: The paths that can run on a store that already holds both sides of every pair.
ON_STORED: dict[str, Act] = {
    "auto_link": PATHS["auto_link"][1],
    "add_events": lambda s, p, t: s.add_events(_event_rows(p), on_duplicate="update"),
    "add_investigations": lambda s, p, t: s.add_investigations(
        _investigation_rows(p), on_duplicate="update"
    ),
    "import_sqlite": PATHS["import_sqlite"][1],
    "import_lake": PATHS["import_lake"][1],
}


@pytest.mark.slow
@pytest.mark.parametrize("path", list(ON_STORED))
def test_a_reviewers_rejection_holds_for_every_path_but_a_person(
    path: str, pairs: list[tuple[str, str]], tmp_path: Path
) -> None:
    with rca.connect(tmp_path / "s.duckdb") as store:
        _base(store)
        first = pairs[0]
        store.label_link(*first, accepted=False, by="ana")
        ON_STORED[path](store, pairs, tmp_path)
        linked = sorted((x.event_id, x.investigation_id) for x in store.get_links())
        assert linked == pairs[1:]
        assert len(store.reviews()) == 1
        with pytest.raises(rca.ValidationFailed, match="rejected"):
            store.link(*first, method="linker")
        store.link(*first)  # a person's link ends the rejection; the history keeps it
        assert len(store.get_links()) == len(pairs)
        assert store.reviews().empty
        [entry] = [
            json.loads(h["detail"])
            for h in _link_history(store)
            if h["entity"] == "event" and h["record_id"] == first[0]
            and "overrides_review" in json.loads(h["detail"])
        ]  # fmt: skip
        assert entry["overrides_review"]["reviewed_by"] == "ana"


@pytest.mark.slow
@pytest.mark.parametrize("path", list(ON_STORED))
def test_a_stored_link_is_replaced_only_by_a_person(
    path: str, pairs: list[tuple[str, str]], tmp_path: Path
) -> None:
    with rca.connect(tmp_path / "s.duckdb") as store:
        _base(store)
        first = pairs[0]
        made = store.link(*first, confidence=0.5, method="rule", reasons=["by hand"])
        ON_STORED[path](store, pairs, tmp_path)
        [kept] = store.get_links(event_id=first[0], investigation_id=first[1])
        assert (kept.confidence, kept.method, kept.reasons) == (0.5, "rule", ["by hand"])
        assert kept.linked_at == made.linked_at
        later = store.link(*first, confidence=0.9, reasons=["checked"])
        assert (later.confidence, later.method) == (0.9, "manual")
        assert later.linked_at == made.linked_at  # still made when it was first made
        details = [
            json.loads(h["detail"])
            for h in _link_history(store)
            if h["entity"] == "investigation" and h["record_id"] == first[1]
            and json.loads(h["detail"])["event_id"] == first[0]
        ]  # fmt: skip
        assert [d["confidence"] for d in details] == [0.5, 0.9]
        assert details[1]["replaced"]["confidence"] == 0.5


@pytest.mark.slow
def test_the_linker_refreshes_only_its_own_links(
    pairs: list[tuple[str, str]], tmp_path: Path
) -> None:
    with rca.connect(tmp_path / "s.duckdb") as store:
        _base(store)
        first = pairs[0]
        store.link(*first, confidence=0.01, method="linker", reasons=["stale"])
        report = store.auto_link(min_confidence=0.0)
        [fresh] = store.get_links(event_id=first[0], investigation_id=first[1])
        assert fresh.confidence != 0.01 and fresh.reasons != ["stale"]
        assert report.updated == 1
        # a verdict freezes it: the linker leaves judged pairs alone
        store.label_link(*first, accepted=True, by="ana")
        store.link(*first, confidence=0.02, method="linker", reasons=["judged"])
        store.auto_link(min_confidence=0.0)
        [frozen] = store.get_links(event_id=first[0], investigation_id=first[1])
        assert (frozen.confidence, frozen.reasons) == (0.02, ["judged"])
