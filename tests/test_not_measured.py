"""Never a number that was not measured: times written together, n everywhere, no thin ratings.

A status page stamps impact start, detection and acknowledgement in one write (8 ms
apart): the difference is no time to detect. DORA over two deploys is no rating.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import metrics, report

T = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)
MIN = dt.timedelta(minutes=1)
RATINGS = re.compile(r"\b(elite|high|medium|low)\b")


def at(minutes: float) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


def incident(store: rca.Store, title: str, impact: dt.datetime, detected: dt.datetime,
             started: dt.datetime, resolved: dt.datetime, **fields: object) -> str:  # fmt: skip
    return store.add_investigation(
        {"title": title, "status": "resolved", "impact_started_at": impact,
         "detected_at": detected, "started_at": started, "resolved_at": resolved,
         "created_at": detected, **fields}
    ).id  # fmt: skip


@pytest.fixture
def mixed(store: rca.Store) -> dict[str, str]:
    """Two incidents measured by people, three whose source wrote the times together."""
    return {
        # impact -> detected 10 min, detected -> started 5 min
        "measured_a": incident(store, "a", at(0), at(10), at(15), at(70), component_affected="pay"),
        # 20 min, 10 min
        "measured_b": incident(store, "b", at(100), at(120), at(130), at(200),
                               component_affected="pay"),
        # a status page: one write, a few ms apart
        "page_1": incident(store, "p1", at(300), at(300) + 8 * MS, at(300) + 45 * MS, at(360),
                           component_affected="web"),
        "page_2": incident(store, "p2", at(400), at(400), at(400), at(430),
                           component_affected="web"),  # exactly equal
        "page_3": incident(store, "p3", at(500), at(500) + 999 * MS, at(502), at(540),
                           component_affected="web"),  # 0.999 s: together; started 2 min on
    }  # fmt: skip


def test_times_written_together_are_left_out_with_their_reason(
    store: rca.Store, mixed: dict[str, str]
) -> None:
    frame = metrics.mttd(store, stat=["median", "min", "mean"])
    assert frame["n"].tolist() == [2]  # not 5, and no 8 ms figure
    assert frame["min"].iloc[0] == 10 * MIN and frame["median"].iloc[0] == 15 * MIN
    d = frame.attrs["definition"]
    assert d.used == 2 and d.excluded["not_measured"] == 3
    assert set(d.excluded_ids["not_measured"]) == {
        mixed["page_1"],
        mixed["page_2"],
        mixed["page_3"],
    }
    assert d.same_time == dt.timedelta(seconds=1) == metrics.SAME_TIME
    assert d.not_measured is None  # there is a figure
    assert (
        "median, min, mean of detected_at - impact_started_at over 2 investigations "
        "(3 not measured: detected_at written together with impact_started_at, at most 1 s apart)"
    ) in d.describe()
    assert json.loads(json.dumps(d.to_dict()))["same_time"] == 1.0
    # Acknowledgement: page_3 started 2 min after detection, a measured time.
    mtta = metrics.mtta(store, stat="max")
    assert mtta["n"].iloc[0] == 3 and mtta.attrs["definition"].excluded["not_measured"] == 2
    # Resolution was measured for all five.
    assert metrics.mttr(store)["n"].iloc[0] == 5


def test_the_tolerance_is_a_keyword(store: rca.Store, mixed: dict[str, str]) -> None:
    exact = metrics.mttd(store, same_time=0).attrs["definition"]
    assert exact.excluded_ids["not_measured"] == (mixed["page_2"],)  # only the equal one
    assert "(1 not measured: detected_at written together with impact_started_at, equal)" in (
        exact.describe()
    )
    narrow = metrics.time_to(store, start="impact_started_at", end="detected_at",
                             same_time="10ms").attrs["definition"]  # fmt: skip
    assert set(narrow.excluded_ids["not_measured"]) == {mixed["page_1"], mixed["page_2"]}
    assert "at most 10 ms apart" in narrow.describe()
    unchecked = metrics.mttd(store, same_time=None)
    assert unchecked["n"].iloc[0] == 5 and unchecked.attrs["definition"].same_time is None
    with pytest.raises(rca.QueryError, match="same_time"):
        metrics.mttd(store, same_time="soon")
    with pytest.raises(rca.QueryError, match="same_time"):
        metrics.data_quality(store, same_time=-1)


def test_grouped_figures_leave_out_a_group_with_nothing_measured(
    store: rca.Store, mixed: dict[str, str]
) -> None:
    by = metrics.mttd(store, by="component")
    assert by["component_affected"].tolist() == ["pay"]  # web: nothing measured
    assert by["n"].tolist() == [2]
    assert by.attrs["definition"].excluded["not_measured"] == 3


def test_nothing_measured_says_so(store: rca.Store) -> None:
    for i in range(3):
        start = at(100 * i)
        incident(store, f"p{i}", start, start + 8 * MS, start + 45 * MS, start + 30 * MIN)
    frame = metrics.mttd(store)
    assert frame.empty  # no zero
    d = frame.attrs["definition"]
    assert d.not_measured == (
        "not measured (3 investigations with detected_at written together with "
        "impact_started_at, at most 1 s apart)"
    )
    assert metrics.mttm(store).attrs["definition"].not_measured == (
        "not measured (no investigation with both detected_at and mitigated_at)"
    )
    doc = report.review(store, since=at(-60), until=at(1000), as_of=at(2000), plot=False)
    text = re.sub(r"\\(.)", r"\1", doc.to_markdown())
    row = next(line for line in text.splitlines() if line.startswith("| time to detect |"))
    assert row.startswith("| time to detect | 0 | not measured (3 investigations with detected_at "
                          "written together with impact_started_at")  # fmt: skip
    assert "0 min" not in row and row.endswith("| 3 |")  # the "not measured" count
    ack = next(line for line in text.splitlines() if line.startswith("| time to resolve |"))
    assert ack.startswith("| time to resolve | 3 | 30 min |")
    assert "3 not measured: detected_at written together with impact_started_at" in text
    assert "not measured (3 investigations" in doc.to_html()


def test_a_review_shows_how_many_were_not_measured(store: rca.Store, mixed: dict[str, str]) -> None:
    doc = report.review(store, since=at(-60), until=at(1000), as_of=at(2000), plot=False)
    text = re.sub(r"\\(.)", r"\1", doc.to_markdown())
    assert "| time to detect | 2 | 15 min | 19 min | 15 min | 3 |" in text
    assert "| not measured: detected_at equals impact_started_at | 3 |" in text
    assert "| not measured: started_at equals detected_at | 2 |" in text


def test_data_quality_counts_the_times_written_together(
    store: rca.Store, mixed: dict[str, str]
) -> None:
    q = metrics.data_quality(store, as_of=at(10_000))
    assert q.attrs["counts"]["times_written_together"] == 5
    assert q.attrs["not_measured"] == {
        "not measured: detected_at equals impact_started_at": 3,
        "not measured: started_at equals detected_at": 2,
        "not measured: mitigated_at equals detected_at": 0,
        "not measured: resolved_at equals detected_at": 0,
    }
    rows = q[q["check"] == "times_written_together"]
    found = set(zip(rows["record_id"], rows["detail"], strict=True))
    assert (
        mixed["page_1"],
        "not measured: detected_at equals impact_started_at (8 ms apart)",
    ) in found
    assert (mixed["page_2"], "not measured: started_at equals detected_at (0 ms apart)") in found
    assert not rows["record_id"].isin([mixed["measured_a"], mixed["measured_b"]]).any()
    assert metrics.data_quality(store, same_time=0).attrs["counts"]["times_written_together"] == 2


def test_real_statuspage_times_to_detect_were_not_measured(
    realworld: Path, store: rca.Store
) -> None:
    """githubstatus.com writes impact start, detection and acknowledgement in one go."""
    store.ingest("statuspage", [realworld / "statuspage" / "incidents"])
    total = len(store.investigations())
    mttd = metrics.mttd(store)
    assert mttd.empty
    assert mttd.attrs["definition"].excluded["not_measured"] == total > 0
    assert metrics.mtta(store).empty
    mttr = metrics.mttr(store)
    assert mttr["n"].iloc[0] == total and mttr["median"].iloc[0] > pd.Timedelta(minutes=5)
    q = metrics.data_quality(store)
    assert q.attrs["not_measured"]["not measured: detected_at equals impact_started_at"] == total


# --- DORA: no rating without a sample ---------------------------------------------------

D0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def day(d: float) -> dt.datetime:
    return D0 + dt.timedelta(days=d)


def deploy(store: rca.Store, when: dt.datetime, i: int) -> str:
    store.add_event({"source": "git", "event_type": "commit", "severity": "info",
                     "component": "pay", "source_id": f"{i:040x}",
                     "timestamp": when - dt.timedelta(hours=6)})  # fmt: skip
    return store.add_event(
        {"source": "ci", "event_type": "deploy", "severity": "info", "component": "pay",
         "timestamp": when}
    ).id  # fmt: skip


def failure(store: rca.Store, deploy_id: str, when: dt.datetime) -> None:
    inv = store.add_investigation(
        {"title": "broke", "impact_started_at": when + dt.timedelta(hours=1),
         "mitigated_at": when + dt.timedelta(hours=1, minutes=30),
         "resolved_at": when + dt.timedelta(hours=2), "status": "resolved"}
    )  # fmt: skip
    store.link(deploy_id, inv.id)


def test_two_deploys_get_no_rating_anywhere(store: rca.Store) -> None:
    first = deploy(store, day(1), 1)
    deploy(store, day(3), 2)
    failure(store, first, day(1))
    d = metrics.dora(store, since=day(0), until=day(10))
    assert d["rating"].tolist() == [None] * 4
    assert d["not_rated"].tolist() == ["2 deploys, needs ≥ 10"] * 4
    assert d["n"].tolist() == [2, 2, 2, 1]  # deploys, commits, deploys, recoveries
    assert d.loc[d["metric"] == "change_failure_rate", "value"].iloc[0] == pytest.approx(0.5)
    records = d.to_dict("records")
    assert all(r["rating"] is None for r in records)
    json.dumps(records)  # None, not NaN
    for shown in (repr(d), d.to_html(), json.dumps(records), str(d.attrs["definition"])):
        assert not RATINGS.search(shown), shown
    sensitivity = metrics.dora_sensitivity(store, windows=["1h", "24h"], since=day(0),
                                           until=day(10))  # fmt: skip
    assert sensitivity["change_failure_rating"].tolist() == [None, None]
    assert sensitivity["recovery_rating"].tolist() == [None, None]
    assert sensitivity["deploys"].tolist() == [2, 2]
    doc = report.review(store, since=day(0), until=day(10), as_of=day(11), plot=False)
    for text in (re.sub(r"\\(.)", r"\1", doc.to_markdown()), doc.to_html()):
        section = text[text.index("DORA") : text.index("Repeat incidents")]
        assert "not rated: 2 deploys, needs ≥ 10" in section
        assert not RATINGS.search(section), section


def test_enough_deploys_are_rated_as_before(store: rca.Store) -> None:
    ids = [deploy(store, day(i + 0.5), i) for i in range(12)]
    failure(store, ids[3], day(3.5))
    d = metrics.dora(store, since=day(0), until=day(12)).set_index("metric")
    assert d.loc["deployment_frequency", "rating"] == "elite"  # 1 a day
    assert d.loc["lead_time", ["rating", "n"]].tolist() == ["elite", 12]  # 6 h
    assert d.loc["lead_time", "shown"] == "6 h 00 min"
    assert d.loc["change_failure_rate", "rating"] == "high"  # 1 of 12: 8.3 %
    assert d.loc["change_failure_rate", "not_rated"] is None
    # One recovery is no median to rate.
    assert d.loc["recovery_time", "rating"] is None
    assert d.loc["recovery_time", "not_rated"] == "1 recovered failed deploy, needs ≥ 5"
    assert d.loc["recovery_time", "shown"] == "1 h 30 min"
    assert d.attrs["definition"]["minimums"] == {"deploys": 10, "commits": 10, "recoveries": 5}
    lowered = metrics.dora(store, since=day(0), until=day(12), min_recoveries=1)
    assert lowered.set_index("metric").loc["recovery_time", "rating"] == "high"  # 1.5 h
    stricter = metrics.dora(store, since=day(0), until=day(12), min_deploys=20)
    assert stricter["not_rated"].tolist() == ["12 deploys, needs ≥ 20"] * 4
    fewer_commits = metrics.dora(store, since=day(0), until=day(12), min_commits=13)
    assert fewer_commits.set_index("metric").loc["lead_time", "not_rated"] == (
        "12 commits, needs ≥ 13"
    )
    with pytest.raises(rca.QueryError, match="min_deploys"):
        metrics.dora(store, min_deploys=-1)
    with pytest.raises(rca.QueryError, match="min_recoveries"):
        metrics.dora(store, min_recoveries=2.5)  # type: ignore[arg-type]
