"""The Alertmanager reader: real webhook bodies, merging of deliveries, hostile input."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import fuzzing
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import ReaderError
from rca_analytics.ingest import alerts

UTC = dt.UTC
FOLDER = "alertmanager"


def _store(tmp_path: Path) -> rca.Store:
    return rca.connect(tmp_path / "s.duckdb")


def _by_source_id(store: rca.Store) -> dict[str, dict[str, Any]]:
    frame = store.events(source="metrics")
    return {row["source_id"]: row for row in frame.to_dict("records")}


def _rejects(report: rca.IngestReport, base: Path) -> list[tuple[str, str]]:
    return [
        (w.replace(f"{base}/", ""), c)
        for w, c in report.rejects[["where", "code"]].itertuples(False)
    ]


def _alert(name: str = "HighLatency", **over: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": name, "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "p99 above 2s"},
        "startsAt": "2026-03-01T09:58:01.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom:9090/graph",
    }
    alert.update(over)
    return alert


def _body(*items: dict[str, Any], status: str = "firing", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "4",
        "status": status,
        "receiver": "pager",
        "groupKey": '{}:{alertname="HighLatency"}',
        "externalURL": "http://am:9093",
        "alerts": list(items),
    }
    body.update(over)
    return body


def _resolved(**over: Any) -> dict[str, Any]:
    return _alert(status="resolved", endsAt="2026-03-01T10:20:00.5Z", **over)


def _write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# --- real samples --------------------------------------------------------------------------


def test_every_sample_alert_becomes_one_event(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    report = store.ingest("alerts", realworld / FOLDER)
    assert report.ok, report.rejects
    assert report.events == {
        "read": 44,
        "stored": 44,
        "updated": 0,
        "unchanged": 0,
        "rejected_rows": 0,
    }
    assert report.skipped == {}
    assert report.notes == {
        "fingerprint_from_labels": 41,
        "sub_microsecond_time_truncated": 20,  # 19 + 1 msteams alerts with 9-digit fractions
        "fingerprint_conflict_keyed_by_labels": 2,
        "zero_time_as_missing": 22,  # endsAt of firing alerts is Go's zero time: no end yet
    }
    events = store.events()
    assert len(events) == 44
    assert set(events["source"]) == {"metrics"} and set(events["event_type"]) == {"alert"}
    assert events["severity"].value_counts().to_dict() == {
        "critical": 31,  # 19 "page", 8 "critical", 3 "Critical"
        "high": 1,  # "severe"
        "medium": 12,  # "warning"/"Warning"
        "low": 0,
        "info": 0,
    }
    resolved = events["data"].map(lambda d: d["resolved"])
    assert resolved.sum() == 11
    assert Counter(tuple(t) for t in events["tags"]) == {
        ("firing",): 33,
        ("resolved",): 11,
    }


def test_firing_v3_sample_mapped_exactly(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.ingest(
        "alerts",
        realworld / FOLDER / "prometheus-webhook-dingtalk__PlaygroundDemoAlert.firing.json",
    )
    events = _by_source_id(store)
    assert sorted(events) == [
        "8867bffe7b1fb4ac:2016-04-27T20:49:37.903000Z",
        "9f3383a449a6af15:2016-04-27T20:46:37.903000Z",
    ]
    ev = events["9f3383a449a6af15:2016-04-27T20:46:37.903000Z"]
    assert ev["timestamp"] == pd.Timestamp("2016-04-27T20:46:37.903Z")
    assert (ev["severity"], ev["service"]) == ("medium", "prometheus_bot")
    assert pd.isna(ev["component"])
    assert ev["tags"] == ["firing"]
    assert ev["data"] == {
        "alertname": "something_happened",
        "status": "firing",
        "resolved": False,
        "fingerprint": "9f3383a449a6af15",
        "ends_at": None,  # Go's zero time: still firing
        "summary": "Oops, something happened!",
        "description": None,
        "labels": {
            "alertname": "something_happened",
            "env": "prod",
            "instance": "server01.int:9100",
            "job": "node",
            "service": "prometheus_bot",
            "severity": "warning",
            "supervisor": "runit",
        },
        "annotations": {"summary": "Oops, something happened!"},
        "generator_url": "https://example.com/graph#...",
        "receiver": "admins",
        "external_url": "https://alert-manager.example.com",
        "group_key": None,
    }


def test_nanosecond_offset_times_and_group_status(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.ingest("alerts", realworld / FOLDER / "prometheus-msteams__prom_post_request.firing.json")
    [ev] = store.events().to_dict("records")
    # 06:33:21.873077559-05:00: nanoseconds cut to microseconds, then UTC
    assert ev["timestamp"] == pd.Timestamp("2018-03-07T11:33:21.873077Z")
    assert ev["source_id"] == "b29784719d6a11e6:2018-03-07T11:33:21.873077Z"
    assert (ev["service"], ev["severity"]) == ("docker_nodes", "medium")  # the job label
    assert ev["data"]["status"] == "firing"  # no per-alert status: the group's
    assert ev["data"]["ends_at"] is None


def test_resolved_v4_sample_with_fingerprint(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.ingest("alerts", realworld / FOLDER / "prom2teams__with_common_items.resolved.json")
    [ev] = store.events().to_dict("records")
    assert ev["source_id"] == "dd19ae3d4e06ac55:2019-01-28T20:26:23.868893Z"
    assert ev["timestamp"] == pd.Timestamp("2019-01-28T20:26:23.868893Z")
    assert pd.isna(ev["service"]) and ev["component"] == "config-reloader"  # container_name
    assert ev["data"]["resolved"] is True
    assert ev["data"]["ends_at"] == "2019-01-28T20:27:23.868893Z"
    assert ev["data"]["summary"] == "CPU throttling"
    assert ev["data"]["group_key"] == '{}/{alertname="CPUThrottlingHigh"}:{}'
    assert ev["tags"] == ["resolved"]


def test_one_fingerprint_on_two_label_sets_keys_them_by_labels(
    realworld: Path, tmp_path: Path
) -> None:
    # prom2teams' test data copies one fingerprint onto two different alerts
    store = _store(tmp_path)
    report = store.ingest(
        "alerts", realworld / FOLDER / "prom2teams__all_ok_multiple.resolved.json"
    )
    assert report.events["stored"] == 2
    events = _by_source_id(store)
    assert sorted(events) == [
        "73156dd28f7bde77:2017-05-09T07:01:37.803000Z",
        "d7639280ae704875:2017-05-09T07:01:37.803000Z",
    ]
    cs30 = events["d7639280ae704875:2017-05-09T07:01:37.803000Z"]
    assert cs30["data"]["labels"]["instance"] == "cs30.evilcorp"
    assert cs30["data"]["payload_fingerprint"] == "dd19ae3d4e06ac55"
    assert cs30["severity"] == "high"  # "severe"
    assert cs30["data"]["ends_at"] == "2017-05-09T07:08:37.818000Z"
    cs31 = events["73156dd28f7bde77:2017-05-09T07:01:37.803000Z"]
    assert cs31["severity"] == "critical"
    assert cs31["data"]["ends_at"] == "2017-05-09T07:08:37.818270Z"


def test_old_format_without_status_fingerprint_or_ends_at(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.ingest("alerts", realworld / FOLDER / "prometheus_bot__noGenURL.resolved.json")
    store.ingest("alerts", realworld / FOLDER / "prometheus_bot__production_example.firing.json")
    events = _by_source_id(store)
    assert len(events) == 19
    down = events["0fee5d74761a2303:2016-10-19T15:03:37.811000Z"]
    assert down["data"]["labels"]["instance"] == "mail01.example.com"
    assert (down["severity"], down["service"]) == ("critical", "wakeup")
    assert down["data"]["status"] == "resolved" and down["data"]["resolved"] is True
    assert down["data"]["ends_at"] is None  # resolved, but the old format has no endsAt
    assert down["data"]["generator_url"] is None  # ""
    assert down["data"]["group_key"] == 0
    load = events["edbf774a1c2cbb27:2017-01-26T13:31:54.865000Z"]  # 08:31:54.865-05:00
    assert (load["severity"], load["service"]) == ("critical", "statsd")  # "Critical"
    assert load["data"]["annotations"] == {
        "measureUnit": "i",
        "name": "Load AVG 15 min",
        "value": "122",
    }
    heart = events["8055e54579680a45:2017-01-26T13:41:06.811000Z"]
    assert heart["data"]["annotations"]["name"] == "Heartbeat ❤️"
    assert heart["severity"] == "medium" and pd.isna(heart["service"])  # no job label


@pytest.mark.slow
def test_second_ingest_stores_nothing(realworld: Path, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.ingest("alerts", realworld / FOLDER)
    before = store.events()
    again = store.ingest("alerts", realworld / FOLDER)
    assert again.ok
    assert again.events == {
        "read": 44,
        "stored": 0,
        "updated": 0,
        "unchanged": 44,
        "rejected_rows": 0,
    }
    pd.testing.assert_frame_equal(before, store.events())


# --- firing, then resolved -------------------------------------------------------------------


def test_firing_then_resolved_in_one_run_is_one_resolved_event(tmp_path: Path) -> None:
    firing = _write(tmp_path / "1-firing.json", _body(_alert()))
    resolved = _write(tmp_path / "2-resolved.json", _body(_resolved(), status="resolved"))
    for order in ([firing, resolved], [resolved, firing]):
        store = rca.connect(tmp_path / f"{order[0].stem}.duckdb")
        report = store.ingest("alerts", order)
        assert report.events["read"] == 1 and report.events["stored"] == 1
        assert report.skipped == {"superseded_delivery": 1}
        [ev] = store.events().to_dict("records")
        assert ev["data"]["resolved"] is True
        assert ev["data"]["ends_at"] == "2026-03-01T10:20:00.500000Z"
        assert ev["tags"] == ["resolved"]
        store.close()


def test_firing_then_resolved_across_runs_updates_the_event(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = store.ingest("alerts", _write(tmp_path / "firing.json", _body(_alert())))
    assert first.events["stored"] == 1
    [fired] = store.events().to_dict("records")
    assert fired["data"]["resolved"] is False and fired["data"]["ends_at"] is None
    second = store.ingest(
        "alerts", _write(tmp_path / "resolved.json", _body(_resolved(), status="resolved"))
    )
    assert (second.events["stored"], second.events["updated"]) == (0, 1)
    [ev] = store.events().to_dict("records")
    assert ev["id"] == fired["id"]
    # Alertmanager's fingerprint of the labels (FNV-1a), start cut to microseconds
    assert ev["source_id"] == "c75f68922c9ebc87:2026-03-01T09:58:01.123456Z"
    assert ev["data"]["resolved"] is True and ev["tags"] == ["resolved"]


def test_a_late_firing_redelivery_does_not_unresolve(tmp_path: Path) -> None:
    store = _store(tmp_path)
    resolved = _body(_resolved(), status="resolved")
    store.ingest("alerts", _write(tmp_path / "resolved.json", resolved))
    late = store.ingest("alerts", _write(tmp_path / "firing.json", _body(_alert())))
    assert (late.events["updated"], late.events["unchanged"]) == (0, 1)
    [ev] = store.events().to_dict("records")
    assert ev["data"]["resolved"] is True
    assert ev["revision"] == "resolved:2026-03-01T10:20:00.500000Z"


def test_a_later_end_replaces_an_earlier_one(tmp_path: Path) -> None:
    # an old-format resolved notification (no endsAt), then a v4 one that knows the end
    store = _store(tmp_path)
    bare = _alert(status="resolved", endsAt=None)
    store.ingest("alerts", _write(tmp_path / "a.json", _body(bare, status="resolved")))
    assert store.events()["revision"].tolist() == ["resolved"]
    report = store.ingest("alerts", _write(tmp_path / "b.json", _body(_resolved())))
    assert report.events["updated"] == 1
    assert store.events()["data"][0]["ends_at"] == "2026-03-01T10:20:00.500000Z"


def test_old_payload_and_v4_payload_name_one_alert(tmp_path: Path) -> None:
    # the old format has no fingerprint and no per-alert status: the fingerprint is
    # derived from the labels exactly as Alertmanager computes it, so the v4 resolved
    # notification (which carries it) finds the same event
    old = _alert()
    del old["status"], old["endsAt"], old["generatorURL"]
    labels = old["labels"]
    body = {"receiver": "x", "status": "firing", "alerts": [old], "version": 0, "groupKey": 0}
    v4 = _resolved(fingerprint=alerts.fingerprint(labels))
    store = _store(tmp_path)
    store.ingest("alerts", _write(tmp_path / "old.json", body))
    report = store.ingest("alerts", _write(tmp_path / "v4.json", _body(v4, status="resolved")))
    assert report.events["updated"] == 1
    assert len(store.events()) == 1
    assert store.events()["data"][0]["resolved"] is True


def test_revision_order() -> None:
    order = [
        alerts.revision("firing", None),
        alerts.revision("firing", "2026-03-01T10:00:00.000000Z"),
        alerts.revision("resolved", None),
        alerts.revision("resolved", "2026-03-01T10:00:00.000000Z"),
        alerts.revision("resolved", "2026-03-01T11:00:00.000000Z"),
    ]
    assert sorted(order) == order


# --- files and options -------------------------------------------------------------------------


def test_lists_json_lines_and_gzip(tmp_path: Path) -> None:
    a, b, c = (_body(_alert(name)) for name in ("A", "B", "C"))
    _write(tmp_path / "list.json", [a, b])
    (tmp_path / "lines.json").write_text(json.dumps(c) + "\n" + json.dumps(a) + "\n")
    with gzip.open(tmp_path / "archive.jsonl.gz", "wt") as f:
        f.write(json.dumps(b) + "\n")
    (tmp_path / "notes.txt").write_text("not read")
    store = _store(tmp_path)
    report = store.ingest("alerts", tmp_path)
    assert report.ok
    assert report.events["read"] == 3 and report.events["stored"] == 3
    assert report.skipped == {"superseded_delivery": 2}  # a and b delivered twice
    assert sorted(store.events()["data"].map(lambda d: d["alertname"])) == ["A", "B", "C"]
    rows = rca.read("alerts", tmp_path).events
    assert sorted(rows["where"].str.replace(f"{tmp_path}/", "")) == [
        "lines.json:1#/alerts/0",  # c
        "list.json#/0/alerts/0",  # a, also on lines.json:2: the later input wins a tie
        "list.json#/1/alerts/0",  # b, also in archive.jsonl.gz
    ]


def test_label_and_severity_options(tmp_path: Path) -> None:
    labels = {"alertname": "Disk", "instance": "db-1:9100", "job": "node", "severity": "sev2"}
    path = _write(tmp_path / "a.json", _body(_alert(labels=labels)))
    rows = rca.read("alerts", path).events
    assert rows.loc[0, ["severity", "service", "component"]].tolist() == ["medium", "node", None]
    rows = rca.read(
        "alerts",
        path,
        component=["instance"],
        service=lambda lb: lb["instance"].split(":")[0],
        severity={"sev2": "high"},
    ).events
    assert rows.loc[0, ["severity", "service", "component"]].tolist() == [
        "high",
        "db-1",
        "db-1:9100",
    ]
    rows = rca.read("alerts", path, component=("team", "job"), severity=lambda lb: None).events
    assert rows.loc[0, ["severity", "component"]].tolist() == ["medium", "node"]
    rows = rca.read("alerts", path, severity=lambda lb: "low").events
    assert rows.loc[0, "severity"] == "low"
    with pytest.raises(ReaderError, match="severity must be"):
        rca.read("alerts", path, severity="high")


def test_service_and_component_names_dicts_and_label_lists(tmp_path: Path) -> None:
    first = _alert(labels={"alertname": "A", "job": "node", "container": "db-main"})
    second = _alert(labels={"alertname": "B", "app": "checkout-api"})
    third = _alert(labels={"alertname": "C"})
    path = _write(tmp_path / "a.json", _body(first, second, third))

    def picked(**options: Any) -> list[list[Any]]:
        rows = rca.read("alerts", path, **options).events.sort_values(
            "data", key=lambda d: d.str["alertname"]
        )
        return (
            rows[["service", "component"]].astype(object).where(rows.notna(), None).values.tolist()
        )

    assert picked() == [["node", "db-main"], ["checkout-api", None], [None, None]]
    # a name is the service (component) of every alert, labels or not
    assert picked(service="shop", component="db") == [["shop", "db"]] * 3
    # a dict maps the default labels' value: exact, then globs; unmatched kept
    assert picked(
        service={"node": "infra", "checkout-*": "checkout"}, component={"db-*": "db"}
    ) == [
        ["infra", "db"],
        ["checkout", None],
        [None, None],
    ]
    # a list (or tuple) names the labels to try, a callable sees all labels
    assert picked(service=["alertname"], component=lambda lb: lb.get("app")) == [
        ["A", None],
        ["B", "checkout-api"],
        ["C", None],
    ]
    for bad in ({"x": 1}, 3, ["job", 4]):
        with pytest.raises(ReaderError, match="service"):
            rca.read("alerts", path, service=bad)
    with pytest.raises(ReaderError, match="no option 'min_level'"):
        rca.read("alerts", path, min_level="error")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("critical", "critical"),
        ("PAGE", "critical"),
        ("error", "high"),
        ("major", "high"),
        ("warning", "medium"),
        ("warn", "medium"),
        ("minor", "low"),
        ("notice", "low"),
        ("info", "info"),
        ("none", "info"),
        ("bizarre", "medium"),
        (None, "medium"),
    ],
)
def test_default_severity_mapping(tmp_path: Path, value: str | None, expected: str) -> None:
    labels = {"alertname": "X"} | ({"severity": value} if value is not None else {})
    rows = rca.read("alerts", _write(tmp_path / "a.json", _body(_alert(labels=labels)))).events
    assert rows.loc[0, "severity"] == expected


# --- hostile input ---------------------------------------------------------------------------


def test_bad_bodies_and_alerts_are_rejected_by_json_pointer(tmp_path: Path) -> None:
    good = _alert("Good")
    huge = "x" * 100_000
    bad_alerts = [
        good,
        5,
        _alert(labels=None),
        _alert(labels=["a"]),
        _alert(labels={"alertname": "N", "port": 9100}),
        _alert(startsAt="yesterday"),
        _alert(startsAt=1772355481),
        _alert(startsAt="0001-01-01T00:00:00Z"),
        {"labels": {"alertname": "NoStart"}},
        _alert(endsAt="2026-13-01T00:00:00Z"),
        _alert(status="pending"),
        _alert(fingerprint=123),
        _alert(annotations="text"),
        _alert("Huge", labels={"alertname": "Huge", "service": huge, "note": huge}),
        _alert("Unicode", labels={"alertname": "Unicode", "service": "zahlungsdienst-ü-日本"}),
    ]
    bodies = [
        _body(*bad_alerts),
        "not a body",
        {"receiver": "x"},
        _body(alerts={"0": good}),
    ]
    path = _write(tmp_path / "bodies.json", bodies)
    store = _store(tmp_path)
    report = store.ingest("alerts", path)
    assert _rejects(report, tmp_path) == [
        ("bodies.json#/0/alerts/1", "invalid_type"),
        ("bodies.json#/0/alerts/2/labels", "missing"),
        ("bodies.json#/0/alerts/3/labels", "invalid_type"),
        ("bodies.json#/0/alerts/4/labels/port", "invalid_type"),
        ("bodies.json#/0/alerts/5/startsAt", "invalid_datetime"),
        ("bodies.json#/0/alerts/6/startsAt", "invalid_type"),
        ("bodies.json#/0/alerts/7/startsAt", "missing"),  # Go's zero time: unset
        ("bodies.json#/0/alerts/8/startsAt", "missing"),
        ("bodies.json#/0/alerts/9/endsAt", "invalid_datetime"),
        ("bodies.json#/0/alerts/10/status", "invalid_choice"),
        ("bodies.json#/0/alerts/11/fingerprint", "invalid_type"),
        ("bodies.json#/0/alerts/12/annotations", "invalid_type"),
        ("bodies.json#/1", "invalid_type"),
        ("bodies.json#/2/alerts", "missing"),
        ("bodies.json#/3/alerts", "invalid_type"),
    ]
    assert report.rejects["field"].tolist()[1:4] == ["labels", "labels", "labels"]
    assert report.events["stored"] == 3
    events = store.events().set_index(store.events()["data"].map(lambda d: d["alertname"]))
    big = events.loc["Huge"]
    assert len(big["service"]) == 256 and big["service"].endswith("…")
    assert len(big["data"]["labels"]["note"]) == 4096
    assert big["source_id"].startswith(
        alerts.fingerprint({"alertname": "Huge", "service": huge, "note": huge})
    )
    assert events.loc["Unicode", "service"] == "zahlungsdienst-ü-日本"
    assert report.notes["long_value_truncated"] == 2
    assert report.notes["long_name_truncated"] == 1


def test_broken_files_are_rejected_and_the_rest_is_read(tmp_path: Path) -> None:
    ok = _write(tmp_path / "a-ok.json", _body(_alert("Fine")))
    (tmp_path / "b-truncated.json").write_text(json.dumps(_body(_alert()), indent=1)[:-40])
    (tmp_path / "c-binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    (tmp_path / "d-empty.json").write_text("")
    lines = [json.dumps(_body(_alert("L1"))), '{"alerts": [', json.dumps(_body(_alert("L3")))]
    (tmp_path / "e-lines.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "f-lines.jsonl").write_bytes(b"\xff\xfe\x00garbage\n" + lines[0].encode())
    store = _store(tmp_path)
    report = store.ingest("alerts", tmp_path)
    assert _rejects(report, tmp_path) == [
        ("b-truncated.json:20", "bad_json"),
        ("c-binary.json:1", "not_utf8"),
        ("d-empty.json:1", "bad_json"),
        ("e-lines.jsonl:2", "bad_json"),
        ("f-lines.jsonl:1", "not_utf8"),
    ]
    names = sorted(store.events()["data"].map(lambda d: d["alertname"]))
    assert names == ["Fine", "L1", "L3"]  # f-lines' L1 is the same alert as e-lines'
    assert report.skipped == {"superseded_delivery": 1}
    assert ok.exists()


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such file"):
        rca.read("alerts", tmp_path / "absent.json")


def test_fingerprint_matches_prometheus() -> None:
    # prometheus/common model/signature_test.go
    assert (
        int(alerts.fingerprint({"name": "garland, briggs", "fear": "love is not enough"}), 16)
        == 5799056148416392346
    )
    assert (
        int(
            alerts.fingerprint(
                {"first-label": "first-label-value", "second-label": "second-label-value"}
            ),
            16,
        )
        == 3195800080984914717
    )


@given(
    when=st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2400, 1, 1),
        timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
    ),
    nanos=st.integers(0, 999),
)
def test_rfc3339_times_read_to_the_microsecond(when: dt.datetime, nanos: int) -> None:
    text = when.isoformat(timespec="microseconds") + f"{nanos:03d}"
    text = text[:26] + text[-3:] + text[26:-3]  # the 3 extra digits before the offset
    parsed, cut = alerts._parse_time(text.replace("+00:00", "Z"))
    assert parsed == when and parsed is not None and parsed.tzinfo == UTC
    assert cut == (nanos != 0)


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=6))
def test_fingerprint_ignores_label_order(labels: dict[str, str]) -> None:
    reordered = dict(reversed(list(labels.items())))
    assert alerts.fingerprint(labels) == alerts.fingerprint(reordered)
    assert len(alerts.fingerprint(labels)) == 16


# --- review findings -------------------------------------------------------------------------


def test_null_and_scalar_bodies_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "null.json").write_text("null")
    (tmp_path / "lines.jsonl").write_text(f"null\n3\n{json.dumps(_body(_alert()))}\n")
    report = _store(tmp_path).ingest("alerts", tmp_path)
    assert _rejects(report, tmp_path) == [
        ("lines.jsonl:1#", "invalid_type"),
        ("lines.jsonl:2#", "invalid_type"),
        ("null.json#", "invalid_type"),
    ]
    assert report.events["stored"] == 1


def test_unicode_and_huge_severity_labels_are_read(tmp_path: Path) -> None:
    odd = ["²", "٣", "9" * 5000, "3"]
    items = [
        _alert(f"A{i}", labels={"alertname": f"A{i}", "severity": s}) for i, s in enumerate(odd)
    ]
    path = _write(tmp_path / "a.json", _body(*items))
    report = _store(tmp_path).ingest("alerts", path)
    assert report.ok and report.events["stored"] == 4
    assert report.notes["unknown_severity_as_medium"] == 3  # "3" is syslog error: high


def test_a_callable_that_gives_no_text_rejects_the_alert(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.json", _body(_alert("A"), _alert("B")))
    store = _store(tmp_path)
    report = store.ingest(
        "alerts", path, service=lambda lb: ["x"] if lb["alertname"] == "A" else "b"
    )
    assert store.events()["service"].tolist() == ["b"]
    assert report.rejects[["where", "field"]].values.tolist() == [[f"{path}#/alerts/0", "service"]]


# --- fuzzing: arbitrary JSON where the reader looks ------------------------------------------

_ODD_TEXT = (
    "²", "٣", "9" * 5000, "firing", "resolved", "critical", "page", "p1", "warning", "5", "99",
    "2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123456789+01:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00Z", "\x00", "9f3383a449a6af15",
)  # fmt: skip
_KEYS = (
    "alerts", "status", "labels", "annotations", "startsAt", "endsAt", "fingerprint",
    "generatorURL", "receiver", "externalURL", "groupKey", "truncatedAlerts", "valueString",
    "alertname", "severity", "service", "component", "summary", "description",
)  # fmt: skip
_LEAVES = fuzzing.leaves(_ODD_TEXT)
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
        _body(_alert(), _resolved(fingerprint="9f3383a449a6af15"), truncatedAlerts=2),
        _body(_alert("Other", valueString="x"), status="resolved"),
    ]
    bodies = _mutated(data, skeleton, _KEYS)
    if not isinstance(bodies, list):
        bodies = [bodies]
    text = "\n".join(json.dumps(b) for b in bodies) if lines else json.dumps(bodies)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "x.jsonl" if lines else "x.json")
        path.write_text(text, encoding="utf-8")
        reading = rca.read("alerts", path)
    assert len(reading.events) + sum(reading.skipped.values()) + len(reading.rejects) >= 1


# --- zero times ------------------------------------------------------------------------------


def test_go_zero_times_are_absent_in_any_spelling(tmp_path: Path) -> None:
    zeros = ("0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00+00:00", "0000-12-31T19:03:58-04:56")
    path = _write(
        tmp_path / "zero.json",
        _body(
            *(_alert(f"Firing{i}", endsAt=zero) for i, zero in enumerate(zeros)),
            _alert("NoStart", startsAt="0001-01-01T00:00:00Z"),
            status="firing",
        ),
    )
    reading = rca.read("alerts", path)
    assert reading.rejects[["where", "code"]].values.tolist() == [
        [f"{path}#/alerts/3/startsAt", "missing"]
    ]
    assert reading.rejects["message"].tolist() == ["startsAt is Go's zero time (unset)"]
    assert reading.notes["zero_time_as_missing"] == 4
    assert reading.events["data"].map(lambda d: d["ends_at"]).tolist() == [None, None, None]
    assert reading.events["timestamp"].map(lambda t: t.year).tolist() == [2026, 2026, 2026]
