"""The github reader: webhook bodies of the real samples, redeliveries, incidents, hostile files."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

import fuzzing
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics.ingest import github
from rca_analytics.ingest._base import Context, pointer, stable_id

UTC = dt.UTC


def _load(realworld: Path, name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((realworld / "github" / name).read_text())
    return body


def _write(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def _event(store: rca.Store, source_id: str) -> pd.Series:
    rows = store.events(source_id=source_id)
    assert len(rows) == 1, source_id
    return rows.iloc[0]


def _rejects(report: rca.IngestReport) -> list[tuple[str, str]]:
    return list(report.rejects[["where", "code"]].itertuples(index=False, name=None))


def _with_fields(rejects: pd.DataFrame) -> list[tuple[str, str, str | None]]:
    return [
        (where, code, None if pd.isna(field) else field)
        for where, code, field in rejects[["where", "code", "field"]].itertuples(
            index=False, name=None
        )
    ]


def _stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def _run_body(run_id: int = 1, *, attempt: int = 1, **run: Any) -> dict[str, Any]:
    return {
        "action": "completed",
        "repository": {"full_name": "acme/shop", "name": "shop"},
        "workflow_run": {
            "id": run_id,
            "run_attempt": attempt,
            "name": "CI",
            "status": "completed",
            "conclusion": "failure",
            "run_started_at": "2026-03-01T09:00:00Z",
            "updated_at": "2026-03-01T09:05:00Z",
            **run,
        },
    }


# --- the real samples ------------------------------------------------------------------------

FOLDERS = {
    # folder: (events read, stored, duplicates, skipped)
    "check_run": (2, 1, 1, {"not_completed": 2}),
    "deployment": (2, 1, 1, {}),
    "deployment_status": (2, 1, 1, {}),
    "issues": (0, 0, 0, {"not_incident": 7}),
    "push": (4, 2, 2, {}),
    "release": (4, 1, 3, {}),
    "workflow_job": (2, 1, 1, {"not_completed": 3}),
    "workflow_run": (2, 1, 1, {"not_completed": 2}),
}


@pytest.mark.slow
@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_every_sample_folder_is_read(realworld: Path, tmp_path: Path, folder: str) -> None:
    read, stored, duplicates, skipped = FOLDERS[folder]
    with rca.connect(tmp_path / "s.duckdb") as store:
        report = store.ingest("github", [realworld / "github" / folder])
        assert report.ok, report.rejects
        assert report.events == {
            "read": read,
            "stored": stored,
            "updated": 0,
            "unchanged": duplicates,
            "rejected_rows": 0,
        }
        assert report.investigations["read"] == 0
        assert report.skipped == skipped
        assert report.notes == {}
        assert len(store.events()) == stored


@pytest.mark.slow
def test_the_whole_sample_set_twice_stores_everything_once(realworld: Path, tmp_path: Path) -> None:
    with rca.connect(tmp_path / "s.duckdb") as store:
        first = store.ingest("github", [realworld / "github"])
        assert first.ok
        assert (first.events["read"], first.events["stored"], first.events["unchanged"]) == (
            18,
            8,
            10,
        )
        assert first.skipped == {"not_completed": 7, "not_incident": 7}
        again = store.ingest("github", [realworld / "github"])
        assert again.events["stored"] == 0
        assert again.events["unchanged"] == 18
        counts = store.events().groupby(["source", "event_type"], observed=True).size()
        assert counts.to_dict() == {
            ("ci", "build"): 1,
            ("ci", "check"): 1,
            ("ci", "deploy"): 2,
            ("ci", "job"): 1,
            ("git", "push"): 2,
            ("git", "release"): 1,
        }


def test_a_failed_job_maps_exactly(realworld: Path, tmp_path: Path) -> None:
    name = "workflow_job/completed.failure.with-organization.payload.json"
    body = _load(realworld, name)
    job = body["workflow_job"]
    with rca.connect(tmp_path / "s.duckdb") as store:
        store.ingest("github", [realworld / "github" / name])
        ev = _event(store, f"workflow_job:{job['id']}")
    assert (ev.source, ev.event_type, ev.severity) == ("ci", "job", "high")
    assert ev.timestamp == _stamp(job["completed_at"])
    assert ev.service == body["repository"]["name"] == "Hello-World"
    assert pd.isna(ev.component)
    failed = [s["name"] for s in job["steps"] if s["conclusion"] == "failure"]
    assert failed == ["Run yarn run format-check"]
    started, ended = _stamp(job["started_at"]), _stamp(job["completed_at"])
    assert ev.data == {
        "repo": "Codertocat/Hello-World",
        "workflow": job["workflow_name"],
        "job": "linters",
        "job_id": job["id"],
        "run_id": job["run_id"],
        "run_attempt": 1,
        "conclusion": "failure",
        "head_branch": "main",
        "head_sha": job["head_sha"],
        "html_url": job["html_url"],
        "duration_s": int((ended - started).total_seconds()),
        "runner": "GitHub Actions 5",
        "runner_labels": ["ubuntu-latest"],
        "steps": len(job["steps"]),
        "failed_steps": failed,
    }
    assert ev.metadata == {"github_event": "workflow_job", "action": "completed"}


def test_a_workflow_run_maps_exactly(realworld: Path, tmp_path: Path) -> None:
    body = _load(realworld, "workflow_run/completed.with-pull-requests.payload.json")
    run = body["workflow_run"]
    assert run["name"] == ""  # the workflow's name comes from the workflow object then
    with rca.connect(tmp_path / "s.duckdb") as store:
        store.ingest("github", [realworld / "github" / "workflow_run"])
        ev = _event(store, f"workflow_run:{run['id']}:{run['run_attempt']}")
    assert (ev.source, ev.event_type, ev.severity, ev.service) == (
        "ci",
        "build",
        "info",
        "octo-repo",
    )
    assert ev.timestamp == _stamp(run["updated_at"])
    # completed.payload.json sorts first and wins: it has no pull requests
    assert ev.data == {
        "repo": "octo-org/octo-repo",
        "workflow": body["workflow"]["name"],
        "workflow_path": ".github/workflows/test.yml",
        "run_id": 289782451,
        "run_number": 163,
        "run_attempt": 1,
        "conclusion": "success",
        "trigger": "repository_dispatch",
        "head_branch": "master",
        "head_sha": run["head_sha"],
        "title": run["display_title"],
        "actor": run["triggering_actor"]["login"],
        "html_url": run["html_url"],
        "duration_s": 0,
    }


def test_checks_pushes_deployments_and_releases_map_exactly(
    realworld: Path, tmp_path: Path
) -> None:
    with rca.connect(tmp_path / "s.duckdb") as store:
        store.ingest("github", [realworld / "github"])
        check = _event(store, "check_run:128620228")
        new_branch = _load(realworld, "push/with-new-branch.payload.json")
        push_id = (
            f"push:Codertocat/Hello-World:refs/heads/master:{new_branch['before']}:"
            f"{new_branch['after']}"
        )
        push = _event(store, push_id)
        status = _event(store, "deployment_status:209916254")
        deployment = _event(store, "deployment:145988746")
        release = _event(store, "release:Codertocat/Hello-World:17372790")
    # check_run/completed.1 (failure) sorts before completed (success): first stored wins
    assert (check.severity, check.data["conclusion"], check.data["check"]) == (
        "high",
        "failure",
        "Octocoders-linter",
    )
    assert check.timestamp == _stamp("2019-05-15T15:21:12Z")
    assert check.data["pull_requests"] == [2]
    # a push's time is the repository's pushed_at (epoch seconds in push bodies)
    assert push.timestamp == pd.Timestamp(new_branch["repository"]["pushed_at"], unit="s", tz=UTC)
    assert (push.source, push.event_type, push.severity) == ("git", "push", "info")
    assert push.data == {
        "repo": "Codertocat/Hello-World",
        "ref": "refs/heads/master",
        "before": "0" * 40,
        "after": new_branch["after"],
        "created": True,
        "deleted": False,
        "forced": False,
        "pusher": "Codertocat",
        "commits": 1,
        "head_commit": new_branch["head_commit"]["id"],
        "message": "Initial commit",
        "compare_url": new_branch["compare"],
    }
    # deployment_status/gh-pages sorts first: state in_progress on github-pages
    assert (status.source, status.event_type, status.severity) == ("ci", "deploy", "info")
    assert status.timestamp == _stamp("2022-01-03T01:28:40Z")
    assert {k: status.data[k] for k in ("state", "environment", "deployment_id", "status_id")} == {
        "state": "in_progress",
        "environment": "github-pages",
        "deployment_id": 145988746,
        "status_id": 209916254,
    }
    assert deployment.data["state"] == "created"
    assert deployment.data["environment"] == "github-pages"
    assert deployment.timestamp == _stamp("2022-01-03T01:28:30Z")
    assert (release.source, release.event_type) == ("git", "release")
    assert release.timestamp == _stamp("2019-05-15T15:20:53Z")
    assert release.data["tag"] == "0.0.1"
    assert release.data["prerelease"] is False  # created.payload.json sorts first


# --- redeliveries and overlapping exports -----------------------------------------------


@pytest.mark.slow
def test_deliveries_of_the_same_run_collapse_into_one_event(
    realworld: Path, tmp_path: Path
) -> None:
    sample = realworld / "github" / "workflow_run" / "completed.payload.json"
    body = json.loads(sample.read_text())
    for copy_ in (
        tmp_path / "a" / "workflow_run" / "x.json",
        tmp_path / "b" / "workflow_run" / "y.json",
    ):
        copy_.parent.mkdir(parents=True)
        shutil.copy(sample, copy_)
    _write(
        tmp_path / "hooks" / "delivery.json",
        {
            "headers": {"x-github-event": ["workflow_run"], "X-GitHub-Delivery": "d-1"},
            "payload": body,
        },
    )
    _write(
        tmp_path / "hooks" / "as-text.json",
        {"headers": {"X-GITHUB-EVENT": "workflow_run"}, "body": json.dumps(body)},
    )
    _write(
        tmp_path / "hooks" / "form.json",
        {
            "headers": {"X-GitHub-Event": "workflow_run"},
            "body": "payload=" + urllib.parse.quote(json.dumps(body)),
        },
    )
    _write(
        tmp_path / "hooks" / "api.json",
        [{"guid": "g-1", "event": "workflow_run", "request": {"headers": {}, "payload": body}}],
    )
    rerun = copy.deepcopy(body)
    rerun["workflow_run"]["run_attempt"] = 2
    _write(tmp_path / "hooks" / "rerun.json", {"x_github_event": "workflow_run", "payload": rerun})
    with rca.connect(tmp_path / "s.duckdb") as store:
        report = store.ingest("github", [tmp_path / "a", tmp_path / "b", tmp_path / "hooks"])
        assert report.ok, report.rejects
        assert report.events["read"] == 7
        assert report.events["stored"] == 2
        assert report.events["unchanged"] == 5
        assert sorted(store.events()["source_id"]) == [
            "workflow_run:289782451:1",
            "workflow_run:289782451:2",
        ]
        again = store.ingest("github", [tmp_path])
        assert (again.events["stored"], again.events["unchanged"]) == (0, 7)


def test_an_envelope_names_its_event_and_delivery(tmp_path: Path) -> None:
    _write(
        tmp_path / "workflow_run" / "a.json",  # the header wins over the folder
        {"headers": {"X-GitHub-Event": "ping"}, "payload": {"zen": "Keep it simple", "hook": {}}},
    )
    _write(
        tmp_path / "exports" / "b.json",
        {
            "headers": {"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": "abc"},
            "payload": _run_body(7),
        },
    )
    reading = rca.read("github", tmp_path)
    assert reading.skipped == {"unsupported_event:ping": 1}
    assert reading.events["metadata"].tolist() == [
        {"github_event": "workflow_run", "action": "completed", "delivery": "abc"}
    ]
    assert reading.events["where"].tolist() == [pointer(tmp_path / "exports" / "b.json", "payload")]


def test_the_event_comes_from_the_option_the_folder_or_the_shape(
    realworld: Path, tmp_path: Path
) -> None:
    status = _load(realworld, "deployment_status/payload.json")
    status["check_run"] = {"id": 5}  # a deployment_status body also carries these
    status["workflow_run"] = {"id": 6}
    _write(tmp_path / "misc" / "status.json", status)
    _write(tmp_path / "misc" / "ping.json", {"zen": "Speak like a human.", "hook": {"id": 1}})
    _write(tmp_path / "misc" / "pr.json", {"action": "opened", "pull_request": {"id": 1}})
    _write(tmp_path / "misc" / "odd.json", {"foo": 1})
    _write(tmp_path / "star" / "s.json", {"action": "created"})
    _write(
        tmp_path / "push" / "job.json",
        _load(realworld, "workflow_job/completed.success.with-organization.payload.json"),
    )
    reading = rca.read("github", tmp_path)
    assert reading.skipped == {
        "unsupported_event:ping": 1,
        "unsupported_event:pull_request": 1,
        "unsupported_event:star": 1,
    }
    assert reading.events["source_id"].tolist() == ["deployment_status:209916254"]
    assert _with_fields(reading.rejects) == [
        (str(tmp_path / "misc" / "odd.json"), "unknown_format", None),
        # the folder says push: a job body has no ref
        (pointer(tmp_path / "push" / "job.json", "ref"), "missing", "ref"),
    ]
    forced = rca.read("github", tmp_path / "push", event="workflow_job")
    assert forced.events["source_id"].tolist() == ["workflow_job:289782451"]


# --- mapping options ------------------------------------------------------------------------


def test_severity_component_and_service_rules(realworld: Path, tmp_path: Path) -> None:
    failed = _load(realworld, "deployment_status/payload.json")
    failed["deployment_status"].update(id=1, state="failure")
    errored = copy.deepcopy(failed)
    errored["deployment_status"].update(id=2, state="error", environment="production-eu")
    _write(tmp_path / "deployment_status" / "failure.json", failed)
    _write(tmp_path / "deployment_status" / "error.json", errored)
    _write(tmp_path / "workflow_run" / "run.json", _run_body(1, conclusion="cancelled"))
    _write(tmp_path / "workflow_run" / "odd.json", _run_body(2, conclusion="mystery"))
    reading = rca.read("github", tmp_path)
    by_id = reading.events.set_index("source_id")
    assert by_id.loc["deployment_status:1", "severity"] == "high"
    assert by_id.loc["deployment_status:2", "severity"] == "high"
    assert by_id.loc["workflow_run:1:1", "severity"] == "low"
    assert by_id.loc["workflow_run:2:1", "severity"] == "low"
    assert by_id["service"].tolist() == ["Hello-World", "Hello-World", "shop", "shop"]
    assert by_id["component"].isna().all()

    ruled = rca.read(
        "github",
        tmp_path,
        severity={"error": "critical", "cancelled": "info"},
        component={"environment:production*": "payments", "workflow:CI": "build"},
        service=lambda repo: "storefront" if repo == "acme/shop" else None,
    )
    by_id = ruled.events.set_index("source_id")
    assert by_id["severity"].to_dict() == {
        "deployment_status:2": "critical",
        "deployment_status:1": "high",
        "workflow_run:2:1": "low",
        "workflow_run:1:1": "info",
    }
    assert by_id["component"].tolist() == ["payments", "payments", "build", "build"]
    assert by_id["service"].tolist() == ["Hello-World", "Hello-World", "storefront", "storefront"]


def test_a_push_without_pushed_at_uses_the_head_commit(realworld: Path, tmp_path: Path) -> None:
    body = _load(realworld, "push/with-new-branch.payload.json")
    del body["repository"]["pushed_at"]
    _write(tmp_path / "push" / "p.json", body)
    reading = rca.read("github", tmp_path)
    assert reading.events["timestamp"].tolist() == [
        dt.datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)
    ]
    ctx = Context()
    list(github.read([tmp_path], ctx))
    assert ctx.notes == {"push_time_from_head_commit": 1}


def test_drafts_and_edits_of_releases_are_skipped(realworld: Path, tmp_path: Path) -> None:
    draft = _load(realworld, "release/created.payload.json")
    draft["release"].update(id=1, draft=True)
    edited = _load(realworld, "release/published.payload.json")
    edited["action"] = "edited"
    _write(tmp_path / "release" / "draft.json", draft)
    _write(tmp_path / "release" / "edited.json", edited)
    reading = rca.read("github", tmp_path)
    assert reading.events.empty
    assert reading.skipped == {"draft_release": 1, "release_action:edited": 1}


# --- incidents ------------------------------------------------------------------------------


def _incident(realworld: Path, *labels: str, **issue: Any) -> dict[str, Any]:
    body = _load(realworld, "issues/opened.payload.json")
    body["issue"]["labels"] += [{"name": label} for label in labels]
    body["issue"].update(issue)
    return body


def _closed(body: dict[str, Any], when: str = "2019-05-15T16:00:00Z") -> dict[str, Any]:
    closed = copy.deepcopy(body)
    closed["action"] = "closed"
    closed["issue"].update(state="closed", closed_at=when, updated_at=when)
    return closed


def test_an_incident_issue_opened_then_closed_is_one_resolved_investigation(
    realworld: Path, tmp_path: Path
) -> None:
    opened = _incident(realworld, "Incident", "sev2", "P1")
    _write(tmp_path / "issues" / "1-closed.json", _closed(opened))  # sorts first, is newer
    _write(tmp_path / "issues" / "2-opened.json", opened)
    with rca.connect(tmp_path / "s.duckdb") as store:
        report = store.ingest("github", [tmp_path])
        assert report.ok
        assert report.investigations["stored"] == 1
        assert report.skipped == {"superseded": 1}
        inv = store.investigations().iloc[0]
    assert inv.id == stable_id("github", "Codertocat/Hello-World", "1")
    assert inv.title == "Spelling error in the README file"
    assert inv.description == "It looks like you accidently spelled 'commit' with two 't's."
    assert (inv.status, inv.impact_severity, inv.priority) == ("resolved", "high", "P1")
    assert inv.detected_at == inv.created_at == _stamp("2019-05-15T15:20:18Z")
    assert inv.resolved_at == _stamp("2019-05-15T16:00:00Z")
    assert list(inv.tags) == ["bug", "Incident", "sev2", "P1"]
    assert (inv.created_by, inv.assigned_to, inv.service_affected) == (
        "Codertocat",
        "Codertocat",
        "Hello-World",
    )
    assert pd.isna(inv.component_affected)


@pytest.mark.slow
def test_a_later_delivery_updates_the_investigation(realworld: Path, tmp_path: Path) -> None:
    opened = _incident(realworld, "incident")
    _write(tmp_path / "one" / "issues" / "opened.json", opened)
    _write(tmp_path / "two" / "issues" / "closed.json", _closed(opened))
    with rca.connect(tmp_path / "s.duckdb") as store:
        first = store.ingest("github", [tmp_path / "one"])
        assert first.investigations["stored"] == 1
        inv = store.investigations().iloc[0]
        assert (inv.status, inv.impact_severity, inv.priority) == ("open", "medium", "P2")
        assert pd.isna(inv.resolved_at)
        second = store.ingest("github", [tmp_path / "two"])
        assert (second.investigations["stored"], second.investigations["updated"]) == (0, 1)
        inv = store.investigations().iloc[0]
        assert inv.status == "resolved"
        assert inv.resolved_at == _stamp("2019-05-15T16:00:00Z")
        third = store.ingest("github", [tmp_path / "two"])
        assert (third.investigations["updated"], third.investigations["unchanged"]) == (0, 1)
        reopened = _closed(opened)  # GitHub keeps the old closed_at on a reopened issue
        reopened["action"] = "reopened"
        reopened["issue"].update(state="open", updated_at="2019-05-16T08:00:00Z")
        _write(tmp_path / "three" / "issues" / "reopened.json", reopened)
        fourth = store.ingest("github", [tmp_path / "three"])
        assert fourth.investigations["updated"] == 1
        inv = store.investigations().iloc[0]
        assert inv.status == "open"
        assert pd.isna(inv.resolved_at)
        assert len(store.investigations()) == 1


def test_labels_decide_incident_impact_priority_and_component(
    realworld: Path, tmp_path: Path
) -> None:
    real = _load(realworld, "issues/closed.C-Saunders-comment-when-done.json")
    real["issue"]["labels"] = [{"name": "incident: outage"}, {"name": "area/db"}]
    _write(tmp_path / "issues" / "real.json", real)
    worst = _incident(realworld, "incident", "severity:low", "SEV-1", "priority: high", "p0")
    worst["issue"]["state_reason"] = "not_planned"
    _write(tmp_path / "issues" / "worst.json", _closed(worst))
    reading = rca.read("github", tmp_path, component={"label:area/*": "database"})
    rows = reading.investigations.set_index("service_affected")
    assert rows.loc["flynn_env_test", "status"] == "resolved"
    assert rows.loc["flynn_env_test", "resolved_at"] == dt.datetime(
        2018, 11, 18, 18, 42, 8, tzinfo=UTC
    )
    assert rows.loc["flynn_env_test", "component_affected"] == "database"
    assert pd.isna(rows.loc["flynn_env_test", "impact_severity"])
    assert rows.loc["Hello-World", "status"] == "closed"  # closed as not planned
    assert rows.loc["Hello-World", "impact_severity"] == "critical"
    assert rows.loc["Hello-World", "priority"] == "P0"

    custom = rca.read(
        "github",
        tmp_path,
        incident_labels="area/*",
        impact={"area/db": "low"},
        priority=lambda label: "P3" if label == "area/db" else None,
    )
    assert custom.skipped == {"not_incident": 1}
    row = custom.investigations.iloc[0]
    assert (row.service_affected, row.impact_severity, row.priority) == (
        "flynn_env_test",
        "low",
        "P3",
    )


def test_deleted_issues_and_empty_lists_are_skipped(realworld: Path, tmp_path: Path) -> None:
    deleted = _incident(realworld, "incident")
    deleted["action"] = "deleted"
    _write(tmp_path / "issues" / "deleted.json", deleted)
    _write(tmp_path / "issues" / "none.json", [])
    reading = rca.read("github", tmp_path)
    assert reading.investigations.empty
    assert reading.skipped == {"empty_list": 1, "issue_deleted": 1}


# --- hostile input --------------------------------------------------------------------------


@pytest.mark.slow
def test_hostile_files_are_rejected_exactly_and_the_good_ones_stored(tmp_path: Path) -> None:
    folder = tmp_path / "workflow_run"
    good = _write(folder / "a_good.json", _run_body(1))
    truncated = _write(folder / "b_truncated.json", json.dumps(_run_body(2))[:150])
    listed = _write(folder / "c_list.json", {**_run_body(3), "workflow_run": [_run_body(3)]})
    garbage = folder / "d_garbage.json"
    garbage.write_bytes(bytes(range(256)) * 4)
    empty = _write(folder / "e_empty.json", "")
    _write(folder / "f_huge.json", _run_body(4, name="x" * 3_000_000))
    no_id = _write(folder / "g_no_id.json", _run_body(5, id=None))
    bad_time = _write(folder / "h_bad_time.json", _run_body(6, updated_at="yesterday"))
    scalar = _write(folder / "i_scalar.json", "42")
    null = _write(folder / "j_null.json", "null")
    array = _write(folder / "k_array.json", [1, _run_body(7)])
    _write(folder / "l_unicode.json", _run_body(8, name="デプロイ 🚀 שלום", head_branch="fix/ñ"))
    repo_text = _write(folder / "m_repo_text.json", {**_run_body(9), "repository": "acme/shop"})
    broken_body = _write(
        tmp_path / "hooks" / "n_body.json",
        {"headers": {"X-GitHub-Event": "workflow_run"}, "body": '{"action": "compl'},
    )
    headers_only = _write(
        tmp_path / "hooks" / "o_headers.json", {"headers": {"X-GitHub-Event": "push"}}
    )
    with rca.connect(tmp_path / "s.duckdb") as store:
        report = store.ingest("github", [folder, tmp_path / "hooks"])
        assert _rejects(report) == [
            (f"{truncated}:1", "bad_json"),
            (pointer(listed, "workflow_run"), "invalid_type"),
            (f"{garbage}:2", "not_utf8"),
            (f"{empty}:1", "bad_json"),
            (pointer(no_id, "workflow_run", "id"), "missing"),
            (pointer(bad_time, "workflow_run", "updated_at"), "invalid_datetime"),
            (str(scalar), "invalid_type"),
            (str(null), "invalid_type"),
            (pointer(array, 0), "invalid_type"),
            (pointer(repo_text, "repository"), "invalid_type"),
            (pointer(broken_body, "body"), "bad_json"),
            (pointer(headers_only, "payload"), "missing"),
        ]
        fields = report.rejects["field"].tolist()
        assert fields[1] == "workflow_run" and fields[4] == "workflow_run.id"
        assert report.events["stored"] == 4
        stored = store.events().set_index("source_id")
    assert sorted(stored.index) == [f"workflow_run:{n}:1" for n in (1, 4, 7, 8)]
    huge = stored.loc["workflow_run:4:1", "data"]["workflow"]
    assert len(huge) == 300 and huge.endswith("…")
    assert stored.loc["workflow_run:8:1", "data"]["workflow"] == "デプロイ 🚀 שלום"
    assert stored.loc["workflow_run:8:1", "data"]["head_branch"] == "fix/ñ"
    assert good.exists()


def test_a_value_the_store_refuses_is_reported_with_its_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "workflow_run" / "surrogate.json", "{}")
    path.write_text(json.dumps(_run_body(1, name="bad \ud800 name"), ensure_ascii=True))
    _write(tmp_path / "workflow_run" / "fine.json", _run_body(2))
    with rca.connect(tmp_path / "s.duckdb") as store:
        report = store.ingest("github", [tmp_path])
        assert report.events["stored"] == 1
        assert _with_fields(report.rejects) == [(str(path), "invalid_text", "data")]


def test_gzip_and_missing_paths(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "workflow_run" / "run.json.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(json.dumps(_run_body(1)).encode()))
    assert rca.read("github", tmp_path).events["source_id"].tolist() == ["workflow_run:1:1"]
    with pytest.raises(rca.ReaderError):
        rca.read("github", tmp_path / "nope")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "action",
                    "id",
                    "workflow_run",
                    "repository",
                    "full_name",
                    "issue",
                    "labels",
                    "updated_at",
                    "created_at",
                    "status",
                    "payload",
                    "headers",
                    "body",
                    "ref",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, folder=st.sampled_from((*github.SUPPORTED_EVENTS, "misc")))
def test_any_json_is_a_record_a_skip_or_a_reject(value: Any, folder: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / folder / "body.json"
        _write(path, json.dumps(value))
        ctx = Context()
        records = list(github.read([path], ctx))
        assert len(records) + sum(ctx.skipped.values()) + len(ctx.rejects) >= 1


# --- review findings -------------------------------------------------------------------------


def test_digits_that_are_not_ascii_are_text_not_numbers(tmp_path: Path) -> None:
    run = _run_body(1)
    run["workflow_run"]["id"] = "²"
    _write(tmp_path / "workflow_run" / "sup.json", run)
    arabic = _run_body(2)
    arabic["workflow_run"]["id"] = "١٢"
    _write(tmp_path / "workflow_run" / "arabic.json", arabic)
    with rca.connect(tmp_path / "s.duckdb") as store:
        report = store.ingest("github", tmp_path)
        assert report.ok, report.rejects
        ids = store.events()[["source_id", "data"]].values.tolist()
    assert sorted((s, d["run_id"]) for s, d in ids) == [
        ("workflow_run:²:1", "²"),
        ("workflow_run:١٢:1", "١٢"),
    ]


def _labelled(*labels: str) -> dict[str, Any]:
    return {
        "action": "opened",
        "repository": {"full_name": "acme/shop", "name": "shop"},
        "issue": {
            "number": 7,
            "title": "Checkout down",
            "created_at": "2026-03-01T10:00:00Z",
            "state": "open",
            "labels": [{"name": label} for label in labels],
        },
    }


@pytest.mark.parametrize(
    ("labels", "impact", "priority"),
    [
        (("incident", "sev٣", "p٢"), None, None),  # Arabic-Indic digits: not a level
        (("incident", "sev²", "P²"), None, None),
        (("incident", "sev3", "p2"), "medium", "P2"),
        (("incident", "SEV-7", "priority:9"), "low", "P3"),
    ],
)
def test_labels_with_unicode_digits_give_no_impact_or_priority(
    tmp_path: Path, labels: tuple[str, ...], impact: str | None, priority: str | None
) -> None:
    _write(tmp_path / "issues" / "i.json", _labelled(*labels))
    reading = rca.read("github", tmp_path)
    assert reading.rejects.empty
    [row] = reading.investigations.to_dict("records")
    assert (row.get("impact_severity"), row.get("priority")) == (impact, priority)


def test_a_payload_text_that_is_no_body_is_rejected(tmp_path: Path) -> None:
    envelope = {"headers": {"X-GitHub-Event": "workflow_run"}}
    bodies = {
        "bigint.json": '{"action": "completed", "id": ' + "9" * 5000 + "}",
        "null.json": "null",
        "list.json": "[1]",
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "good.json": json.dumps(_run_body(1)),
    }
    for name, text in bodies.items():
        _write(tmp_path / name, {**envelope, "payload": text})
    _write(tmp_path / "nulldoc.json", "null")
    report = rca.connect(tmp_path / "s.duckdb").ingest("github", tmp_path)
    assert _with_fields(report.rejects) == [
        (pointer(tmp_path / "bigint.json", "payload"), "bad_json", None),
        (pointer(tmp_path / "deep.json", "payload"), "bad_json", None),
        (pointer(tmp_path / "list.json", "payload"), "invalid_type", "payload"),
        (pointer(tmp_path / "null.json", "payload"), "invalid_type", "payload"),
        (str(tmp_path / "nulldoc.json"), "invalid_type", None),
    ]
    assert report.events["stored"] == 1


def test_service_and_component_as_names_or_rules(tmp_path: Path) -> None:
    _write(tmp_path / "workflow_run" / "run.json", _run_body(1))
    push = {
        "ref": "refs/heads/main",
        "before": "a" * 40,
        "after": "b" * 40,
        "repository": {"full_name": "acme/api", "pushed_at": 1772359200},
    }
    _write(tmp_path / "push" / "push.json", push)
    _write(tmp_path / "issues" / "i.json", _labelled("incident"))

    def picked(**options: Any) -> list[list[Any]]:
        reading = rca.read("github", tmp_path, **options)
        events = reading.events.sort_values("source_id")[["service", "component"]]
        issues = reading.investigations[["service_affected", "component_affected"]]
        rows = [*events.values.tolist(), *issues.values.tolist()]
        return [[None if pd.isna(v) else v for v in row] for row in rows]

    assert picked() == [["api", None], ["shop", None], ["shop", None]]
    assert picked(service="payments", component="web") == [["payments", "web"]] * 3
    assert picked(service={"acme/sh*": "shop-svc"}, component=lambda s: s.upper()) == [
        ["api", "REF:REFS/HEADS/MAIN"],
        ["shop-svc", "WORKFLOW:CI"],
        ["shop-svc", "LABEL:INCIDENT"],
    ]
    for option in ("service", "component", "severity", "impact", "priority"):
        with pytest.raises(rca.ReaderError, match=option):
            rca.read("github", tmp_path / "nope", **{option: 42})


# --- fuzzing: arbitrary JSON where the reader looks ------------------------------------------

_ODD_TEXT = (
    "²", "٣", "9" * 5000, "sev٣", "p²", "incident", "incident:sev1", "sev1", "P0", "completed",
    "failure", "success", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00", "0001-01-01T00:00:00Z",
    "closed", "not_planned", "deleted", "published", "refs/heads/main", "\x00", "payload=%7B%7D",
    '{"action": "completed"}', "null",
)  # fmt: skip
_KEYS = (
    "action", "id", "name", "status", "conclusion", "updated_at", "created_at", "completed_at",
    "run_attempt", "run_started_at", "repository", "full_name", "pushed_at", "labels", "state",
    "state_reason", "closed_at", "body", "title", "number", "steps", "headers", "payload",
    "environment", "head_commit", "timestamp", "published_at", "draft", "tag_name", "assignees",
    "login", "pull_requests", "workflow", "ref", "before", "after",
)  # fmt: skip
_LEAVES = fuzzing.leaves(
    _ODD_TEXT,
    (
        10**400,
        -(10**400),
        1 << 63,
        1 << 64,
        0,
        1,
    ),
)
_ANY_JSON = fuzzing.any_json(_LEAVES, _KEYS)
_REPO = {"full_name": "acme/shop", "name": "shop", "pushed_at": "2026-03-01T10:00:00Z"}
_BODIES: dict[str, dict[str, Any]] = {
    "workflow_run": _run_body(1, pull_requests=[{"number": 3}], actor={"login": "x"}),
    "workflow_job": {
        "action": "completed",
        "repository": _REPO,
        "workflow_job": {
            "id": 2, "run_id": 1, "status": "completed", "conclusion": "failure",
            "completed_at": "2026-03-01T10:00:00Z", "started_at": "2026-03-01T09:00:00Z",
            "workflow_name": "CI", "name": "test", "labels": ["ubuntu"],
            "steps": [{"name": "pytest", "conclusion": "failure", "number": 3}],
        },
    },
    "check_run": {
        "action": "completed",
        "repository": _REPO,
        "check_run": {
            "id": 3, "status": "completed", "conclusion": "timed_out", "name": "lint",
            "completed_at": "2026-03-01T10:00:00Z", "app": {"slug": "ci"},
            "check_suite": {"head_branch": "main"}, "output": {"title": "slow"},
            "pull_requests": [{"number": 4}],
        },
    },
    "push": {
        "ref": "refs/heads/main", "before": "a" * 40, "after": "b" * 40, "repository": _REPO,
        "head_commit": {
            "id": "b" * 40, "message": "fix\n\nbody", "timestamp": "2026-03-01T10:00:00Z",
        },
        "commits": [{}], "pusher": {"name": "dev"},
    },
    "deployment": {
        "repository": _REPO,
        "deployment": {
            "id": 5, "created_at": "2026-03-01T10:00:00Z", "environment": "prod", "sha": "b" * 40,
            "creator": {"login": "bot"},
        },
    },
    "deployment_status": {
        "repository": _REPO,
        "deployment_status": {"id": 6, "state": "failure", "created_at": "2026-03-01T10:00:00Z"},
        "deployment": {"id": 5, "environment": "prod"},
    },
    "release": {
        "action": "published",
        "repository": _REPO,
        "release": {"id": 7, "tag_name": "v1", "published_at": "2026-03-01T10:00:00Z"},
    },
    "issues": {
        **_labelled("incident", "sev1", "P1", "team:db"),
        "action": "closed",
    },
}  # fmt: skip
_BODIES["issues"]["issue"].update(
    state="closed",
    closed_at="2026-03-01T12:00:00Z",
    updated_at="2026-03-01T12:00:00Z",
    body="It broke.",
    assignees=[{"login": "sre"}],
    user={"login": "dev"},
)


def _mutated(data: st.DataObject, skeleton: Any, keys: tuple[str, ...]) -> Any:
    return fuzzing.mutated(data, skeleton, keys, _LEAVES)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), event=st.sampled_from(sorted(_BODIES)), form=st.integers(0, 2))
def test_arbitrary_json_in_a_body_is_read_skipped_or_rejected_never_raised(
    data: st.DataObject, event: str, form: int
) -> None:
    body: Any = _mutated(data, _BODIES[event], _KEYS)
    if form == 1:  # a delivery envelope
        body = {"headers": {"X-GitHub-Event": event}, "payload": body}
    elif form == 2:  # the body as JSON text, in a list
        body = [{"headers": {"X-GitHub-Event": event}, "payload": json.dumps(body)}]
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / event / "body.json", body)
        reading = rca.read("github", path)
    found = len(reading.events) + len(reading.investigations)
    assert found + sum(reading.skipped.values()) + len(reading.rejects) >= 1


# --- zero times -------------------------------------------------------------------------------


def test_zero_times_are_absent_and_follow_the_missing_time_rules(
    realworld: Path, tmp_path: Path
) -> None:
    push = _load(realworld, "push/with-new-branch.payload.json")
    push["repository"]["pushed_at"] = 0  # epoch seconds: unset
    _write(tmp_path / "push" / "p.json", push)
    release = _load(realworld, "release/published.payload.json")
    release["release"]["published_at"] = "0001-01-01T00:00:00Z"
    _write(tmp_path / "release" / "r.json", release)
    run = _load(realworld, "workflow_run/completed.with-pull-requests.payload.json")
    run["workflow_run"]["run_started_at"] = "0001-01-01T00:00:00Z"  # created_at stands in
    _write(tmp_path / "workflow_run" / "started.json", run)
    ended = copy.deepcopy(run)
    ended["workflow_run"]["id"] += 1
    ended["workflow_run"]["updated_at"] = "0001-01-01T00:00:00.000+00:00"
    _write(tmp_path / "workflow_run" / "ended.json", ended)
    reading = rca.read("github", tmp_path)
    assert _with_fields(reading.rejects) == [
        (
            pointer(tmp_path / "workflow_run" / "ended.json", "workflow_run", "updated_at"),
            "missing",
            "workflow_run.updated_at",
        )
    ]
    times = dict(zip(reading.events["event_type"], reading.events["timestamp"], strict=True))
    assert times["push"] == dt.datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)  # head commit
    assert times["release"] == dt.datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)  # created_at
    [build] = reading.events[reading.events["event_type"] == "build"].to_dict("records")
    assert build["data"]["duration_s"] == 25  # from created_at, 16:33:24 → 16:33:49
    assert reading.notes == {"zero_time_as_missing": 4, "push_time_from_head_commit": 1}
