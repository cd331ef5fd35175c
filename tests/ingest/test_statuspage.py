"""The Statuspage reader: incidents as investigations, their updates as linked events."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import fuzzing
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import ReaderError
from rca_analytics.ingest._base import stable_id

PAGE = "kctbh9vrtdwd"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture
def incidents(realworld: Path) -> Path:
    return realworld / "statuspage" / "incidents"


def sample(folder: Path, incident_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{incident_id}.json").read_text("utf-8"))
    return data


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), "utf-8")
    return path


def rejects(report: Any) -> list[tuple[str, str | None, str]]:
    frame = report.rejects
    fields = [None if pd.isna(f) else f for f in frame["field"]]
    return list(zip(frame["where"], fields, frame["code"], strict=True))


def minimal(incident_id: str = "inc1", **changes: Any) -> dict[str, Any]:
    """A small resolved incident with two updates (newest first, as the API lists them)."""
    incident: dict[str, Any] = {
        "id": incident_id,
        "name": "Checkout errors",
        "status": "resolved",
        "impact": "minor",
        "created_at": "2026-03-01T10:00:00Z",
        "started_at": "2026-03-01T09:55:00Z",
        "resolved_at": "2026-03-01T11:00:00Z",
        "updated_at": "2026-03-01T11:00:01Z",
        "monitoring_at": None,
        "page_id": "page1",
        "incident_updates": [
            {
                "id": f"{incident_id}-u2",
                "status": "resolved",
                "body": "Resolved.",
                "created_at": "2026-03-01T11:00:00Z",
                "display_at": "2026-03-01T11:00:00Z",
                "affected_components": None,
            },
            {
                "id": f"{incident_id}-u1",
                "status": "investigating",
                "body": "We see errors at checkout.",
                "created_at": "2026-03-01T10:00:01Z",
                "display_at": "2026-03-01T10:00:01Z",
                "affected_components": None,
            },
        ],
        "components": [{"id": "c1", "name": "Checkout", "status": "operational"}],
    }
    incident.update(changes)
    return incident


# --- the real githubstatus.com incidents ---------------------------------------------------


@pytest.mark.slow
def test_all_real_incidents_are_stored_with_their_updates(incidents: Path, tmp_path: Path) -> None:
    files = sorted(incidents.glob("*.json"))
    loaded = [json.loads(f.read_text("utf-8"))["incident"] for f in files]
    n_updates = sum(len(i["incident_updates"]) for i in loaded)
    assert (len(files), n_updates) == (124, 525)  # what the folder holds

    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [incidents])
    assert report.ok, report.rejects
    assert report.investigations == {
        "read": 124, "stored": 124, "updated": 0, "unchanged": 0, "rejected_rows": 0
    }  # fmt: skip
    assert report.events == {
        "read": n_updates, "stored": n_updates, "updated": 0, "unchanged": 0, "rejected_rows": 0
    }  # fmt: skip
    assert report.notes == {} and report.skipped == {}

    invs = store.investigations()
    expected_ids = {stable_id("statuspage", PAGE, i["id"]) for i in loaded}
    assert set(invs["id"]) == expected_ids
    assert (invs["created_by"] == "statuspage").all()
    assert (invs["service_affected"] == "GitHub").all()
    impact = {"critical": "critical", "major": "high", "minor": "medium", "none": "low"}
    by_id = {stable_id("statuspage", PAGE, i["id"]): i for i in loaded}
    for row in invs.itertuples():
        source = by_id[row.id]
        assert row.title == source["name"]
        assert row.impact_severity == impact[source["impact"]]
        assert f"impact:{source['impact']}" in row.tags
    events = store.events()
    assert len(events) == n_updates
    assert (events["source"] == "manual").all() and (events["event_type"] == "status_update").all()
    assert events["source_id"].is_unique

    # a second run adds nothing
    again = store.ingest("statuspage", [incidents])
    assert again.investigations["stored"] == again.investigations["updated"] == 0
    assert again.investigations["unchanged"] == 124
    assert (again.events["stored"], again.events["unchanged"]) == (0, n_updates)
    assert len(store.events()) == n_updates


@pytest.mark.slow
def test_resolved_incidents_have_ordered_times(incidents: Path, tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("statuspage", [incidents])
    invs = store.investigations()
    assert (invs["status"] == "resolved").all()
    assert invs["resolved_at"].notna().all()
    for f in incidents.glob("*.json"):
        source = json.loads(f.read_text("utf-8"))["incident"]
        row = invs[invs["id"] == stable_id("statuspage", PAGE, source["id"])].iloc[0]
        assert row["resolved_at"] == ts(source["resolved_at"])
        assert row["impact_started_at"] == ts(source["started_at"])
        assert row["created_at"] == ts(source["created_at"])
        assert row["impact_started_at"] <= row["detected_at"] <= row["started_at"]
        assert row["started_at"] <= row["resolved_at"]
        if pd.notna(row["mitigated_at"]):
            assert row["started_at"] <= row["mitigated_at"] <= row["resolved_at"]


@pytest.mark.slow
def test_a_critical_incident_maps_exactly(incidents: Path, tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("statuspage", [incidents / "rgy28jwprr1c.json"])
    inv_id = stable_id("statuspage", PAGE, "rgy28jwprr1c")
    inv = store.get_investigation(inv_id)
    assert inv.title == "Notifications degredation"
    assert inv.description == "We are investigating a delay in webhook delivery."
    assert (inv.status.value, inv.impact_severity.value, inv.priority.value) == (
        "resolved",
        "critical",
        "P0",
    )
    utc = dt.UTC
    assert inv.impact_started_at == dt.datetime(2019, 9, 23, 16, 12, 1, 644000, utc)
    assert inv.detected_at == dt.datetime(2019, 9, 23, 16, 12, 1, 654000, utc)
    assert inv.started_at == dt.datetime(2019, 9, 23, 16, 12, 1, 706000, utc)
    assert inv.mitigated_at == dt.datetime(2019, 9, 23, 16, 28, 27, 36000, utc)
    assert inv.resolved_at == dt.datetime(2019, 9, 23, 16, 37, 46, 707000, utc)
    # no incident components: the one the updates name
    assert inv.component_affected == "Notifications"
    assert inv.tags == ["statuspage", "impact:critical", "component:Notifications"]
    assert (inv.created_by, inv.assigned_to, inv.root_cause) == ("statuspage", None, None)

    events = store.events(investigation_id=inv_id)
    assert events["source_id"].tolist() == [
        "statuspage:rgy28jwprr1c:rkvg0nxqpgfc",
        "statuspage:rgy28jwprr1c:x18xdct3cd4s",
        "statuspage:rgy28jwprr1c:pv8bd50rfbxt",
        "statuspage:rgy28jwprr1c:y7yhygsyjy1s",
    ]
    assert events["severity"].astype(str).tolist() == ["critical", "critical", "low", "info"]
    assert (events["component"] == "Notifications").all()
    assert (events["service"] == "GitHub").all()
    first = events.iloc[0]
    assert first["timestamp"] == ts("2019-09-23T16:12:01.706Z")
    assert list(first["tags"]) == ["statuspage", "status:investigating"]
    assert first["metadata"] == {"page_id": PAGE}
    assert first["data"] == {
        "status": "investigating",
        "body": "We are investigating a delay in webhook delivery.",
        "affected_components": [
            {
                "name": "Notifications",
                "code": "5bfcr2x9x8kc",
                "old_status": "major_outage",
                "new_status": "major_outage",
            }
        ],
        "incident_id": "rgy28jwprr1c",
        "incident_name": "Notifications degredation",
        "impact": "critical",
        "shortlink": "http://stspg.io/b7f033572",
        "posted_at": "2019-09-23T16:12:01.706000Z",
    }


@pytest.mark.slow
def test_a_major_incident_and_a_backdated_update_map_exactly(
    incidents: Path, tmp_path: Path
) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("statuspage", [incidents / "298l2r792bl7.json", incidents / "d10zrmmcg364.json"])
    inv = store.get_investigation(stable_id("statuspage", PAGE, "298l2r792bl7"))
    assert (inv.title, inv.status.value, inv.impact_severity.value, inv.priority.value) == (
        "Incident with Issues",
        "resolved",
        "high",
        "P1",
    )
    assert inv.description == "We are investigating reports of degraded availability for Issues."
    assert inv.component_affected == "Issues"
    assert inv.mitigated_at is None  # never in monitoring
    assert inv.detected_at == dt.datetime(2022, 10, 13, 20, 47, 46, 501000, dt.UTC)
    assert inv.resolved_at == dt.datetime(2022, 10, 13, 21, 30, 7, 307000, dt.UTC)
    events = store.events(investigation_id=inv.id)
    assert events["severity"].astype(str).tolist() == ["high", "info"]

    # an update shown at a time earlier than it was posted: the time shown is the event's
    backdated = store.events(source_id="statuspage:d10zrmmcg364:q05hcdbvbjnc").iloc[0]
    assert backdated["timestamp"] == ts("2022-05-24T21:56:34Z")
    assert backdated["data"]["posted_at"] == "2022-05-24T23:40:34.283000Z"
    assert backdated["data"]["affected_components"] == []
    assert backdated["component"] == "Codespaces"  # the incident's, as the update names none


@pytest.mark.slow
def test_every_update_is_linked_to_its_incident(incidents: Path, tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest("statuspage", [incidents])
    pairs = store.event_investigations()
    assert len(pairs) == len(store.events()) == 525
    assert (pairs["method"].astype(str) == "import").all()
    assert (pairs["confidence"] == 1.0).all()
    incident_ids = pairs["event_data"].map(lambda d: d["incident_id"])
    expected = incident_ids.map(lambda i: stable_id("statuspage", PAGE, i))
    assert (pairs["investigation_id"] == expected).all()
    inv_id = stable_id("statuspage", PAGE, "sksd097hm0y5")
    assert len(store.get_links(investigation_id=inv_id)) == 20
    assert len(store.get_investigation(inv_id).event_ids) == 20


@pytest.mark.slow
def test_list_and_bare_forms_give_the_same_records(incidents: Path, tmp_path: Path) -> None:
    docs = [sample(incidents, i) for i in ("rgy28jwprr1c", "298l2r792bl7", "d10zrmmcg364")]
    page = docs[0]["page"]
    listed = write(
        tmp_path / "incidents.json", {"page": page, "incidents": [d["incident"] for d in docs]}
    )
    bare = write(tmp_path / "bare.json", docs[0]["incident"])
    bare_list = write(tmp_path / "bare_list.json", [d["incident"] for d in docs[1:]])
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [listed])
    assert report.ok and (report.investigations["stored"], report.events["stored"]) == (3, 8)
    for path in (bare, bare_list):
        # a bare incident names its page by id only: the service is given here
        again = store.ingest("statuspage", [path], service="GitHub")
        assert again.ok and again.investigations["stored"] == again.events["stored"] == 0
        assert again.investigations["updated"] == 0  # the same records
    assert set(store.investigations()["service_affected"]) == {"GitHub"}

    # without the page, there is no page name to use as the service
    reading = rca.read("statuspage", [bare_list])
    assert isinstance(reading.investigations, pd.DataFrame)
    assert isinstance(reading.events, pd.DataFrame)
    assert len(reading.investigations) == 2 and len(reading.events) == 4
    assert reading.investigations["service_affected"].isna().all()
    assert reading.events["where"].iloc[0] == f"{bare_list}#/0/incident_updates/1"
    assert reading.investigations["where"].tolist() == [f"{bare_list}#/0", f"{bare_list}#/1"]
    assert rca.read("statuspage", [bare]).investigations["where"].tolist() == [f"{bare}#"]


@pytest.mark.slow
def test_a_later_export_updates_the_investigation_and_adds_new_updates(
    incidents: Path, tmp_path: Path
) -> None:
    final = sample(incidents, "rgy28jwprr1c")
    early = copy.deepcopy(final)
    inc = early["incident"]
    inc.update(status="identified", resolved_at=None, monitoring_at=None)
    inc["updated_at"] = "2019-09-23T16:22:15.194Z"
    inc["incident_updates"] = inc["incident_updates"][2:]  # identified + investigating
    store = rca.connect(tmp_path / "s.duckdb")
    first = store.ingest("statuspage", [write(tmp_path / "early.json", early)])
    assert (first.investigations["stored"], first.events["stored"]) == (1, 2)
    inv_id = stable_id("statuspage", PAGE, "rgy28jwprr1c")
    inv = store.get_investigation(inv_id)
    assert (inv.status.value, inv.resolved_at, inv.mitigated_at) == ("in_progress", None, None)

    store.update_investigation(inv_id, assigned_to="ana", root_cause="webhook queue backlog")
    later = store.ingest("statuspage", [incidents / "rgy28jwprr1c.json"])
    assert later.investigations["updated"] == 1 and later.investigations["stored"] == 0
    assert (later.events["stored"], later.events["unchanged"]) == (2, 2)
    inv = store.get_investigation(inv_id)
    assert inv.status.value == "resolved"
    assert inv.resolved_at == dt.datetime(2019, 9, 23, 16, 37, 46, 707000, dt.UTC)
    assert inv.mitigated_at == dt.datetime(2019, 9, 23, 16, 28, 27, 36000, dt.UTC)
    # what people wrote, in fields the reader does not set, stays
    assert (inv.assigned_to, inv.root_cause) == ("ana", "webhook queue backlog")
    assert len(inv.event_ids) == 4
    assert inv.revision == "2019-09-23T16:37:47.378000Z"  # the incident's updated_at

    # a person closes it; the same export again, or the older one, changes nothing (an
    # update needs a newer revision)
    store.update_investigation(inv_id, status="closed", tags=["triaged"])
    for path in (incidents / "rgy28jwprr1c.json", tmp_path / "early.json"):
        again = store.ingest("statuspage", [path])
        assert (again.investigations["updated"], again.investigations["unchanged"]) == (0, 1)
    inv = store.get_investigation(inv_id)
    assert (inv.status.value, inv.tags) == ("closed", ["triaged"])

    # in one run
    # the newer copy wins whatever the order
    fresh = rca.connect(tmp_path / "t.duckdb")
    both = fresh.ingest("statuspage", [incidents / "rgy28jwprr1c.json", tmp_path / "early.json"])
    assert both.skipped == {"older_copy_of_incident": 1}
    assert fresh.get_investigation(inv_id).status.value == "resolved"
    assert len(fresh.events()) == 4
    other = rca.connect(tmp_path / "u.duckdb")
    both = other.ingest("statuspage", [tmp_path / "early.json", incidents / "rgy28jwprr1c.json"])
    assert both.skipped == {} and both.investigations["unchanged"] == 1
    assert other.get_investigation(inv_id).status.value == "resolved"
    assert len(other.events()) == 4


# --- hostile input -----------------------------------------------------------------------------


def test_broken_files_and_records_are_rejected_and_the_rest_stored(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    good = write(
        d / "a_good.json", {"page": {"id": "page1", "name": "Shop"}, "incident": minimal()}
    )
    truncated = d / "b_truncated.json"
    truncated.write_text(json.dumps({"incident": minimal("inc2")})[:150], "utf-8")
    as_string = write(d / "c_string.json", {"page": {"id": "page1"}, "incidents": "oops"})
    garbage = d / "d_garbage.json"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 50)
    empty = d / "e_empty.json"
    empty.write_bytes(b"")
    bad_update = minimal("inc3")
    bad_update["incident_updates"][1]["display_at"] = "yesterday"
    mixed = write(
        d / "f_mixed.json",
        {
            "page": {"id": "page1"},
            "incidents": [
                bad_update,
                minimal("inc4", name=None),
                minimal("inc5", id=None),
                minimal("inc6", name=["not", "text"]),
                minimal("inc7", created_at="2026-13-45T99:00:00Z"),
                minimal("inc8", incident_updates="none"),
                "not an incident",
                minimal("inc9", name="Überlastung 🚨 \u00a0 im  Kassensystem"),
            ],
        },
    )
    other = write(d / "g_other.json", {"status": {"indicator": "none"}})
    ignored = d / "notes.txt"
    ignored.write_text("not read", "utf-8")

    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [d])
    assert rejects(report) == [
        (f"{truncated}:1", None, "bad_json"),
        (f"{as_string}#/incidents", "incidents", "invalid_type"),
        (f"{garbage}:1", None, "not_utf8"),
        (f"{empty}:1", None, "bad_json"),
        (f"{mixed}#/incidents/0/incident_updates/1", "display_at", "invalid_datetime"),
        (f"{mixed}#/incidents/1", "name", "missing"),
        (f"{mixed}#/incidents/2", "id", "missing"),
        (f"{mixed}#/incidents/3", "name", "invalid_type"),
        (f"{mixed}#/incidents/4", "created_at", "invalid_datetime"),
        (f"{mixed}#/incidents/5", "incident_updates", "invalid_type"),
        (f"{mixed}#/incidents/6", None, "invalid_type"),
        (f"{other}#", None, "unknown_format"),
    ]
    # the updates of the incidents rejected whole are counted as left out
    assert report.skipped == {"update_of_rejected_incident": 8}
    assert report.investigations["stored"] == 3  # inc1, inc3, inc9
    assert report.events["stored"] == 2 + 1 + 2
    titles = set(store.investigations()["title"])
    assert titles == {"Checkout errors", "Überlastung 🚨 im Kassensystem"}
    assert store.get_investigation(stable_id("statuspage", "page1", "inc1")).service_affected == (
        "Shop"
    )
    assert good.exists()
    # the incident with one unreadable update keeps the other one
    inc3 = store.get_investigation(stable_id("statuspage", "page1", "inc3"))
    assert len(inc3.event_ids) == 1 and inc3.description == "Resolved."


def test_wrong_types_inside_an_update_reject_only_that_update(tmp_path: Path) -> None:
    incident = minimal()
    updates = incident["incident_updates"]
    updates.append(
        {"id": "u3", "status": "identified", "body": 42, "display_at": "2026-03-01T10:10:00Z"}
    )
    updates.append({"id": "u4", "status": "identified", "affected_components": "Checkout",
                    "display_at": "2026-03-01T10:20:00Z"})  # fmt: skip
    updates.append({"id": "u5", "status": "identified", "created_at": 1772359200})
    updates.append({"status": "identified", "display_at": "2026-03-01T10:30:00Z"})
    updates.append({"id": "u7", "status": "identified"})
    updates.append(["u8"])
    path = write(tmp_path / "x.json", incident)
    reading = rca.read("statuspage", [path])
    base = f"{path}#/incident_updates"
    assert rejects(reading) == [
        (f"{base}/2", "body", "invalid_type"),
        (f"{base}/3", "affected_components", "invalid_type"),
        (f"{base}/4", "created_at", "invalid_datetime"),
        (f"{base}/5", "id", "missing"),
        (f"{base}/6", "created_at", "missing"),
        (f"{base}/7", None, "invalid_type"),
    ]
    assert len(reading.investigations) == 1 and len(reading.events) == 2


def test_text_that_is_not_unicode_is_rejected_by_the_store(tmp_path: Path) -> None:
    broken = minimal("bad", name="lone \ud800 surrogate")
    path = write(tmp_path / "x.json", [broken, minimal("good")])
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [path])
    assert sorted(rejects(report)) == [
        (f"{path}#/0", "title", "invalid_text"),
        (f"{path}#/0/incident_updates/0", "data", "invalid_text"),  # its incident_name
        (f"{path}#/0/incident_updates/1", "data", "invalid_text"),
    ]
    assert (report.investigations["stored"], report.events["stored"]) == (1, 2)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(sorted(minimal())),
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ),
)
def test_any_value_in_any_field_is_read_or_rejected(field: str, value: Any) -> None:
    incident = minimal(**{field: value})
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "x.json", {"incident": incident})
        reading = rca.read("statuspage", [path])
    assert (
        len(reading.investigations) + (reading.rejects["where"] == f"{path}#/incident").sum() == 1
    )


@pytest.mark.slow
def test_gzip_and_large_bodies(tmp_path: Path) -> None:
    incident = minimal()
    incident["incident_updates"][1]["body"] = "x" * 50_000
    path = tmp_path / "x.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"incident": incident}).encode()))
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [tmp_path])
    assert report.ok and report.events["stored"] == 2
    assert report.notes == {"body_truncated": 1, "description_truncated": 1}
    body = store.events(source_id="statuspage:inc1:inc1-u1").iloc[0]["data"]["body"]
    assert len(body) == 10_000 and body.endswith("…")
    assert len(store.investigations()["description"].iloc[0]) == 20_000


# --- mapping rules -------------------------------------------------------------------------------


def test_times_out_of_order_are_clamped_or_left_out_with_notes(tmp_path: Path) -> None:
    late_start = minimal(
        "a", started_at="2026-03-01T10:30:00Z", monitoring_at="2026-03-01T12:00:00Z"
    )
    open_but_resolved = minimal("b", status="investigating")
    open_but_resolved["incident_updates"] = open_but_resolved["incident_updates"][1:]
    naive = minimal("c", created_at="2026-03-01T10:00:00", resolved_at=None)
    path = write(tmp_path / "x.json", [late_start, open_but_resolved, naive])
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [path])
    assert report.ok
    assert report.notes == {
        "impact_started_at_clamped": 1,
        "mitigated_at_dropped": 1,
        "resolved_at_ignored_while_open": 1,
        "naive_time_as_utc": 1,
        "resolved_at_from_update": 1,
    }
    a = store.get_investigation(stable_id("statuspage", "page1", "a"))
    assert a.impact_started_at == a.detected_at == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    assert a.mitigated_at is None
    b = store.get_investigation(stable_id("statuspage", "page1", "b"))
    assert (b.status.value, b.resolved_at) == ("in_progress", None)
    c = store.get_investigation(stable_id("statuspage", "page1", "c"))
    assert c.detected_at == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    assert c.resolved_at == dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)


@pytest.mark.slow
def test_scheduled_maintenances(tmp_path: Path) -> None:
    updates = [
        {"id": i, "status": status, "body": status.title(), "display_at": f"2026-03-0{at}:00Z"}
        for i, status, at in (
            ("m3", "completed", "5T02:40"),
            ("m2", "verifying", "5T02:30"),
            ("m1b", "in_progress", "5T02:00"),
            ("m1", "scheduled", "1T12:00"),
        )
    ]
    maintenance = minimal(
        "m",
        name="Database upgrade",
        status="completed",
        impact="maintenance",
        created_at="2026-03-01T12:00:00Z",
        started_at="2026-03-01T12:00:00Z",
        scheduled_for="2026-03-05T02:00:00Z",
        scheduled_until="2026-03-05T04:00:00Z",
        resolved_at="2026-03-05T02:40:00Z",
        incident_updates=updates,
    )
    upcoming = minimal(
        "n",
        status="scheduled",
        impact="maintenance",
        resolved_at=None,
        scheduled_for="2026-04-01T02:00:00Z",
        incident_updates=updates[3:],
    )
    path = write(
        tmp_path / "sm.json",
        {"page": {"id": "page1"}, "scheduled_maintenances": [maintenance, upcoming]},
    )
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [path])
    assert report.ok and report.notes == {}
    m = store.get_investigation(stable_id("statuspage", "page1", "m"))
    assert (m.status.value, m.impact_severity.value, m.priority.value) == ("closed", "low", "P3")
    assert "scheduled" in m.tags
    utc = dt.UTC
    assert m.impact_started_at == dt.datetime(2026, 3, 5, 2, tzinfo=utc)  # the window
    assert m.detected_at == dt.datetime(2026, 3, 1, 12, tzinfo=utc)  # announced
    assert m.started_at == dt.datetime(2026, 3, 5, 2, tzinfo=utc)  # in progress
    assert m.mitigated_at == dt.datetime(2026, 3, 5, 2, 30, tzinfo=utc)  # verifying
    assert m.resolved_at == dt.datetime(2026, 3, 5, 2, 40, tzinfo=utc)
    sev = store.events(investigation_id=m.id)["severity"].astype(str).tolist()
    assert sev == ["info", "low", "low", "info"]
    n = store.get_investigation(stable_id("statuspage", "page1", "n"))
    assert (n.status.value, n.started_at, n.resolved_at) == ("open", None, None)


@pytest.mark.slow
def test_options_map_components_impact_and_service(incidents: Path, tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    store.ingest(
        "statuspage",
        [incidents],
        service="github.com",
        component={"GitHub Actions": "actions", "Actions": "actions", "Visit *": "status-page"},
        impact={"none": "medium", "minor": "low"},
    )
    invs = store.investigations()
    assert (invs["service_affected"] == "github.com").all()
    assert (invs["component_affected"] == "actions").sum() == 33
    many = store.get_investigation(stable_id("statuspage", PAGE, "cwp52gsftl5n"))
    assert "component:status-page" in many.tags and "component:Webhooks" in many.tags
    assert many.component_affected == "Git Operations"  # all equally impacted: first listed
    counts = invs.groupby("impact_severity", observed=True).size().to_dict()
    assert counts == {"critical": 1, "high": 19, "medium": 7, "low": 97}
    assert set(invs[invs["impact_severity"] == "low"]["priority"].astype(str)) == {"P3"}

    reading = rca.read("statuspage", [incidents / "298l2r792bl7.json"],
                       impact=lambda v: "critical" if v == "major" else None)  # fmt: skip
    assert reading.investigations["priority"].tolist() == ["P0"]
    assert reading.events["severity"].tolist() == ["critical", "info"]


def test_bad_options_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.json", minimal())
    with pytest.raises(ReaderError, match="impact rule"):
        rca.read("statuspage", [path], impact={"minor": "urgent"})
    with pytest.raises(ReaderError, match="no option 'severity'"):
        rca.read("statuspage", [path], severity={"minor": "low"})
    with pytest.raises(ReaderError, match="no such file"):
        rca.read("statuspage", [tmp_path / "missing.json"])


# --- review findings -------------------------------------------------------------------------


def test_a_lone_surrogate_in_the_first_update_keeps_the_investigation(tmp_path: Path) -> None:
    incident = minimal("bad", postmortem_body="Root cause: \udc80 in a config.")
    incident["incident_updates"][1]["body"] = "We see \ud800 errors."
    path = tmp_path / "x.json"
    path.write_text(json.dumps([incident, minimal("good")]), "utf-8")  # ASCII: \ud800 escapes
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("statuspage", [path])
    # only the update whose body is not Unicode is left out; its investigation stays
    assert rejects(report) == [(f"{path}#/0/incident_updates/1", "data", "invalid_text")]
    assert report.notes == {"text_repaired": 1}
    assert (report.investigations["stored"], report.events["stored"]) == (2, 3)
    bad = store.get_investigation(stable_id("statuspage", "page1", "bad"))
    assert bad.description == (
        "We see \ufffd errors.\n\nPostmortem:\nRoot cause: \ufffd in a config."
    )
    assert len(bad.event_ids) == 1


def test_a_null_document_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "null.json").write_text("null")
    write(tmp_path / "ok.json", minimal())
    report = rca.connect(tmp_path / "s.duckdb").ingest("statuspage", [tmp_path])
    assert rejects(report) == [(f"{tmp_path / 'null.json'}#", None, "unknown_format")]
    assert report.investigations["stored"] == 1


def test_service_and_component_as_names_rules_or_refused(tmp_path: Path) -> None:
    page = {"id": "page1", "name": "Shop Status"}
    write(tmp_path / "a.json", {"page": page, "incident": minimal("a")})
    write(tmp_path / "b.json", minimal("b"))  # a bare incident: no page, no component

    def picked(**options: Any) -> list[list[Any]]:
        reading = rca.read("statuspage", [tmp_path], **options)
        invs = reading.investigations[["service_affected", "component_affected"]]
        evs = reading.events[["service", "component"]]
        rows = [*invs.values.tolist(), *evs.values.tolist()]
        return [[None if pd.isna(v) else v for v in row] for row in rows]

    # investigations a, b, then the two updates of a, of b
    shop, bare = ["Shop Status", "Checkout"], [None, "Checkout"]
    assert picked() == [shop, bare, shop, shop, bare, bare]
    # a name: the same for every record, with or without a page
    assert picked(service="shop", component="web") == [["shop", "web"]] * 6
    # a rule on the page name (unmatched: the page name) and on the component names
    shop, bare = ["shop", "checkout"], [None, "checkout"]
    assert picked(service={"Shop *": "shop"}, component=str.lower) == [
        shop,
        bare,
        shop,
        shop,
        bare,
        bare,
    ]
    assert picked(service=lambda n: None, component={"x": "y"})[0] == ["Shop Status", "Checkout"]
    for option in ("service", "component", "impact"):
        with pytest.raises(ReaderError, match=option):
            rca.read("statuspage", [tmp_path / "missing.json"], **{option: 1.5})


# --- fuzzing: arbitrary JSON where the reader looks ------------------------------------------

_ODD_TEXT = (
    "²", "٣", "9" * 5000, "resolved", "monitoring", "scheduled", "completed", "major",
    "critical", "maintenance", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "major_outage", "\x00", "",
)  # fmt: skip
_KEYS = (
    "page", "incident", "incidents", "scheduled_maintenances", "id", "name", "status",
    "impact", "created_at", "started_at", "monitoring_at", "resolved_at", "updated_at",
    "scheduled_for", "scheduled_until", "incident_updates", "components", "postmortem_body",
    "shortlink", "body", "display_at", "affected_components", "old_status", "new_status",
    "code", "page_id", "url",
)  # fmt: skip
_LEAVES = fuzzing.leaves(_ODD_TEXT)
_ANY_JSON = fuzzing.any_json(_LEAVES, _KEYS)


def _mutated(data: st.DataObject, skeleton: Any, keys: tuple[str, ...]) -> Any:
    return fuzzing.mutated(data, skeleton, keys, _LEAVES)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_arbitrary_json_is_read_skipped_or_rejected_never_raised(data: st.DataObject) -> None:
    affected = [{"code": "c1", "name": "Checkout", "old_status": "operational",
                 "new_status": "major_outage"}]  # fmt: skip
    first = minimal("a", postmortem_body="Root cause.", shortlink="https://stspg.io/x")
    first["incident_updates"][1]["affected_components"] = affected
    second = minimal("b", status="scheduled", impact="maintenance")
    second["scheduled_for"] = "2026-03-02T10:00:00Z"
    skeleton = {
        "page": {"id": "page1", "name": "Shop", "url": "https://status.shop"},
        "incidents": [first],
        "scheduled_maintenances": [second],
    }
    document = _mutated(data, skeleton, _KEYS)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "x.json", document)
        reading = rca.read("statuspage", [path])
    found = len(reading.events) + len(reading.investigations)
    assert found + sum(reading.skipped.values()) + len(reading.rejects) >= 1


# --- zero times -----------------------------------------------------------------------------


def test_zero_times_are_absent_and_follow_the_missing_time_rules(tmp_path: Path) -> None:
    incident = minimal(resolved_at="0001-01-01T00:00:00Z", monitoring_at="0001-01-01 00:00:00")
    incident["incident_updates"][0]["display_at"] = "0001-01-01T00:00:00Z"  # created_at stands in
    incident["incident_updates"][1]["created_at"] = "0001-01-01T00:00:00Z"
    incident["incident_updates"][1]["display_at"] = "0000-12-31T19:03:58-04:56"
    reading = rca.read("statuspage", write(tmp_path / "zero.json", incident))
    assert rejects(reading) == [
        (f"{tmp_path / 'zero.json'}#/incident_updates/1", "created_at", "missing")
    ]
    assert reading.notes == {"zero_time_as_missing": 5, "resolved_at_from_update": 1}
    [inv] = reading.investigations.to_dict("records")
    assert inv["resolved_at"] == dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)  # from the update
    assert inv["mitigated_at"] is None or pd.isna(inv["mitigated_at"])
    [update] = reading.events.to_dict("records")
    assert update["timestamp"] == dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)
