from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca

UTC = dt.UTC
EventData = Callable[..., dict[str, Any]]


# --- opening ------------------------------------------------------------------------------


def test_the_issue_walkthrough(store: rca.Store) -> None:
    ev = store.add_event(
        {
            "source": "git",
            "event_type": "commit",
            "severity": "info",
            "timestamp": "2026-03-01T10:02:00+01:00",
            "source_id": "9fceb02",
            "component": "payments",
            "service": "checkout-api",
            "tags": ["deploy"],
            "data": {"author": "ana", "files": 3},
        }
    )
    inv = store.add_investigation(
        rca.Investigation(
            title="Checkout 500s",
            impact_severity="critical",
            priority="P0",
            detected_at="2026-03-01T09:15:00Z",
            component_affected="payments",
        )
    )
    link = store.link(
        ev.id, inv.id, confidence=0.9, method="manual", reasons=["deploy 47 min before detection"]
    )
    assert link.confidence == 0.9
    assert store.get_investigation(inv.id).event_ids == [ev.id]
    assert store.get_event(ev.id).investigation_ids == [inv.id]
    before = store.get_investigation(inv.id).updated_at
    resolved = store.update_investigation(inv.id, status="resolved", root_cause="pool too small")
    assert resolved.status is rca.InvestigationStatus.RESOLVED
    assert resolved.updated_at > before
    store.delete_event(ev.id)
    with pytest.raises(rca.NotFound, match="soft-deleted"):
        store.get_event(ev.id)
    assert store.restore_event(ev.id).investigation_ids == [inv.id]
    got = store.get_event(ev.id)
    assert got.timestamp == dt.datetime(2026, 3, 1, 9, 2, tzinfo=UTC)
    assert got.data == {"author": "ana", "files": 3}


def test_connect_without_a_path_uses_rca_db_then_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RCA_DB", raising=False)
    with rca.connect() as store:
        assert store.path == tmp_path / "rca.duckdb"
    assert (tmp_path / "rca.duckdb").exists()
    monkeypatch.setenv("RCA_DB", str(tmp_path / "team.duckdb"))
    with rca.connect() as store:
        assert store.path == tmp_path / "team.duckdb"


def test_memory_store_works_and_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event_data: EventData
) -> None:
    monkeypatch.chdir(tmp_path)
    with rca.connect(":memory:") as store:
        store.add_event(event_data())
        assert store.path is None
        assert store.stats()["events"] == 1
    assert list(tmp_path.iterdir()) == []


def test_records_survive_close_and_reopen(
    store_path: Path, event_data: EventData, investigation_data: EventData
) -> None:
    with rca.connect(store_path) as store:
        ev = store.add_event(event_data())
        inv = store.add_investigation(investigation_data())
        store.link(ev.id, inv.id, confidence=0.5, reasons=["r"])
        ev, inv = store.get_event(ev.id), store.get_investigation(inv.id)
    with rca.connect(store_path) as store:
        assert store.get_event(ev.id) == ev
        assert store.get_investigation(inv.id) == inv
        assert store.get_links(event_id=ev.id)[0].reasons == ["r"]


def test_read_only_store_reads_and_refuses_writes(store_path: Path, event_data: EventData) -> None:
    with rca.connect(store_path) as store:
        ev = store.add_event(event_data())
    with rca.connect(store_path, read_only=True) as ro:
        assert ro.read_only
        assert ro.get_event(ev.id) == ev
        with pytest.raises(rca.ReadOnlyStore, match="read-only"):
            ro.add_event(event_data())
        with pytest.raises(rca.ReadOnlyStore):
            ro.delete_event(ev.id)


def test_two_read_only_opens_in_the_same_process(store_path: Path) -> None:
    rca.connect(store_path).close()
    with rca.connect(store_path, read_only=True) as a, rca.connect(store_path, read_only=True) as b:
        assert a.stats() == b.stats()


def test_read_only_open_of_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(rca.NotFound, match="no store"):
        rca.connect(tmp_path / "nope.duckdb", read_only=True)
    assert not (tmp_path / "nope.duckdb").exists()


def test_creating_a_store_in_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(rca.NotFound, match="does not exist"):
        rca.connect(tmp_path / "no" / "such" / "x.duckdb")


@pytest.mark.slow
def test_reopening_in_the_same_process_shares_the_file(
    store_path: Path, event_data: EventData
) -> None:
    first = rca.connect(store_path)
    second = rca.connect(store_path)  # a notebook re-running its first cell

    def write(store: rca.Store, tag: str) -> None:
        for n in range(30):
            store.add_event(event_data(source_id=f"{tag}-{n}"))

    threads = [
        threading.Thread(target=write, args=(first, "a")),
        threading.Thread(target=write, args=(second, "b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert first.stats()["events"] == second.stats()["events"] == 60
    reader = rca.connect(store_path, read_only=True)  # beside the writer, same process
    assert reader.stats()["events"] == 60
    with pytest.raises(rca.ReadOnlyStore):
        reader.add_event(event_data())
    first.close()
    assert second.stats()["events"] == 60  # still open: the file is shared
    second.close()
    reader.close()


def test_a_read_only_open_blocks_a_writer_in_the_same_process_clearly(store_path: Path) -> None:
    rca.connect(store_path).close()
    with rca.connect(store_path, read_only=True):
        with pytest.raises(rca.StoreLocked, match="read-only in this process") as excinfo:
            rca.connect(store_path)
        assert excinfo.value.pid == os.getpid()
    rca.connect(store_path).close()


def _other_process_can_open(path: Path) -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", f"import rca_analytics as r; r.connect({str(path)!r}).close()"],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0


@pytest.mark.slow
def test_the_file_is_released_when_the_last_store_goes(store_path: Path) -> None:
    a = rca.connect(store_path)
    b = rca.connect(store_path)
    a.close()
    assert not _other_process_can_open(store_path)
    del b  # a notebook that drops its store without closing it
    gc.collect()
    assert _other_process_can_open(store_path)


@pytest.mark.slow
def test_another_process_holding_the_file_gives_store_locked_with_its_pid(store_path: Path) -> None:
    rca.connect(store_path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, rca_analytics as rca
                store = rca.connect({str(store_path)!r})
                print("ready", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        for read_only in (False, True):
            with pytest.raises(rca.StoreLocked) as excinfo:
                rca.connect(store_path, read_only=read_only)
            assert excinfo.value.pid == holder.pid
            assert str(holder.pid) in str(excinfo.value)
            assert "read_only=True" in str(excinfo.value)
    finally:
        holder.communicate("")
    with rca.connect(store_path) as store:  # free again once the holder has gone
        assert store.stats()["events"] == 0


def test_closed_store_says_it_is_closed(store_path: Path) -> None:
    store = rca.connect(store_path)
    store.close()
    store.close()  # harmless
    assert store.closed
    with pytest.raises(rca.StoreError, match="closed"):
        store.stats()
    assert "closed" in repr(store)


def test_store_reprs_show_path_version_and_counts(store: rca.Store, event_data: EventData) -> None:
    store.add_event(event_data())
    text = repr(store)
    assert str(store.path) in text and f"schema v{store.schema_version}" in text
    assert "1 events" in text
    page = store._repr_html_()
    assert str(store.path) in page and "schema version" in page and "1 (+0 deleted)" in page


# --- events -------------------------------------------------------------------------------


def test_add_event_returns_it_as_stored(store: rca.Store, event_data: EventData) -> None:
    ev = store.add_event(event_data(timestamp="2026-03-01T10:00:00+02:00", tags=["a", "a", "b"]))
    assert ev.timestamp == dt.datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert ev.tags == ["a", "b"]
    assert store.get_event(ev.id) == ev


def test_add_event_accepts_a_model_a_dict_and_a_dataframe_row(
    store: rca.Store, event_data: EventData
) -> None:
    store.add_event(rca.Event(**event_data()))
    store.add_event(event_data())
    frame = pd.DataFrame([event_data(component=None)])
    row = store.add_event(frame.iloc[0])
    assert row.component is None  # NaN/None from the frame is missing
    assert store.stats()["events"] == 3


def test_duplicate_source_key_names_the_existing_event(
    store: rca.Store, event_data: EventData
) -> None:
    first = store.add_event(event_data(source_id="9fceb02"))
    with pytest.raises(rca.DuplicateRecord) as excinfo:
        store.add_event(event_data(source_id="9fceb02", severity="high"))
    assert excinfo.value.existing_id == first.id
    assert excinfo.value.key == {"source": "git", "source_id": "9fceb02"}
    assert first.id in str(excinfo.value)
    assert store.stats()["events"] == 1


def test_same_source_id_from_another_source_is_fine(
    store: rca.Store, event_data: EventData
) -> None:
    store.add_event(event_data(source_id="42"))
    store.add_event(event_data(source_id="42", source="ci", event_type="build"))
    assert store.stats()["events"] == 2


def test_events_without_source_id_never_clash(store: rca.Store, event_data: EventData) -> None:
    store.add_event(event_data(source_id=None))
    store.add_event(event_data(source_id=None))
    assert store.stats()["events"] == 2


def test_a_soft_deleted_event_still_owns_its_key(store: rca.Store, event_data: EventData) -> None:
    ev = store.add_event(event_data(source_id="abc"))
    store.delete_event(ev.id)
    with pytest.raises(rca.DuplicateRecord, match="restore_event") as excinfo:
        store.add_event(event_data(source_id="abc"))
    assert excinfo.value.deleted
    assert excinfo.value.existing_id == ev.id


def test_duplicate_id_is_rejected(store: rca.Store, event_data: EventData) -> None:
    ev = store.add_event(event_data())
    with pytest.raises(rca.DuplicateRecord, match="taken"):
        store.add_event(event_data(id=ev.id))


def test_missing_ids_raise_not_found(store: rca.Store) -> None:
    for call in (
        lambda: store.get_event("nope"),
        lambda: store.update_event("nope", severity="low"),
        lambda: store.delete_event("nope"),
        lambda: store.restore_event("nope"),
        lambda: store.get_investigation("nope"),
        lambda: store.update_investigation("nope", title="x"),
        lambda: store.delete_investigation("nope"),
        lambda: store.restore_investigation("nope"),
    ):
        with pytest.raises(rca.NotFound, match="'nope'"):
            call()


def test_update_event_validates_and_moves_updated_at(
    store: rca.Store, event_data: EventData
) -> None:
    ev = store.add_event(event_data())
    new = store.update_event(ev.id, severity="CRITICAL", data={"k": 1})
    assert new.severity is rca.EventSeverity.CRITICAL
    assert new.data == {"k": 1}
    assert new.updated_at > ev.updated_at
    assert new.created_at == ev.created_at
    assert store.get_event(ev.id) == new


def test_a_failed_update_changes_nothing(store: rca.Store, event_data: EventData) -> None:
    ev = store.add_event(event_data())
    with pytest.raises(rca.ValidationFailed) as excinfo:
        store.update_event(ev.id, severity="sever", timestamp="2026-03-01T10:00:00")
    assert {f.field for f in excinfo.value.failures} == {"severity", "timestamp"}
    assert all(f.record == ev.id for f in excinfo.value.failures)
    assert store.get_event(ev.id) == ev
    assert [c.action for c in store.history(ev.id)] == ["insert"]


def test_update_rejects_unknown_and_read_only_fields(
    store: rca.Store, investigation_data: EventData
) -> None:
    inv = store.add_investigation(investigation_data())
    with pytest.raises(rca.ValidationFailed, match="did you mean 'root_cause'"):
        store.update_investigation(inv.id, rootcause="typo")
    with pytest.raises(rca.ValidationFailed) as excinfo:
        store.update_investigation(inv.id, id="other", event_ids=["x"], deleted_at=0)
    assert {f.code for f in excinfo.value.failures} == {"read_only"}
    assert "link()" in str(excinfo.value)
    assert store.get_investigation(inv.id) == inv


def test_update_cannot_clear_a_field_that_has_a_default(
    store: rca.Store, investigation_data: EventData
) -> None:
    inv = store.add_investigation(investigation_data(status="in_progress"))
    with pytest.raises(rca.ValidationFailed) as excinfo:
        store.update_investigation(
            inv.id, priority=None, status=float("nan"), impact_severity=pd.NA
        )
    assert {(f.field, f.code) for f in excinfo.value.failures} == {
        ("priority", "required"),
        ("status", "required"),
        ("impact_severity", "required"),
    }
    assert store.get_investigation(inv.id) == inv
    cleared = store.update_investigation(inv.id, component_affected=None, tags=None)
    assert cleared.component_affected is None and cleared.tags == []


def test_a_change_of_json_type_is_a_change(store: rca.Store, event_data: EventData) -> None:
    ev = store.add_event(event_data(data={"retries": True, "ratio": 1}))
    new = store.update_event(ev.id, data={"retries": 1, "ratio": 1.0})
    assert new.updated_at > ev.updated_at
    assert store.get_event(ev.id).data == {"retries": 1, "ratio": 1.0}
    assert isinstance(store.get_event(ev.id).data["ratio"], float)


def test_ids_are_normalised_like_the_models_do(
    store: rca.Store, investigation_data: EventData, event_data: EventData
) -> None:
    store.add_event(event_data())
    inv = store.add_investigation(investigation_data(id=5))
    assert inv.id == "5"
    assert store.get_investigation(5) == inv
    assert store.get_investigation(" 5 ") == inv
    with pytest.raises(rca.NotFound):
        store.get_event(5)
    with pytest.raises(rca.NotFound, match="not a valid"):
        store.get_event([1, 2])  # type: ignore[arg-type]


def test_update_source_key_checks_read_only_fields_first(
    store: rca.Store, event_data: EventData
) -> None:
    ev = store.add_event(event_data(source_id="a"))
    with pytest.raises(rca.ValidationFailed, match="read_only"):
        store.update_event(ev.id, id="new", source="GIT")


def test_update_to_a_taken_source_key_is_a_duplicate(
    store: rca.Store, event_data: EventData
) -> None:
    a = store.add_event(event_data(source_id="a"))
    b = store.add_event(event_data(source_id="b"))
    with pytest.raises(rca.DuplicateRecord) as excinfo:
        store.update_event(b.id, source_id="a")
    assert excinfo.value.existing_id == a.id
    assert store.get_event(b.id) == b


def test_an_update_that_changes_nothing_keeps_updated_at(
    store: rca.Store, investigation_data: EventData
) -> None:
    inv = store.add_investigation(investigation_data())
    same = store.update_investigation(inv.id, title=" Checkout 500s ", priority="p0")
    assert same.updated_at == inv.updated_at
    assert [c.action for c in store.history(inv.id)] == ["insert"]


def test_updated_at_moves_on_every_change_even_within_a_microsecond(
    store: rca.Store, investigation_data: EventData
) -> None:
    inv = store.add_investigation(investigation_data())
    stamps = [inv.updated_at]
    for n in range(20):
        stamps.append(store.update_investigation(inv.id, description=f"v{n}").updated_at)
    assert all(a < b for a, b in itertools.pairwise(stamps))


def test_soft_delete_hides_keeps_and_restores(store: rca.Store, event_data: EventData) -> None:
    ev = store.add_event(event_data())
    store.delete_event(ev.id)
    with pytest.raises(rca.NotFound, match=r"restore_event"):
        store.get_event(ev.id)
    kept = store.get_event(ev.id, include_deleted=True)
    assert kept.deleted_at is not None and kept.is_deleted
    with pytest.raises(rca.NotFound):
        store.update_event(ev.id, severity="low")
    store.delete_event(ev.id)  # deleting twice keeps the first deletion time
    assert store.get_event(ev.id, include_deleted=True).deleted_at == kept.deleted_at
    restored = store.restore_event(ev.id)
    assert restored.deleted_at is None
    assert restored.model_dump(exclude={"updated_at"}) == ev.model_dump(exclude={"updated_at"})
    assert store.stats() == {
        "events": 1,
        "deleted_events": 0,
        "investigations": 0,
        "deleted_investigations": 0,
        "links": 0,
    }
    assert [c.action for c in store.history(ev.id)] == ["insert", "delete", "restore"]


def test_tags_are_added_and_removed_without_duplicates(
    store: rca.Store, event_data: EventData, investigation_data: EventData
) -> None:
    ev = store.add_event(event_data(tags=["deploy"]))
    assert store.tag_event(ev.id, "db", "deploy", " db ").tags == ["deploy", "db"]
    assert store.untag_event(ev.id, "deploy", "absent").tags == ["db"]
    inv = store.add_investigation(investigation_data(tags=["x"]))
    assert store.tag_investigation(inv.id, "y", "x").tags == ["x", "y"]
    assert store.untag_investigation(inv.id, "x").tags == ["y"]


def test_a_transaction_is_all_or_nothing(store: rca.Store, event_data: EventData) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_event(event_data())
        store.add_investigation({"title": "t"})
        raise RuntimeError("boom")
    assert store.stats()["events"] == 0
    assert store.stats()["investigations"] == 0
    assert store.history() == []


def test_a_call_that_fails_before_writing_can_be_caught_inside_a_transaction(
    store: rca.Store, event_data: EventData
) -> None:
    with store.transaction():
        store.add_event(event_data(source_id="dup"))
        with pytest.raises(rca.DuplicateRecord):
            store.add_event(event_data(source_id="dup"))  # nothing written: harmless
        store.add_event(event_data(source_id="other"))
    assert store.stats()["events"] == 2


def test_an_inner_block_that_wrote_and_failed_dooms_the_whole_transaction(
    store: rca.Store, event_data: EventData
) -> None:
    with pytest.raises(rca.TransactionAborted, match="rolled back"), store.transaction():
        store.add_event(event_data())
        try:
            with store.transaction():
                store.add_investigation({"title": "written, then the block failed"})
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert store.stats() == {
        "events": 0,
        "deleted_events": 0,
        "investigations": 0,
        "deleted_investigations": 0,
        "links": 0,
    }
    store.add_event(event_data())  # the store works afterwards
    assert store.stats()["events"] == 1


def test_a_failing_call_inside_a_transaction_rolls_the_transaction_back(
    store: rca.Store, event_data: EventData
) -> None:
    with pytest.raises(rca.NotFound), store.transaction():
        store.add_event(event_data())
        store.add_event(event_data(investigation_ids=["no-such-investigation"]))
    assert store.stats()["events"] == 0


def test_add_with_derived_lists_creates_links(
    store: rca.Store, event_data: EventData, investigation_data: EventData
) -> None:
    inv = store.add_investigation(investigation_data())
    ev = store.add_event(event_data(investigation_ids=[inv.id]))
    assert ev.investigation_ids == [inv.id]
    (link,) = store.get_links(event_id=ev.id)
    assert link.method is rca.LinkMethod.MANUAL
    inv2 = store.add_investigation(
        investigation_data(event_ids=[ev.id], related_investigation_ids=[inv.id])
    )
    assert inv2.event_ids == [ev.id]
    assert store.get_investigation(inv.id).related_investigation_ids == [inv2.id]


@pytest.mark.slow
def test_threads_writing_through_one_store_keep_every_row(
    store: rca.Store, event_data: EventData
) -> None:
    errors: list[BaseException] = []
    payloads = [[event_data(source_id=f"t{t}-{n}") for n in range(25)] for t in range(8)]

    def work(rows: list[dict[str, Any]]) -> None:
        try:
            for row in rows:
                store.add_event(row)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(rows,)) for rows in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.stats()["events"] == 200


# --- sql escape hatch ----------------------------------------------------------------------


def test_sql_runs_read_queries_only(store: rca.Store, event_data: EventData) -> None:
    store.add_event(event_data())
    for statement in (
        "UPDATE events SET severity = 'critical'",
        "DELETE FROM events",
        "DROP TABLE events",
        "SELECT 1; DELETE FROM events",
        "INSERT INTO events SELECT * FROM events",
    ):
        with pytest.raises(rca.QueryError):
            store.sql(statement)
    with pytest.raises(rca.QueryError, match="query failed"):
        store.sql("SELECT no_such_column FROM events")
    assert store.stats()["events"] == 1
    assert store.sql("WITH x AS (SELECT count(*) AS n FROM events) SELECT n FROM x")["n"][0] == 1


def test_sql_is_parameterised_and_returns_a_dataframe(
    store: rca.Store, event_data: EventData
) -> None:
    store.add_event(event_data(component="pay'ments; DROP TABLE events; --"))
    frame = store.sql(
        "SELECT component, timestamp FROM events WHERE component = ?",
        ["pay'ments; DROP TABLE events; --"],
    )
    assert len(frame) == 1
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert store.stats()["events"] == 1


def test_a_caught_query_error_inside_a_transaction_raises_when_the_block_ends(
    store: rca.Store,
) -> None:
    """DuckDB discards a transaction after any failed statement; the block must say so."""
    with pytest.raises(rca.TransactionAborted, match="nothing of it was stored"):  # noqa: SIM117
        with store.transaction():
            inv = store.add_investigation({"title": "kept only if the block lands"})
            with pytest.raises(rca.QueryError):
                store.sql("SELECT no_such_column FROM investigations")
    with pytest.raises(rca.NotFound):
        store.get_investigation(inv.id)
    # The store works on: the next transaction lands.
    with store.transaction():
        kept = store.add_investigation({"title": "this one lands"})
    assert store.get_investigation(kept.id).title == "this one lands"


def test_a_caught_duplicate_inside_a_transaction_keeps_it(
    store: rca.Store, event_data: EventData
) -> None:
    """A duplicate is found by a lookup, not a failed insert: the block lands whole."""
    ev = store.add_event(event_data())
    with store.transaction():
        other = store.add_investigation({"title": "beside a refused duplicate"})
        with contextlib.suppress(rca.DuplicateRecord):
            store.add_event({**event_data(), "id": ev.id})
    assert store.get_investigation(other.id).title == "beside a refused duplicate"
    assert store.stats()["events"] == 1


def test_a_caught_validation_error_inside_a_transaction_keeps_it(
    store: rca.Store, event_data: EventData
) -> None:
    """Refused before any SQL ran: the transaction goes on and lands."""
    with store.transaction():
        inv = store.add_investigation({"title": "lands"})
        with pytest.raises(rca.ValidationFailed):
            store.add_event({**event_data(), "severity": "sever"})
    assert store.get_investigation(inv.id).title == "lands"
