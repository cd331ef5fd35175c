"""Every reader writes each event's summary from what its source said."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd

import rca_analytics as rca


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_shape(events: pd.DataFrame) -> None:
    assert events["summary"].notna().all()
    for text in events["summary"]:
        assert 0 < len(text) <= 200 and text == _one_line(text)


def test_alerts_say_the_alert_name_and_its_summary(realworld: Path) -> None:
    files = sorted((realworld / "alertmanager").glob("*.json"))
    events = rca.read("alerts", files).events
    _check_shape(events)
    for summary, data in zip(events["summary"], events["data"], strict=True):
        assert summary.startswith(f"{data['alertname'] or 'alert'}")
        said = data["summary"] or data["description"]
        if said:
            assert _one_line(said)[:100] in summary
        assert summary.endswith("(resolved)") == (data["status"] == "resolved")


def test_status_updates_say_the_update_text(realworld: Path) -> None:
    events = rca.read("statuspage", sorted((realworld / "statuspage").iterdir())).events
    _check_shape(events)
    bodies = [_one_line(b) for b in events["data"].map(lambda d: d["body"])]
    for summary, body in zip(events["summary"], bodies, strict=True):
        assert summary == (body if len(body) <= 200 else body[:199] + "…")


def test_github_deliveries_say_what_ran_and_how_it_ended(realworld: Path) -> None:
    events = rca.read("github", sorted((realworld / "github").glob("*/*"))).events
    _check_shape(events)
    by_type = events.groupby("event_type")["summary"].first()
    assert by_type["check"].startswith("Octocoders-linter: ")
    assert by_type["deploy"].startswith("Deploy Codertocat/Hello-World f95f852")
    assert by_type["release"] == "Release 0.0.1 of Codertocat/Hello-World"


def test_junit_says_the_suite_and_the_failed_counts(realworld: Path) -> None:
    events = rca.read("junit", sorted((realworld / "junit").glob("*.xml"))).events
    _check_shape(events)
    for summary, data in zip(events["summary"], events["data"], strict=True):
        if data["failed_total"]:
            assert f"{data['failed_total']} of {data['tests']} failed" in summary
        else:
            assert "passed" in summary


def test_otlp_logs_say_their_body_and_spans_their_operation(realworld: Path) -> None:
    files = [p for p in sorted((realworld / "otlp").glob("*.json")) if p.name != "metrics.json"]
    events = rca.read("otlp", files).events
    _check_shape(events)
    for summary, source, data in zip(
        events["summary"], events["source"], events["data"], strict=True
    ):
        if source == "logs" and isinstance(data["body"], str):
            assert summary == _one_line(data["body"])[:200]
        if source == "traces":
            assert summary.startswith(data["name"])


def test_git_commits_say_their_subject_and_short_sha(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    env = {
        "GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com",
        "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.com",
        "GIT_AUTHOR_DATE": "2026-03-01T08:00:00Z", "GIT_COMMITTER_DATE": "2026-03-01T08:00:00Z",
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    subjects = ["Shrink the DB pool to 5", "Fix   spaces\tin subject", "x" * 300]
    for i, subject in enumerate(subjects):
        (repo / f"f{i}").write_text(str(i))
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
        subprocess.run(
            ["git", "-C", str(repo), "commit", "-q", "-m", subject, "-m", "body line"],
            check=True,
            env=env,
        )
    events = rca.read("git", [repo]).events.sort_values("summary")
    _check_shape(events)
    got = dict(zip(events["source_id"].str[:7], events["summary"], strict=True))
    assert sorted(got.values()) == sorted(
        [
            f"Shrink the DB pool to 5 ({_sha(got, 'Shrink')})",
            f"Fix spaces in subject ({_sha(got, 'Fix')})",
            f"{'x' * 189}… ({_sha(got, 'xxx')})",
        ]
    )


def _sha(got: dict[str, str], start: str) -> str:
    return next(sha for sha, summary in got.items() if summary.startswith(start))


def test_a_store_derives_summaries_for_rows_without_one(tmp_path: Path) -> None:
    rows = [
        {"timestamp": 0, "source": "ci", "event_type": "deploy", "severity": "info",
         "service": "cart", "source_id": "d3", "data": {"version": "v3", "environment": "prod"}},
        {"timestamp": 0, "source": "ci", "event_type": "deploy", "severity": "info",
         "service": "cart", "source_id": "d4", "data": {"version": "v4"},
         "summary": "Given  by\na person"},
    ]  # fmt: skip
    with rca.connect(tmp_path / "s.duckdb") as store:
        store.add_events(rows)
        single = store.add_event(
            {"timestamp": 0, "source": "metrics", "event_type": "alert", "severity": "high",
             "data": {"alertname": "Down", "summary": "cart is down"}}
        )  # fmt: skip
        got = store.events(columns=["summary"])["summary"].tolist()
        assert sorted(got) == [
            "Deploy cart v3 to prod",
            "Down: cart is down",
            "Given by a person",
        ]
        assert single.summary == "Down: cart is down"
        again = store.add_events(rows)  # derived summaries are no change
        assert (again.stored, again.updated, again.unchanged) == (0, 0, 2)
        assert json.loads(store.events(columns=["summary"]).to_json())  # plain text


def test_blank_values_give_way_to_the_next_and_both_paths_agree(tmp_path: Path) -> None:
    """A value of only white space (tabs, newlines too) counts as missing."""
    rows = [
        {"timestamp": 0, "source": "metrics", "event_type": "alert", "severity": "high",
         "source_id": "a", "data": {"alertname": "\t", "name": "Down",
                                    "summary": "\n\t ", "description": "cart  is\ndown"}},
        {"timestamp": 0, "source": "git", "event_type": "commit", "severity": "info",
         "source_id": "c", "service": "cart", "data": {"message": " \r\nsecond line"}},
        {"timestamp": 0, "source": "traces", "event_type": "span_error", "severity": "high",
         "source_id": "s", "service": "cart", "data": {"name": " ", "duration_ms": 1500}},
        {"timestamp": 0, "source": "traces", "event_type": "span_error", "severity": "high",
         "source_id": "t", "service": "cart", "data": {"status": " "}},
    ]  # fmt: skip
    expected = ["Down: cart is down", "second line", "1.5 s", "span_error cart"]
    with rca.connect(tmp_path / "bulk.duckdb") as store:
        store.add_events(rows)
        got = store.events(columns=["source_id", "summary"]).set_index("source_id")["summary"]
        assert [got[r["source_id"]] for r in rows] == expected
    with rca.connect(tmp_path / "single.duckdb") as store:
        assert [store.add_event(r).summary for r in rows] == expected
