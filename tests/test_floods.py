"""Roles, suspects and floods: causes above symptoms, and a flood as one row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import linking
from rca_analytics._floods import FLOOD_COLUMNS, collapse, flood_keys

T = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("source", "event_type", "severity", "expected"),
    [
        ("ci", "deploy", "info", "change"),
        ("ci", "deployment", "info", "change"),
        ("manual", "config_change", "medium", "change"),
        ("ci", "release", "info", "change"),
        ("manual", "feature_flag", "info", "change"),
        ("ci", "migration", "info", "change"),
        ("ci", "rollback", "info", "change"),
        ("git", "commit", "info", "change"),
        ("git", "merge", "info", "change"),
        ("git", "tag", "info", "change"),
        ("ci", "Deploy ", "info", "change"),  # types compare in lower case, trimmed
        ("logs", "error", "high", "symptom"),
        ("logs", "warning", "medium", "symptom"),
        ("metrics", "alert", "low", "symptom"),
        ("metrics", "anomaly", "medium", "symptom"),
        ("traces", "span_error", "high", "symptom"),
        ("traces", "error_span", "high", "symptom"),
        ("traces", "failed_request", "medium", "symptom"),
        ("traces", "slow_span", "low", "symptom"),
        ("logs", "log", "critical", "symptom"),  # a signal at high severity
        ("logs", "log", "info", "context"),
        ("ci", "build", "medium", "context"),  # a failed build is no production symptom
        ("ci", "job", "info", "context"),
        ("ci", "test_run", "high", "context"),
        ("manual", "note", "info", "context"),
        ("manual", "status_update", "high", "context"),
    ],
)
def test_roles(source: str, event_type: str, severity: str, expected: str) -> None:
    assert linking.role(source, event_type, severity) == expected
    frame = pd.DataFrame({"source": [source], "event_type": [event_type], "severity": [severity]})
    assert linking.roles(frame).tolist() == [expected]


def test_roles_follow_the_configured_event_kinds() -> None:
    config = linking.LinkerConfig(change_types=("flag_flip",), symptom_types=("page",))
    assert linking.role("manual", "flag_flip", config=config) == "change"
    assert linking.role("manual", "page", config=config) == "symptom"
    assert linking.role("ci", "deploy", config=config) == "context"


def test_a_suspect_is_a_change_at_or_above_the_threshold() -> None:
    assert linking.is_suspect("change", 0.7)
    assert not linking.is_suspect("change", 0.69)
    assert not linking.is_suspect("symptom", 0.99)
    assert linking.is_suspect("change", 0.5, linking.LinkerConfig(min_confidence=0.5))


def _flood(store: rca.Store, n: int) -> tuple[str, list[str], str]:
    """An incident with a deploy before it and ``n`` identical error logs during it."""
    inv = store.add_investigation(
        {"title": "Checkout 500s", "component_affected": "payments",
         "service_affected": "checkout-api", "impact_started_at": at(0),
         "detected_at": at(5), "resolved_at": at(60)}
    )  # fmt: skip
    deploy = store.add_event(
        {"source": "ci", "event_type": "deploy", "severity": "info", "timestamp": at(-15),
         "component": "payments", "service": "checkout-api", "source_id": "deploy-7",
         "data": {"version": "v2.14.0", "environment": "production"}}
    )  # fmt: skip
    logs = store.add_events(
        [
            {"source": "logs", "event_type": "error",
             "severity": "critical" if i == n // 2 else "high", "timestamp": at(1 + i),
             "component": "payments", "service": "checkout-api", "source_id": f"log-{i}",
             "data": {"message": f"pool exhausted after {i} ms",
                      "template": "pool exhausted after <*> ms", "fingerprint": "tpl-pool"}}
            for i in range(n)
        ],
        progress=False,
    )  # fmt: skip
    ids = store.events(source="logs", columns=["id"])["id"].tolist()
    assert logs.stored == n
    return inv.id, ids, deploy.id


@pytest.mark.slow
def test_a_flood_is_one_suggestion_and_collapse_false_gives_every_row(store: rca.Store) -> None:
    inv_id, log_ids, deploy_id = _flood(store, 23)
    rows = linking.suggest_links(store, inv_id)
    floods = rows[rows["source"].astype(str) == "logs"]
    assert len(floods) == 1
    flood = floods.iloc[0]
    assert flood["count"] == 23 and sorted(flood["event_ids"]) == sorted(log_ids)
    assert flood["first_seen"] == pd.Timestamp(at(1)) and flood["last_seen"] == pd.Timestamp(at(23))
    assert flood["worst_severity"] == "critical" and flood["role"] == "symptom"
    assert flood["reasons"][-1].startswith("flood: 23 error events 'pool exhausted after <*> ms'")
    # The deploy is the suspect, ranked first though the errors score higher.
    top = rows.iloc[0]
    assert top["event_id"] == deploy_id and top["suspect"] and top["rank"] == 1
    assert top["confidence"] < flood["confidence"]
    assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
    assert set(FLOOD_COLUMNS) <= set(rows.columns)

    every = linking.suggest_links(store, inv_id, collapse=False)
    assert set(log_ids) <= set(every["event_id"]) and len(every) == len(rows) + 22
    assert "count" not in every.columns
    assert len(linking.suggest_links(store, inv_id, limit=2)) == 2


@pytest.mark.slow
def test_auto_link_links_every_member_and_reports_the_flood(store: rca.Store) -> None:
    inv_id, log_ids, deploy_id = _flood(store, 12)
    report = linking.auto_link(store, inv_id)
    linked = set(store.get_investigation(inv_id).event_ids)
    assert set(log_ids) <= linked and deploy_id in linked  # every member is evidence
    assert (report.floods, report.flooded) == (1, 12)
    assert "floods: 12 of those links in 1 flood of repeated symptoms" in report.summary()


def test_collapse_keys_and_representatives() -> None:
    ts = pd.to_datetime(
        ["2026-03-03 09:00", "2026-03-03 09:01", "2026-03-03 09:02", "2026-03-03 09:03",
         "2026-03-03 09:04", "2026-03-03 09:05", "2026-03-03 09:06"], utc=True
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            "event_id": list("abcdefg"),
            "confidence": [0.2, 0.9, 0.5, 0.8, 0.8, 0.7, 0.6],
            "source": ["logs", "logs", "logs", "metrics", "metrics", "ci", "ci"],
            "event_type": ["error", "error", "error", "alert", "alert", "deploy", "deploy"],
            "severity": ["high", "medium", "high", "critical", "critical", "info", "info"],
            # Names compare by their key: "Payments " is "payments".
            "component": ["payments", "Payments ", "search", "payments", "payments", "web", "web"],
            "service": [None] * 7,
            "timestamp": ts,
            "summary": [None, None, None, "ErrorRateHigh", "ErrorRateHigh", "same", "same"],
            "data": [{"template": "t"}, {"template": "t"}, {"template": "t"},
                     {"fingerprint": "fp1"}, {"fingerprint": "fp1"}, {}, {}],
        }
    )  # fmt: skip
    keys = flood_keys(frame)
    assert keys[0] == keys[1] != keys[2]  # another component
    assert keys[3] == keys[4] and keys[5] is None and keys[6] is None  # changes never
    out = collapse(frame)
    assert out["event_id"].tolist() == ["b", "c", "d", "f", "g"]  # where each first stood
    assert out["event_ids"].tolist() == [["a", "b"], ["c"], ["d", "e"], ["f"], ["g"]]
    assert out["count"].tolist() == [2, 1, 2, 1, 1]
    assert out["worst_severity"].astype(str).tolist() == [
        "high",
        "high",
        "critical",
        "info",
        "info",
    ]
    assert out.loc[0, "first_seen"] == ts[0] and out.loc[0, "last_seen"] == ts[1]


def test_the_summary_is_the_key_when_nothing_else_says_what() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "source": ["traces"] * 3,
            "event_type": ["span_error"] * 3,
            "severity": ["high"] * 3,
            "component": ["payments"] * 3,
            "service": ["checkout-api"] * 3,
            "timestamp": pd.to_datetime(["2026-03-03 09:00"] * 3, utc=True),
            "summary": ["GET /pay failed", "GET /pay failed", "POST /refund failed"],
            "data": [{}, {}, {}],
        }
    )
    assert collapse(frame)["count"].tolist() == [2, 1]


def test_failing_spans_of_one_operation_are_one_flood_whatever_their_durations() -> None:
    spans = [("GET /pay", "error", 1520.0), ("GET /pay", "ERROR", 28300.0),
             ("GET /pay", "error", 7400.0), ("POST /refund", "error", 900.0)]  # fmt: skip
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "source": ["traces"] * 4,
            "event_type": ["span_error"] * 4,
            "severity": ["high"] * 4,
            "component": ["payments"] * 4,
            "service": [None] * 4,
            "timestamp": pd.to_datetime(["2026-03-03 09:00"] * 4, utc=True),
            "summary": [f"{n} failed after {ms / 1000:.1f} s" for n, _s, ms in spans],
            "data": [{"name": n, "status_code": s, "duration_ms": ms} for n, s, ms in spans],
        }
    )
    assert sorted(collapse(frame)["count"].tolist()) == [1, 3]


# --- the demo's incidents ----------------------------------------------------------------


def _by_priority(store: rca.Store, priority: str) -> str:
    invs = store.investigations(columns=["id", "priority"])
    return str(invs.loc[invs["priority"].astype(str) == priority, "id"].iloc[0])


@pytest.mark.slow
def test_the_demo_p0_deploy_comes_first_and_its_flood_is_one_row(demo_store: rca.Store) -> None:
    p0 = _by_priority(demo_store, "P0")
    rows = linking.suggest_links(demo_store, p0)
    head = rows.head(5)
    deploys = head[(head["event_type"] == "deploy") & (head["source_id"] == "deploy-incident-0")]
    assert len(deploys) == 1 and bool(deploys["suspect"].iloc[0])
    logs = rows[rows["source_id"].astype(str).str.startswith("log-incident-0-")]
    assert len(logs) == 1 and logs["count"].iloc[0] >= 14  # the burst: 14-24 errors, one row
    every = linking.suggest_links(demo_store, p0, collapse=False)
    assert (
        every["source_id"].astype(str).str.startswith("log-incident-0-").sum()
        == (logs["count"].iloc[0])
    )
    changes = linking.changes_before(demo_store, p0)
    assert changes.iloc[0]["source_id"] == "deploy-incident-0" and changes.iloc[0]["suspect"]
    assert {"rank", "role", "suspect"} <= set(changes.columns)
    assert set(changes["role"].astype(str)) <= {"change", "context"}


@pytest.mark.slow
def test_the_demo_p3_has_no_suspect_above_the_threshold(demo_store: rca.Store) -> None:
    p3 = _by_priority(demo_store, "P3")
    changes = linking.changes_before(demo_store, p3)
    best = changes.iloc[0]
    assert best["confidence"] < linking.LinkerConfig().min_confidence
    assert not best["suspect"] and not changes["suspect"].any()
