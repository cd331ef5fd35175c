"""Running readers: one transaction, reports naming places, options checked, progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rca_analytics as rca

INCIDENT = {
    "page": {"id": "p1", "name": "Shop"},
    "incident": {
        "id": "inc1",
        "name": "Checkout down",
        "status": "resolved",
        "impact": "major",
        "created_at": "2026-03-01T11:05:00Z",
        "updated_at": "2026-03-01T11:45:00Z",
        "resolved_at": "2026-03-01T11:45:00Z",
        "incident_updates": [
            {"id": "u1", "status": "investigating", "body": "Failing.",
             "created_at": "2026-03-01T11:05:00Z"},
            {"id": "u2", "status": "resolved", "body": "Fixed.",
             "created_at": "2026-03-01T11:45:00Z"},
        ],
    },
}  # fmt: skip


def write(path: Path, body: object) -> Path:
    path.write_text(json.dumps(body))
    return path


def test_an_unknown_reader_or_option_is_refused_before_anything_is_read(
    store: rca.Store, tmp_path: Path
) -> None:
    src = write(tmp_path / "i.json", INCIDENT)
    with pytest.raises(rca.ReaderError, match="no reader for 'jira'; the readers are git, "):
        store.ingest("jira", src)
    with pytest.raises(rca.ReaderError, match=r"no option 'min_level'; its options: "):
        store.ingest("statuspage", src, min_level="error")
    with pytest.raises(rca.ReaderError, match="no option"):
        rca.read("statuspage", src, since="2026-01-01")
    assert store.stats()["events"] == store.stats()["investigations"] == 0


def test_a_missing_input_stores_nothing_even_after_good_ones(
    store: rca.Store, tmp_path: Path
) -> None:
    good = write(tmp_path / "i.json", INCIDENT)
    with pytest.raises(rca.ReaderError, match=r"nowhere\.json: no such file"):
        store.ingest("statuspage", [good, tmp_path / "nowhere.json"])
    assert store.stats()["events"] == store.stats()["investigations"] == 0


def test_the_report_counts_everything_and_names_rejected_places(
    store: rca.Store, tmp_path: Path
) -> None:
    good = write(tmp_path / "a.json", INCIDENT)
    (tmp_path / "b.json").write_text('{"incident": ')
    report = store.ingest("statuspage", [good, tmp_path / "b.json"])
    assert report.investigations == {
        "read": 1, "stored": 1, "updated": 0, "unchanged": 0, "rejected_rows": 0
    }  # fmt: skip
    assert report.events["stored"] == 2
    assert report.rejects[["where", "code"]].values.tolist() == [
        [f"{tmp_path}/b.json:1", "bad_json"]
    ]
    assert not report.ok
    assert "rejected: 1 × bad_json" in report.summary()
    assert "<pre>" in report._repr_html_() and "b.json" in report._repr_html_()
    assert repr(report) == (
        "<IngestReport statuspage: stored=3 updated=0 unchanged=0 rejected_rows=1 skipped_rows=0>"
    )
    assert (report.stored, report.rejected_rows, report.skipped_rows) == (3, 1, 0)
    # the events name their reader run, and link to their investigation with method import
    links = store.get_links()
    assert [link.method for link in links] == [rca.LinkMethod.IMPORT] * 2
    assert store.events()["parsed_at"].notna().all()


def test_records_the_store_refuses_are_reported_where_they_came_from(
    store: rca.Store, tmp_path: Path
) -> None:
    body = json.loads(json.dumps(INCIDENT))
    body["incident"]["incident_updates"][1]["body"] = "bad \ud800 text"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(body))  # \ud800 stays escaped in the file: valid JSON
    report = store.ingest("statuspage", path)
    assert report.events["stored"] == 1 and report.events["rejected_rows"] == 1
    (where,) = report.rejects["where"]
    assert where.startswith(f"{path}#/incident/incident_updates/")


@pytest.mark.slow
def test_on_duplicate_can_be_chosen_by_the_caller(store: rca.Store, tmp_path: Path) -> None:
    path = write(tmp_path / "i.json", INCIDENT)
    store.ingest("statuspage", path)
    inv_id = store.investigations()["id"].item()
    store.update_investigation(inv_id, title="Checkout down (renamed)")
    # the reader updates only from newer revisions; the caller can ask for "skip"
    assert store.ingest("statuspage", path, on_duplicate="skip").investigations["unchanged"] == 1
    with pytest.raises(rca.DuplicateRecord):
        store.ingest("statuspage", path, on_duplicate="raise")
    assert store.get_investigation(inv_id).title == "Checkout down (renamed)"


def test_a_read_only_store_refuses_to_ingest(tmp_path: Path) -> None:
    rca.connect(tmp_path / "s.duckdb").close()
    with (
        rca.connect(tmp_path / "s.duckdb", read_only=True) as store,
        pytest.raises(rca.ReadOnlyStore),
    ):
        store.ingest("statuspage", write(tmp_path / "i.json", INCIDENT))


def test_read_shows_records_without_a_store(tmp_path: Path) -> None:
    reading = rca.read("statuspage", write(tmp_path / "i.json", INCIDENT))
    assert (len(reading.investigations), len(reading.events)) == (1, 2)
    assert reading.events["where"].str.startswith(f"{tmp_path}/i.json#/").all()
    assert repr(reading) == "<Reading events=2 investigations=1 rejects=0>"
    assert reading.notes == {}


def test_read_returns_the_notes_and_shows_them(tmp_path: Path) -> None:
    incident = json.loads(json.dumps(INCIDENT))
    incident["incident"]["created_at"] = "2026-03-01T11:05:00"  # no offset: taken as UTC
    incident["incident"]["resolved_at"] = "0001-01-01T00:00:00Z"  # unset: from the update
    reading = rca.read("statuspage", write(tmp_path / "i.json", incident))
    assert reading.notes == {
        "naive_time_as_utc": 1,
        "zero_time_as_missing": 1,
        "resolved_at_from_update": 1,
    }
    assert repr(reading) == (
        "<Reading events=2 investigations=1 rejects=0 notes: naive_time_as_utc=1 "
        "resolved_at_from_update=1 zero_time_as_missing=1>"
    )


def test_an_ingest_that_finds_no_input_files_says_so_in_its_report(
    store: rca.Store, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "report.txt").write_text("<testsuite/>")  # not named *.xml
    for folder in (empty, tmp_path / "other"):
        report = store.ingest("junit", folder)  # not an exception: the report says it
        assert report.ok and report.notes == {"no_input_files": 1}
        assert report.nothing_read == (
            f"no input files in {folder}: the junit reader takes files named *.xml, *.xml.gz "
            "from folders"
        )
        assert report.summary().endswith(f"\n  {report.nothing_read}")
        assert "note:" not in report.summary()
        reading = rca.read("junit", folder)
        assert reading.notes == {"no_input_files": 1} and reading.events.empty
    report = store.ingest("otlp", [empty, tmp_path / "other"])
    assert report.nothing_read is not None
    assert report.nothing_read.startswith(f"no input files in {empty}, {tmp_path / 'other'}: ")
    assert "*.jsonl" in report.nothing_read


def test_files_that_yield_nothing_say_so_but_skips_and_rejects_are_something(
    store: rca.Store, tmp_path: Path
) -> None:
    nothing = write(tmp_path / "nothing.json", [])
    report = store.ingest("statuspage", nothing)
    assert report.notes == {"nothing_read": 1}
    assert report.nothing_read == (
        f"nothing read from {nothing}: no record, no reject, nothing skipped; "
        "the statuspage reader takes files named *.json, *.json.gz from folders"
    )
    assert rca.read("alerts", nothing).notes == {"nothing_read": 1}
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert rca.read("statuspage", bad).notes == {}  # a reject: something was read
    empty_report = tmp_path / "r.xml"
    empty_report.write_text("<testsuites/>")
    assert rca.read("junit", empty_report).notes == {}  # skipped (empty_report)
    assert store.ingest("junit", empty_report).nothing_read is None


def test_progress_is_shown_on_request_and_for_large_inputs_only(
    store: rca.Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "i.json", INCIDENT)
    store.ingest("statuspage", path)
    assert capsys.readouterr().err == ""
    store.ingest("statuspage", path, progress=True)
    assert "ingest statuspage" in capsys.readouterr().err


def issue(number: int, labels: list[str], updated: str) -> dict[str, object]:
    return {
        "action": "labeled",
        "repository": {"full_name": "acme/shop", "name": "shop"},
        "issue": {"number": number, "title": f"incident {number}", "state": "open",
                  "created_at": "2026-03-01T09:00:00Z", "updated_at": updated,
                  "labels": [{"name": n} for n in labels]},
    }  # fmt: skip


def test_an_update_writes_only_the_fields_each_record_carries(
    store: rca.Store, tmp_path: Path
) -> None:
    (tmp_path / "a" / "issues").mkdir(parents=True)
    (tmp_path / "b" / "issues").mkdir(parents=True)
    write(tmp_path / "a" / "issues" / "1.json", issue(1, ["incident", "sev1"], "2026-03-01T10:00Z"))
    store.ingest("github", tmp_path / "a")
    # a later delivery of #1 without a severity label, in one batch with #2 that has one
    write(tmp_path / "b" / "issues" / "1.json", issue(1, ["incident"], "2026-03-01T11:00Z"))
    write(tmp_path / "b" / "issues" / "2.json", issue(2, ["incident", "sev2"], "2026-03-01T11:00Z"))
    report = store.ingest("github", tmp_path / "b")
    assert (report.investigations["updated"], report.investigations["stored"]) == (1, 1)
    found = store.investigations().set_index("title")["impact_severity"].astype(str)
    assert found.to_dict() == {"incident 1": "critical", "incident 2": "high"}


@pytest.mark.slow
def test_places_of_rejected_rows_survive_small_batches(
    store: rca.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rca_analytics import _ingesting

    monkeypatch.setattr(_ingesting, "BATCH_ROWS", 1)
    bodies = []
    for n in range(3):
        body = json.loads(json.dumps(INCIDENT))
        body["incident"]["id"] = f"inc{n}"
        body["incident"]["incident_updates"][1]["body"] = "bad \ud800"
        bodies.append(body["incident"])
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"page": INCIDENT["page"], "incidents": bodies}))
    report = store.ingest("statuspage", path)
    assert report.events == {
        "read": 6,
        "stored": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected_rows": 3,
    }
    assert report.rejects["where"].tolist() == [
        f"{path}#/incidents/{n}/incident_updates/1" for n in range(3)
    ]


def test_the_progress_bar_moves_with_the_reading(
    store: rca.Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "incidents"
    folder.mkdir()
    for n in range(3):
        body = json.loads(json.dumps(INCIDENT))
        body["incident"]["id"] = f"inc{n}"
        write(folder / f"{n}.json", body)
    store.ingest("statuspage", folder, progress=True)
    err = capsys.readouterr().err
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert f"{size}/{size}" in err.replace(".00", "") or "100%" in err
    assert "ingest statuspage" in err


def test_read_shows_text_the_store_would_refuse_and_reads_a_file_named_twice_once(
    tmp_path: Path,
) -> None:
    body = json.loads(json.dumps(INCIDENT))
    body["incident"]["name"] = "bad \ud800 name"
    path = write(tmp_path / "odd.json", body)
    reading = rca.read("statuspage", [path, path])
    assert reading.investigations["title"].tolist() == ["bad \ud800 name"]
    assert len(reading.events) == 2
