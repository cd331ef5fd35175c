"""Bulk loading through the store: counts, duplicates, rejects, links, atomicity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import _data, _loading

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def rows(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "source": "ci",
            "event_type": "build",
            "severity": ["info", "low", "high"][i % 3],
            "timestamp": T0 + dt.timedelta(minutes=i),
            "source_id": f"b{i}",
            "component": "payments",
            "tags": ["ci"],
            "data": {"n": i},
            **extra,
        }
        for i in range(start, start + n)
    ]


def test_load_a_dataframe_and_read_every_row_back(store: rca.Store) -> None:
    frame = pd.DataFrame(rows(500))
    report = store.add_events(frame)
    assert (report.stored, report.unchanged, report.updated) == (500, 0, 0)
    assert report.rejects.empty and list(report.rejects.columns) == [
        "where",
        "record",
        "field",
        "code",
        "message",
        "value",
        "row",
    ]
    assert report.rejected is report.rejects  # the earlier name
    assert store.stats()["events"] == 500
    stored = store.sql("SELECT source_id, data, tags FROM events ORDER BY timestamp")
    assert stored["source_id"].tolist() == [f"b{i}" for i in range(500)]
    ev = store.get_event(store.sql("SELECT id FROM events WHERE source_id = 'b7'")["id"][0])
    assert (
        ev.data == {"n": 7} and ev.tags == ["ci"] and ev.timestamp == T0 + dt.timedelta(minutes=7)
    )


def test_models_dicts_and_rows_all_load(store: rca.Store) -> None:
    models = [rca.Event(**r) for r in rows(3)]
    assert store.add_events(models).stored == 3
    assert store.add_events(iter(rows(3, start=10))).stored == 3
    assert store.add_events(pd.DataFrame(rows(3, start=20))).stored == 3
    got = store.get_event(models[0].id)
    assert got.summary  # derived: the rows carry none
    assert got.model_copy(update={"summary": None}) == models[0]


def test_reloading_the_same_input_adds_nothing(store: rca.Store) -> None:
    data = pd.DataFrame(rows(200))
    store.add_events(data)
    again = store.add_events(data)
    assert (again.stored, again.unchanged) == (0, 200)
    assert again.duplicate_rows["existing_id"].notna().all()
    assert store.stats()["events"] == 200


def test_duplicates_within_the_input_keep_the_first(store: rca.Store) -> None:
    data = rows(2) + rows(1, severity="critical")  # row 2 repeats b0
    report = store.add_events(data)
    assert (report.stored, report.unchanged) == (2, 1)
    assert report.duplicate_rows["row"].tolist() == [2]
    assert report.duplicate_rows["first_row"].tolist() == [0]
    assert report.duplicate_rows["existing_id"].isna().all()
    assert store.sql("SELECT severity FROM events WHERE source_id = 'b0'")["severity"][0] == "info"


def test_on_duplicate_raise_stores_nothing(store: rca.Store) -> None:
    store.add_events(rows(1))
    with pytest.raises(rca.DuplicateRecord, match="nothing was stored"):
        store.add_events(rows(5), on_duplicate="raise")
    assert store.stats()["events"] == 1


def test_on_duplicate_update_overwrites_changed_fields_and_keeps_identity(
    store: rca.Store,
) -> None:
    store.add_events(rows(3))
    before = {e: store.get_event(e) for e in store.sql("SELECT id FROM events")["id"]}
    changed = rows(3)
    changed[1]["severity"] = "critical"
    changed[1]["data"] = {"n": 1.0}  # a type change is a change
    changed[2]["tags"] = ["ci"]  # same as stored: not an update
    report = store.add_events(changed, on_duplicate="update")
    assert (report.stored, report.updated, report.unchanged) == (0, 1, 2)
    for event_id, old in before.items():
        new = store.get_event(event_id)
        assert (new.id, new.created_at) == (old.id, old.created_at)
        if new.source_id in ("b1",):
            assert new.severity is rca.EventSeverity.CRITICAL
            assert isinstance(new.data["n"], float)
            assert new.updated_at > old.updated_at
        elif new.source_id == "b0":
            assert new == old


def test_update_takes_the_last_occurrence_in_the_input(store: rca.Store) -> None:
    data = rows(1) + rows(1, severity="high") + rows(1, severity="critical")
    report = store.add_events(data, on_duplicate="update")
    assert report.stored == 1
    assert store.sql("SELECT severity FROM events")["severity"].tolist() == ["critical"]


def test_invalid_rows_are_reported_and_the_rest_stored(store: rca.Store) -> None:
    data = rows(4)
    data[1]["severity"] = "sever"
    data[2]["timestamp"] = "2026-03-01T10:00:00"  # naive
    data[2]["sevrity"] = "x"
    report = store.add_events(data)
    assert report.stored == 2
    assert report.rejected_rows == 2
    assert set(map(tuple, report.rejected[["row", "field", "code"]].values.tolist())) == {
        (1, "severity", "invalid_choice"),
        (2, "timestamp", "naive_datetime"),
        (2, "sevrity", "unknown_field"),
    }
    assert report.rejected.loc[report.rejected["row"] == 1, "record"].item() == "ci:b1"
    assert "rejected_rows=2" in repr(report)


def test_links_named_by_rows_are_created_and_unknown_ones_reject_the_row(
    store: rca.Store,
) -> None:
    inv = store.add_investigation({"title": "Checkout 500s"})
    data = rows(3)
    data[0]["investigation_ids"] = [inv.id]
    data[1]["investigation_ids"] = [inv.id, "no-such-investigation"]
    report = store.add_events(data)
    assert report.stored == 2
    assert report.rejected[["row", "field", "code"]].values.tolist() == [
        [1, "investigation_ids", "dangling_link"]
    ]
    (event_id,) = store.get_investigation(inv.id).event_ids
    assert store.get_event(event_id).source_id == "b0"
    (link,) = store.get_links()
    assert link.method is rca.LinkMethod.MANUAL


def test_explicit_ids_that_clash_are_rejected(store: rca.Store) -> None:
    first = store.add_event(rows(1)[0])
    data = rows(2, start=5)
    data[0]["id"] = first.id  # a different event claiming a stored id
    data[1]["id"] = "fresh"
    report = store.add_events(data)
    assert report.stored == 1
    assert report.rejected[["row", "code"]].values.tolist() == [[0, "duplicate_id"]]
    assert store.get_event("fresh").source_id == "b6"


def test_soft_deleted_events_still_own_their_keys(store: rca.Store) -> None:
    ev = store.add_event(rows(1)[0])
    store.delete_event(ev.id)
    report = store.add_events(rows(1))
    assert (report.stored, report.unchanged) == (0, 1)
    assert report.duplicate_rows["existing_id"].tolist() == [ev.id]


def test_a_failure_mid_load_leaves_nothing(store: rca.Store) -> None:
    def feed() -> Iterator[dict[str, Any]]:
        yield from rows(30)
        raise RuntimeError("the source went away")

    with pytest.raises(RuntimeError, match="went away"):
        _loading.load(_data.of(store), rca.Event, feed(), batch_rows=10)
    assert store.stats()["events"] == 0
    assert store.history() == []


def test_a_duplicate_in_a_later_batch_with_raise_rolls_back_earlier_batches(
    store: rca.Store,
) -> None:
    data = rows(25) + rows(1)  # the last row repeats b0, in the third batch
    with pytest.raises(rca.DuplicateRecord):
        _loading.load(_data.of(store), rca.Event, data, batch_rows=10, on_duplicate="raise")
    assert store.stats()["events"] == 0


def test_batches_deduplicate_across_each_other(store: rca.Store) -> None:
    data = rows(25) + rows(5)
    report = _loading.load(_data.of(store), rca.Event, data, batch_rows=10)
    assert (report.stored, report.unchanged) == (25, 5)
    assert report.duplicate_rows["existing_id"].notna().all()


def test_empty_input(store: rca.Store) -> None:
    for empty in ([], pd.DataFrame()):
        report = store.add_events(empty)
        assert (report.stored, report.unchanged, report.rejected_rows) == (0, 0, 0)


@pytest.mark.slow
def test_bulk_investigations_with_links_and_relations(store: rca.Store) -> None:
    ev = store.add_event(rows(1)[0])
    report = store.add_investigations(
        [
            {"id": "a", "title": "A", "priority": "p0", "event_ids": [ev.id]},
            {"id": "b", "title": "B", "related_investigation_ids": ["a"]},
            {"id": "c", "title": "", "priority": "P9"},
            {"id": "a", "title": "A again"},
        ]
    )
    assert (report.stored, report.unchanged, report.rejected_rows) == (1, 1, 2)
    assert report.rejected["code"].tolist().count("dangling_link") == 1  # b names a, not yet stored
    assert store.get_investigation("a").event_ids == [ev.id]
    report = store.add_investigations(
        [{"id": "b", "title": "B", "related_investigation_ids": ["a"]}]
    )
    assert report.stored == 1
    assert store.get_investigation("a").related_investigation_ids == ["b"]


def test_a_bulk_load_leaves_one_history_entry_per_batch(store: rca.Store) -> None:
    store.add_events(rows(10))
    (entry,) = store.history()
    assert (entry.entity, entry.action) == ("batch", "bulk_insert")
    assert entry.detail["inserted"] == 10


def test_progress_bar_can_be_forced_and_is_quiet_by_default(
    store: rca.Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_events(rows(5))
    assert capsys.readouterr().err == ""
    store.add_events(rows(5, start=5), progress=True)
    assert "rows" in capsys.readouterr().err


def test_rows_are_stored_in_time_order(store: rca.Store) -> None:
    data = list(reversed(rows(50)))
    store.add_events(data)
    order = store.sql("SELECT source_id FROM events")["source_id"].tolist()
    assert order == [f"b{i}" for i in range(50)]


def test_every_input_row_is_counted_once(store: rca.Store) -> None:
    store.add_events(rows(5))
    data = rows(8) + rows(2)  # 5 stored, 3 new, 2 repeats in the input
    data[6]["severity"] = "bogus"
    data[9]["severity"] = "critical"  # the last row for b1 changes a stored record
    report = store.add_events(data, on_duplicate="update")
    total = report.stored + report.updated + report.unchanged + report.rejected_rows
    assert total == len(data)
    assert (report.stored, report.updated, report.rejected_rows) == (2, 1, 1)


def test_a_rejected_row_does_not_shadow_a_valid_duplicate(store: rca.Store) -> None:
    data = rows(1, investigation_ids=["no-such"]) + rows(1)  # same key; the first is bad
    report = store.add_events(data)
    assert (report.stored, report.unchanged, report.rejected_rows) == (1, 0, 1)
    assert store.stats()["events"] == 1


def test_update_never_touches_a_soft_deleted_record(store: rca.Store) -> None:
    inv = store.add_investigation({"title": "t"})
    ev = store.add_event(rows(1)[0])
    store.delete_event(ev.id)
    report = store.add_events(
        rows(1, severity="critical", investigation_ids=[inv.id]), on_duplicate="update"
    )
    assert (report.updated, report.unchanged) == (0, 1)
    assert store.get_event(ev.id, include_deleted=True).severity is rca.EventSeverity.INFO
    assert store.get_links() == []


def test_two_rows_naming_one_stored_record_update_it_once_last_wins(store: rca.Store) -> None:
    ev = store.add_event(rows(1)[0])
    by_id = {
        "id": ev.id,
        "source": "ci",
        "event_type": "build",
        "severity": "high",
        "timestamp": T0,
        "source_id": "b0",
    }
    by_key = {**rows(1)[0], "severity": "critical"}
    report = store.add_events([by_id, by_key], on_duplicate="update")
    assert (report.updated, report.unchanged) == (1, 1)
    assert store.get_event(ev.id).severity is rca.EventSeverity.CRITICAL


def test_update_writes_only_the_fields_the_input_carries(store: rca.Store) -> None:
    ev = store.add_event({**rows(1)[0], "service": "checkout-api"})
    slim = pd.DataFrame(
        [
            {
                "source": "ci",
                "source_id": "b0",
                "event_type": "build",
                "severity": "high",
                "timestamp": T0,
            }
        ]
    )
    assert store.add_events(slim, on_duplicate="update").updated == 1
    after = store.get_event(ev.id)
    assert after.severity is rca.EventSeverity.HIGH
    assert (after.service, after.component, after.tags) == ("checkout-api", "payments", ["ci"])


def test_bulk_links_move_the_other_side_like_link_does(store: rca.Store) -> None:
    inv = store.add_investigation({"title": "t"})
    store.add_events(rows(2, investigation_ids=[inv.id]))
    assert store.get_investigation(inv.id).updated_at > inv.updated_at


@pytest.mark.slow
def test_updates_with_revisions_only_take_newer_versions_of_a_record(store: rca.Store) -> None:
    inv = {
        "id": "inc-1",
        "title": "API errors",
        "status": "in_progress",
        "revision": "2026-03-01T10",
    }
    store.add_investigations([inv])
    store.update_investigation("inc-1", status="closed", assigned_to="ana")  # triage by a person
    same = store.add_investigations([inv], on_duplicate="update")
    older = store.add_investigations(
        [{**inv, "status": "open", "revision": "2026-03-01T09"}], on_duplicate="update"
    )
    assert (same.updated, same.unchanged, older.updated, older.unchanged) == (0, 1, 0, 1)
    kept = store.get_investigation("inc-1")
    assert (kept.status, kept.assigned_to, kept.revision) == ("closed", "ana", "2026-03-01T10")
    newer = store.add_investigations(
        [{**inv, "status": "resolved", "revision": "2026-03-01T11"}], on_duplicate="update"
    )
    assert newer.updated == 1
    now = store.get_investigation("inc-1")
    assert (now.status, now.assigned_to, now.revision) == ("resolved", "ana", "2026-03-01T11")
    # without revisions, an update always applies (as before)
    store.add_investigations([{"id": "inc-2", "title": "t", "status": "open"}])
    again = store.add_investigations(
        [{"id": "inc-2", "title": "t", "status": "resolved"}], on_duplicate="update"
    )
    assert again.updated == 1
