"""The event linker: candidates with explained confidences, auto-linking, verdicts, quality."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import linking
from rca_analytics.linking import LinkerConfig

T = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


Scene = tuple[rca.Investigation, dict[str, str]]


def build(store: rca.Store) -> Scene:
    """One incident in payments: a deploy that caused it among look-alikes and noise."""
    inv = store.add_investigation(
        {
            "title": "Checkout 500s",
            "component_affected": "payments",
            "service_affected": "checkout-api",
            "impact_started_at": at(0),
            "detected_at": at(10),
            "resolved_at": at(60),
            "status": "in_progress",
            "tags": ["team:pay", "region:eu"],
            "root_cause": "Retry storm from commit 9f2c1ab7 (shipped in deploy-100).",
        }
    )
    ids: dict[str, str] = {}

    def add(name: str, **fields: object) -> None:
        record = {"severity": "info", "component": "payments", "service": "checkout-api"}
        record.update(fields)
        ids[name] = store.add_event(record).id

    add(
        "cause",
        source="ci",
        event_type="deploy",
        timestamp=at(-12),
        source_id="deploy-101",
        tags=["team:pay"],
    )
    add(
        "other_deploy",
        source="ci",
        event_type="deploy",
        timestamp=at(-8),
        source_id="d-102",
        component="search",
        service="search-api",
    )
    add("old_deploy", source="ci", event_type="deploy", timestamp=at(-10 * 60), source_id="d-90")
    add("late_deploy", source="ci", event_type="deploy", timestamp=at(150), source_id="d-103")
    add("fix_deploy", source="ci", event_type="deploy", timestamp=at(40), source_id="d-104")
    add("commit", source="git", event_type="commit", timestamp=at(-40), source_id="b" * 40)
    add(  # the bad commit, named in the root cause, shipped by the deploy
        "named_commit",
        source="git",
        event_type="commit",
        timestamp=at(-5 * 60),
        source_id="9f2c1ab7" + "c" * 32,
    )
    add(
        "alert",
        source="metrics",
        event_type="alert",
        severity="critical",
        timestamp=at(5),
        component=None,
        source_id="fp1",
    )
    for i in range(20):
        add(
            f"new{i}",
            source="logs",
            event_type="error",
            severity="high",
            timestamp=at(-9 + 2 * i),
            source_id=f"n{i}",
            data={
                "message": f"timeout after {i} ms",
                "template": "timeout after <*> ms",
                "fingerprint": "tpl-new",
            },
        )
    for i in range(48):
        add(
            f"bg{i}",
            source="logs",
            event_type="error",
            severity="medium",
            timestamp=at(-23 * 60 + 30 * i),
            source_id=f"b{i}",
            data={"message": "cache miss", "template": "cache miss", "fingerprint": "tpl-bg"},
        )
    return inv, ids


@pytest.fixture
def scene(store: rca.Store) -> Scene:
    return build(store)


def named(frame: pd.DataFrame, ids: dict[str, str]) -> pd.DataFrame:
    names = {v: k for k, v in ids.items()}
    return frame.assign(name=frame["event_id"].map(names)).set_index("name")


@pytest.mark.slow
def test_suggestions_rank_the_cause_and_its_symptoms_above_look_alikes(
    store: rca.Store, scene: Scene
) -> None:
    inv, ids = scene
    s = named(linking.suggest_links(store, inv.id, collapse=False), ids)
    conf = s["confidence"]
    assert s["rank"].tolist() == list(range(1, len(s) + 1))
    # Suspects (changes at or above the threshold) first, then the rest by confidence.
    suspects = s["suspect"].to_numpy()
    assert suspects.sum() >= 1 and not suspects[suspects.sum() :].any()
    assert set(s.index[suspects]) <= {"cause", "named_commit", "other_deploy", "commit"}
    assert conf[suspects].is_monotonic_decreasing and conf[~suspects].is_monotonic_decreasing
    assert conf["cause"] > max(conf["other_deploy"], conf["old_deploy"], conf["fix_deploy"])
    assert conf["cause"] > conf["commit"]
    new_errors = conf[[f"new{i}" for i in range(20)]]
    background = conf[conf.index.str.startswith("bg")]  # those within the lookback
    assert len(background) >= 20
    assert new_errors.min() > background.max()
    assert "late_deploy" not in s.index  # 90 min after resolution + after_end (1 h)
    # Five hours earlier, but named in the root cause and shipped by the deploy.
    assert conf["named_commit"] > max(conf["commit"], conf["old_deploy"], conf["other_deploy"])


@pytest.mark.slow
def test_reasons_name_the_features_and_add_up_to_the_confidence(
    store: rca.Store, scene: Scene
) -> None:
    inv, ids = scene
    s = named(linking.suggest_links(store, inv.id, collapse=False), ids)
    cause = s.loc["cause"]
    text = " | ".join(cause["reasons"])
    assert "change_before: deploy 12 min before impact start" in text
    assert "component: same component 'payments'" in text
    assert "burst: new error 'timeout after <*> ms' began 3 min later, 20 events" in text
    assert "tags: shared tags team:pay" in text
    assert "reference: the investigation names '9f2c1ab7'" in " ".join(
        s.loc["named_commit", "reasons"]
    )
    assert any(
        r.startswith("other_scope: 'search', not 'payments'")
        for r in s.loc["other_deploy", "reasons"]
    )
    weights = LinkerConfig().weights
    for name, row in s.iterrows():
        logit = weights.bias + sum(row["w_" + f] for f in linking.FEATURES)
        assert row["confidence"] == pytest.approx(1 / (1 + np.exp(-logit))), name
        shown = list(row["reasons"])
        assert len(shown) == sum(abs(row["w_" + f]) >= 0.005 for f in linking.FEATURES)


@pytest.mark.slow
def test_suggestions_carry_the_event_and_the_pairs_state(store: rca.Store, scene: Scene) -> None:
    inv, ids = scene
    store.link(ids["alert"], inv.id, reasons=["paged"])
    store.label_link(ids["commit"], inv.id, accepted=False)
    assert ids["commit"] not in set(store.suggest_links(inv.id)["event_id"])  # rejected
    s = named(linking.suggest_links(store, inv.id, include_rejected=True, collapse=False), ids)
    assert list(s.columns[:6]) == ["rank", "event_id", "confidence", "role", "suspect", "reasons"]
    assert str(s["timestamp"].dtype) == "datetime64[us, UTC]"
    assert s.loc["alert", "linked_method"] == "manual"
    assert not s.loc["commit", "accepted"]
    assert pd.isna(s.loc["cause", "accepted"]) and pd.isna(s.loc["cause", "linked_method"])
    assert s.loc["cause", "component"] == "payments"
    top = store.suggest_links(inv.id, min_confidence=0.5, limit=3)
    assert len(top) == 3 and (top["confidence"] >= 0.5).all()


@pytest.mark.slow
def test_auto_link_writes_linker_links_once_and_respects_people(
    store: rca.Store, scene: Scene
) -> None:
    inv, ids = scene
    store.link(ids["new0"], inv.id, confidence=0.9, reasons=["seen in the logs"])  # by hand
    store.label_link(ids["new1"], inv.id, accepted=False)
    report = store.auto_link(inv.id, min_confidence=0.7)
    links = {link.event_id: link for link in store.get_links(investigation_id=inv.id)}
    assert ids["cause"] in links and links[ids["cause"]].method == "linker"
    assert links[ids["cause"]].reasons[0].startswith("change_before: deploy 12 min")
    assert links[ids["new0"]].method == "manual" and links[ids["new0"]].reasons == [
        "seen in the logs"
    ]
    assert ids["new1"] not in links  # rejected stays rejected
    assert ids["other_deploy"] not in links
    assert report.stored == len(links) - 1 == len(report.links)
    assert report.linked == report.stored  # the earlier name
    assert report.unchanged >= 1 and report.skipped_rows == report.reviewed == 1
    again = store.auto_link(inv.id, min_confidence=0.7)
    assert (again.stored, again.updated) == (0, 0)
    weights = LinkerConfig().weights
    surer = store.auto_link(
        inv.id, min_confidence=0.7, config={"weights": {"component": weights.component + 1}}
    )
    assert surer.updated >= 1  # the cause's confidence and reasons were refreshed
    [cause] = list(store.get_links(event_id=ids["cause"]))
    assert cause.confidence > links[ids["cause"]].confidence
    linked = [c.detail for c in store.history(ids["cause"]) if c.action == "link"]
    assert [d["method"] for d in linked] == ["linker", "linker"]  # each write is in history
    assert linked[-1]["replaced"]["confidence"] == links[ids["cause"]].confidence
    assert linked[-1]["reasons"] == cause.reasons
    assert store.get_event(ids["cause"]).investigation_ids == [inv.id]


@pytest.mark.slow
def test_auto_link_without_an_id_takes_every_open_investigation(
    store: rca.Store, scene: Scene
) -> None:
    inv, _ = scene
    closed = store.add_investigation(
        {
            **inv.model_dump(exclude={"id", "event_ids", "related_investigation_ids"}),
            "status": "closed",
        }
    )
    report = store.auto_link(progress=False)
    assert report.investigations == 1
    assert store.get_links(investigation_id=closed.id) == []
    assert store.get_links(investigation_id=inv.id)
    assert "stored=" in repr(report) and "investigations=1" in repr(report)


@pytest.mark.slow
def test_changes_before_lists_changes_in_scope_and_flags_the_rest(
    store: rca.Store, scene: Scene
) -> None:
    inv, ids = scene
    c = named(store.changes_before(inv.id, window="6h"), ids)
    assert list(c.columns[:8]) == [
        "rank", "event_id", "confidence", "role", "suspect", "scope", "in_scope", "reasons"
    ]  # fmt: skip
    assert set(c.index) == {"cause", "other_deploy", "commit", "named_commit"}
    assert set(c.index[:2]) == {"cause", "named_commit"}  # the deploy and what it shipped
    assert (c["role"] == "change").all() and c.loc["cause", "suspect"]
    assert c["rank"].tolist() == [1, 2, 3, 4]
    assert c.loc["other_deploy", "scope"] == "other" and not c.loc["other_deploy", "in_scope"]
    assert c.loc["cause", "scope"] == "component" and c.loc["cause", "in_scope"]
    wider = named(store.changes_before(inv.id, window="1d"), ids)
    assert "old_deploy" in wider.index


@pytest.mark.slow
def test_linker_quality_counts_against_verdicts(store: rca.Store, scene: Scene) -> None:
    inv, ids = scene
    with pytest.raises(rca.QueryError, match="no reviewed links"):
        store.linker_quality()
    for name in ("cause", "new3", "alert"):
        store.label_link(ids[name], inv.id, accepted=True)
    for name in ("other_deploy", "bg40", "bg41"):
        store.label_link(ids[name], inv.id, accepted=False)
    scores = named(
        linking.suggest_links(store, inv.id, include_rejected=True, collapse=False), ids
    )["confidence"]
    q = store.linker_quality(min_confidence=0.5)
    accepted = [scores[n] >= 0.5 for n in ("cause", "new3", "alert")]
    rejected = [scores[n] >= 0.5 for n in ("other_deploy", "bg40", "bg41")]
    assert q.true_positives == sum(accepted)
    assert q.false_positives == sum(rejected)
    assert q.false_negatives == 3 - sum(accepted)
    assert q.labelled == 6
    assert q.curve["recall"].is_monotonic_increasing
    assert "precision=" in repr(q)


def test_precision_recall_by_hand() -> None:
    scores = pd.DataFrame(
        {
            "investigation_id": ["i"] * 4,
            "event_id": list("abcd"),
            "confidence": [0.9, 0.8, 0.6, 0.1],
        }
    )
    truth = pd.DataFrame({"investigation_id": ["i", "i", "j"], "event_id": ["a", "c", "z"]})
    q = linking.precision_recall(scores, truth, min_confidence=0.5)
    # predicted a, b, c; true a, c, z (z never scored: a miss)
    assert (q.true_positives, q.false_positives, q.false_negatives) == (2, 1, 1)
    assert q.precision == pytest.approx(2 / 3) and q.recall == pytest.approx(2 / 3)
    assert q.curve["threshold"].tolist() == [0.9, 0.8, 0.6, 0.1]
    assert q.curve["precision"].tolist() == pytest.approx([1, 0.5, 2 / 3, 0.5])
    labelled = linking.precision_recall(
        scores, truth.assign(accepted=[True, False, True]), min_confidence=0.5, labelled_only=True
    )
    assert (labelled.true_positives, labelled.false_positives) == (1, 1)


def test_config_is_documented_overridable_and_checked() -> None:
    config = LinkerConfig(lookback="6h", half_life=600, weights={"reference": 9})
    assert config.lookback == dt.timedelta(hours=6)
    assert config.half_life == dt.timedelta(minutes=10)
    assert config.weights.reference == 9 and config.weights.bias == LinkerConfig().weights.bias
    for field in linking.FEATURES:
        assert linking.Weights.model_fields[field].description
    for field, info in LinkerConfig.model_fields.items():
        assert info.description, field
    with pytest.raises(rca.ValidationFailed, match="nonsense"):
        LinkerConfig(weights={"nonsense": 1.0})
    with pytest.raises(rca.ValidationFailed, match="lookback"):
        LinkerConfig(lookback="soon")
    with pytest.raises(rca.ValidationFailed, match="min_confidence"):
        LinkerConfig(min_confidence=2)


@pytest.mark.slow
def test_bad_arguments_are_refused_clearly(store: rca.Store, scene: Scene) -> None:
    inv, _ = scene
    with pytest.raises(rca.NotFound):
        store.suggest_links("missing")
    with pytest.raises(rca.QueryError, match="min_confidence"):
        store.auto_link(inv.id, min_confidence=1.5)
    with pytest.raises(rca.QueryError, match="window"):
        store.changes_before(inv.id, window="-1h")
    with pytest.raises(rca.QueryError, match="config"):
        store.suggest_links(inv.id, config=3)  # type: ignore[arg-type]


@pytest.mark.slow
def test_deleted_events_are_not_candidates(store: rca.Store, scene: Scene) -> None:
    inv, ids = scene
    store.delete_event(ids["cause"])
    assert ids["cause"] not in set(store.suggest_links(inv.id)["event_id"])


@pytest.mark.slow
def test_a_read_only_store_suggests_but_does_not_link(store_path: Path) -> None:
    with rca.connect(store_path) as store:
        inv, _ids = build(store)
    with rca.connect(store_path, read_only=True) as store:
        assert len(linking.suggest_links(store, inv.id, collapse=False)) > 20
        assert len(store.suggest_links(inv.id)) < 20  # each flood one row
        with pytest.raises(rca.ReadOnlyStore):
            store.auto_link(inv.id)


def test_an_investigation_with_no_scope_or_times_still_gets_candidates(store: rca.Store) -> None:
    inv = store.add_investigation({"title": "Something is off", "created_at": at(0)})
    ev = store.add_event(
        {"source": "ci", "event_type": "deploy", "severity": "info", "timestamp": at(-5)}
    )
    s = store.suggest_links(inv.id)
    assert s["event_id"].tolist() == [ev.id]
    assert "before creation" in s["reasons"][0][0]


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_any_investigation_text_is_only_text(store: rca.Store, text: str) -> None:
    """References are read from free text: nothing in it reaches SQL as SQL."""
    tokens = linking.reference_tokens(text)
    assert all(len(t) >= 6 for t in tokens)
    inv = store.add_investigation({"title": "x", "root_cause": text.replace("\x00", "")})
    store.suggest_links(inv.id)


def test_reference_tokens_find_ids_not_words() -> None:
    text = "Deploy deploy-4711 of acme/shop@1a2b3c4d broke it; build #987654, not 'retries'."
    assert linking.reference_tokens(text) >= {"deploy-4711", "1a2b3c4d", "987654"}
    assert "retries" not in linking.reference_tokens(text)


def test_the_documented_defaults_are_the_defaults() -> None:
    """docs/linking.md lists every feature with its current default weight."""
    doc = (Path(__file__).parents[1] / "docs" / "linking.md").read_text()
    weights = LinkerConfig().weights
    for name in ("bias", *linking.FEATURES):
        assert f"| `{name}` | {getattr(weights, name):+.1f} |" in doc, name


_KINDS = {
    "deploy": ("ci", "deploy", "info"),
    "build": ("ci", "build", "info"),
    "commit": ("git", "commit", "info"),
    "error": ("logs", "error", "high"),
}


def incident(store: rca.Store, **fields: object) -> rca.Investigation:
    """An investigation of component 'pay' whose impact starts at T."""
    return store.add_investigation(
        {"title": "x", "component_affected": "pay", "impact_started_at": at(0), **fields}
    )


def event(store: rca.Store, kind: str, minutes: float, **fields: object) -> rca.Event:
    """An event of ``kind`` (see _KINDS) in component 'pay', ``minutes`` after T."""
    source, event_type, severity = _KINDS[kind]
    return store.add_event(
        {"source": source, "event_type": event_type, "severity": severity,
         "component": "pay", "timestamp": at(minutes), **fields}
    )  # fmt: skip


def test_one_sided_scope_and_a_change_elsewhere(store: rca.Store) -> None:
    """An investigation naming only a component; a change in another one (no crash)."""
    inv = incident(store)
    ev = event(store, "deploy", -10, component="search")
    c = store.changes_before(inv.id)
    assert c["event_id"].tolist() == [ev.id] and c["scope"].tolist() == ["other"]
    assert "other_scope: 'search', not 'pay'" in " ".join(c["reasons"][0])


def test_an_open_incident_ends_after_detection_not_at_creation(store: rca.Store) -> None:
    inv = incident(store, impact_started_at=None, detected_at=at(0),
                   created_at=at(60 * 24 * 30))  # fmt: skip
    late = event(store, "error", 60 * 24 * 10)
    assert late.id not in set(store.suggest_links(inv.id)["event_id"])


@pytest.mark.slow
def test_reviewed_pairs_do_not_change_the_other_pairs_scores(store: rca.Store) -> None:
    inv = incident(store)
    data = {"message": "boom", "template": "boom", "fingerprint": "t1"}
    errors = [event(store, "error", m, data=data).id for m in (1, 2, 3, 4)]
    old = event(store, "error", -4 * 24 * 60, data=data)
    before = linking.suggest_links(store, inv.id, collapse=False).set_index("event_id")[
        "confidence"
    ]
    store.link(old.id, inv.id)  # by hand: a labelled pair far outside the window
    store.label_link(errors[0], inv.id, accepted=True)
    scores = linking.score_links(
        store,
        [inv.id],
        pairs=pd.DataFrame({"investigation_id": [inv.id] * 2, "event_id": [errors[0], old.id]}),
    ).set_index("event_id")["confidence"]
    assert scores[errors[0]] == pytest.approx(before[errors[0]])


def test_a_commit_is_shipped_by_a_deploy_without_a_source_id(store: rca.Store) -> None:
    inv = incident(store)
    commit = event(store, "commit", -60)
    deploy = event(store, "deploy", -10)
    s = store.suggest_links(inv.id).set_index("event_id")
    assert f"shipped: shipped by '{deploy.id}'" in " ".join(s.loc[commit.id, "reasons"])


@pytest.mark.slow
def test_only_a_link_by_hand_overrides_a_rejection(store: rca.Store, scene: Scene) -> None:
    inv, ids = scene
    store.label_link(ids["cause"], inv.id, accepted=False)
    with pytest.raises(rca.ValidationFailed, match="rejected_by_review"):
        store.link(ids["cause"], inv.id, method="rule")
    assert len(store.reviews()) == 1
    store.link(ids["cause"], inv.id)  # method manual
    assert store.reviews().empty
    assert any("overrides_review" in c.detail for c in store.history(inv.id))


def test_numbers_are_not_shas_and_weights_are_finite(store: rca.Store) -> None:
    inv = incident(store, title="p99 hit 2500000 us")
    build = event(store, "build", -90 * 24 * 60, source_id="25000001", component=None)
    assert build.id not in set(store.suggest_links(inv.id)["event_id"])
    with pytest.raises(rca.ValidationFailed, match="reference"):
        LinkerConfig(weights={"reference": float("nan")})


def test_environment_tags_in_any_case_are_not_production(store: rca.Store) -> None:
    inv = incident(store)
    ev = event(store, "deploy", -5, tags=["ENV:Staging"])
    reasons = store.suggest_links(inv.id).set_index("event_id").loc[ev.id, "reasons"]
    assert any(r.startswith("non_production") for r in reasons)


@pytest.mark.slow
def test_a_verdict_straight_from_a_dataframe(store: rca.Store, scene: Scene) -> None:
    inv, ids = scene
    verdict = pd.Series([True])[0]  # numpy.bool_
    assert store.label_link(ids["cause"], inv.id, accepted=verdict).accepted is True


def test_names_compare_in_any_case_and_spacing(store: rca.Store) -> None:
    inv = store.add_investigation(
        {"title": "Checkout 500s", "component_affected": "Payments ",
         "service_affected": "Checkout  API", "impact_started_at": at(0)}
    )  # fmt: skip
    deploy = store.add_event(
        {"source": "ci", "event_type": "deploy", "severity": "info", "timestamp": at(-10),
         "component": "payments", "service": "checkout api"}
    )  # fmt: skip
    log = store.add_event(  # no change: a candidate only by its scope
        {"source": "logs", "event_type": "error", "severity": "high", "timestamp": at(2),
         "component": "PAYMENTS", "service": None}
    )  # fmt: skip
    rows = linking.suggest_links(store, inv.id, collapse=False).set_index("event_id")
    assert rows.loc[deploy.id, "w_component"] > 0 and rows.loc[log.id, "w_component"] > 0
    assert any(r.startswith("component: same component") for r in rows.loc[deploy.id, "reasons"])
    assert rows.loc[deploy.id, "w_other_scope"] == 0
