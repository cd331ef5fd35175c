"""Incident metrics: hand-computed figures, definitions that say how, as-of, data quality."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import metrics

T = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


MIN = pd.Timedelta(minutes=1)


@pytest.fixture
def ids(store: rca.Store) -> dict[str, str]:
    """Seven investigations whose durations are known by hand."""
    rows = {
        # detected -> resolved 110 min; impact -> detected 10 min
        "a": {"impact_severity": "critical", "component_affected": "payments",
                  "impact_started_at": at(0), "detected_at": at(10), "started_at": at(15),
                  "mitigated_at": at(40), "resolved_at": at(120), "status": "resolved"},
        # 60 min; 30 min to detect
        "b": {"impact_severity": "critical", "component_affected": "payments",
                  "impact_started_at": at(1440), "detected_at": at(1470), "mitigated_at": at(1500),
                  "resolved_at": at(1530), "status": "closed"},
        # 20 min; no impact start
        "c": {"impact_severity": "high", "component_affected": "search",
              "detected_at": at(60 * 24 * 31), "resolved_at": at(60 * 24 * 31 + 20),
              "status": "resolved"},
        "d": {"impact_severity": "high", "component_affected": "search", "detected_at": at(2000),
                  "status": "open"},  # still open
        "e": {"impact_severity": "medium", "component_affected": "auth", "detected_at": at(3000),
                  "status": "closed"},  # closed without resolved_at
        "f": {"impact_severity": "low", "component_affected": "auth", "detected_at": at(4000),
                  "resolved_at": at(3990), "status": "resolved"},  # negative
        "g": {"impact_severity": "low", "component_affected": "auth", "detected_at": at(5000),
                  "resolved_at": at(5010), "status": "resolved"},  # deleted below
    }  # fmt: skip
    out = {}
    for name, fields in rows.items():
        created = fields["detected_at"] + dt.timedelta(minutes=2)
        out[name] = store.add_investigation({"title": name, "created_at": created, **fields}).id
    store.delete_investigation(out["g"])
    return out


def test_mttr_by_hand(store: rca.Store, ids: dict[str, str]) -> None:
    frame = metrics.mttr(store, stat=["median", "mean", "p90", "max", "min"])
    row = frame.iloc[0]
    assert row["n"] == 3  # a (110), b (60), c (20)
    assert row["median"] == 60 * MIN
    assert row["mean"] == pd.Timedelta(minutes=190 / 3).round("us")
    assert row["p90"] == 100 * MIN  # 60 + 0.8 * (110 - 60), linear interpolation
    assert (row["max"], row["min"]) == (110 * MIN, 20 * MIN)
    assert str(frame["median"].dtype).startswith("timedelta64")


def test_the_definition_says_what_was_used_and_left_out(
    store: rca.Store, ids: dict[str, str]
) -> None:
    d = metrics.mttr(store).attrs["definition"]
    assert (d.metric, d.start, d.end, d.stats, d.used) == (
        "mttr",
        "detected_at",
        "resolved_at",
        ("median",),
        3,
    )
    assert d.excluded == {
        "recorded_later": 0, "later": 0, "deleted": 1, "no_start": 0, "open": 1, "no_end": 1,
        "not_measured": 0, "negative": 1,
    }  # fmt: skip
    assert d.excluded_ids["open"] == (ids["d"],) and d.excluded_ids["negative"] == (ids["f"],)
    text = d.describe()
    for part in (
        "median of resolved_at - detected_at over 3 investigations",
        "1 still open",
        "1 closed without resolved_at",
        "1 resolved_at before detected_at",
        "1 deleted",
    ):
        assert part in text
    json.dumps(d.to_dict())  # JSON-ready


def test_grouped_by_severity_and_month(store: rca.Store, ids: dict[str, str]) -> None:
    by_sev = metrics.mttr(store, by="impact_severity").set_index("impact_severity")
    assert by_sev.loc["critical", "median"] == 85 * MIN and by_sev.loc["critical", "n"] == 2
    assert by_sev.loc["high", "median"] == 20 * MIN
    assert isinstance(by_sev.index.dtype, pd.CategoricalDtype) and by_sev.index.dtype.ordered
    monthly = metrics.mttr(store, freq="M")
    assert monthly["period"].tolist() == [
        pd.Timestamp("2026-03-01", tz="UTC"),
        pd.Timestamp("2026-04-01", tz="UTC"),
    ]
    assert monthly["n"].tolist() == [2, 1]
    assert str(monthly["period"].dtype) == "datetime64[us, UTC]"
    both = metrics.time_to(store, by=["component", "impact_severity"], stat="max")
    assert set(both.columns) == {"component_affected", "impact_severity", "n", "max"}


def test_mttd_mttm_mtta_and_any_pair_of_times(store: rca.Store, ids: dict[str, str]) -> None:
    mttd = metrics.mttd(store, stat="mean")
    assert (mttd["n"].iloc[0], mttd["mean"].iloc[0]) == (2, 20 * MIN)
    assert mttd.attrs["definition"].excluded["no_start"] >= 1  # c has no impact start
    assert metrics.mttm(store)["median"].iloc[0] == 30 * MIN  # 30 (a) and 30 (b)
    assert metrics.mtta(store)["median"].iloc[0] == 5 * MIN  # a only
    created = metrics.time_to(store, start="created_at", end="resolved_at", stat="min")
    assert created["min"].iloc[0] == 18 * MIN  # c: created 2 min after detection


def test_filters_pass_through(store: rca.Store, ids: dict[str, str]) -> None:
    frame = metrics.mttr(store, component="payments")
    assert frame["n"].iloc[0] == 2
    assert frame.attrs["definition"].filters == {"component": "payments"}


def test_as_of_recomputes_as_the_data_stood(store: rca.Store, ids: dict[str, str]) -> None:
    # b was detected at +1470 min and resolved at +1530: at +1500 it was still open.
    then = metrics.mttr(store, as_of=at(1500))
    d = then.attrs["definition"]
    assert then["n"].iloc[0] == 1 and then["median"].iloc[0] == 110 * MIN  # a only
    assert ids["b"] in d.excluded_ids["open"]
    assert ids["c"] in d.excluded_ids["recorded_later"]  # a month later
    backfilled = store.add_investigation(
        {"title": "backfill", "detected_at": at(100), "resolved_at": at(200),
         "status": "resolved", "created_at": at(3000)}
    )  # fmt: skip
    again = metrics.mttr(store, as_of=at(1500)).attrs["definition"]
    assert backfilled.id in again.excluded_ids["recorded_later"]  # not known then
    assert d.excluded["deleted"] == 0  # g was deleted now, after the as-of time: not yet
    assert d.as_of == at(1500)


def test_bad_arguments(store: rca.Store, ids: dict[str, str]) -> None:
    with pytest.raises(rca.QueryError, match="start"):
        metrics.time_to(store, start="eventually")
    with pytest.raises(rca.QueryError, match="p42"):
        metrics.mttr(store, stat="p42")
    with pytest.raises(rca.QueryError, match="freq"):
        metrics.mttr(store, by="period")
    with pytest.raises(rca.QueryError, match="no filter"):
        metrics.mttr(store, colour="red")


def test_nothing_usable_gives_an_empty_frame_with_a_definition(store: rca.Store) -> None:
    frame = metrics.mttr(store, by="component")
    assert frame.empty and list(frame.columns) == ["component_affected", "n", "median"]
    assert frame.attrs["definition"].used == 0


def test_matches_plain_pandas_on_random_data(store: rca.Store) -> None:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(200):
        detected = at(float(rng.uniform(0, 60 * 24 * 90)))
        rows.append(
            {
                "title": f"i{i}",
                "status": "resolved",
                "impact_severity": ["critical", "high", "medium", "low"][i % 4],
                "detected_at": detected,
                "resolved_at": detected + dt.timedelta(minutes=float(rng.lognormal(4, 1))),
                "created_at": detected,
            }
        )
    store.add_investigations(rows)
    ours = metrics.mttr(store, by="impact_severity", stat=["median", "p90", "mean"])
    frame = store.investigations()
    minutes = (frame["resolved_at"] - frame["detected_at"]).dt.total_seconds() / 60
    plain = minutes.groupby(frame["impact_severity"], observed=True).agg(
        ["median", lambda s: s.quantile(0.9), "mean"]
    )
    for row in ours.itertuples(index=False):
        expected = plain.loc[row.impact_severity]
        got = [row.median, row.p90, row.mean]
        assert [g.total_seconds() / 60 for g in got] == pytest.approx(list(expected), abs=1e-4)


def test_data_quality_finds_what_skews_the_figures(store: rca.Store, ids: dict[str, str]) -> None:
    ev = store.add_event(
        {"source": "ci", "event_type": "deploy", "severity": "info", "timestamp": at(0)}
    )
    store.link(ev.id, ids["a"])
    store.delete_event(ev.id)
    store.update_investigation(ids["d"], resolved_at=at(2100))  # resolved but still open
    future = store.add_investigation({"title": "typo", "detected_at": at(60 * 24 * 3650)})
    q = metrics.data_quality(store, as_of=at(60 * 24 * 365))
    found = set(zip(q["check"], q["record_id"], strict=True))
    assert ("times_out_of_order", ids["f"]) in found
    assert ("closed_without_resolved_at", ids["e"]) in found
    assert ("resolved_at_but_open", ids["d"]) in found
    assert ("times_in_the_future", future.id) in found
    assert ("orphan_links", f"{ev.id} -> {ids['a']}") in found
    assert ("no_events", ids["b"]) in found
    assert q.attrs["counts"]["orphan_links"] == 1
    assert set(q.attrs["counts"]) >= {"times_out_of_order", "no_events"}


def test_recurrence_by_component_and_by_root_cause(store: rca.Store, ids: dict[str, str]) -> None:
    rec = metrics.recurrence(store, by="component", within="2d").set_index("component_affected")
    assert rec.loc["payments", "incidents"] == 2 and rec.loc["payments", "repeats"] == 1
    assert rec.loc["payments", "median_gap"] == pd.Timedelta(minutes=1460)
    assert rec["repeats"].is_monotonic_decreasing  # most repeats first
    store.update_investigation(ids["a"], root_cause="Connection pool exhausted on payments-db")
    store.update_investigation(ids["c"], root_cause="payments-db connection pool exhausted again")
    store.update_investigation(ids["b"], root_cause="Expired TLS certificate")
    pairs = metrics.similar_root_causes(store)
    assert {pairs["a"][0], pairs["b"][0]} == {ids["a"], ids["c"]}
    assert "pool" in pairs["shared"][0]
    groups = metrics.recurrence(store, by="root_cause", within="60d")
    assert groups["incidents"].tolist() == [2]
    assert "pool" in groups["root_cause_group"][0]


def test_real_statuspage_history(realworld: Path, store: rca.Store) -> None:
    """MTTR by impact on a real status-page export, against a plain pandas computation."""
    store.ingest("statuspage", [realworld / "statuspage" / "incidents"])
    ours = metrics.mttr(store, start="started_at", by="impact_severity", stat="median")
    frame = store.investigations()
    frame = frame[frame["status"].isin(["resolved", "closed"])]
    frame = frame.dropna(subset=["started_at", "resolved_at"])
    frame = frame[frame["resolved_at"] >= frame["started_at"]]
    plain = (
        (frame["resolved_at"] - frame["started_at"])
        .groupby(frame["impact_severity"], observed=True)
        .median()
    )
    assert len(ours) == len(plain) > 0
    for row in ours.itertuples(index=False):
        assert abs((row.median - plain[row.impact_severity]).total_seconds()) < 1e-3
    assert ours["n"].sum() == len(frame)


D0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def day(d: float) -> dt.datetime:
    return D0 + dt.timedelta(days=d)


@pytest.fixture
def deploys(store: rca.Store) -> dict[str, str]:
    """Ten days: four production deploys, their commits, two incidents linked to deploys."""
    out: dict[str, str] = {}

    def add(name: str, **fields: object) -> None:
        out[name] = store.add_event({"severity": "info", **fields}).id

    add(
        "c1",
        source="git",
        event_type="commit",
        component="pay",
        source_id="a1" * 20,
        timestamp=day(0),
    )
    add(
        "c2",
        source="git",
        event_type="commit",
        component="pay",
        source_id="b2" * 20,
        timestamp=day(0.5),
    )
    add(
        "d1",
        source="ci",
        event_type="deploy",
        component="pay",
        timestamp=day(1),
        data={"environment": "production"},
    )
    add(
        "c3",
        source="git",
        event_type="commit",
        component="pay",
        source_id="c3" * 20,
        timestamp=day(2),
    )
    add("d2", source="ci", event_type="deploy", component="pay", timestamp=day(3))
    add(
        "c4",
        source="git",
        event_type="commit",
        component="web",
        source_id="d4" * 20,
        timestamp=day(4),
    )
    add("d3", source="ci", event_type="deploy", timestamp=day(4.25), data={"sha": "d4" * 20})
    add("d4", source="ci", event_type="deploy", component="search", timestamp=day(8))
    add(
        "staging",
        source="ci",
        event_type="deploy",
        component="pay",
        timestamp=day(5),
        data={"environment": "staging"},
    )
    add("gone", source="ci", event_type="deploy", component="pay", timestamp=day(6))
    store.delete_event(out["gone"])
    a = store.add_investigation(
        {
            "title": "A",
            "impact_started_at": day(1) + dt.timedelta(hours=2),
            "mitigated_at": day(1) + dt.timedelta(hours=3),
            "status": "resolved",
            "resolved_at": day(1.5),
        }
    )
    b = store.add_investigation(
        {"title": "B", "detected_at": day(6), "resolved_at": day(6.5), "status": "resolved"}
    )
    store.link(out["d1"], a.id)
    store.link(out["d2"], b.id)
    out["A"], out["B"] = a.id, b.id
    return out  # fmt: skip


def test_dora_by_hand(store: rca.Store, deploys: dict[str, str]) -> None:
    # Four deploys are too few to rate (MIN_DEPLOYS): the figures, without ratings.
    unrated = metrics.dora(store, since=day(0), until=day(10)).set_index("metric")
    assert unrated["rating"].tolist() == [None] * 4
    assert unrated["not_rated"].tolist() == ["4 deploys, needs ≥ 10"] * 4
    assert unrated.loc["deployment_frequency", "value"] == pytest.approx(0.4)
    # The bands, with the minimums lowered.
    d = metrics.dora(
        store, since=day(0), until=day(10), min_deploys=4, min_commits=4, min_recoveries=1
    ).set_index("metric")
    assert d["not_rated"].tolist() == [None] * 4
    assert d.attrs["definition"]["minimums"] == {"deploys": 4, "commits": 4, "recoveries": 1}
    assert d.loc["deployment_frequency", "value"] == pytest.approx(0.4)  # 4 in 10 days
    assert d.loc["deployment_frequency", "rating"] == "high"
    assert d.loc["lead_time", "n"] == 4  # c1, c2 by d1; c3 by d2; c4 by d3 (its sha)
    assert d.loc["lead_time", "value"] == pytest.approx(18 * 3600)  # median of 24, 12, 24, 6 h
    assert d.loc["lead_time", "rating"] == "elite"
    assert d.loc["change_failure_rate", "value"] == pytest.approx(0.25)  # d1 only, within 24 h
    assert d.loc["change_failure_rate", "rating"] == "low"
    assert d.loc["recovery_time", "value"] == pytest.approx(3 * 3600)  # d1 -> A mitigated
    assert d.loc["recovery_time", "shown"] == "3 h 00 min"  # format_duration
    assert "1 of 4 deploys" in d.loc["change_failure_rate", "definition"]
    assert d.attrs["definition"]["deploys"] == "deploy events (production)"
    failures = pd.DataFrame(d.attrs["failures"]).set_index("deploy_id")
    assert failures.loc[deploys["d2"], "delay"] == pd.Timedelta(days=3)
    assert not failures.loc[deploys["d2"], "in_window"]


@pytest.mark.slow
def test_dora_sensitivity_shows_what_the_window_decides(
    store: rca.Store, deploys: dict[str, str]
) -> None:
    s = metrics.dora_sensitivity(store, windows=["1h", "24h", "7d"], since=day(0), until=day(10))
    assert s["failed_deploys"].tolist() == [0, 1, 2]
    assert s["change_failure_rate"].tolist() == pytest.approx([0, 0.25, 0.5])
    assert s["recovery_time"].iloc[2] == pd.Timedelta(hours=43.5)  # median of 3 h and 3.5 d
    classes = pd.DataFrame(s.attrs["classification"]).set_index("investigation_id")
    assert classes.loc[deploys["A"], ["1h", "24h", "7d"]].tolist() == [False, True, True]
    assert classes.loc[deploys["B"], "7d"] and not classes.loc[deploys["B"], "24h"]


@pytest.mark.slow
def test_every_result_survives_pandas_operations_that_copy_attrs(
    store: rca.Store, deploys: dict[str, str]
) -> None:
    """attrs hold plain values: pandas compares them in concat and astype."""
    results = [
        metrics.dora(store, since=day(0), until=day(10)),
        metrics.dora_sensitivity(store, windows=["1h", "7d"], since=day(0), until=day(10)),
        metrics.mttr(store),
        metrics.data_quality(store),
        metrics.recurrence(store),
    ]
    for frame in results:
        assert frame.astype(str).shape == frame.shape
        assert len(pd.concat([frame, frame])) == 2 * len(frame)
        assert frame.copy().attrs.keys() == frame.attrs.keys()


@pytest.mark.slow
def test_dora_as_of_and_ci_runs_when_there_are_no_deploys(
    store: rca.Store, deploys: dict[str, str]
) -> None:
    before = metrics.dora(store, since=day(0), as_of=day(1) + dt.timedelta(hours=1))
    assert before.set_index("metric").loc["change_failure_rate", "value"] == 0  # A not begun
    # As it stood on day 20: the deploy deleted since still counted, and the links (made
    # today) did not exist yet.
    then = metrics.dora(store, since=day(0), until=day(10), as_of=day(20)).set_index("metric")
    assert then.loc["deployment_frequency", "n"] == 5
    assert then.loc["change_failure_rate", "value"] == 0
    store.unlink(deploys["d1"], deploys["A"])
    store.link(deploys["d1"], deploys["A"], linked_at=day(2))  # linked back then
    then = metrics.dora(store, since=day(0), until=day(10), as_of=day(20)).set_index("metric")
    assert then.loc["change_failure_rate", "value"] == pytest.approx(1 / 5)
    for name in ("d1", "d2", "d3", "d4"):
        store.delete_event(deploys[name])
    for i, branch in enumerate(["main", "main", "feature/x"]):
        store.add_event({"source": "ci", "event_type": "build", "severity": "info",
                         "timestamp": day(i + 1), "data": {"branch": branch}})  # fmt: skip
    d = metrics.dora(store, since=day(0), until=day(10))
    assert d.attrs["definition"]["deploys"].startswith("CI runs on main/master")
    assert d.set_index("metric").loc["deployment_frequency", "n"] == 2
    with pytest.raises(rca.QueryError, match="before"):
        metrics.dora(store, since=day(5), until=day(1))


@pytest.mark.parametrize("name", ["mttd", "mtta", "mttm", "mttr"])
def test_the_mtt_helpers_show_their_keywords(name: str) -> None:
    """Shift-Tab in Jupyter shows what time_to takes, with the metric's own times."""
    import inspect

    helper = inspect.signature(getattr(metrics, name)).parameters
    general = inspect.signature(metrics.time_to).parameters
    expected = ["stat", "by", "freq", "as_of", "start", "end", "same_time", "filters"]
    assert [p for p in helper if p != "store"] == expected
    for p in ("stat", "by", "freq", "as_of", "same_time"):
        assert helper[p].default == general[p].default
        assert helper[p].kind is inspect.Parameter.KEYWORD_ONLY
