"""The logs reader's plain-text formats: the catalogue, formats of your own, multi-line
entries, assumptions in the notes, and real server logs (Loghub) when present."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import ReaderError
from rca_analytics.ingest import _logpatterns as lp
from rca_analytics.ingest import _logs_text
from rca_analytics.ingest._base import level_rank, severity_for_level

UTC = dt.UTC


def _write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _messages(reading: Any) -> list[str]:
    return [d["message"] for d in reading.events["data"]]


# --- the catalogue ---------------------------------------------------------------------------

#: Per built-in format: (time, severity, logger, pid, message) of its documented sample,
#: read with year=2024 (formats whose times have no year take it).
EXPECTED: dict[str, tuple[str, str, str | None, str | None, str]] = {
    "apache_error": ("2005-12-04 04:47:44", "high", None, None, "mod_jk child workerEnv in"),
    "access": ("2024-01-02 02:04:05", "high", None, None, "GET /api/orders HTTP/1.1 502"),
    "nginx_error": ("2024-01-02 03:04:09", "high", None, "1234", "upstream timed out (110:"),
    "redis": ("2024-01-02 03:04:05.123", "medium", None, "1", "Background saving error"),
    "postgres": ("2024-01-02 03:04:05.123", "high", None, "4711", "deadlock detected"),
    "mysql": ("2024-01-02 03:04:05.123456", "medium", "Server", None, "CA certificate ca.pem"),
    "klog": ("2024-05-27 07:36:43.123456", "high", None, "1", "failed to list *v1.Pod"),
    "android": ("2024-03-17 16:13:38.811", "high", "WindowManager", "1702", "window not found"),
    "openstack": ("2017-05-16 00:00:04.5", "medium", "nova.virt.libvirt.imagecache", "2931",
                  "Unknown base file"),
    "hdfs": ("2008-11-09 20:36:15", "medium", "dfs.DataNode$DataXceiver", "148",
             "10.251.43.21:50010:Got exception"),
    "spark": ("2017-06-09 20:11:11", "high", "executor.Executor", None, "Exception in task"),
    "catalina": ("2026-12-08 01:02:03.456", "high", "org.apache.catalina.startup.Catalina.start",
                 None, "The required Server component"),
    "elasticsearch": ("2024-01-02 03:04:05.123", "medium", "o.e.c.r.a.DiskThresholdMonitor",
                      None, "high disk watermark"),
    "windows_cbs": ("2016-09-28 04:30:31", "high", "CSI", None, "00000013 (F)"),
    "log4j": ("2015-10-18 18:01:47.978", "medium",
              "org.apache.hadoop.mapreduce.v2.app.MRAppMaster", None, "Job init failed"),
    "python": ("2024-01-02 03:04:07.123", "critical", "payments.db", None, "pool exhausted"),
    "syslog5424": ("2026-03-01 10:00:00", "high", "api", "1234", "disk /dev/sda1 failed"),
    "syslog": ("2024-12-10 07:51:15", "high", "sshd", "24324", "Received disconnect from"),
    "golog": ("2024-01-02 03:04:05", "high", None, None, "cannot reach the database"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", lp.CATALOGUE, ids=lambda f: f.name)
def test_each_format_reads_its_sample(tmp_path: Path, fmt: lp.LineFormat) -> None:
    path = _write(tmp_path / "x.log", fmt.sample)
    found, looked = lp.detect(path)
    assert (found, looked) == (fmt, 1)  # told apart from every other format
    for options in ({}, {"format": fmt.name}):
        reading = rca.read("logs", path, year=2024, **options)
        assert reading.rejects.empty, reading.rejects.to_dict("records")
        (row,) = reading.events.to_dict("records")
        time, severity, logger, pid, message = EXPECTED[fmt.name]
        assert row["timestamp"] == pd.Timestamp(time, tz="UTC")
        assert row["severity"] == severity
        assert row["data"].get("logger") == logger
        assert row["data"].get("pid") == pid  # never taken for the logger
        assert row["data"]["message"].startswith(message)
        assert row["summary"].startswith(message)


def test_every_format_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "readers" / "logs.md").read_text()
    for fmt in (*lp.CATALOGUE, lp.PLAIN):
        assert f"`{fmt.name}`" in doc and fmt.sample in doc, fmt.name


def test_syslog_levels_written_after_the_tag(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "auth.log",
        "Dec 10 07:51:15 LabSZ sshd[24324]: error: Received disconnect [preauth]",
        "Dec 10 07:51:16 LabSZ sshd[24325]: fatal: Read from socket failed",
        "Jul 25 23:23:13 combo xinetd[26482]: warning: can't get client address",
        "Jul 25 23:23:14 combo kernel: [warn] disk slow",
        "Jul 25 23:23:15 combo su(pam_unix)[1]: session opened for user root",
        "Jun 19 04:09:11 combo syslogd 1.4.1: restart.",
        "Jul  4 23:22:09 mac Microsoft Word[14463]: Cocoa scripting error",
        "Jul  1 09:29:02 mac sandboxd[129] ([31211]): deny network-outbound",
    )
    reading = rca.read("logs", path, year=2015)
    assert reading.rejects.empty
    assert reading.skipped == {"no_level": 4}
    rows = reading.events.to_dict("records")
    assert [(r["severity"], r["service"], r["data"]["message"]) for r in rows] == [
        ("high", "sshd", "Received disconnect [preauth]"),
        ("critical", "sshd", "Read from socket failed"),
        ("medium", "xinetd", "can't get client address"),
        ("medium", "kernel", "disk slow"),
    ]
    assert rows[0]["data"]["pid"] == "24324"
    assert rows[0]["timestamp"] == dt.datetime(2015, 12, 10, 7, 51, 15, tzinfo=UTC)
    debug = rca.read("logs", path, year=2015, min_level="debug")
    assert len(debug.events) == 8 and debug.skipped == {}
    assert debug.notes["no_level_as_info"] == 4  # kept as info, and said so
    assert set(debug.events["service"]) >= {"syslogd", "Microsoft Word", "sandboxd", "su(pam_unix)"}


# --- multi-line entries ----------------------------------------------------------------------


def test_stack_traces_belong_to_their_entry_and_strays_are_shown(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "app.log",
        "2024-01-02 03:04:05,123 ERROR [main] com.shop.Checkout: payment failed",
        "java.lang.IllegalStateException: card declined",
        "\tat com.shop.Pay.charge(Pay.java:12)",
        "Caused by: java.io.IOException: reset",
        "\t... 4 more",
        "a stray line that is no entry",
        "2024-01-02 03:04:06,000 INFO [main] com.shop.Checkout: retrying",
        "\tat skipped.with.its.Entry(E.java:1)",
        "2024-01-02 03:04:07,000 WARN [main] com.shop.Checkout: slow",
    )
    reading = rca.read("logs", path)
    assert reading.rejects[["where", "code"]].values.tolist() == [[f"{path}:6", "bad_record"]]
    assert "log4j" in reading.rejects["message"][0]
    first, second = reading.events.to_dict("records")
    assert first["data"]["stack"].splitlines() == [
        "java.lang.IllegalStateException: card declined",
        "\tat com.shop.Pay.charge(Pay.java:12)",
        "Caused by: java.io.IOException: reset",
        "\t... 4 more",
    ]
    assert first["data"]["logger"] == "com.shop.Checkout"
    assert first["data"]["thread"] == "main"
    assert "stack" not in second["data"]
    assert reading.skipped == {"below_min_level": 1}


@pytest.mark.parametrize("block", [61, 97, 150, 400, 1000])
def test_entries_read_the_same_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    lines = []
    for i in range(60):
        lines.append(f"2024-01-02 03:04:{i:02d},000 - app.db - {'ERROR' if i % 3 else 'INFO'} - "
                     f"query {i} failed")  # fmt: skip
        lines += ["Traceback (most recent call last):", f'  File "db.py", line {i}']
    path = _write(tmp_path / "py.log", *lines)
    whole = rca.read("logs", path)
    monkeypatch.setattr(_logs_text, "BLOCK", block)  # blocks end inside entries and lines
    pieces = rca.read("logs", path)
    assert len(whole.events) == 40 and whole.rejects.empty and pieces.rejects.empty
    cols = ["timestamp", "severity", "source_id"]
    assert pieces.events[cols].equals(whole.events[cols])
    assert list(pieces.events["data"]) == list(whole.events["data"])
    assert (
        whole.events["data"][0]["stack"]
        == 'Traceback (most recent call last):\n  File "db.py", line 1'
    )


def test_postgres_detail_lines_join_their_entry(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "postgresql.log",
        "2024-01-02 03:04:05.123 UTC [4711] ERROR:  deadlock detected",
        "2024-01-02 03:04:05.123 UTC [4711] DETAIL:  Process 4711 waits for ShareLock",
        "2024-01-02 03:04:05.123 UTC [4711] STATEMENT:  UPDATE accounts SET x = 1",
        "2024-01-02 03:04:06.000 +01:00 [4712] LOG:  checkpoint starting: time",
    )
    reading = rca.read("logs", path)
    (row,) = reading.events.to_dict("records")
    assert row["timestamp"] == pd.Timestamp("2024-01-02T03:04:05.123Z")  # UTC as written
    assert "Process 4711 waits" in row["data"]["stack"]
    assert reading.skipped == {"below_min_level": 1}


# --- formats of your own ---------------------------------------------------------------------


def test_a_pattern_of_your_own(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "legacy.log",
        "24.12.2025 10:00:00 | payments | FEHLER | card declined 42",
        "24.12.2025 10:00:01 | payments | INFO | fine",
        "not matching at all",
        "24.12.2025 99:00:02 | payments | ERROR | bad time",
    )
    pattern = (
        r"(?P<time>\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}) \| (?P<logger>\w+) \| "
        r"(?P<level>\w+) \| (?P<message>.*)"
    )
    reading = rca.read(
        "logs", path, format={"pattern": pattern, "levels": {"fehler": "error"}},
        time_format="%d.%m.%Y %H:%M:%S", tz="Europe/Berlin",
    )  # fmt: skip
    rejects = reading.rejects.astype(object).where(reading.rejects.notna(), None)
    assert rejects[["where", "field", "code"]].values.tolist() == [
        [f"{path}:3", None, "bad_record"],
        [f"{path}:4", "time", "invalid_datetime"],
    ]
    (row,) = reading.events.to_dict("records")
    assert row["timestamp"] == dt.datetime(2025, 12, 24, 9, 0, tzinfo=UTC)
    assert (row["severity"], row["data"]["logger"]) == ("high", "payments")
    assert reading.notes == {"naive_time_as_europe/berlin": 1}
    inline = rca.read("logs", path, format=pattern, time_format="%d.%m.%Y %H:%M:%S")
    assert inline.skipped == {"below_min_level": 1, "unknown_level": 1}  # FEHLER unknown


def test_a_format_file(tmp_path: Path) -> None:
    spec = tmp_path / "legacy.toml"
    spec.write_text(
        "pattern = '(?P<time>\\d+) (?P<level>\\w+) (?P<code>E\\d+) (?P<message>.*)'\n"
        'time_format = "%Y%m%d%H%M%S"\n'
        'sample = "20250101120000 ERROR E42 boom"\n',
        encoding="utf-8",
    )
    path = _write(tmp_path / "a.log", "20250101120000 ERROR E42 boom")
    (row,) = rca.read("logs", path, format=spec).events.to_dict("records")
    assert row["timestamp"] == dt.datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert row["data"]["code"] == "E42"  # other groups go into data


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (r"(?P<level>\w+) (?P<message>.*)", "no \\(\\?P<time>"),
        (r"(?P<time>\S+)(?<=x) (?P<message>.*)", "look-around"),
        (r"(?P<time>\S+ (", "not valid"),
        ("xml", "is not a format"),
        ({"pattern": r"(?P<time>\S+)", "colour": "red"}, "no key 'colour'"),
        ({"pattern": r"(?P<time>\d+)", "sample": "x"}, "sample does not match"),
    ],
)
def test_formats_that_are_not_valid_say_why(value: Any, message: str) -> None:
    with pytest.raises(ReaderError, match=message):
        rca.read("logs", [], format=value)


def test_time_format_needs_a_pattern() -> None:
    with pytest.raises(ReaderError, match="time_format"):
        rca.read("logs", [], format="hdfs", time_format="%Y")
    with pytest.raises(ReaderError, match="time_format"):
        rca.read("logs", [], time_format="%Y")


# --- assumptions in the notes ----------------------------------------------------------------


def test_the_inferred_year_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "klog.log",
        "E1231 23:59:59.000000       1 a.go:1] late in the year",
        "E0101 00:00:01.000000       1 a.go:2] early in the next",
    )
    written = dt.datetime(2025, 1, 1, 12, tzinfo=UTC).timestamp()
    os.utime(path, (written, written))
    reading = rca.read("logs", path)
    assert list(reading.events["timestamp"]) == [
        pd.Timestamp("2024-12-31T23:59:59Z"),
        pd.Timestamp("2025-01-01T00:00:01Z"),
    ]
    assert reading.notes == {
        "naive_time_as_utc": 2,
        "year_inferred: 2024 from file time": 1,
        "year_inferred: 2025 from file time": 1,
    }
    given = rca.read("logs", path, year=2020)
    assert given.events["timestamp"].dt.year.tolist() == [2020, 2020]
    assert given.notes == {"naive_time_as_utc": 2}


# --- real server logs (Loghub), when present -------------------------------------------------

LOGHUB = ("Apache", "HDFS", "OpenSSH", "Linux", "OpenStack")


def _truth(structured: Path) -> dict[int, str]:
    """Line → level of the lines at warning or above, from Loghub's parsed CSV.

    Its ``Level`` column when it holds levels; else a level word that starts the
    message (``error: ...``, as sshd writes them).
    """
    out: dict[int, str] = {}
    with structured.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            level = row.get("Level") if level_rank(row.get("Level") or "") is not None else None
            if level is None:
                word = row["Content"].partition(":")[0].strip().lower()
                level = word if " " not in word and level_rank(word) is not None else None
            if level is not None and level_rank(level) is not None and level_rank(level) <= 4:
                out[int(row["LineId"])] = level
    return out


@pytest.mark.parametrize("system", LOGHUB)
def test_real_server_logs(realworld: Path, system: str) -> None:
    folder = realworld / "logs" / "loghub" / system
    if not folder.exists():
        pytest.skip(f"no Loghub {system} sample in {realworld}")
    path = folder / f"{system}_2k.log"
    truth = _truth(folder / f"{system}_2k.log_structured.csv")
    reading = rca.read("logs", path)
    assert "unknown_format" not in set(reading.rejects["code"])
    lines = path.read_text(encoding="utf-8").splitlines()
    accounted = len(reading.events) + sum(reading.skipped.values()) + len(reading.rejects)
    assert accounted == sum(1 for x in lines if x.strip())  # stored, skipped or rejected
    records = reading.events.to_dict("records")
    events = {int(r["metadata"]["line"]): r for r in records}
    right = 0
    for number, level in truth.items():
        event = events.get(number)
        if event is None:
            continue
        ts, line = event["timestamp"], lines[number - 1]
        when = (ts.strftime("%H:%M:%S") in line or ts.strftime("%H%M%S") in line) and (
            f"{ts.day:02d}" in line or f" {ts.day} " in line
        )
        if when and event["severity"] == severity_for_level(level_rank(level) or 0):
            right += 1
    assert right >= 0.95 * len(truth), (right, len(truth))


def test_zero_times_are_no_times(tmp_path: Path) -> None:
    text = _write(tmp_path / "a.log", "0001-01-01 00:00:00,000 ERROR [main] x.Y: unset clock")
    jsonl = _write(
        tmp_path / "b.jsonl",
        '{"time": "0001-01-01T00:00:00Z", "level": "error", "msg": "unset"}',
        '{"time": 0, "level": "error", "msg": "epoch zero"}',
    )
    for path, lines in ((text, 1), (jsonl, 2)):
        reading = rca.read("logs", path)
        assert reading.events.empty
        assert reading.rejects[["code"]].values.ravel().tolist() == ["missing"] * lines
        assert reading.notes["zero_time_as_missing"] == lines


def test_times_past_9999_in_utc_are_refused(tmp_path: Path) -> None:
    jsonl = _write(
        tmp_path / "a.jsonl", '{"@timestamp": "9999-12-31T23:59:59-01:00", "level": "error"}'
    )
    text = _write(tmp_path / "b.log", "9999-12-31 23:59:59,000 ERROR [main] x.Y: late")
    for path, options in ((jsonl, {}), (text, {"tz": "America/New_York"})):
        reading = rca.read("logs", path, **options)
        assert reading.events.empty
        assert reading.rejects[["field", "code"]].values.tolist() == [
            ["time" if path == text else "@timestamp", "invalid_datetime"]
        ]
