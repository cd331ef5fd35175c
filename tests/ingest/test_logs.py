"""The logs reader: lnav's real samples, syslog and plain lines, fingerprints, hostile files."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import ReaderError
from rca_analytics.ingest import _logformats as lf

UTC = dt.UTC
LNAV = ("logs", "lnav")


def _ingest(tmp_path: Path, paths: Any, **options: Any) -> tuple[rca.Store, Any]:
    store = rca.connect(tmp_path / "s.duckdb")
    return store, store.ingest("logs", paths, **options)


def _rejects(report: Any, base: Path) -> list[tuple[str, str | None, str]]:
    return [
        (w.replace(f"{base}/", ""), f if isinstance(f, str) else None, c)
        for w, f, c in report.rejects[["where", "field", "code"]].itertuples(False)
    ]


def _by_line(store: rca.Store) -> dict[str, dict[str, Any]]:
    """Stored events by ``file-name:line`` (from their metadata)."""
    out: dict[str, dict[str, Any]] = {}
    for row in store.events().to_dict("records"):
        meta = row["metadata"]
        out[f"{Path(meta['file']).name}:{meta['line']}"] = {str(k): v for k, v in row.items()}
    return out


def _write(path: Path, *lines: str, eol: str = "\n") -> Path:
    path.write_text("".join(line + eol for line in lines), encoding="utf-8")
    return path


def _json_line(n: int, level: Any = "error", **extra: Any) -> str:
    record = {"time": f"2026-03-01T10:00:{n:02d}Z", "level": level, "msg": f"failure {n}"}
    record.update(extra)
    return json.dumps(record)


# --- the real samples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_level", "counts", "below"),
    [
        ("warning", {"logfile_ecs_log.json": 3, "logfile_journald.json": 1,
                     "logfile_logfmt.0": 3}, 15),
        ("info", {"logfile_bunyan.0": 1, "logfile_ecs_log.json": 4,
                  "logfile_journald.json": 2, "logfile_logfmt.0": 5}, 10),
        ("debug", {"logfile_bunyan.0": 10, "logfile_ecs_log.json": 5,
                   "logfile_journald.json": 2, "logfile_logfmt.0": 5}, 0),
    ],
)  # fmt: skip
def test_lnav_samples_counted_by_level(
    tmp_path: Path, realworld: Path, min_level: str, counts: dict[str, int], below: int
) -> None:
    store, report = _ingest(tmp_path, realworld.joinpath(*LNAV), min_level=min_level)
    assert report.ok, report.rejects
    assert report.events["stored"] == sum(counts.values())
    expected_skips = {"no_level": 1} | ({"below_min_level": below} if below else {})
    assert report.skipped == expected_skips  # the Cloudflare request log has no level
    found = store.events()["metadata"].map(lambda m: Path(m["file"]).name).value_counts()
    assert found.to_dict() == counts
    assert report.notes == {}


def test_lnav_samples_mapped_values(tmp_path: Path, realworld: Path) -> None:
    store, report = _ingest(tmp_path, realworld.joinpath(*LNAV), min_level="debug")
    assert report.ok
    events = _by_line(store)

    ecs = events["logfile_ecs_log.json:4"]
    assert ecs["timestamp"] == pd.Timestamp("2025-01-13T09:58:13.634Z")
    assert (ecs["source"], ecs["event_type"], ecs["severity"]) == ("logs", "error", "high")
    assert pd.isna(ecs["service"]) and pd.isna(ecs["component"])
    assert list(ecs["tags"]) == ["error"]
    assert ecs["data"]["message"] == "this is a error message num=15"
    assert ecs["data"]["template"] == "this is a error message num=<*>"
    assert (ecs["data"]["level"], ecs["data"]["logger"], ecs["data"]["pid"]) == (
        "error",
        "app",
        9159,
    )
    assert ecs["data"]["process.thread.name"] == "MainThread"
    assert ecs["data"]["log.origin.file.line"] == 45
    assert "log.original" not in ecs["data"] and "ecs.version" not in ecs["data"]
    critical = events["logfile_ecs_log.json:5"]
    assert (critical["severity"], list(critical["tags"])) == ("critical", ["critical"])
    assert events["logfile_ecs_log.json:1"]["severity"] == "info"  # debug → info

    journald = events["logfile_journald.json:1"]  # PRIORITY "1" (alert)
    assert journald["timestamp"] == pd.Timestamp("2018-08-21T14:04:21.221373Z")
    assert (journald["severity"], list(journald["tags"])) == ("critical", ["alert"])
    assert journald["service"] == "medusa-GpsLocator"  # _SYSTEMD_UNIT without .service
    data = journald["data"]
    assert data["message"] == "GPS Reference longitude: 7.358143333"
    assert data["template"] == "GPS Reference longitude: <*>"
    assert (data["logger"], data["host"], data["pid"]) == ("python", "imx6ul-medusa", "184")
    assert "__CURSOR" not in data and "__REALTIME_TIMESTAMP" not in data
    assert events["logfile_journald.json:2"]["severity"] == "info"

    logfmt = events["logfile_logfmt.0:2"]
    assert logfmt["timestamp"] == pd.Timestamp("2021-09-15T21:17:11.674149Z")
    assert (logfmt["event_type"], logfmt["severity"]) == ("warning", "medium")
    assert logfmt["data"]["message"] == "Failed to DeletePod in the provider"
    assert logfmt["data"]["error_message"] == (
        "pod inc-1-domain-c14-ns-6/fe-inc-1-domain-c14-ns-6-5-656d9bb695-4584b is not found: "
        "PodNotFound"
    )
    assert logfmt["data"]["uid"] == "be2def59-3a08-42fd-8f84-6f64cfcefa93"
    first, last = events["logfile_logfmt.0:1"]["data"], events["logfile_logfmt.0:5"]["data"]
    assert first["message"] != last["message"] and first["fingerprint"] == last["fingerprint"]
    assert first["template"] == "error retrieving pod status: pod <*>/<*> is not found: PodNotFound"

    bunyan = events["logfile_bunyan.0:4"]  # level 30
    assert bunyan["timestamp"] == pd.Timestamp("2023-03-24T14:26:16.243Z")
    assert (bunyan["event_type"], bunyan["severity"], list(bunyan["tags"])) == (
        "log",
        "info",
        ["info"],
    )
    assert bunyan["service"] == "renovate"  # Bunyan's name
    assert bunyan["data"]["message"] == "Dependency extraction complete"
    assert (bunyan["data"]["level"], bunyan["data"]["pid"]) == (30, 7)
    assert bunyan["data"]["host"] == "renovate-gitlab-67c4bcb5-9ggbv"
    assert bunyan["data"]["stats.total.depCount"] == 17
    assert "v" not in bunyan["data"] and "name" not in bunyan["data"]
    assert list(events["logfile_bunyan.0:1"]["tags"]) == ["debug"]
    releases = {events[f"logfile_bunyan.0:{n}"]["data"]["fingerprint"] for n in (6, 7, 9)}
    assert len(releases) == 1  # "Release 2.8.7 / 4.4.1 / 2.10.0 is pending status checks"


def test_cloudflare_request_log_takes_default_level(tmp_path: Path, realworld: Path) -> None:
    path = realworld.joinpath(*LNAV, "logfile_cloudflare.json")
    store, report = _ingest(tmp_path, path, default_level="error")
    assert report.events["stored"] == 1 and report.skipped == {}
    (event,) = store.events().to_dict("records")
    assert event["timestamp"] == pd.Timestamp("2022-10-30T00:00:02Z")  # EdgeStartTimestamp
    assert event["severity"] == "high" and event["data"]["message"] == ""
    assert event["data"]["ClientRequestHost"] == "www.ripe.net"
    assert event["data"]["EdgeResponseStatus"] == 301
    assert len(event["data"]) == 4 + 30  # message, level, template, fingerprint + 30 fields
    assert "FirewallMatchesActions" not in event["data"]  # empty lists are left out


def test_otlp_collector_lines_have_no_level_here(realworld: Path) -> None:
    reading = rca.read("logs", realworld / "otlp" / "lnav__logfile_otel_collector.jsonl")
    assert reading.events.empty and reading.skipped == {"no_level": 6}


# --- formats: detection, forcing, syslog, plain ------------------------------------------


def test_format_detected_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    _write(folder / "a.jsonl", _json_line(1))
    _write(folder / "b.log", 'ts=2026-03-01T10:00:02Z level=error msg="failure 2"')
    _write(folder / "c.log", "<11>1 2026-03-01T10:00:03Z web-1 api 42 - - failure 3")
    _write(folder / "d.log", "2026-03-01 10:00:04,000 ERROR failure 4")
    _write(folder / "e.txt", "just some prose", "without any time")
    _write(folder / "README.md", "2026-03-01 10:00:05 ERROR not a log name")
    _write(folder / "app.log.1", "2026-03-01 10:00:06 ERROR failure 6")
    store, report = _ingest(tmp_path, folder)
    assert _rejects(report, folder) == [("e.txt", None, "unknown_format")]
    assert "format=" in report.rejects["message"][0]
    events = store.events()
    assert sorted(events["data"].map(lambda d: d["message"])) == [
        "failure 1", "failure 2", "failure 3", "failure 4", "failure 6",
    ]  # fmt: skip
    assert set(events["severity"]) == {"high"}


def test_forced_format(tmp_path: Path) -> None:
    logfmt = _write(tmp_path / "a.log", 'ts=2026-03-01T10:00:02Z level=error msg="x 2"')
    _store, report = _ingest(tmp_path, logfmt, format="json")
    assert _rejects(report, tmp_path) == [("a.log:1", None, "bad_json")]
    mixed = _write(tmp_path / "b.log", "no time here", "2026-03-01 10:00:04 ERROR x 4")
    # one line of two is enough to detect it (as log4j: time, level, message)
    for options, code in (({}, "bad_record"), ({"format": "plain"}, "invalid_datetime")):
        reading = rca.read("logs", mixed, **options)
        assert reading.rejects[["where", "code"]].values.tolist() == [[f"{mixed}:1", code]]
        assert reading.events["data"].map(lambda d: d["message"]).tolist() == ["x 4"]
    assert "log4j" in rca.read("logs", mixed).rejects["message"][0]
    prose = _write(tmp_path / "c.log", "no time here", "nor here")
    assert rca.read("logs", prose).rejects["code"].tolist() == ["unknown_format"]
    forced = rca.read("logs", prose, format="plain").rejects
    assert forced[["where", "code"]].values.tolist() == [
        [f"{prose}:1", "invalid_datetime"],
        [f"{prose}:2", "invalid_datetime"],
    ]
    with pytest.raises(ReaderError, match="format 'xml'"):
        rca.read("logs", prose, format="xml")


def test_syslog_rfc5424(tmp_path: Path) -> None:
    path = tmp_path / "syslog.log"
    path.write_bytes(
        b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        b'[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][x@1 a="q\\"b\\]"] '
        b"\xef\xbb\xbfAn application event log entry\n"
        b"<11>1 2026-03-01T11:00:00+01:00 web-1 api 1234 - - disk /dev/sda1 failed 3 times\n"
        b"<10>1 2026-03-01T10:00:01Z - - - - -\n"
        b"<12>1 - web-1 api - - - nil time\n"
        b"<999>1 2026-03-01T10:00:02Z web-1 api - - - bad pri\n"
    )
    reading = rca.read("logs", path, min_level="notice")
    assert reading.rejects[["where", "field", "code"]].values.tolist() == [
        [f"{path}:4", "time", "missing"],
        [f"{path}:5", "pri", "bad_syslog"],
    ]
    rows = reading.events.to_dict("records")
    assert len(rows) == 3
    notice, err, crit = rows
    assert notice["timestamp"] == dt.datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert (notice["severity"], list(notice["tags"])) == ("low", ["notice"])
    assert notice["service"] == "evntslog"
    assert notice["data"] == {
        "message": "An application event log entry",  # BOM dropped
        "level": "notice",
        "template": "An application event log entry",
        "fingerprint": notice["data"]["fingerprint"],
        "logger": "evntslog",
        "host": "mymachine.example.com",
        "facility": "local4",
        "msgid": "ID47",
        "exampleSDID@32473.iut": "3",
        "exampleSDID@32473.eventSource": "Application",
        "exampleSDID@32473.eventID": "1011",
        "x@1.a": 'q"b]',
    }
    assert err["timestamp"] == dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert (err["severity"], err["event_type"], err["data"]["pid"]) == ("high", "error", "1234")
    assert err["data"]["template"] == "disk /dev/<*> failed <*> times"
    assert pd.isna(crit["service"]) and crit["data"]["message"] == ""  # all nil
    assert (crit["severity"], list(crit["tags"])) == ("critical", ["critical"])


@pytest.mark.slow
def test_syslog_rfc3164_year(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "messages",
        "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8",
        "<13>Feb 29 00:00:01 host app: leap day",
        "Dec 31 23:59:59 host kernel: ERROR disk failure",
        "Dec 31 23:59:59 host kernel: routine message",
    )
    store, report = _ingest(tmp_path, path, year=2024, min_level="notice")
    assert report.ok and report.skipped == {"no_level": 1}
    assert report.notes == {"naive_time_as_utc": 3}
    events = _by_line(store)
    su = events["messages:1"]
    assert su["timestamp"] == pd.Timestamp("2024-10-11T22:14:15Z")
    assert (su["severity"], su["service"], su["data"]["pid"]) == ("critical", "su", "230")
    assert su["data"]["message"] == "'su root' failed for lonvick on /dev/pts/8"
    assert su["data"]["template"] == "'<*>' failed for lonvick on /dev/pts/<*>"
    assert (su["data"]["host"], su["data"]["facility"]) == ("mymachine", "auth")
    assert events["messages:2"]["timestamp"] == pd.Timestamp("2024-02-29T00:00:01Z")
    kernel = events["messages:3"]  # no PRI: the level is a word of the message
    assert (kernel["severity"], kernel["data"]["message"]) == ("high", "disk failure")

    # Without year=: the year that puts the line at most a day after the file's time.
    january = dt.datetime(2025, 1, 2, 12, tzinfo=UTC).timestamp()
    os.utime(path, (january, january))
    reading = rca.read("logs", path, tz="Europe/Berlin", min_level="notice")
    times = reading.events.set_index("where")["timestamp"]
    assert times[f"{path}:1"] == dt.datetime(2024, 10, 11, 20, 14, 15, tzinfo=UTC)
    assert times[f"{path}:2"] == dt.datetime(2024, 2, 28, 23, 0, 1, tzinfo=UTC)  # leap year
    assert times[f"{path}:3"] == dt.datetime(2024, 12, 31, 22, 59, 59, tzinfo=UTC)
    report = rca.connect(tmp_path / "y.duckdb").ingest("logs", path, tz="Europe/Berlin")
    assert report.notes == {
        "naive_time_as_europe/berlin": 2,
        "year_inferred: 2024 from file time": 2,
    }


def test_plain_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "app.log",
        "    at the.start(Of.java:1)",
        "2024-01-02 03:04:05,123 ERROR [main] foo: msg one",
        "java.lang.IllegalStateException: boom 42",
        "\tat com.foo.Bar.baz(Bar.java:12)",
        "2024-01-02T03:04:05Z WARN msg two",
        "2024-01-02T03:04:06Z INFO fine",
        "\tcontinuation of a skipped entry",
        "2024-01-02 03:04:07 - payments.db - CRITICAL - pool exhausted 100/100",
        "[2024-01-02 03:04:08 +01:00] [error] bracketed, with an offset",
        "2024/01/02 03:04:09 [warn] 1234#0: *5 upstream timed out",
        "2024-01-02 03:04:10 no level at all",
        eol="\r\n",
    )
    store, report = _ingest(tmp_path, path, tz="UTC")
    assert _rejects(report, tmp_path) == [("app.log:1", "time", "invalid_datetime")]
    assert report.skipped == {"below_min_level": 1, "no_level": 1}
    assert report.notes == {"naive_time_as_utc": 3}
    events = _by_line(store)
    assert sorted(events) == ["app.log:10", "app.log:2", "app.log:5", "app.log:8", "app.log:9"]
    one = events["app.log:2"]
    assert one["timestamp"] == pd.Timestamp("2024-01-02T03:04:05.123Z")
    assert one["severity"] == "high"
    assert one["data"] == {
        "message": "msg one",
        "level": "ERROR",
        "template": "msg one",
        "fingerprint": one["data"]["fingerprint"],
        "logger": "foo",
        "thread": "main",
        "stack": "java.lang.IllegalStateException: boom 42\n\tat com.foo.Bar.baz(Bar.java:12)",
    }
    two = events["app.log:5"]
    assert (two["timestamp"], two["severity"]) == (pd.Timestamp("2024-01-02T03:04:05Z"), "medium")
    assert two["data"]["message"] == "msg two" and "stack" not in two["data"]
    cookbook = events["app.log:8"]
    assert (cookbook["severity"], cookbook["data"]["logger"]) == ("critical", "payments.db")
    assert cookbook["data"]["message"] == "pool exhausted 100/100"
    assert events["app.log:9"]["timestamp"] == pd.Timestamp("2024-01-02T02:04:08Z")
    nginx = events["app.log:10"]
    assert nginx["data"]["message"] == "1234#0: *5 upstream timed out"
    assert nginx["data"]["template"] == "<*>#<*>: *<*> upstream timed out"


def test_logfmt_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.log",
        'time=2026-03-01T10:00:00Z level=info msg="level=error inside the message"',
        'time=2026-03-01T10:00:01Z level=error msg="cut off',
        "time=2026-03-01T10:00:02Z lvl=warn caller=db.go:12 msg=plain_word pid=7",
        "not a logfmt line at all",
    )
    reading = rca.read("logs", path, format="logfmt")
    assert reading.rejects[["where", "code"]].values.tolist() == [[f"{path}:4", "bad_logfmt"]]
    assert reading.skipped == {"below_min_level": 1}
    rows = reading.events.to_dict("records")
    assert [r["data"]["message"] for r in rows] == ['"cut', "plain_word"]
    assert rows[1]["data"]["caller"] == "db.go:12" and rows[1]["data"]["pid"] == "7"


# --- fingerprints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("timeout after 3000 ms", "timeout after 12 ms", True),
        ("GET /api/orders/81234 took 35ms", "GET /api/orders/7 took 1200ms", True),
        ("payment 3b2c2d7e-8f0a-4c1d-9e2b-5a6f7c8d9e0f declined",
         "payment 0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b declined", True),
        ("connect to 10.0.0.7:5432 refused", "connect to 192.168.1.20:6432 refused", True),
        ('user "bob" not found', 'user "alice" not found', True),
        ("cache miss for key 0xdeadbeef01", "cache miss for key 0x1234", True),
        ("timeout after 3000 ms", "timeout before 3000 ms", False),
        ("connection refused", "connection reset", False),
        ("disk full", "disk full!", False),
    ],
)  # fmt: skip
def test_fingerprints(a: str, b: str, same: bool) -> None:
    assert (lf.template(a) == lf.template(b)) is same
    assert ("<*>" in lf.template(a)) is (a != lf.template(a))


def test_fingerprint_in_store_groups_a_flood(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "time": f"2026-03-01T10:00:{n:02d}Z",
                "level": "error",
                "msg": f"upstream timeout after {100 + n} ms (request {n:06x})",
            }
        )
        for n in range(20)
    ]
    lines.append(json.dumps({"time": "2026-03-01T10:01:00Z", "level": "error", "msg": "disk full"}))
    store, _report = _ingest(tmp_path, _write(tmp_path / "a.jsonl", *lines))
    groups = store.events()["data"].map(lambda d: d["template"]).value_counts().to_dict()
    assert groups == {"upstream timeout after <*> ms (request <*>)": 20, "disk full": 1}


# --- ids: idempotence, overlapping files, repeats ---------------------------------------


@pytest.mark.slow
def test_ingest_twice_and_overlapping_rotations(tmp_path: Path) -> None:
    lines = [_json_line(n) for n in range(10)]
    old = _write(tmp_path / "app.log.1", *lines[:6])
    new = _write(tmp_path / "app.log", *lines[4:])  # lines 4 and 5 in both files
    store, report = _ingest(tmp_path, old)
    assert report.events["stored"] == 6
    again = store.ingest("logs", old)
    assert (again.events["stored"], again.events["unchanged"]) == (0, 6)
    both = store.ingest("logs", [old, new])
    assert (both.events["stored"], both.events["unchanged"]) == (4, 8)
    assert len(store.events()) == 10
    stored = _by_line(store)
    assert stored["app.log.1:5"]["source_id"] != stored["app.log.1:6"]["source_id"]


def test_identical_lines_are_numbered_apart(tmp_path: Path) -> None:
    same = _json_line(1)
    path = _write(tmp_path / "a.log", same, _json_line(2), same, same, _json_line(3))
    store, report = _ingest(tmp_path, path)
    assert report.events["stored"] == 5
    ids = store.events()["source_id"].tolist()
    base = next(i for i in ids if "#" not in i and ids.count(i + "#2"))
    assert sorted(i for i in ids if i.startswith(base)) == [base, f"{base}#2", f"{base}#3"]
    copy = _write(tmp_path / "b.log", same, same)  # the first two of them again
    assert store.ingest("logs", copy).events["stored"] == 0


# --- hostile input -----------------------------------------------------------------------


def test_a_lone_surrogate_becomes_the_replacement_character_and_is_noted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(
        b'{"time": "2026-03-01T10:00:00Z", "level": "error", "msg": "bad \\ud800 here",'
        b' "service": "pay\\udfff", "user": {"\\udc00id": "x"}}\n'
        b'{"time": "2026-03-01T10:00:01Z", "level": "error", "msg": "pair \\ud83d\\ude00 ok"}\n'
    )
    store, report = _ingest(tmp_path, path)
    assert report.ok and report.events["stored"] == 2
    assert report.notes == {"text_repaired": 1}  # the line with lone surrogates, not the pair
    events = _by_line(store)
    bad = events["app.log:1"]
    assert bad["data"]["message"] == "bad \ufffd here"
    assert bad["service"] == "pay\ufffd"
    assert bad["data"]["user.\ufffdid"] == "x"
    assert events["app.log:2"]["data"]["message"] == "pair \U0001f600 ok"


def test_times_are_read_as_utc_whatever_the_offset_or_zone(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "app.log",
        '{"time": "2026-03-01T12:00:00+02:00", "level": "error", "msg": "offset"}',
        '{"time": "2026-03-01T11:00:01", "level": "error", "msg": "naive, in tz"}',
        '{"time": "2026-03-01T10:00:02Z", "level": "error", "msg": "utc"}',
    )
    for options in ({}, {"tz": "Europe/Berlin"}):
        times = rca.read("logs", path, **options).events["timestamp"]
        assert isinstance(times.dtype, pd.DatetimeTZDtype) and str(times.dt.tz) == "UTC"
    assert times.tolist() == [
        pd.Timestamp("2026-03-01T10:00:00Z"),
        pd.Timestamp("2026-03-01T10:00:01Z"),
        pd.Timestamp("2026-03-01T10:00:02Z"),
    ]


def test_hostile_file(tmp_path: Path) -> None:
    path = tmp_path / "hostile.log"
    body = [
        _json_line(1).encode(),
        b'{"time":"2026-03-01T10:00:02Z","level":"error","msg":"trunc',
        _json_line(3, level={"name": "error"}).encode(),
        b'{"time":["2026"],"level":"error","msg":"list time"}',
        b'{"level":"error","msg":"no time"}',
        b'{"time":"yesterday","level":"error","msg":"bad time"}',
        b"[1, 2, 3]",
        b"\x00\x01\x02\xff\xfe\xfd binary garbage",
        b'{"time":"2026-03-01T10:00:09Z","level":"error","msg":"caf\xc3"}',
        _json_line(10, msg="x" * (2 << 20)).encode(),  # 2 MiB
        b'{"time":"2026-03-01T10:00:11","level":"warn","msg":"naive, no offset"}',
        b'{"time":1772359212,"level":50,"msg":"epoch seconds, bunyan level"}',
        b'{"time":"1772359213123","level":"ERROR","msg":"epoch ms as text"}',
        b'{"time":"2026-03-01T10:00:14Z","level":"loud","msg":"unknown level"}',
        b'{"time":"2026-03-01T10:00:15Z","msg":"no level"}',
        b'{"time":"2026-03-01T10:00:16Z","level":"error","msg":"lone \\ud800 surrogate"}',
        b'{"time":"2026-03-01T10:00:17Z","level":"error","msg":"n","x":NaN,"y":[1,"a"]}',
        '{"time":"2026-03-01T10:00:18Z","level":"error","msg":"ünïcödé ✓"}'.encode(),
        b"",
        _json_line(20).encode(),
    ]
    path.write_bytes(b"\r\n".join(body) + b"\r\n")
    store, report = _ingest(tmp_path, path)
    assert _rejects(report, tmp_path) == [
        ("hostile.log:2", None, "bad_json"),
        ("hostile.log:3", "level", "invalid_type"),
        ("hostile.log:4", "time", "invalid_type"),
        ("hostile.log:5", "time", "missing"),
        ("hostile.log:6", "time", "invalid_datetime"),
        ("hostile.log:7", None, "invalid_type"),
        ("hostile.log:8", None, "not_utf8"),
        ("hostile.log:9", None, "not_utf8"),
    ]
    assert report.skipped == {"unknown_level": 1, "no_level": 1}
    assert report.notes == {"naive_time_as_utc": 1, "message_truncated": 1, "text_repaired": 1}
    events = _by_line(store)
    assert sorted(events, key=lambda k: int(k.split(":")[1])) == [
        f"hostile.log:{n}" for n in (1, 10, 11, 12, 13, 16, 17, 18, 20)
    ]
    big = events["hostile.log:10"]["data"]["message"]
    assert len(big) == 4000 and big.endswith("…")
    assert events["hostile.log:11"]["timestamp"] == pd.Timestamp("2026-03-01T10:00:11Z")
    assert events["hostile.log:12"]["timestamp"] == pd.Timestamp("2026-03-01T10:00:12Z")
    assert events["hostile.log:12"]["severity"] == "high"
    assert events["hostile.log:13"]["timestamp"] == pd.Timestamp("2026-03-01T10:00:13.123Z")
    assert events["hostile.log:16"]["data"]["message"] == "lone \ufffd surrogate"
    assert events["hostile.log:17"]["data"]["x"] == "nan"
    assert events["hostile.log:17"]["data"]["y"] == [1, "a"]
    assert events["hostile.log:18"]["data"]["message"] == "ünïcödé ✓"
    assert store.ingest("logs", path).events["stored"] == 0


@pytest.mark.slow
def test_line_longer_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    with path.open("w") as f:
        f.write(_json_line(1) + "\n")
        f.write(_json_line(2, msg="y" * (17 << 20)) + "\n")  # more than 16 MiB
        f.write(_json_line(3) + "\n")
    _store, report = _ingest(tmp_path, path)
    assert _rejects(report, tmp_path) == [("long.jsonl:2", None, "line_too_long")]
    assert report.events["stored"] == 2


def test_gzip_empty_and_binary_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with gzip.open(folder / "app.log.2.gz", "wt") as g:
        g.write(_json_line(1) + "\n" + _json_line(2, level="info") + "\n")
    (folder / "empty.log").write_bytes(b"")
    (folder / "blank.log").write_bytes(b"\n\r\n  \n")
    (folder / "core.log").write_bytes(bytes(range(256)) * 64)
    (folder / "broken.log.gz").write_bytes(b"not gzip at all")
    store, report = _ingest(tmp_path, folder)
    assert _rejects(report, folder) == [
        ("broken.log.gz", None, "unreadable"),
        ("core.log", None, "unknown_format"),
    ]
    assert report.notes == {"empty_file": 2}
    assert report.skipped == {"below_min_level": 1}
    assert store.events()["data"].map(lambda d: d["message"]).tolist() == ["failure 1"]


def test_gzip_that_breaks_inside_the_deflate_stream_is_unreadable(tmp_path: Path) -> None:
    broken = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x07]) + bytes(16)  # block type 3
    (tmp_path / "a.log.gz").write_bytes(broken)
    (tmp_path / "b.jsonl.gz").write_bytes(broken)
    _write(tmp_path / "c.log", _json_line(1))
    store, report = _ingest(tmp_path, tmp_path)
    assert _rejects(report, tmp_path) == [
        ("a.log.gz", None, "unreadable"),
        ("b.jsonl.gz", None, "unreadable"),
    ]
    assert store.events()["data"].map(lambda d: d["message"]).tolist() == ["failure 1"]
    # read as JSON lines, without detection, the break is found on line 1
    _, report = _ingest(tmp_path, tmp_path / "b.jsonl.gz", format="json")
    assert _rejects(report, tmp_path) == [("b.jsonl.gz:1", None, "unreadable")]


def test_a_huge_number_is_a_short_bad_json_message(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.log", _json_line(1), '{"level": "error", "n": ' + "9" * 5000 + "}")
    _, report = _ingest(tmp_path, path)
    assert _rejects(report, tmp_path) == [("a.log:2", None, "bad_json")]
    assert report.rejects["message"].tolist() == [
        "Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits"
    ]


# --- options -------------------------------------------------------------------------------


def test_service_component_severity_and_fields(tmp_path: Path) -> None:
    (tmp_path / "checkout").mkdir()
    path = _write(
        tmp_path / "checkout" / "app.log",
        json.dumps({"when": "2026-03-01T10:00:00Z", "sev": "warn", "text": "slow",
                    "who": "checkout.db", "logger": "sql"}),
        json.dumps({"when": "2026-03-01T10:00:01Z", "sev": "fatal", "text": "down",
                    "who": "pay-api", "component": "own"}),
        json.dumps({"when": "2026-03-01T10:00:02Z", "sev": "error", "text": "other"}),
    )  # fmt: skip
    fields = {"time": "when", "level": "sev", "message": "text", "service": "who"}
    reading = rca.read(
        "logs",
        path,
        fields=fields,
        service={"pay-*": "payments", "*/checkout/*": "checkout"},
        component={"sql": "database", "payments": "payments-core"},
        severity={"warn": "high", "fatal": "critical"},
    )
    rows = reading.events.to_dict("records")
    assert [r["data"]["message"] for r in rows] == ["slow", "down", "other"]
    assert [r["service"] for r in rows] == ["checkout.db", "payments", "checkout"]
    assert [r["component"] for r in rows][:2] == ["database", "own"]
    assert pd.isna(rows[2]["component"])
    assert [r["severity"] for r in rows] == ["high", "critical", "high"]
    assert [list(r["tags"]) for r in rows] == [["warning"], ["fatal"], ["error"]]
    fixed = rca.read("logs", path, fields=fields, service="shop")
    assert set(fixed.events["service"]) == {"shop"}
    by_callable = rca.read("logs", path, fields=fields, component=lambda v: v.upper())
    assert by_callable.events["component"].tolist() == ["SQL", "PAY-API", path.as_posix().upper()]
    # a name is the component of every line, its own component field or not
    named = rca.read("logs", path, fields=fields, component="web")
    assert named.events["component"].tolist() == ["web", "web", "web"]
    for option in ("service", "component", "severity"):
        with pytest.raises(ReaderError, match=option):
            rca.read("logs", tmp_path / "missing.log", **{option: 42})


def test_min_level_and_timezone(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.log",
        *(json.dumps({"t": "2026-03-01 10:00:00", "level": lvl, "msg": lvl})
          for lvl in ("trace", "debug", "info", "notice", "warning", "error", "critical")),
    )  # fmt: skip
    counts = {
        level: len(rca.read("logs", path, min_level=level).events)
        for level in ("trace", "debug", "info", "warning", "error", "critical", "emergency")
    }
    assert counts == {"trace": 7, "debug": 6, "info": 5, "warning": 3, "error": 2,
                      "critical": 1, "emergency": 0}  # fmt: skip
    store, report = _ingest(tmp_path, path, tz="America/New_York", min_level="3")
    assert report.notes == {"naive_time_as_america/new_york": 2}
    assert set(store.events()["timestamp"]) == {pd.Timestamp("2026-03-01T15:00:00Z")}
    for bad in ({"min_level": "loud"}, {"tz": "Mars/Olympus"}, {"default_level": "x"},
                {"fields": {"colour": "c"}}, {"fields": {"time": ""}}, {"year": 0}):  # fmt: skip
        with pytest.raises(ReaderError):
            rca.read("logs", path, **bad)
    with pytest.raises(ReaderError, match="no such file"):
        rca.read("logs", tmp_path / "missing.log")


def test_progress_counts_bytes(tmp_path: Path) -> None:
    from rca_analytics.ingest import logs
    from rca_analytics.ingest._base import Context

    path = _write(tmp_path / "a.log", *(_json_line(n) for n in range(50)))
    seen: list[tuple[int, int]] = []
    ctx = Context(lambda done, total: seen.append((done, total)))
    assert len(list(logs.read([path], ctx))) == 50
    assert seen[-1] == (path.stat().st_size, path.stat().st_size) and ctx.unit == "B"
    # every file of a folder is announced before the first is read, and once
    other = _write(tmp_path / "b.log", "not a log line at all")
    size = path.stat().st_size + other.stat().st_size
    ctx = Context()
    records = logs.read([tmp_path], ctx)
    next(records)
    assert ctx.total == size
    list(records)
    assert ctx.done == ctx.total == size


# --- the fast path for lines below min_level ---------------------------------------------


def test_fast_path_cases(tmp_path: Path) -> None:
    t = '"time":"2026-03-01T10:00:00Z"'
    path = _write(
        tmp_path / "a.jsonl",
        "{" + t + ',"level":"error","msg":"learns the key"}',
        "{" + t + ',"level":"debug","msg":"twice","level":"error"}',  # the last one counts
        "{" + t + ',"ctx":{"level":"debug"},"severity":"error","msg":"nested"}',
        "{" + t + ',"severity":"error","level":"debug","msg":"level comes first"}',
        "{" + t + ',"lvl":"error","msg":"level"}',
        "{" + t + ', "level" : "info" , "msg":"spaced"}',
        "{" + t + ',"level":"debug","msg":"cut off',  # below min_level: never decoded
        "{" + t + ',"level":"error","msg":"cut off',
    )
    reading = rca.read("logs", path)
    assert reading.events["data"].map(lambda d: d["message"]).tolist() == [
        "learns the key", "twice", "nested", "level",
    ]  # fmt: skip
    assert reading.skipped == {"below_min_level": 3}
    assert reading.rejects[["where", "code"]].values.tolist() == [[f"{path}:8", "bad_json"]]


_LEVELS = st.sampled_from(["debug", "info", "warning", "error", 20, 30, 50, "6", "3", "loud"])
_KEYS = st.sampled_from(["level", "lvl", "severity", "log.level", "PRIORITY", "msg"])


@st.composite
def _line(draw: st.DrawFn) -> str:
    """A JSON log line, sometimes with the level twice, nested, or under another key."""
    parts = [f'"time":"2026-03-01T10:00:{draw(st.integers(0, 59)):02d}Z"']
    for _ in range(draw(st.integers(0, 3))):
        key, value = draw(_KEYS), json.dumps(draw(_LEVELS))
        if draw(st.booleans()):
            parts.append(f'"ctx":{{"{key}":{value}}}')
        else:
            parts.append(f'"{key}":{value}')
    parts.insert(draw(st.integers(0, len(parts))), f'"msg":"m{draw(st.integers(0, 9))}"')
    return "{" + ",".join(parts) + "}"


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_line(), min_size=1, max_size=12))
def test_fast_path_skips_exactly_what_parsing_would(
    tmp_path_factory: Any, lines: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("fast")
    whole = _write(folder / "all.jsonl", *lines)
    one_by_one = [
        _write(folder / f"{i}.jsonl", line) for i, line in enumerate(lines)
    ]  # no learning
    a = rca.read("logs", whole)
    b = rca.read("logs", one_by_one)
    assert a.skipped == b.skipped

    def key(r: pd.DataFrame) -> list[tuple[str, str]]:
        return [(str(d), str(t)) for d, t in zip(r["data"], r["timestamp"], strict=True)]

    if a.events.empty or b.events.empty:
        assert a.events.empty and b.events.empty
    else:
        assert sorted(key(a.events)) == sorted(key(b.events))


# --- fuzzing: arbitrary JSON where the reader looks ------------------------------------------

_ODD_TEXT = (
    "²", "٣", "9" * 5000, "error", "WARN", "50", "3", "fatal", "2026-03-01T10:00:00Z",
    "2026-03-01 10:00:00,123", "1772359200", "1772359200123", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00", "Mar  1 10:00:00", "\x00", "", "Traceback (most recent call):",
)  # fmt: skip
_FIELD_KEYS = (
    "@timestamp", "timestamp", "time", "ts", "level", "log.level", "severity", "levelname",
    "PRIORITY", "message", "msg", "MESSAGE", "@mt", "service", "service.name", "app", "name",
    "hostname", "pid", "logger", "component", "error", "error.message", "error.stack_trace",
    "exception", "exc_info", "stack", "_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "log", "err",
)  # fmt: skip
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**400, -(10**400), 1 << 64, 0, 30, 50])
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(_ODD_TEXT)
)
_ANY_JSON = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_FIELD_KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=20,
)
_RECORD = st.dictionaries(
    st.sampled_from(_FIELD_KEYS) | st.text(max_size=6),
    _LEAVES | _LEAVES | _ANY_JSON,
    max_size=8,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(_RECORD | _ANY_JSON, min_size=1, max_size=6),
    options=st.sampled_from(
        [{}, {"min_level": "trace", "default_level": "info"}, {"format": "json"}]
    ),
)
def test_arbitrary_json_lines_are_read_skipped_or_rejected_never_raised(
    records: list[Any], options: dict[str, Any]
) -> None:
    good = {"time": "2026-03-01T10:00:00Z", "level": "error", "msg": "boom", "service": "api"}
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / "app.log", json.dumps(good), *map(json.dumps, records))
        reading = rca.read("logs", path, **options)
    assert len(reading.events) + sum(reading.skipped.values()) + len(reading.rejects) >= 1
