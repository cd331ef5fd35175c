"""The junit reader: real reports of many producers, hostile files, options, identity."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import ReaderError
from rca_analytics.ingest import junit
from rca_analytics.ingest._base import Context

UTC = dt.UTC
SAMPLES = {
    "jenkins__jenkins.xml": 3,
    "jest-junit__jest-junit.xml": 2,
    "nextest__basic.xml": 1,
    "pytest__python-xunit-pytest.xml": 1,
    "surefire__TEST-action.surefire.report.email.EmailAddressTest.xml": 1,
    "testng-junitreporter__TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml": 1,
}
SUREFIRE = "surefire__TEST-action.surefire.report.email.EmailAddressTest.xml"
TESTNG = "testng-junitreporter__TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml"

GOOD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<testsuites>\n"
    '  <testsuite name="api" timestamp="2026-03-01T10:00:00Z" time="0.3">\n'
    '    <testcase classname="t.api" name="test_ok" time="0.1"/>\n'
    '    <testcase classname="t.api" name="test_pay" time="0.2"><error message="KeyError"/>'
    "</testcase>\n"
    "  </testsuite>\n"
    '  <testsuite name="web" timestamp="2026-03-01T10:01:00Z">\n'
    '    <testcase classname="t.web" name="test_home" time="0.5"/>\n'
    "  </testsuite>\n"
    "</testsuites>\n"
)


def _junit(root: Path) -> Path:
    folder = root / "junit"
    missing = [name for name in SAMPLES if not (folder / name).is_file()]
    if missing:
        pytest.skip(f"junit samples missing: {missing}")
    return folder


def _events(store: rca.Store) -> list[dict[str, Any]]:
    frame = store.events()
    return [dict(row) for _, row in frame.iterrows()]


def _by_file(store: rca.Store) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for ev in _events(store):
        out.setdefault(Path(ev["metadata"]["file"]).name, []).append(ev)
    return out


def _rejects(report: rca.IngestReport) -> list[tuple[str, str, Any]]:
    rows = report.rejects[["where", "code", "field"]].itertuples(index=False, name=None)
    return sorted((w, c, None if f is None or f != f else f) for w, c, f in rows)


def _leaf_counts(path: Path) -> Counter[tuple[str, int, int, int, int]]:
    """Per suite holding test cases: (name, tests, failures, errors, skipped), via ElementTree."""
    found: Counter[tuple[str, int, int, int, int]] = Counter()
    for suite in ET.parse(path).getroot().iter():
        if suite.tag.rpartition("}")[2] != "testsuite":
            continue
        cases = [c for c in suite if c.tag == "testcase"]
        if not cases:
            continue
        kinds = [{child.tag for child in case} for case in cases]
        errors = sum("error" in k for k in kinds)
        failures = sum("failure" in k and "error" not in k for k in kinds)
        skipped = sum("skipped" in k and not k & {"failure", "error"} for k in kinds)
        found[(suite.get("name", ""), len(cases), failures, errors, skipped)] += 1
    return found


# --- the real samples ---------------------------------------------------------------------


def test_every_sample_gives_one_event_per_suite_holding_tests(
    realworld: Path, tmp_path: Path
) -> None:
    folder = _junit(realworld)
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("junit", [folder])
    assert report.ok, report.rejects
    assert report.events == {
        "read": 9, "stored": 9, "updated": 0, "unchanged": 0, "rejected_rows": 0
    }  # fmt: skip
    assert report.skipped == {"empty_suite": 1}  # Jenkins' <testsuite tests="0"/>
    assert report.notes["counts_differ_from_attributes"] == 1  # pytest says 15, has 10
    assert report.notes["time_from_mtime"] == 1  # Surefire has no timestamp
    by_file = _by_file(store)
    assert {name: len(evs) for name, evs in by_file.items()} == SAMPLES
    for name, events in by_file.items():
        got = Counter(
            tuple(e["data"][k] for k in ("suite", "tests", "failures", "errors", "skipped"))
            for e in events
        )
        assert got == _leaf_counts(folder / name), name
        for e in events:
            d = e["data"]
            assert d["passed"] == d["tests"] - d["failures"] - d["errors"] - d["skipped"]
            assert (e["source"], e["event_type"]) == ("ci", "test_run")
            assert e["source_id"].startswith("junit:")


def test_surefire_errors_make_a_high_event_with_the_failed_tests(
    realworld: Path, tmp_path: Path
) -> None:
    folder = _junit(realworld)
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("junit", [folder / SUREFIRE])
    [ev] = _events(store)
    d = ev["data"]
    assert ev["severity"] == "high"
    assert (d["tests"], d["passed"], d["failures"], d["errors"], d["skipped"]) == (9, 2, 2, 5, 0)
    assert d["duration_s"] == 0.041
    assert d["failed_total"] == 7 and len(d["failed_tests"]) == 7
    assert d["failed_tests"][0] == {
        "test": "action.surefire.report.email.EmailAddressTest::"
        "shouldNotContainInternationalizedHostNames",
        "outcome": "error",
        "type": "action.surefire.report.email.InvalidEmailAddressException",
        "message": "Invalid email address 'user@ñandú.com.ar'",
    }
    assert d["failed_tests"][1]["message"] == "Invalid email address 😋 'Abc\\@def@example.com'"
    assert [f["outcome"] for f in d["failed_tests"]].count("failure") == 2
    mtime = dt.datetime.fromtimestamp((folder / SUREFIRE).stat().st_mtime, UTC)
    assert d["time_from"] == "file_mtime"
    assert ev["timestamp"].to_pydatetime() == mtime


def test_pytest_testng_nextest_jest_values(realworld: Path, tmp_path: Path) -> None:
    folder = _junit(realworld)
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("junit", [folder])
    by_file = _by_file(store)

    [py] = by_file["pytest__python-xunit-pytest.xml"]
    assert py["severity"] == "medium"
    assert py["timestamp"].isoformat() == "2025-11-15T16:51:49.548396+00:00"
    assert py["data"]["hostname"] == "Mac.hsd1.va.comcast.net"
    assert py["data"]["declared"] == {"tests": 15, "failures": 2, "errors": 0, "skipped": 2}
    assert (py["data"]["tests"], py["data"]["passed"]) == (10, 6)
    assert [(f["test"], f["message"]) for f in py["data"]["failed_tests"]] == [
        ("tests.test_lib::test_always_fail", "assert False"),
        ("tests.test_lib::test_error", "Exception: error"),
    ]

    [ng] = by_file[TESTNG]
    assert ng["timestamp"].isoformat() == "2021-03-07T10:36:56+00:00"  # "... UTC"
    assert ng["severity"] == "medium"
    assert ng["data"]["hostname"] == "fv-az96-723"
    assert (ng["data"]["tests"], ng["data"]["failures"], ng["data"]["skipped"]) == (2, 1, 1)
    assert ng["data"]["failed_tests"] == [
        {
            "test": "org.apache.pulsar.AddMissingPatchVersionTest::testVersionStrings",
            "outcome": "failure",
            "type": "java.lang.AssertionError",
            "message": "expected [1.2.1] but found [1.2.0]",
        }
    ]

    [nx] = by_file["nextest__basic.xml"]
    assert nx["timestamp"].isoformat() == "2024-12-02T20:06:10.512000+00:00"
    assert nx["data"]["time_from"] == "parent_suite"
    assert nx["data"]["run_id"] == "437f8a75-ec69-48cf-9bda-e3f5045c2c28"
    assert nx["data"]["duration_s"] == pytest.approx(0.774 + 0.944 + 0.945)
    assert nx["data"]["failed_tests"][0]["message"] == (
        "thread 'test_failure' panicked at tests/parry3d.rs:154:5:"
    )

    jest = sorted(by_file["jest-junit__jest-junit.xml"], key=lambda e: e["data"]["suite"])
    assert [(e["data"]["suite"], e["severity"]) for e in jest] == [
        ("__tests__\\main.test.js", "medium"),
        ("__tests__\\second.test.js", "medium"),
    ]
    # no message attribute: the first line of the failure text
    assert [f["message"] for f in jest[0]["data"]["failed_tests"]] == [
        "Error: expect(received).toBeTruthy()",
        "Error: Some error",
        "Error: Some error",
    ]
    assert jest[1]["data"]["failed_tests"][0]["test"] == "Timeout test"  # classname=""


def test_jenkins_nested_suites_are_not_counted_twice(realworld: Path, tmp_path: Path) -> None:
    path = _junit(realworld) / "jenkins__jenkins.xml"
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("junit", [path])
    events = _events(store)
    testcases = sum(1 for e in ET.parse(path).getroot().iter("testcase"))
    assert sum(e["data"]["tests"] for e in events) == testcases == 3
    assert sorted((len(e["data"].get("parent_suites", [])), e["severity"]) for e in events) == [
        (0, "medium"),
        (1, "info"),
        (2, "info"),
    ]
    assert len({e["source_id"] for e in events}) == 3  # same name and time, still apart


@pytest.mark.slow
def test_second_ingest_stores_nothing_and_a_copy_collapses(realworld: Path, tmp_path: Path) -> None:
    folder = _junit(realworld)
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("junit", [folder])
    again = store.ingest("junit", [folder])
    assert again.events["stored"] == 0 and again.events["unchanged"] == 9
    # copied elsewhere under other names, new mtimes (Surefire's time comes from mtime)
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copy(folder / SUREFIRE, copies / "a.xml")
    shutil.copy(folder / TESTNG, copies / "b.xml")
    os.utime(copies / "a.xml", (1_700_000_000, 1_700_000_000))
    report = store.ingest("junit", [copies])
    assert report.events == {
        "read": 2, "stored": 0, "updated": 0, "unchanged": 2, "rejected_rows": 0
    }  # fmt: skip
    assert len(store.events()) == 9


def test_naive_times_are_taken_in_the_given_zone(realworld: Path, tmp_path: Path) -> None:
    path = _junit(realworld) / "jenkins__jenkins.xml"
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("junit", [path], tz="Europe/Berlin")
    assert report.notes["naive_time_as_europe/berlin"] == 3
    stamps = {e["timestamp"].isoformat() for e in _events(store)}
    assert stamps == {"2013-05-24T08:23:58+00:00"}  # 10:23:58 CEST


# --- hostile files ------------------------------------------------------------------------


def test_hostile_files_are_rejected_exactly_and_good_ones_stored(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.xml").write_text(GOOD)
    cut = GOOD.index('<testcase classname="t.web"') + 20
    (folder / "truncated.xml").write_text(GOOD[:cut])
    (folder / "bomb.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
        '<testsuite name="&lol2;"><testcase name="x"/></testsuite>\n'
    )
    (folder / "xxe.xml").write_text(
        '<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite name="&x;"/>'
    )
    (folder / "binary.xml").write_bytes(bytes(range(256)) * 4)
    (folder / "empty.xml").write_bytes(b"")
    (folder / "counts.xml").write_text(
        '<testsuites>\n<testsuite name="a" tests="three">\n<testcase name="t"/>\n</testsuite>\n'
        '<testsuite name="b">\n<testcase name="t" time="fast"/>\n</testsuite>\n'
        '<testsuite name="c" timestamp="yesterday">\n<testcase name="t"/>\n</testsuite>\n'
        '<testsuite name="d" timestamp="2026-03-01T10:00:00Z" tests="1" time="1,5">\n'
        '<testcase name="t"/>\n</testsuite>\n</testsuites>\n'
    )
    (folder / "pom.xml").write_text("<project><modelVersion/></project>")
    (folder / "testng-results.xml").write_text(
        '<testng-results total="1"><suite/></testng-results>'
    )
    (folder / "undefined.xml").write_text('<testsuite name="&nope;"/>')
    (folder / "deep.xml").write_text("<testsuites>" + "<testsuite>" * 150)
    (folder / "unicode.xml").write_text(
        '<testsuite name="Zahlung ✓ 支付" timestamp="2026-03-01T10:00:00+01:00">'
        '<testcase classname="t.ü" name="😋 pays"><failure>ñ broke\nline 2</failure></testcase>'
        "</testsuite>",
        encoding="utf-16",
    )
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("junit", [folder])

    def at(name: str, line: int | None = None) -> str:
        return f"{folder / name}" + ("" if line is None else f":{line}")

    assert _rejects(report) == sorted(
        [
            (at("binary.xml", 1), "bad_xml", None),
            (at("bomb.xml", 2), "forbidden_dtd", None),
            (at("counts.xml", 2), "invalid_type", "tests"),
            (at("counts.xml", 6), "invalid_type", "time"),
            (at("counts.xml", 8), "invalid_datetime", "timestamp"),
            (at("deep.xml", 1), "too_deep", None),
            (at("empty.xml", 1), "bad_xml", None),
            (at("pom.xml", 1), "unknown_format", None),
            (at("testng-results.xml", 1), "unknown_format", None),
            (at("truncated.xml", 8), "bad_xml", None),
            (at("undefined.xml", 1), "bad_xml", None),
            (at("xxe.xml", 1), "forbidden_dtd", None),
        ]
    )
    messages = dict(zip(report.rejects["where"], report.rejects["message"], strict=True))
    assert messages[at("truncated.xml", 8)].endswith("; 1 unfinished suite(s) left out")
    # good 2, truncated 1 (the suite completed before the break), counts 1, unicode 1
    assert report.events == {
        "read": 5, "stored": 4, "updated": 0, "unchanged": 1, "rejected_rows": 0
    }  # fmt: skip
    kept = rca.read("junit", [folder / "truncated.xml"]).events
    assert kept["data"].tolist()[0]["suite"] == "api"
    by_file = _by_file(store)
    assert {k: len(v) for k, v in by_file.items()} == {
        "good.xml": 2,
        "counts.xml": 1,  # "1,5": a decimal comma
        "unicode.xml": 1,
    }
    assert kept["source_id"].tolist()[0] in {e["source_id"] for e in by_file["good.xml"]}
    assert by_file["counts.xml"][0]["data"]["duration_s"] == 1.5
    [uni] = by_file["unicode.xml"]
    assert uni["data"]["suite"] == "Zahlung ✓ 支付"
    assert uni["data"]["failed_tests"][0] == {
        "test": "t.ü::😋 pays", "outcome": "failure", "type": None, "message": "ñ broke"
    }  # fmt: skip
    assert uni["timestamp"].isoformat() == "2026-03-01T09:00:00+00:00"


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(GOOD.encode()) - 2))
def test_a_report_cut_anywhere_keeps_only_whole_suites(cut: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        whole, part = Path(tmp, "whole.xml"), Path(tmp, "part.xml")
        whole.write_text(GOOD)
        part.write_bytes(GOOD.encode()[:cut])
        full = {p.record["source_id"] for p in junit.read([whole], Context())}
        ctx = Context()
        kept = [p.record["source_id"] for p in junit.read([part], ctx)]
    assert set(kept) <= full and len(kept) == len(set(kept))
    assert [r.code for r in ctx.rejects] == ["bad_xml"]
    assert ctx.done == ctx.total == cut


# --- options ------------------------------------------------------------------------------


def test_options_map_component_service_severity_tags_properties(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuite name="payments.api" timestamp="2026-03-01T10:00:00Z">'
        '<properties><property name="git.sha" value="abc123"/>'
        '<property name="java.class.path" value="/a:/b"/></properties>'
        '<testcase classname="p" name="t1"><failure/></testcase>'
        '<testcase classname="p" name="t2"><skipped/></testcase>'
        "</testsuite>"
    )
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest(
        "junit",
        [path],
        component={"payments.*": "payments"},
        service="checkout",
        severity={"failures": "critical"},
        tags=["nightly"],
        properties=["git.*"],
    )
    [ev] = _events(store)
    assert (ev["component"], ev["service"], ev["severity"]) == ("payments", "checkout", "critical")
    assert list(ev["tags"]) == ["nightly"]
    assert ev["data"]["properties"] == {"git.sha": "abc123"}

    seen: list[dict[str, int]] = []

    def rule(counts: dict[str, int]) -> str | None:
        seen.append(dict(counts))
        return "low" if counts["skipped"] else None

    reading = rca.read("junit", [path], severity=rule)
    assert reading.events["severity"].tolist() == ["low"]
    assert seen == [{"tests": 2, "passed": 0, "failures": 1, "errors": 0, "skipped": 1}]


def test_time_option_then_mtime_and_summary_only_suites(tmp_path: Path) -> None:
    path = tmp_path / "r.xml.gz"
    path.write_bytes(
        gzip.compress(
            b'<testsuites><testsuite name="only-counts" tests="4" failures="1"/>'
            b'<testsuite name="empty" tests="0"/></testsuites>'
        )
    )
    when = dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ctx = Context()
    [ev] = [p.record for p in junit.read([path], ctx, timestamp=when)]
    assert ev["timestamp"] == when and ev["data"]["time_from"] == "option"
    assert (ev["data"]["tests"], ev["data"]["passed"], ev["severity"]) == (4, 3, "medium")
    assert ctx.notes == {"counts_from_attributes": 1}
    assert ctx.skipped == {"empty_suite": 1}
    assert ctx.done == ctx.total == path.stat().st_size
    ctx = Context()
    [ev2] = [p.record for p in junit.read([path], ctx)]
    assert ev2["data"]["time_from"] == "file_mtime" and ctx.notes["time_from_mtime"] == 1
    assert ev2["source_id"] != ev["source_id"]  # a caller's time tells runs apart


def test_times_are_read_as_utc_whatever_the_offset_or_zone(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuites><testsuite name="a" timestamp="2026-03-01T12:00:00+02:00">'
        '<testcase name="t"/></testsuite>'
        '<testsuite name="b" timestamp="2026-03-01T11:00:01"><testcase name="t"/></testsuite>'
        "</testsuites>"
    )
    times = rca.read("junit", path, tz="Europe/Berlin").events["timestamp"]
    assert isinstance(times.dtype, pd.DatetimeTZDtype) and str(times.dt.tz) == "UTC"
    assert times.tolist() == [
        pd.Timestamp("2026-03-01T10:00:00Z"),
        pd.Timestamp("2026-03-01T10:00:01Z"),
    ]
    when = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    (tmp_path / "plain.xml").write_text('<testsuite name="c"><testcase name="t"/></testsuite>')
    [ev] = [p.record for p in junit.read([tmp_path / "plain.xml"], Context(), timestamp=when)]
    assert ev["timestamp"].tzinfo is UTC and ev["timestamp"] == when


def test_failed_tests_are_capped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    cases = "".join(
        f'<testcase classname="c" name="t{i}"><failure message="m{i}"/></testcase>'
        for i in range(70)
    )
    path.write_text(f'<testsuite name="s" timestamp="2026-03-01T10:00:00Z">{cases}</testsuite>')
    [ev] = [p.record for p in junit.read([path], Context())]
    assert ev["data"]["failed_total"] == 70
    assert len(ev["data"]["failed_tests"]) == junit.MAX_FAILED == 50
    assert ev["data"]["failed_tests"][-1]["test"] == "c::t49"


def test_bad_options_and_missing_paths_raise(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="time zone"):
        list(junit.read([tmp_path], Context(), tz="Mars/Olympus"))
    with pytest.raises(ReaderError, match="aware"):
        list(junit.read([tmp_path], Context(), timestamp=dt.datetime(2026, 3, 1)))
    with pytest.raises(ReaderError, match="no such file"):
        list(junit.read([tmp_path / "nope.xml"], Context()))


# --- review findings -------------------------------------------------------------------------

#: A gzip header, then a deflate block of the reserved type 3: zlib raises ``zlib.error``.
BAD_DEFLATE = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x07]) + bytes(16)


@pytest.mark.slow
def test_corrupt_gzip_and_unknown_encodings_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a_good.xml").write_text(GOOD)
    (tmp_path / "b_deflate.xml.gz").write_bytes(BAD_DEFLATE)
    crc = bytearray(gzip.compress(GOOD.encode()))
    crc[-8] ^= 0xFF  # the CRC of the data
    (tmp_path / "c_crc.xml.gz").write_bytes(bytes(crc))
    (tmp_path / "d_bogus.xml").write_text(
        '<?xml version="1.0" encoding="bogus"?><testsuite name="x"><testcase name="t"/></testsuite>'
    )
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("junit", [tmp_path])
    assert _rejects(report) == [
        (str(tmp_path / "b_deflate.xml.gz"), "unreadable", None),
        (str(tmp_path / "c_crc.xml.gz"), "unreadable", None),
        (f"{tmp_path / 'd_bogus.xml'}:1", "bad_xml", None),
    ]
    messages = report.rejects["message"].tolist()
    assert "invalid block type" in messages[0] and "bogus" in messages[2]
    # a small file is decompressed in one read, checked before any of it is parsed
    assert report.events == {
        "read": 2,
        "stored": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected_rows": 0,
    }


def test_progress_knows_every_file_up_front_and_counts_it_once(tmp_path: Path) -> None:
    for name in ("a.xml", "b.xml"):
        (tmp_path / name).write_text(GOOD)
    (tmp_path / "c.xml.gz").write_bytes(gzip.compress(GOOD.encode()))
    size = sum(p.stat().st_size for p in tmp_path.iterdir())
    seen: list[tuple[int, int]] = []
    ctx = Context(progress=lambda done, total: seen.append((done, total)))
    records = junit.read([tmp_path], ctx)
    next(records)
    assert ctx.total == size  # before the first file is done
    list(records)
    assert ctx.done == ctx.total == size
    assert all(total == size for done, total in seen if done)  # never grows once reading


def test_service_and_component_as_names_or_rules(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text(GOOD)

    def picked(**options: Any) -> list[tuple[Any, Any]]:
        events = rca.read("junit", [path], **options).events
        rows = events[["service", "component"]].astype(object)
        rows = rows.where(rows.notna(), None)
        suites = [d["suite"] for d in events["data"]]
        return [(s, *r) for s, r in zip(suites, rows.values.tolist(), strict=True)]

    assert picked() == [("api", None, None), ("web", None, None)]
    assert picked(service="shop", component="tests") == [
        ("api", "shop", "tests"),
        ("web", "shop", "tests"),
    ]
    assert picked(service={"a*": "payments", "w*": None}, component=lambda s: s.upper()) == [
        ("api", "payments", "API"),
        ("web", None, "WEB"),
    ]
    for option in ("service", "component"):
        with pytest.raises(ReaderError, match=option):
            list(junit.read([tmp_path / "nope.xml"], Context(), **{option: ["a"]}))


# --- zero times (Go's gotestsum writes 0001-01-01T00:00:00Z) -------------------------------

GOTESTSUM = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<testsuites tests="2" failures="1" errors="0" time="0.412">\n'
    '\t<testsuite tests="2" failures="1" time="0.410" name="example.com/shop/cart"'
    ' timestamp="0001-01-01T00:00:00Z">\n'
    '\t\t<properties><property name="go.version" value="go1.22.1 linux/amd64"/></properties>\n'
    '\t\t<testcase classname="example.com/shop/cart" name="TestAdd" time="0.000"/>\n'
    '\t\t<testcase classname="example.com/shop/cart" name="TestPay" time="0.410">\n'
    '\t\t\t<failure message="Failed" type="">=== RUN TestPay\n    cart_test.go:31: 500'
    "</failure>\n"
    "\t\t</testcase>\n"
    "\t</testsuite>\n"
    "</testsuites>\n"
)


@pytest.mark.parametrize(
    "zero",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00.000000000Z",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01 00:00:00",
        "0000-12-31T19:03:58-04:56",  # Go's zero time printed in America/New_York
    ],
)
def test_go_zero_timestamp_is_absent_not_year_1(tmp_path: Path, zero: str) -> None:
    path = tmp_path / "gotestsum.xml"
    path.write_text(GOTESTSUM.replace("0001-01-01T00:00:00Z", zero))
    os.utime(path, (1772359200, 1772359200))  # 2026-03-01T10:00:00Z
    ctx = Context()
    [ev] = [p.record for p in junit.read([path], ctx)]
    assert ev["timestamp"] == dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert ev["data"]["time_from"] == "file_mtime"
    assert (ev["data"]["tests"], ev["data"]["failures"], ev["severity"]) == (2, 1, "medium")
    assert ctx.notes["zero_time_as_missing"] == 1 and ctx.notes["time_from_mtime"] == 1
    assert not ctx.rejects
    when = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    [ev] = [p.record for p in junit.read([path], Context(), timestamp=when)]
    assert ev["timestamp"] == when and ev["data"]["time_from"] == "option"


def test_a_zero_suite_time_falls_back_to_the_enclosing_suite(tmp_path: Path) -> None:
    path = tmp_path / "nested.xml"
    path.write_text(
        '<testsuite name="all" timestamp="2026-03-01T09:00:00Z">'
        '<testsuite name="go" timestamp="0001-01-01T00:00:00Z">'
        '<testcase classname="pkg" name="TestA"/></testsuite></testsuite>'
    )
    reading = rca.read("junit", path)
    [ev] = reading.events.to_dict("records")
    assert ev["timestamp"] == dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert ev["data"]["time_from"] == "parent_suite"
    assert reading.notes == {"zero_time_as_missing": 1}


def test_a_zero_time_option_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text(GOOD)
    for zero in ("0001-01-01T00:00:00Z", dt.datetime(1, 1, 1, tzinfo=UTC)):
        with pytest.raises(ReaderError, match="zero time"):
            rca.read("junit", path, timestamp=zero)
