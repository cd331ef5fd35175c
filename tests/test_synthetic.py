"""The synthetic history generator: deterministic, loadable, labelled, and noisy."""

from __future__ import annotations

import dataclasses
import itertools
import re
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import Event, Investigation
from rca_analytics.ingest._logformats import template
from rca_analytics.ingest.alerts import fingerprint
from rca_analytics.synthetic import KINDS, START, HistorySettings, SyntheticHistory, history

CHANGES = ["commit", "build", "test_run", "deploy", "config_change"]


@pytest.fixture(scope="module")
def h() -> SyntheticHistory:
    return history()


@pytest.fixture(scope="module")
def truth_keys(h: SyntheticHistory) -> set[tuple[str, str]]:
    return set(zip(h.truth["event_id"], h.truth["investigation_id"], strict=True))


def _in_truth(h: SyntheticHistory) -> pd.Series:
    return h.events["id"].isin(h.truth["event_id"])


def _env(ev: pd.DataFrame) -> pd.Series:
    return ev["data"].map(lambda d: d.get("environment"))


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.slow
def test_same_seed_same_frames_other_seed_other_frames(h: SyntheticHistory) -> None:
    again = history(HistorySettings(seed=7))
    for name in ("events", "investigations", "truth", "incidents", "noise"):
        pd.testing.assert_frame_equal(getattr(h, name), getattr(again, name))
    assert again.clock_skew == h.clock_skew
    other = history(seed=8)
    assert not set(other.events["id"]) & set(h.events["id"])
    assert len(other.events) != len(h.events)
    assert other.truth["event_id"].isin(other.events["id"]).all()


def test_keyword_settings_override_and_validation() -> None:
    small = history(HistorySettings(seed=7), days=5, incidents=3)
    assert small.settings == HistorySettings(seed=7, days=5, incidents=3)
    assert small.settings.replace(days=6).days == 6
    with pytest.raises(ValueError, match="add up to 1"):
        HistorySettings(deploy_share=0.9)
    with pytest.raises(ValueError, match="days"):
        history(days=1)
    with pytest.raises(ValueError, match="seed"):
        HistorySettings(seed=-1)
    with pytest.raises(ValueError, match="near_miss_changes"):
        HistorySettings(near_miss_changes=-1)
    with pytest.raises(ValueError, match="open_share"):
        HistorySettings(open_share=1.5)


def test_every_setting_is_documented() -> None:
    doc = HistorySettings.__doc__ or ""
    for f in dataclasses.fields(HistorySettings):
        assert re.search(rf"^\s+{f.name}: \S", doc, re.M), f.name


# --- shape: what the store and the models accept ----------------------------------------------


@pytest.mark.slow
def test_events_frame_has_event_fields_and_aware_times(h: SyntheticHistory) -> None:
    ev = h.events
    assert set(ev.columns) <= set(Event.model_fields)
    assert ev["timestamp"].dtype == "datetime64[us, UTC]"
    assert ev["timestamp"].is_monotonic_increasing
    skew = pd.Timedelta(seconds=max(abs(v) for v in h.clock_skew.values()))
    end = START + pd.Timedelta(days=h.settings.days)
    assert ev["timestamp"].min() >= START - skew
    assert ev["timestamp"].max() <= end + skew
    assert ev["id"].is_unique
    assert all(uuid.UUID(i).version == 4 for i in ev["id"].iloc[::97])
    assert not ev[["source", "source_id"]].duplicated().any()
    assert ev["source_id"].notna().all()
    assert set(ev["source"]) == {"git", "ci", "logs", "metrics", "traces", "manual"}
    assert set(ev["severity"]) <= {"critical", "high", "medium", "low", "info"}
    tags = ev["tags"].tolist()
    assert all(len(t) == len(set(t)) for t in tags)
    assert ev["data"].map(lambda d: isinstance(d, dict) and bool(d)).all()


@pytest.mark.slow
def test_vocabulary_matches_the_readers(h: SyntheticHistory) -> None:
    ev = h.events
    commits = ev[ev["event_type"] == "commit"]
    assert commits["source_id"].str.fullmatch(r"[0-9a-f]{40}").all()
    assert (commits["source_id"] == commits["data"].map(lambda d: d["sha"])).all()
    builds = ev[ev["event_type"] == "build"]
    assert builds["source_id"].str.fullmatch(r"build-\d+").all()
    assert set(builds["data"].map(lambda d: d["status"])) == {"success", "failure"}
    deploys = ev[ev["event_type"] == "deploy"]
    assert deploys["source_id"].str.fullmatch(r"deploy-\d+").all()
    assert (
        deploys["data"].map(lambda d: {"version", "sha", "environment", "service"} <= set(d)).all()
    )
    # every deploy's sha that was committed in the window ships a commit of its service
    shas = dict(zip(commits["source_id"], commits["component"], strict=True))
    shipped = deploys["data"].map(lambda d: shas.get(d["sha"]))
    known = shipped.notna()
    assert known.mean() > 0.9
    assert (shipped[known] == deploys["component"][known]).all()
    configs = ev[ev["event_type"] == "config_change"]
    assert set(configs["source"]) == {"manual", "ci"}
    assert configs["data"].map(lambda d: {"key", "old", "new"} <= set(d)).all()
    # logs: the same template and fingerprint the logs reader computes
    logs = ev[ev["source"] == "logs"].sample(3000, random_state=0)
    assert (logs["data"].map(lambda d: template(d["message"]) == d["template"])).all()
    assert logs["data"].map(lambda d: re.fullmatch(r"[0-9a-f]{16}", d["fingerprint"])).all()
    assert set(ev.loc[ev["source"] == "logs", "event_type"]) == {"error", "warning"}
    # alerts: Alertmanager fingerprints of their labels, keyed by fingerprint:startsAt
    alerts = ev[ev["event_type"] == "alert"]
    for _, a in alerts.iloc[::23].iterrows():
        d = a["data"]
        assert d["fingerprint"] == fingerprint(d["labels"])
        assert d["status"] in {"firing", "resolved"}
        starts = a["timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert a["source_id"] == f"{d['fingerprint']}:{starts}"
    spans = ev[ev["event_type"] == "span_error"]
    assert (spans["source"] == "traces").all()
    assert spans["source_id"].str.fullmatch(r"[0-9a-f]{32}:[0-9a-f]{16}").all()


@pytest.mark.slow
def test_component_and_service_are_set_as_sources_set_them(h: SyntheticHistory) -> None:
    ev = h.events
    deploys = ev[ev["event_type"] == "deploy"]
    assert deploys["component"].notna().all() and deploys["service"].notna().all()
    commits = ev[ev["event_type"] == "commit"]
    assert commits["component"].notna().all()
    assert 0.2 < commits["service"].notna().mean() < 0.7
    alerts = ev[ev["event_type"] == "alert"]
    assert alerts["service"].notna().mean() > 0.9
    assert 0.05 < alerts["component"].notna().mean() < 0.5
    neither = ev["component"].isna() & ev["service"].isna()
    assert neither.sum() > 100
    tags = set(ev["tags"].explode().dropna())
    assert {"env:prod", "env:staging", "deploy", "config", "error", "warning"} <= tags
    assert {t.split(":")[0] for t in tags if ":" in t} == {"env", "region", "team"}


@pytest.mark.slow
def test_investigations_are_valid_and_times_ordered(h: SyntheticHistory) -> None:
    inv = h.investigations
    assert set(inv.columns) <= set(Investigation.model_fields)
    assert "event_ids" not in inv.columns
    assert len(inv) == h.settings.incidents == len(h.incidents)
    assert (inv["id"] == h.incidents["investigation_id"]).all()
    for col in ("root_cause", "remediation", "lessons_learned", "description"):
        assert inv[col].dropna().str.len().max() <= 2000
    order = ["impact_started_at", "detected_at", "started_at", "mitigated_at", "resolved_at"]
    for a, b in itertools.pairwise(order):
        both = inv[a].notna() & inv[b].notna()
        assert (inv.loc[both, a] <= inv.loc[both, b]).all(), (a, b)
    assert inv["detected_at"].notna().all()
    lag = inv["detected_at"] - inv["impact_started_at"]
    assert lag.min() >= pd.Timedelta(minutes=1) and lag.max() > pd.Timedelta(minutes=30)
    assert (inv["mitigated_at"] > inv["detected_at"]).sum() > 0.8 * len(inv)


# --- loading ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_loads_into_a_store_file_without_rejects(h: SyntheticHistory, tmp_path: Path) -> None:
    with rca.connect(tmp_path / "x.duckdb") as store:
        r = store.add_events(h.events, progress=False)
        assert r.rejected.empty
        assert r.stored == len(h.events)
        ri = store.add_investigations(h.investigations)
        assert ri.rejected.empty and ri.stored == len(h.investigations)
        stored = store.events(since=START, until=START + pd.Timedelta(days=1))
        mine = h.events[h.events["id"].isin(stored["id"])]
        assert len(mine) == len(stored) > 0
        one = h.truth.iloc[0]
        store.link(
            one["event_id"], one["investigation_id"], confidence=1.0, reasons=[one["detail"]]
        )
        assert store.get_investigation(one["investigation_id"]).event_ids == [one["event_id"]]


# --- truth ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_truth_ids_exist_and_roles_are_valid(h: SyntheticHistory) -> None:
    tr = h.truth
    assert list(tr.columns) == ["event_id", "investigation_id", "role", "detail"]
    assert tr["event_id"].isin(h.events["id"]).all()
    assert tr["investigation_id"].isin(h.investigations["id"]).all()
    assert set(tr["role"]) == {"cause", "symptom"}
    assert not tr[["event_id", "investigation_id"]].duplicated().any()
    assert tr["detail"].str.len().gt(10).all()
    kinds = h.events.set_index("id").loc[tr["event_id"], "event_type"].to_numpy()
    assert set(kinds[tr["role"] == "cause"]) == {"deploy", "commit", "config_change"}
    assert set(kinds[tr["role"] == "symptom"]) == {"error", "warning", "alert", "span_error"}


@pytest.mark.slow
def test_every_change_caused_incident_has_its_change_as_cause(h: SyntheticHistory) -> None:
    ev = h.events.set_index("id")
    for _, inc in h.incidents.iterrows():
        mine = h.truth[h.truth["investigation_id"] == inc["investigation_id"]]
        causes = ev.loc[mine.loc[mine["role"] == "cause", "event_id"]]
        if inc["kind"] == "no_change":
            assert causes.empty
            continue
        types = sorted(causes["event_type"])
        if inc["cause_type"] == "deploy":
            assert types == ["commit", "deploy"]
            deploy = causes[causes["event_type"] == "deploy"].iloc[0]
            commit = causes[causes["event_type"] == "commit"].iloc[0]
            assert deploy["data"]["environment"] == "production"
            assert commit["timestamp"] < deploy["timestamp"]
            assert commit["component"] == deploy["component"] == inc["cause_component"]
        else:
            assert types == ["config_change"]
        assert (causes["service"].dropna() == inc["cause_service"]).all()
        impact = inc["impact_at"]
        assert (causes["timestamp"] < impact).all()
        assert (causes["timestamp"] > impact - pd.Timedelta(days=4)).all()


# --- the noise the linker must see through -------------------------------------------------------


def test_incident_kinds_in_their_shares(h: SyntheticHistory) -> None:
    s = h.settings
    counts = h.incidents["kind"].value_counts()
    wanted = (s.deploy_share, s.config_share, s.upstream_share, s.no_change_share)
    shares = dict(zip(KINDS, wanted, strict=True))
    for kind, share in shares.items():
        assert abs(counts.get(kind, 0) - share * s.incidents) <= 1, kind
    assert h.summary()["incidents_by_kind"] == {k: int(counts.get(k, 0)) for k in KINDS}


@pytest.mark.slow
def test_no_change_incidents_have_symptoms_only(h: SyntheticHistory) -> None:
    none = h.incidents.loc[h.incidents["kind"] == "no_change", "investigation_id"]
    assert len(none) >= 10
    mine = h.truth[h.truth["investigation_id"].isin(none)]
    assert set(mine["role"]) == {"symptom"}
    assert mine["investigation_id"].nunique() >= len(none) - 1


def test_upstream_incidents_are_caused_in_another_service(h: SyntheticHistory) -> None:
    ev = h.events.set_index("id")
    causes = h.truth[h.truth["role"] == "cause"]
    causes = causes[
        ev.loc[causes["event_id"], "event_type"].isin(["deploy", "config_change"]).to_numpy()
    ]
    cause_service = ev.loc[causes["event_id"], "service"].to_numpy()
    named = (
        h.investigations.set_index("id").loc[causes["investigation_id"], "service_affected"]
    ).to_numpy()
    elsewhere = set(causes.loc[cause_service != named, "investigation_id"])
    upstream = set(h.incidents.loc[h.incidents["kind"] == "upstream", "investigation_id"])
    assert elsewhere == upstream
    assert len(upstream) >= 5


def test_most_changes_caused_nothing(h: SyntheticHistory) -> None:
    ev = h.events
    changes = ev["event_type"].isin(CHANGES)
    innocent = changes & ~_in_truth(h)
    assert innocent.sum() > 40 * (changes & _in_truth(h)).sum()
    deploys = ev[ev["event_type"] == "deploy"]
    staging = deploys[_env(deploys) == "staging"]
    assert len(staging) > 100
    assert not staging["id"].isin(h.truth["event_id"]).any()
    assert h.summary()["noise"]["staging_deploys"] == len(staging)


@pytest.mark.slow
def test_innocent_changes_just_before_incidents(h: SyntheticHistory) -> None:
    """Bad luck timing: most incidents have an innocent change of theirs in the 3 h before."""
    ev = h.events
    innocent = ev[ev["event_type"].isin(CHANGES) & ~_in_truth(h)]
    hits = 0
    for _, inc in h.incidents.iterrows():
        t = inc["impact_at"]
        near = innocent[
            (innocent["timestamp"] < t)
            & (innocent["timestamp"] > t - pd.Timedelta(hours=3))
            & (
                (innocent["service"] == inc["service"])
                | (innocent["component"] == inc["component"])
            )
        ]
        hits += not near.empty
    assert hits > 0.6 * len(h.incidents)
    near_miss = h.noise[h.noise["kind"] == "near_miss_change"]
    assert not near_miss["event_id"].isin(h.truth["event_id"]).any()


def test_steady_background_errors_with_recurring_templates(h: SyntheticHistory) -> None:
    ev = h.events
    logs = ev[(ev["source"] == "logs") & ~_in_truth(h) & ev["component"].notna()]
    errors = logs[logs["event_type"] == "error"]
    assert set(errors["component"]) == set(
        ev["component"].dropna()
    )  # every component has its background
    per_day = errors.groupby(errors["timestamp"].dt.floor("D")).size()
    assert len(per_day) >= h.settings.days
    assert per_day.std() / per_day.mean() < 0.3  # steady
    fps = logs["data"].map(lambda d: d["fingerprint"])
    recurring = fps.groupby(logs["component"]).agg(
        lambda f: f.value_counts().iloc[:8].sum() / len(f)
    )
    assert recurring.median() > 0.9  # a fixed small set of templates per component


@pytest.mark.slow
def test_background_errors_during_incidents_are_not_truth(h: SyntheticHistory) -> None:
    ev = h.events
    logs = ev[(ev["source"] == "logs") & ~_in_truth(h)]
    inv = h.investigations.set_index("id")
    during = 0
    for _, inc in h.incidents.iterrows():
        end = inv.loc[inc["investigation_id"], "mitigated_at"]
        if pd.isna(end):
            continue
        window = logs[
            (logs["timestamp"] >= inc["impact_at"])
            & (logs["timestamp"] <= end)
            & (logs["component"] == inc["component"])
        ]
        during += not window.empty
    assert during > 0.4 * len(h.incidents)


@pytest.mark.slow
def test_symptom_floods_are_new_templates(h: SyntheticHistory) -> None:
    ev = h.events.set_index("id")
    logs = h.events[h.events["source"] == "logs"]
    new = 0
    for _, inc in h.incidents.iterrows():
        mine = h.truth[h.truth["investigation_id"] == inc["investigation_id"]]
        sym = ev.loc[mine.loc[mine["role"] == "symptom", "event_id"]]
        flood = sym[(sym["source"] == "logs") & (sym["service"] == inc["service"])]
        if flood.empty:
            continue
        assert len(flood) >= 10
        fps = set(flood["data"].map(lambda d: d["fingerprint"]))
        before = logs[
            (logs["service"] == inc["service"])
            & (logs["timestamp"] < flood["timestamp"].min())
            & (logs["timestamp"] > flood["timestamp"].min() - pd.Timedelta(days=1))
        ]
        new += not (set(before["data"].map(lambda d: d["fingerprint"])) & fps)
    assert new >= 0.85 * len(h.incidents)


def test_unrelated_error_floods(h: SyntheticHistory) -> None:
    floods = h.noise[h.noise["kind"] == "error_flood"]
    assert len(floods) >= 3
    logs = h.events[(h.events["source"] == "logs") & ~_in_truth(h)]
    for _, f in floods.iterrows():
        burst = logs[
            (logs["timestamp"] >= f["start"] - pd.Timedelta(minutes=5))
            & (logs["timestamp"] <= f["end"] + pd.Timedelta(minutes=5))
            & (logs["service"] == f["services"])
        ]
        top = burst["data"].map(lambda d: d["fingerprint"]).value_counts()
        assert top.iloc[0] >= 0.9 * f["events"]


def test_alert_storms_across_services_are_not_truth(h: SyntheticHistory) -> None:
    alerts = h.events[(h.events["event_type"] == "alert") & ~_in_truth(h)]
    t = alerts["timestamp"].dt.tz_localize(None).to_numpy()
    ahead = np.searchsorted(t, t + np.timedelta64(10, "m")) - np.arange(len(t))
    storms = np.flatnonzero(ahead >= 15)
    assert len(storms) > 0
    first = storms[0]
    window = alerts.iloc[first : first + int(ahead[first])]
    assert window["service"].nunique() >= 3
    assert h.summary()["noise"]["alert_storms"] >= 1


@pytest.mark.slow
def test_clock_skew_shifts_logs_metrics_and_traces() -> None:
    skewed = history(days=6, incidents=3, max_clock_skew_s=240)
    exact = history(days=6, incidents=3, max_clock_skew_s=0)
    assert set(exact.clock_skew.values()) == {0.0}
    assert all(80 <= abs(v) <= 240 for v in skewed.clock_skew.values())
    for source in ("git", "ci", "manual", "logs", "metrics", "traces"):
        a = skewed.events.loc[skewed.events["source"] == source, "timestamp"].sort_values()
        b = exact.events.loc[exact.events["source"] == source, "timestamp"].sort_values()
        shift = (a.to_numpy() - b.to_numpy()).astype("timedelta64[us]")
        expected = np.timedelta64(round(skewed.clock_skew.get(source, 0.0) * 1e6), "us")
        assert (np.abs(shift - expected) <= np.timedelta64(1, "us")).all(), source


@pytest.mark.slow
def test_root_causes_name_the_culprit_sometimes(h: SyntheticHistory) -> None:
    ev = h.events.set_index("id")
    inv = h.investigations.set_index("id")
    modes = h.incidents.set_index("investigation_id")["root_cause_mode"]
    builds = h.events[h.events["event_type"] == "build"]
    seen = set()
    for inv_id, mode in modes.dropna().items():
        text = inv.loc[inv_id, "root_cause"]
        assert isinstance(text, str) and text
        mine = h.truth[(h.truth["investigation_id"] == inv_id) & (h.truth["role"] == "cause")]
        causes = ev.loc[mine["event_id"]]
        ids = set(causes["source_id"]) | {str(d.get("sha", "")) for d in causes["data"]}
        built = builds["data"].map(lambda d: d["sha"]).isin(ids)
        ids |= set(builds.loc[built, "source_id"])  # the culprit's build id
        ids.discard("")
        shas = {i for i in ids if re.fullmatch(r"[0-9a-f]{40}", i)}
        named_full = any(i in text for i in ids)
        named_short = any(s[:7] in text for s in shas)
        seen.add(mode)
        if mode == "id":
            assert named_full, text
        elif mode == "short":
            keys = {str(d.get("key")) for d in causes["data"]}
            assert named_short or any(k in text for k in keys), text
        elif mode == "words":
            assert not named_full and not named_short, text
            assert not re.search(r"\b[0-9a-f]{7,40}\b", text), text
        elif mode == "red_herring":
            herring = h.incidents.set_index("investigation_id").loc[inv_id, "herring_sha"]
            assert herring[:7] in text
            assert herring not in set(causes["source_id"])
            assert herring in set(h.events.loc[h.events["event_type"] == "commit", "source_id"])
    assert seen == {"id", "short", "words", "red_herring"}


def test_some_incidents_open_and_some_without_impact_start(h: SyntheticHistory) -> None:
    inv = h.investigations
    still = inv[inv["status"].isin(["open", "in_progress"])]
    assert len(still) >= 3
    assert still["resolved_at"].isna().all() and still["root_cause"].isna().all()
    done = inv[inv["status"].isin(["resolved", "closed"])]
    assert done["resolved_at"].notna().all() and done["root_cause"].notna().all()
    missing = inv["impact_started_at"].isna().mean()
    assert 0.1 < missing < 0.4


def test_summary_counts_add_up(h: SyntheticHistory) -> None:
    s = h.summary()
    assert s["events"] == len(h.events) == sum(s["events_by_source"].values())
    assert sum(s["events_by_type"].values()) == s["events"]
    assert s["truth"] == sum(s["truth_by_role"].values()) == len(h.truth)
    assert s["investigations"] == sum(s["investigations_by_status"].values())
    assert s["noise"]["error_floods"] >= 1 and s["noise"]["near_miss_changes"] > 0
    assert "60 days" in repr(h)


# --- size ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_scaled_settings_reach_the_requested_size() -> None:
    s = HistorySettings.scaled(events=150_000, incidents=150, days=90)
    assert s.incidents == 150 and s.days == 90
    big = history(s)
    assert abs(len(big.events) - 150_000) < 0.05 * 150_000
    assert len(big.investigations) == 150
    with pytest.raises(ValueError, match="incidents alone"):
        HistorySettings.scaled(events=1_000, incidents=1_000)


@pytest.mark.slow
def test_a_million_events() -> None:
    """The size of the linker benchmark (timings live in bench/bench_linking.py)."""
    big = history(HistorySettings.scaled(events=1_000_000, incidents=1_000))
    assert abs(len(big.events) - 1_000_000) < 30_000
    assert len(big.investigations) == 1_000
    assert big.truth["event_id"].isin(big.events["id"]).all()
    assert big.events["id"].is_unique
    assert not big.events[["source", "source_id"]].duplicated().any()
