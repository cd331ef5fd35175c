"""The OTLP/JSON reader: official examples, collector JSON lines, hostile requests."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import fuzzing
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import ReaderError
from rca_analytics.ingest import _base, otlp

FOLDER = "otlp"
TRACE = "5b8efff798038103d269b633813fc60c"


def _store(tmp_path: Path) -> rca.Store:
    return rca.connect(tmp_path / "s.duckdb")


def _rejects(report: Any, base: Path) -> list[tuple[str, str]]:
    return [
        (w.replace(f"{base}/", ""), c)
        for w, c in report.rejects[["where", "code"]].itertuples(False)
    ]


def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(n: int, **over: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE,
        "spanId": f"{n:016x}",
        "name": f"span {n}",
        "kind": 3,
        "startTimeUnixNano": str(1_700_000_000_000_000_000 + n * 1_000_000_000),
        "endTimeUnixNano": str(1_700_000_000_000_000_000 + n * 1_000_000_000 + 5_000_000),
        "status": {"code": 2, "message": "boom"},
    }
    span.update(over)
    return span


def _spans(*spans: Any, service: str = "shop", key: str = "scopeSpans") -> dict[str, Any]:
    scope_key = "scope" if key == "scopeSpans" else "instrumentationLibrary"
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_kv("service.name", service)]},
                key: [{scope_key: {"name": "shop.http", "version": "2.1"}, "spans": list(spans)}],
            }
        ]
    }


def _record(n: int, **over: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "timeUnixNano": str(1_700_000_000_000_000_000 + n),
        "severityNumber": 17,
        "severityText": "ERROR",
        "body": {"stringValue": f"failure {n}"},
    }
    record.update(over)
    return record


def _logs(*records: Any, service: str = "shop") -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [_kv("service.name", service)]},
                "scopeLogs": [{"scope": {"name": "shop.orders"}, "logRecords": list(records)}],
            }
        ]
    }


def _write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# --- real samples ----------------------------------------------------------------------------


def test_samples_with_default_options(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    report = store.ingest("otlp", realworld / FOLDER)
    assert report.ok, report.rejects
    assert report.events == {
        "read": 4,
        "stored": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected_rows": 0,
    }
    # 11 lnav records: 3 warn or worse; logs.json, events.json: info; 4 metrics not read
    assert report.skipped == {"below_min_level": 10, "metrics_not_read": 4}
    events = store.events()
    assert events[["source", "event_type", "severity"]].astype(str).values.tolist() == [
        ["traces", "slow_span", "medium"],
        ["logs", "warning", "medium"],
        ["logs", "error", "high"],
        ["logs", "error", "critical"],
    ]


def test_trace_example_span_mapped_exactly(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    report = store.ingest("otlp", realworld / FOLDER / "trace.json")
    assert report.events["stored"] == 1
    [ev] = store.events().to_dict("records")
    # ids were upper-case hex in the file; the span lasted exactly 1 s = slow_ms
    assert ev["source_id"] == f"{TRACE}:eee19b7ec3c1b174"
    assert ev["timestamp"] == pd.Timestamp("2018-12-13T14:51:00Z")  # 1544712660 s
    assert (ev["event_type"], ev["severity"], ev["service"]) == (
        "slow_span",
        "medium",
        "my.service",
    )
    assert pd.isna(ev["component"])
    assert list(ev["tags"]) == ["slow"]
    assert ev["data"] == {
        "trace_id": TRACE,
        "span_id": "eee19b7ec3c1b174",
        "parent_span_id": "eee19b7ec3c1b173",
        "name": "I'm a server span",
        "kind": "server",
        "status_code": "unset",
        "status_message": None,
        "duration_ms": 1000.0,
        "end_time": "2018-12-13T14:51:01.000000Z",
        "attributes": {"my.span.attr": "some value"},
        "exceptions": [],
        "resource": {"service.name": "my.service"},
        "scope": {"name": "my.library", "version": "1.0.0"},
    }
    for slow_ms in (1000.001, None):
        reading = rca.read("otlp", realworld / FOLDER / "trace.json", slow_ms=slow_ms)
        assert reading.events.empty and reading.skipped == {"ok_span": 1}


def test_collector_json_lines_sample(realworld: Path, tmp_path: Path) -> None:
    path = realworld / FOLDER / "lnav__logfile_otel_collector.jsonl"
    store = _store(tmp_path)
    report = store.ingest("otlp", path)
    assert report.events["stored"] == 3 and report.skipped == {"below_min_level": 8}
    events = {e["data"]["level"]: e for e in store.events().to_dict("records")}
    error = events["error"]
    assert error["timestamp"] == pd.Timestamp("2023-11-14T22:13:23Z")  # 1700000003 s
    assert (error["severity"], error["service"], error["component"]) == (
        "high",
        "order-service",
        "com.example.order",
    )
    assert error["data"]["body"] == "Failed to update order status: database connection timeout"
    assert error["data"]["trace_id"] == "6c9bb6b3e3d983f9432d048419e7ae03"
    assert error["data"]["span_id"] == "162692cf4dc66d24"
    assert (error["data"]["severity_number"], error["data"]["severity_text"]) == (17, "ERROR")
    assert error["data"]["resource"] == {"service.name": "order-service", "host.name": "prod-02"}
    assert error["source_id"].startswith("otlp:") and len(error["source_id"]) == 37
    assert events["fatal"]["severity"] == "critical"
    assert events["warn"]["severity"] == "medium"
    assert events["warn"]["data"]["body"] == "Payment gateway slow response"
    wheres = sorted(rca.read("otlp", path).events["where"].str.replace(f"{path}", "F"))
    assert wheres == [
        "F:1#/resourceLogs/0/scopeLogs/0/logRecords/1",
        "F:2#/resourceLogs/0/scopeLogs/0/logRecords/0",
        "F:3#/resourceLogs/0/scopeLogs/0/logRecords/2",
    ]


def test_every_log_record_at_trace_level(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    report = store.ingest("otlp", realworld / FOLDER, min_level="trace")
    assert report.events["stored"] == 14  # 11 lnav + logs + events, 1 span
    assert report.notes == {"no_severity_as_info": 1}  # lnav line 5
    logs = store.events(source="logs")
    by_body = {str(d["body"]): d for d in logs["data"]}
    example = by_body["Example log record"]
    assert example["attributes"] == {
        "string.attribute": "some string",
        "boolean.attribute": True,
        "int.attribute": 10,
        "double.attribute": 637.704,
        "array.attribute": ["many", "values"],
        "map.attribute": {"some.map.key": "some value"},
    }
    assert (example["severity_number"], example["severity_text"]) == (10, "Information")
    assert example["trace_id"] == TRACE
    [event] = [d for d in logs["data"] if d["event_name"] == "browser.page_view"]
    assert event["body"] == {
        "type": 0,
        "url": "https://www.guidgenerator.com/online-guid-generator.aspx",
        "referrer": "https://wwww.google.com",
        "title": "Free Online GUID Generator",
    }
    bare = logs[logs["data"].map(lambda d: d["resource"] == {})].iloc[0]
    assert pd.isna(bare["service"]) and pd.isna(bare["component"])
    unset = by_body["Log with missing severity fields - should default to UNSPECIFIED"]
    assert (unset["level"], unset["severity_number"], unset["severity_text"]) == (
        "info",
        None,
        None,
    )


@pytest.mark.slow
def test_second_ingest_and_overlapping_exports_add_nothing(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.ingest("otlp", realworld / FOLDER, min_level="debug")
    again = store.ingest("otlp", realworld / FOLDER, min_level="debug")
    assert again.events == {
        "read": 13,
        "stored": 0,
        "updated": 0,
        "unchanged": 13,
        "rejected_rows": 0,
    }
    # the same requests as one pretty-printed document each: the same records
    text = (realworld / FOLDER / "lnav__logfile_otel_collector.jsonl").read_text()
    for n, line in enumerate(text.splitlines()):
        (tmp_path / f"copy{n}.json").write_text(json.dumps(json.loads(line), indent=2))
    copies = store.ingest("otlp", list(tmp_path.glob("copy*.json")), min_level="debug")
    assert (copies.events["read"], copies.events["stored"]) == (10, 0)  # not the trace one
    assert len(store.events()) == 13


# --- files ---------------------------------------------------------------------------------------


def test_file_forms(tmp_path: Path) -> None:
    one, two, three = _spans(_span(1)), _spans(_span(2)), _logs(_record(3))
    _write(tmp_path / "pretty.json", one)
    (tmp_path / "pretty.json").write_text(json.dumps(one, indent=2))
    (tmp_path / "exporter.json").write_text(json.dumps(two) + "\n" + json.dumps(three) + "\n")
    _write(tmp_path / "list.json", [two, one])
    with gzip.open(tmp_path / "old.jsonl.gz", "wt") as f:
        f.write(json.dumps(_logs(_record(4))) + "\n")
    (tmp_path / "readme.md").write_text("# not read")
    reading = rca.read("otlp", tmp_path)
    assert reading.rejects.empty
    assert sorted(reading.events["where"].str.replace(f"{tmp_path}/", "")) == [
        "exporter.json:1#/resourceSpans/0/scopeSpans/0/spans/0",
        "exporter.json:2#/resourceLogs/0/scopeLogs/0/logRecords/0",
        "list.json#/0/resourceSpans/0/scopeSpans/0/spans/0",
        "list.json#/1/resourceSpans/0/scopeSpans/0/spans/0",
        "old.jsonl.gz:1#/resourceLogs/0/scopeLogs/0/logRecords/0",
        "pretty.json#/resourceSpans/0/scopeSpans/0/spans/0",
    ]
    store = _store(tmp_path)
    assert store.ingest("otlp", tmp_path).events["stored"] == 4


# --- spans -------------------------------------------------------------------------------------


def test_span_variants_are_read(tmp_path: Path) -> None:
    stack = "\n".join(f"  at frame{i}" for i in range(50))
    b64_trace = base64.b64encode(bytes.fromhex(TRACE)).decode()
    spans = [
        _span(1, status={"code": "STATUS_CODE_ERROR"}, kind="SPAN_KIND_CLIENT"),
        _span(
            2,
            startTimeUnixNano=1_700_000_002_000_000_000,
            endTimeUnixNano=1_700_000_004_500_000_123,
            status={"code": 1},
        ),
        _span(3, traceId=b64_trace, spanId=base64.b64encode(bytes(7) + b"\x03").decode()),
        _span(
            4,
            events=[
                {"name": "log", "attributes": [_kv("x", "y")]},
                {
                    "name": "exception",
                    "attributes": [
                        _kv("exception.type", "TimeoutError"),
                        _kv("exception.message", "db timed out"),
                        _kv("exception.stacktrace", stack),
                    ],
                },
            ],
            attributes=[_kv(f"k{i:03d}", "v" * 5000 if i == 0 else i) for i in range(100)],
        ),
        _span(5, status={}),  # unset, 5 ms: not kept
        _span(6, status={"code": 2}, endTimeUnixNano="1699999999000000000"),
    ]
    reading = rca.read("otlp", _write(tmp_path / "t.json", _spans(*spans)), slow_ms=2000)
    assert reading.rejects.empty
    assert reading.skipped == {"ok_span": 1}
    rows = {r["data"]["span_id"][-1]: r for r in reading.events.to_dict("records")}
    assert sorted(rows) == ["1", "2", "3", "4", "6"]
    assert rows["1"]["data"]["kind"] == "client" and rows["1"]["event_type"] == "span_error"
    slow = rows["2"]
    assert (slow["event_type"], slow["severity"], slow["tags"]) == ("slow_span", "medium", ["slow"])
    assert slow["data"]["duration_ms"] == 2500.000123 and slow["data"]["status_code"] == "ok"
    assert str(slow["timestamp"]) == "2023-11-14 22:13:22+00:00"
    assert rows["3"]["source_id"] == f"{TRACE}:0000000000000003"  # base64 ids converted
    exc = rows["4"]["data"]
    assert exc["exceptions"] == [
        {
            "type": "TimeoutError",
            "message": "db timed out",
            "stacktrace": "\n".join(f"  at frame{i}" for i in range(20)),
        }
    ]
    assert len(exc["attributes"]) == 64 and exc["attributes"]["k001"] == 1
    assert len(exc["attributes"]["k000"]) == 4096
    assert rows["6"]["data"]["duration_ms"] is None  # ends before it starts
    store = _store(tmp_path)
    report = store.ingest("otlp", tmp_path / "t.json", slow_ms=2000)
    assert report.notes == {
        "base64_id_as_hex": 2,
        "attributes_dropped": 36,
        "span_ends_before_start": 1,
    }
    assert report.events["stored"] == 5


def test_legacy_instrumentation_library_and_options(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "old.json", _spans(_span(1), _span(2), key="instrumentationLibrarySpans")
    )
    reading = rca.read(
        "otlp",
        path,
        service={"shop": "webshop"},
        component={"span 1": "checkout", "shop.*": "http"},
    )
    assert reading.rejects.empty
    assert reading.events[["service", "component"]].values.tolist() == [
        ["webshop", "checkout"],
        ["webshop", "http"],  # no rule for "span 2": the scope name's
    ]
    assert reading.events["data"][0]["scope"] == {"name": "shop.http", "version": "2.1"}
    with pytest.raises(ReaderError, match="min_level"):
        rca.read("otlp", path, min_level="loud")
    with pytest.raises(ReaderError, match="slow_ms"):
        rca.read("otlp", path, slow_ms=-1)


def test_bad_spans_are_rejected_by_json_pointer(tmp_path: Path) -> None:
    spans = [
        _span(1),
        _span(2, traceId="xyz"),
        _span(3, spanId="00000000000000zz"),
        _span(4, startTimeUnixNano="soon"),
        _span(5, startTimeUnixNano=True),
        _span(6, startTimeUnixNano=None),
        _span(7, status={"code": 9}),
        _span(8, status="error"),
        _span(9, traceId=""),
        _span(10, traceId="0" * 32),
        _span(11, kind="SPAN_KIND_SIDEWAYS"),
        _span(12, startTimeUnixNano=str(1 << 64)),
        "a span",
        _span(13, traceId=12),
    ]
    request = _spans(*spans)
    request["resourceSpans"].append({"scopeSpans": [{"spans": {"0": _span(14)}}]})
    request["resourceSpans"].append("resource")
    path = _write(tmp_path / "bad.json", request)
    store = _store(tmp_path)
    report = store.ingest("otlp", path)
    s = "bad.json#/resourceSpans/0/scopeSpans/0/spans"
    assert _rejects(report, tmp_path) == [
        (f"{s}/1/traceId", "invalid_id"),
        (f"{s}/2/spanId", "invalid_id"),
        (f"{s}/3/startTimeUnixNano", "invalid_datetime"),
        (f"{s}/4/startTimeUnixNano", "invalid_type"),
        (f"{s}/5/startTimeUnixNano", "missing"),
        (f"{s}/6/status/code", "invalid_choice"),
        (f"{s}/7/status", "invalid_type"),
        (f"{s}/8/traceId", "missing"),
        (f"{s}/9/traceId", "missing"),
        (f"{s}/10/kind", "invalid_choice"),
        (f"{s}/11/startTimeUnixNano", "invalid_datetime"),
        (f"{s}/12", "invalid_type"),
        (f"{s}/13/traceId", "invalid_type"),
        ("bad.json#/resourceSpans/1/scopeSpans/0/spans", "invalid_type"),
        ("bad.json#/resourceSpans/2", "invalid_type"),
    ]
    assert report.rejects["field"].tolist()[:2] == ["traceId", "spanId"]
    assert report.events["stored"] == 1
    assert store.events()["source_id"].tolist() == [f"{TRACE}:0000000000000001"]


@pytest.mark.slow
def test_broken_request_lines(tmp_path: Path) -> None:
    good = json.dumps(_logs(_record(1)))
    huge = json.dumps(_logs(_record(2, body={"stringValue": "x" * (_base.MAX_LINE + 10)})))
    lines = [
        good.encode(),
        good[:-30].encode(),
        b"\xff\xfe\x00garbage",
        b"[1]",
        b'{"foo": 1}',
        b"{}",
        huge.encode(),
        json.dumps(_logs(_record(8), _record(9, body={"stringValue": "ünïcödé ✓ 日本"}))).encode(),
    ]
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join(lines))
    (tmp_path / "metrics.json").write_text(json.dumps({"resourceMetrics": []}))
    store = _store(tmp_path)
    report = store.ingest("otlp", tmp_path)
    assert _rejects(report, tmp_path) == [
        ("requests.jsonl:2", "bad_json"),
        ("requests.jsonl:3", "not_utf8"),
        ("requests.jsonl:4#/0", "invalid_type"),
        ("requests.jsonl:5#", "unknown_format"),
        ("requests.jsonl:7", "line_too_long"),
    ]
    assert report.skipped == {"empty_request": 1}
    bodies = sorted(store.events()["data"].map(lambda d: d["body"]))
    assert bodies == ["failure 1", "failure 8", "ünïcödé ✓ 日本"]


def test_bad_log_records(tmp_path: Path) -> None:
    records = [
        _record(1, timeUnixNano="0", observedTimeUnixNano="1700000000000000099"),
        _record(2, timeUnixNano=None),
        _record(3, spanId="nothex!!nothex!!"),
        _record(4, traceId=["a"]),
        _record(5, timeUnixNano="1.7e18"),
        _record(6, severityNumber=9, severityText="ERROR"),  # the number wins: info
        _record(7, severityNumber="SEVERITY_NUMBER_WARN2", severityText=None),
        _record(8, severityNumber=None, severityText="CRITICAL"),
        _record(9, severityNumber=None, severityText="loud"),
        7,
    ]
    path = _write(tmp_path / "logs.json", _logs(*records))
    store = _store(tmp_path)
    report = store.ingest("otlp", path)
    r = "logs.json#/resourceLogs/0/scopeLogs/0/logRecords"
    assert _rejects(report, tmp_path) == [
        (f"{r}/1/timeUnixNano", "missing"),
        (f"{r}/2/spanId", "invalid_id"),
        (f"{r}/3/traceId", "invalid_type"),
        (f"{r}/4/timeUnixNano", "invalid_datetime"),
        (f"{r}/9", "invalid_type"),
    ]
    assert report.skipped == {"below_min_level": 2}  # the info ones
    assert report.notes == {  # record 1: timeUnixNano "0" is unset (the OTLP spec)
        "observed_time_as_time": 1,
        "unknown_severity_as_info": 1,
        "zero_time_as_missing": 1,
    }
    events = {e["data"]["body"]: e for e in store.events().to_dict("records")}
    assert {body: str(e["severity"]) for body, e in events.items()} == {
        "failure 1": "high",
        "failure 7": "medium",
        "failure 8": "critical",
    }
    assert events["failure 1"]["timestamp"] == pd.Timestamp("2023-11-14T22:13:20Z")
    assert events["failure 7"]["data"]["severity_number"] == 14


@given(st.integers(1, (1 << 63) - 1), st.booleans())
def test_nanosecond_times_as_text_or_number(nanos: int, as_text: bool) -> None:
    record = {"t": str(nanos) if as_text else nanos}
    assert otlp._nanos(record, "t", _base.Context()) == nanos
    expected = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=nanos // 1000)
    assert otlp._time(nanos) == expected


# --- review findings -----------------------------------------------------------------------------


def test_digits_that_are_not_ascii_or_too_long_are_rejected_not_raised(tmp_path: Path) -> None:
    spans = [
        _span(1),
        _span(2, status={"code": "²"}),
        _span(3, status={"code": "٢"}),  # an Arabic-Indic two: not a status code
        _span(4, kind="9" * 5000),
        _span(5, startTimeUnixNano="9" * 5000),
    ]
    records = [
        _record(1),
        _record(2, severityNumber="9" * 5000, severityText=None),
        _record(3, severityNumber=10**400, severityText="error"),
        _record(4, severityNumber="SEVERITY_NUMBER_²", severityText=None),
    ]
    (tmp_path / "spans.json").write_text(json.dumps(_spans(*spans)))
    (tmp_path / "logs.json").write_text(json.dumps(_logs(*records)))
    store = _store(tmp_path)
    report = store.ingest("otlp", tmp_path, min_level="info")
    s = "spans.json#/resourceSpans/0/scopeSpans/0/spans"
    assert _rejects(report, tmp_path) == [
        (f"{s}/1/status/code", "invalid_choice"),
        (f"{s}/2/status/code", "invalid_choice"),
        (f"{s}/3/kind", "invalid_choice"),
        (f"{s}/4/startTimeUnixNano", "invalid_datetime"),
    ]
    # no usable severity: info (kept at min_level info); a huge number is none at all
    assert report.notes == {"unknown_severity_as_info": 2}
    events = store.events(source="logs")
    levels = {d["body"]: (d["level"], d["severity_number"]) for d in events["data"]}
    assert levels == {
        "failure 1": ("error", 17),
        "failure 2": ("info", None),
        "failure 3": ("error", None),
        "failure 4": ("info", None),
    }
    assert report.events["stored"] == 5


def test_a_null_or_scalar_request_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "null.json").write_text("null")
    (tmp_path / "lines.jsonl").write_text(f"null\n7\n{json.dumps(_logs(_record(1)))}\n")
    report = _store(tmp_path).ingest("otlp", tmp_path)
    assert _rejects(report, tmp_path) == [
        ("lines.jsonl:1#", "invalid_type"),
        ("lines.jsonl:2#", "invalid_type"),
        ("null.json#", "invalid_type"),
    ]
    assert report.events["stored"] == 1


def test_the_same_line_from_two_pods_is_two_events(tmp_path: Path) -> None:
    def pod(name: str, *attributes: dict[str, Any]) -> dict[str, Any]:
        return {
            "resource": {
                "attributes": [_kv("service.name", "checkout"), _kv("k8s.pod.name", name)]
            },
            "scopeLogs": [
                {"scope": {"name": "db"}, "logRecords": [_record(1, attributes=list(attributes))]}
            ],
        }

    many = [_kv(f"a{i:03}", "x") for i in range(70)]  # more than data keeps (64)
    request = {
        "resourceLogs": [
            pod("checkout-a"),
            pod("checkout-b"),
            pod("checkout-b", *many, _kv("last", "1")),
            pod("checkout-b", *many, _kv("last", "2")),
            pod("checkout-b", *reversed([*many, _kv("last", "2")])),  # the same, reordered
        ]
    }
    path = _write(tmp_path / "pods.json", request)
    store = _store(tmp_path)
    report = store.ingest("otlp", path)
    assert report.events == {
        "read": 5,
        "stored": 4,
        "updated": 0,
        "unchanged": 1,
        "rejected_rows": 0,
    }
    assert store.ingest("otlp", path).events["stored"] == 0
    # the mapped service is not part of the identity: another rule adds nothing
    assert store.ingest("otlp", path, service="shop").events["stored"] == 0


def test_log_records_are_typed_like_the_logs_reader(tmp_path: Path) -> None:
    numbers = {"fatal": 21, "error": 17, "warn": 13, "info": 9, "debug": 5}
    records = [
        _record(n, severityNumber=num, body={"stringValue": name})
        for n, (name, num) in enumerate(numbers.items())
    ]
    path = _write(tmp_path / "logs.json", _logs(*records))
    events = rca.read("otlp", path, min_level="trace").events
    kinds = {d["body"]: (t, s) for d, t, s in events[["data", "event_type", "severity"]].values}
    assert kinds == {
        "fatal": ("error", "critical"),
        "error": ("error", "high"),
        "warn": ("warning", "medium"),
        "info": ("log", "info"),
        "debug": ("log", "info"),
    }


def test_service_and_component_names_rules_and_refusals(tmp_path: Path) -> None:
    request = _spans(_span(1))
    request["resourceSpans"].append({"scopeSpans": [{"spans": [_span(2)]}]})  # no service, scope
    logs = _logs(_record(1))
    logs["resourceLogs"].append({"scopeLogs": [{"logRecords": [_record(2)]}]})
    (tmp_path / "spans.json").write_text(json.dumps(request))
    (tmp_path / "logs.json").write_text(json.dumps(logs))

    def picked(**options: Any) -> list[list[Any]]:
        events = rca.read("otlp", tmp_path, **options).events
        frame = events[["source", "service", "component"]].astype(object)
        return frame.where(frame.notna(), None).values.tolist()

    assert picked() == [
        ["logs", "shop", "shop.orders"],
        ["logs", None, None],
        ["traces", "shop", None],
        ["traces", None, None],
    ]
    # a name is the service (component) of every record, with or without service.name
    assert picked(service="web", component="api") == [
        ["logs", "web", "api"],
        ["logs", "web", "api"],
        ["traces", "web", "api"],
        ["traces", "web", "api"],
    ]
    assert picked(service={"sh*": "webshop"}, component=lambda name: name.upper()) == [
        ["logs", "webshop", "SHOP.ORDERS"],
        ["logs", None, None],
        ["traces", "webshop", "SPAN 1"],
        ["traces", None, "SPAN 2"],
    ]
    for option, bad in (("service", 3), ("component", {"x": 1}), ("service", ["a"])):
        with pytest.raises(ReaderError, match=option):
            rca.read("otlp", tmp_path / "missing.json", **{option: bad})


# --- fuzzing: arbitrary JSON where the reader looks ------------------------------------------

_KEYS = (
    "resourceSpans", "resourceLogs", "resourceMetrics", "scopeSpans", "scopeLogs",
    "instrumentationLibrarySpans", "resource", "attributes", "scope", "spans", "logRecords",
    "key", "value", "stringValue", "intValue", "doubleValue", "boolValue", "arrayValue",
    "kvlistValue", "bytesValue", "values", "traceId", "spanId", "parentSpanId", "name", "kind",
    "status", "code", "message", "startTimeUnixNano", "endTimeUnixNano", "timeUnixNano",
    "observedTimeUnixNano", "severityNumber", "severityText", "body", "events", "eventName",
)  # fmt: skip
_ODD_TEXT = (
    "²", "٣", "9" * 5000, "-1", "1e400", "NaN", "Infinity", "SEVERITY_NUMBER_ERROR4",
    "STATUS_CODE_ERROR", "SPAN_KIND_SERVER", TRACE, "eee19b7ec3c1b174", "\x00", "ǅ", "ⅷ",
    "1700000000000000000", "18446744073709551616", "service.name", "exception",
)  # fmt: skip
_LEAVES = fuzzing.leaves(
    _ODD_TEXT,
    (
        10**400,
        -(10**400),
        (1 << 63) - 1,
        1 << 64,
        2,
        17,
        21,
    ),
)
_ANY_JSON = fuzzing.any_json(_LEAVES, _KEYS)


def _mutated(data: st.DataObject, skeleton: Any, keys: tuple[str, ...]) -> Any:
    return fuzzing.mutated(data, skeleton, keys, _LEAVES)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), lines=st.booleans())
def test_arbitrary_json_is_read_skipped_or_rejected_never_raised(
    data: st.DataObject, lines: bool
) -> None:
    skeleton = [
        _spans(
            _span(1, events=[{"name": "exception", "attributes": [_kv("exception.type", "E")]}])
        ),
        _logs(_record(1, attributes=[_kv("k", 1)], traceId=TRACE, spanId="eee19b7ec3c1b174")),
    ]
    requests = [
        data.draw(st.one_of(st.just(None), _ANY_JSON)) if data.draw(st.booleans()) else None,
        _mutated(data, skeleton, _KEYS),
    ]
    text = "\n".join(json.dumps(r) for r in requests) if lines else json.dumps(requests)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "x.jsonl" if lines else "x.json")
        path.write_text(text, encoding="utf-8")
        reading = rca.read("otlp", path, min_level="trace", slow_ms=0)
    assert len(reading.events) + sum(reading.skipped.values()) + len(reading.rejects) >= 1


# --- zero times: unset, not 1970 -------------------------------------------------------------


def test_zero_times_are_unset_and_noted(tmp_path: Path) -> None:
    spans = [
        _span(1, endTimeUnixNano="0"),  # still running: no end, no duration
        _span(2, startTimeUnixNano="0"),
        _span(3, startTimeUnixNano=0),
    ]
    records = [
        _record(1, timeUnixNano=0, observedTimeUnixNano="1700000000000000099"),
        _record(2, timeUnixNano="0", observedTimeUnixNano="0"),
    ]
    path = _write(tmp_path / "t.json", {**_spans(*spans), **_logs(*records)})
    reading = rca.read("otlp", path)
    s = "t.json#/resourceSpans/0/scopeSpans/0/spans"
    r = "t.json#/resourceLogs/0/scopeLogs/0/logRecords"
    assert _rejects(reading, tmp_path) == [
        (f"{s}/1/startTimeUnixNano", "missing"),
        (f"{s}/2/startTimeUnixNano", "missing"),
        (f"{r}/1/timeUnixNano", "missing"),
    ]
    assert reading.rejects["message"].tolist()[0] == (
        "the span has no time: startTimeUnixNano absent or 0 (unset)"
    )
    assert reading.rejects["message"].tolist()[2] == (
        "the log record has no time: timeUnixNano and observedTimeUnixNano absent or 0 (unset)"
    )
    assert reading.notes == {"zero_time_as_missing": 6, "observed_time_as_time": 1}
    span, log = reading.events.to_dict("records")
    assert span["data"]["end_time"] is None and span["data"]["duration_ms"] is None
    assert log["timestamp"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert all(t.year > 1970 for t in reading.events["timestamp"])
