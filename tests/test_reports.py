"""One report shape: every operation that takes input counts with the same words."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_import_sqlite import legacy_event, write_legacy

import rca_analytics as rca
from rca_analytics._reports import COUNTS, REJECT_COLUMNS, VALUE_LIMIT, Counts, rejects_frame

HOSTILE = "<script>alert('x')</script>"

EventData = Callable[..., dict[str, Any]]


def plain(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows of ``frame`` with None for missing values."""
    rows: list[list[Any]] = frame.astype(object).where(frame.notna(), None).values.tolist()
    return rows


def check_shape(report: rca.OperationReport) -> dict[str, Any]:
    """What every report promises; returns ``to_dict()``."""
    assert isinstance(report, rca.OperationReport)
    assert list(report.counts) == list(COUNTS)
    assert all(isinstance(getattr(report, c), int) for c in COUNTS)
    assert list(report.rejects.columns[: len(REJECT_COLUMNS)]) == list(REJECT_COLUMNS)
    assert report.ok == report.rejects.empty
    body = report.to_dict()
    assert json.loads(json.dumps(body)) == body  # JSON as it is
    assert body["report"] == type(report).__name__
    assert {c: body[c] for c in COUNTS} == report.counts
    assert len(body["rejects"]) == len(report.rejects)
    text = repr(report)
    assert "\n" not in text and len(text) < 300 and text.startswith(f"<{type(report).__name__}")
    assert all(f"{c}=" in text for c in COUNTS)
    lines = report.summary().splitlines()
    assert 1 <= len(lines) <= 20
    page = report._repr_html_()
    assert page.startswith("<div") and all(f">{c}<" in page for c in COUNTS)
    assert "<script>" not in page
    return body


def test_a_load_report(store: rca.Store, event_data: EventData) -> None:
    rows = [
        event_data(),
        event_data(severity=HOSTILE),
        event_data(severity="x" * 500),
        event_data(source_id="sha0000"),  # the first row's key again
    ]
    report = store.add_events(rows)
    body = check_shape(report)
    assert report.counts == {
        "stored": 1,
        "updated": 0,
        "unchanged": 1,
        "rejected_rows": 2,
        "skipped_rows": 0,
    }
    assert report.rejects[["where", "row", "field", "code"]].values.tolist() == [
        ["1", 1, "severity", "invalid_choice"],
        ["2", 2, "severity", "invalid_choice"],
    ]
    hostile, long = report.rejects["value"]
    assert hostile == HOSTILE and "&lt;script&gt;" in report._repr_html_()
    assert len(long) == VALUE_LIMIT and long.endswith("…")
    assert body["rejects"][0]["value"] == HOSTILE and body["duplicate_rows"][0]["row"] == 3
    assert report.summary() == (
        "load: 1 stored, 0 updated, 1 unchanged, 2 rejected, 0 skipped\n"
        "  rejected: 2 × invalid_choice"
    )


def test_the_earlier_load_report_names_still_answer(
    store: rca.Store, event_data: EventData
) -> None:
    report = store.add_events([event_data(), event_data(source_id="sha0000")])
    with pytest.warns(DeprecationWarning, match="stored"):
        assert report.inserted == report.stored == 1
    with pytest.warns(DeprecationWarning, match="unchanged"):
        assert report.duplicates == report.unchanged == 1
    assert report.rejected is report.rejects
    assert issubclass(rca.LoadReport, rca.OperationReport)


def test_an_ingest_report(store: rca.Store, tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(
        '{"time": "2026-03-01T10:00:00Z", "level": "error", "msg": "boom"}\n'
        '{"time": "soon", "level": "error", "msg": "when?"}\n'
        '{"time": "2026-03-01T10:01:00Z", "level": "debug", "msg": "quiet"}\n'
        "{not json\n"
    )
    report = store.ingest("logs", tmp_path / "a.log", format="json")
    body = check_shape(report)
    assert (report.stored, report.rejected_rows, report.skipped_rows) == (1, 2, 1)
    assert report.skipped == {"below_min_level": 1}
    assert plain(report.rejects[["where", "field", "code", "value"]]) == [
        [f"{tmp_path}/a.log:2", "time", "invalid_datetime", "soon"],
        [f"{tmp_path}/a.log:4", None, "bad_json", None],
    ]
    assert body["kind"] == "logs" and body["events"]["stored"] == 1
    assert report.events["duplicates"] == report.events["unchanged"]  # the earlier key
    assert "rejected: 1 × bad_json" in report.summary()


def test_a_reading_has_the_same_rejects_columns(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("{not json\n")
    reading = rca.read("logs", tmp_path / "a.log", format="json")
    assert list(reading.rejects.columns) == list(REJECT_COLUMNS)


@pytest.mark.slow
def test_a_sqlite_import_report(store: rca.Store, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    bad = legacy_event(2) | {"severity": HOSTILE}
    write_legacy(path, [legacy_event(1), bad, legacy_event(3)], [])
    report = store.import_sqlite(path)
    body = check_shape(report)
    assert isinstance(report, rca.SqliteImportReport) and rca.ImportReport is type(report)
    assert (report.stored, report.rejected_rows) == (2, 1)
    assert report.rejects[["where", "record", "field", "code", "table", "id"]].values.tolist() == [
        ["events", "ev-2", "severity", "invalid_choice", "events", "ev-2"]
    ]
    assert report.rejects["value"].tolist() == [HOSTILE]
    assert report.tables["events"]["imported"] == report.tables["events"]["stored"] == 2
    assert body["tables"]["events"] == {"read": 3, "stored": 2, "unchanged": 0, "rejected_rows": 1}
    again = store.import_sqlite(path)
    assert (again.stored, again.unchanged) == (0, 2)


@pytest.mark.slow
def test_lake_export_and_import_reports(
    store: rca.Store, event_data: EventData, tmp_path: Path
) -> None:
    store.add_events([event_data() for _ in range(3)])
    root = tmp_path / "lake"
    export = store.export_lake(root, partition_by=())
    check_shape(export)
    assert isinstance(export, rca.LakeExportReport) and rca.LakeExport is type(export)
    assert export.stored == export.partitions_written
    assert store.export_lake(root, partition_by=()).stored == 0
    with rca.connect(tmp_path / "other.duckdb") as other:
        result = other.import_lake(root)
        body = check_shape(result)
        assert isinstance(result, rca.LakeImportReport) and rca.LakeImport is type(result)
        assert (result.stored, result.events.stored) == (3, 3)
        again = other.import_lake(root)
        assert (again.stored, again.unchanged) == (0, 3)
    assert body["events"]["report"] == "LoadReport" and body["source"] == str(root)
    assert result.links["imported"] == result.links["stored"] == 0  # the earlier key


@pytest.mark.slow
def test_an_auto_link_report(store: rca.Store, event_data: EventData) -> None:
    inv = store.add_investigation({"title": "Checkout 500s", "detected_at": "2026-03-01T09:15:00Z"})
    store.add_events([event_data(), event_data(source="ci", event_type="deploy")])
    report = store.auto_link(inv.id, min_confidence=0.0)
    body = check_shape(report)
    assert report.linked == report.stored == len(report.links) > 0
    assert report.reviewed == report.skipped_rows == 0
    report.linked += 1  # the earlier name writes the count too
    assert report.stored == len(report.links) + 1
    assert body["investigations"] == 1 and isinstance(body["links"], list)


def test_a_report_of_nothing(store: rca.Store) -> None:
    report = store.add_events([])
    check_shape(report)
    assert report.counts == dict.fromkeys(COUNTS, 0) and report.ok
    assert report.summary() == "load: 0 stored, 0 updated, 0 unchanged, 0 rejected, 0 skipped"


def test_rejects_frames_show_values_as_text_and_codes_as_reasons() -> None:
    frame = rejects_frame(
        [
            ("a:1", None, "t", "wrong_type", "m", {"k": list(range(100))}),
            ("a:2", 7, None, rca.Reason.MISSING, "m\ud800", None),
        ]
    )
    assert frame["code"].tolist() == ["invalid_type", "missing"]  # an earlier code, renamed
    assert frame["value"].iloc[0].startswith("{'k': [0, 1, 2") and pd.isna(frame["value"].iloc[1])
    assert frame["record"].tolist()[1] == "7" and frame["message"].iloc[1] == "m\\ud800"
    assert len(rejects_frame([("x", None, None, "bad_json", "m", "y" * 10_000)])["value"][0]) == (
        VALUE_LIMIT
    )


def test_counts_answer_their_earlier_keys() -> None:
    counts = Counts({"read": 3, "stored": 2}, renamed={"imported": "stored"})
    assert counts["imported"] == 2 and counts.get("imported") == 2 and counts.get("x", 0) == 0
    assert counts == {"read": 3, "stored": 2} and list(counts) == ["read", "stored"]
    assert json.dumps(counts) == '{"read": 3, "stored": 2}'
    with pytest.raises(KeyError):
        counts["missing"]
