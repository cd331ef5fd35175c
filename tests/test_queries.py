"""DataFrame queries: every filter against pandas, dtypes, joins, timelines, counts."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics._names import key
from rca_analytics.errors import UnknownNameWarning

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
COMPONENTS = ["payments", "search", "auth"]
SERVICES = {"payments": "checkout-api", "search": "search-api", "auth": "identity"}
SEVERITIES = ["info", "low", "medium", "high", "critical"]
SOURCES = ["git", "ci", "logs", "metrics", "traces", "manual"]
TAGS = [[], ["db"], ["db", "timeout"], ["timeout"], ["deploy"]]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[rca.Store, dict[str, Any]]]:
    path: Path = tmp_path_factory.mktemp("queries") / "q.duckdb"
    store = rca.connect(path)
    rows = []
    for i in range(90):
        comp = COMPONENTS[i % 3]
        rows.append(
            {
                "source": SOURCES[i % 6],
                "event_type": ["commit", "build", "deploy", "error", "alert"][i % 5],
                "severity": SEVERITIES[i % 5],
                "timestamp": T0 + dt.timedelta(minutes=7 * i),
                "source_id": f"s{i}",
                "component": comp if i % 10 else None,
                "service": SERVICES[comp],
                "tags": TAGS[i % 5],
                "data": {"i": i, "nested": {"even": i % 2 == 0}},
            }
        )
    store.add_events(rows)
    ids = dict(zip(store.events()["source_id"], store.events()["id"], strict=True))
    a = store.add_investigation(
        {
            "title": "Checkout 500s",
            "impact_severity": "critical",
            "priority": "P0",
            "detected_at": T0 + dt.timedelta(hours=1),
            "component_affected": "payments",
            "service_affected": "checkout-api",
            "tags": ["db"],
            "status": "resolved",
        }
    )
    b = store.add_investigation(
        {
            "title": "Search slow",
            "impact_severity": "high",
            "priority": "P1",
            "detected_at": T0 + dt.timedelta(hours=6),
            "component_affected": "search",
            "tags": ["timeout"],
        }
    )
    c = store.add_investigation({"title": "Old one", "priority": "P3", "created_at": T0})
    gone = store.add_investigation({"title": "Deleted", "priority": "P2"})
    for sid, conf in (("s3", 0.9), ("s6", 0.4), ("s9", 0.75)):
        store.link(ids[sid], a.id, confidence=conf, method="rule" if conf < 0.8 else "manual")
    store.link(ids["s4"], b.id, confidence=0.6, method="linker")
    store.link(ids["s12"], gone.id, confidence=1.0)
    store.delete_investigation(gone.id)
    store.delete_event(ids["s9"])
    yield store, {"a": a, "b": b, "c": c, "gone": gone, "ids": ids}
    store.close()


# --- frames and dtypes ---------------------------------------------------------------------


def test_event_frame_columns_and_dtypes(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    frame = store.events()
    assert list(frame.columns) == list(rca.Event.model_fields)
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    assert (
        isinstance(frame["severity"].dtype, pd.CategoricalDtype) and frame["severity"].cat.ordered
    )
    assert list(frame["severity"].cat.categories) == ["info", "low", "medium", "high", "critical"]
    assert frame["tags"].dtype == pd.ArrowDtype(pa.list_(pa.string()))
    assert frame["component"].dtype == "str"
    assert isinstance(frame["data"].iloc[0], dict)
    assert isinstance(frame["tags"].iloc[2], list)
    assert frame["timestamp"].is_monotonic_increasing
    assert len(frame) == 89  # one soft-deleted


def test_empty_results_keep_columns_and_dtypes(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    full, empty = store.events(), store.events(component="nowhere")
    assert empty.empty
    assert list(empty.columns) == list(full.columns)
    assert (empty.dtypes == full.dtypes).all()
    empty_inv = store.investigations(status="closed")
    assert (empty_inv.dtypes == store.investigations().dtypes).all()


@pytest.mark.slow
def test_ordered_categoricals_compare_by_severity(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    frame = store.events()
    assert set(frame.loc[frame["severity"] >= "high", "severity"]) == {"high", "critical"}
    inv = store.investigations()
    assert inv.sort_values("priority", ascending=False)["priority"].iloc[0] == "P0"
    assert set(inv.loc[inv["priority"] >= "P1", "title"]) == {"Checkout 500s", "Search slow"}


def test_derived_lists_are_in_the_frames(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, ctx = loaded
    frame = store.events().set_index("source_id")
    assert frame.loc["s3", "investigation_ids"] == [ctx["a"].id]
    assert frame.loc["s12", "investigation_ids"] == []  # its investigation is deleted
    inv = store.investigations().set_index("title")
    assert sorted(inv.loc["Checkout 500s", "event_ids"]) == sorted(
        [ctx["ids"]["s3"], ctx["ids"]["s6"]]
    )


# --- filters against pandas ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expect"),
    [
        ({"severity": "critical"}, lambda f: f.severity == "critical"),
        ({"severity": ["HIGH", "critical "]}, lambda f: f.severity.isin(["high", "critical"])),
        ({"min_severity": "high"}, lambda f: f.severity >= "high"),
        ({"source": ["git", "ci"]}, lambda f: f.source.isin(["git", "ci"])),
        ({"event_type": "Deploy"}, lambda f: f.event_type == "deploy"),
        ({"component": "payments"}, lambda f: f.component == "payments"),
        ({"component": " PAYMENTS\t"}, lambda f: f.component == "payments"),  # any case, space
        ({"component": ["Search", "AUTH"]}, lambda f: f.component.isin(["search", "auth"])),
        (
            {"service": ["identity", "search-api"]},
            lambda f: f.service.isin(["identity", "search-api"]),
        ),
        ({"source_id": "s5"}, lambda f: f.source_id == "s5"),
        (
            {"tags": ["db", "timeout"]},
            lambda f: f.tags.apply(lambda t: "db" in t or "timeout" in t),
        ),
        (
            {"tags": ["db", "timeout"], "match": "all"},
            lambda f: f.tags.apply(lambda t: {"db", "timeout"} <= set(t)),
        ),
        (
            {"tags": "deploy", "component": "search"},
            lambda f: f.tags.apply(lambda t: "deploy" in t) & (f.component == "search"),
        ),
        (
            {"since": "2026-03-01T10:00:00Z"},
            lambda f: f.timestamp >= pd.Timestamp("2026-03-01T10:00:00Z"),
        ),
        (
            {"until": "2026-03-01T10:00:00+01:00"},
            lambda f: f.timestamp < pd.Timestamp("2026-03-01T09:00:00Z"),
        ),
        (
            {"since": "2026-03-01 09:00", "until": dt.date(2026, 3, 2)},
            lambda f: (
                (f.timestamp >= pd.Timestamp("2026-03-01T09:00Z"))
                & (f.timestamp < pd.Timestamp("2026-03-02T00:00Z"))
            ),
        ),
        (
            {"min_severity": "medium", "source": "git", "component": "payments", "since": T0},
            lambda f: (
                (f.severity >= "medium")
                & (f.source == "git")
                & (f.component == "payments")
                & (f.timestamp >= T0)
            ),
        ),
    ],
)
def test_event_filters_match_pandas(
    loaded: tuple[rca.Store, dict[str, Any]], filters: dict[str, Any], expect: Any
) -> None:
    store, _ = loaded
    full = store.events()
    got = store.events(**filters)
    want = full[expect(full).fillna(False).astype(bool)].reset_index(drop=True)
    assert got["id"].tolist() == want["id"].tolist()
    assert len(got) > 0


def test_name_filters_note_names_the_store_lacks(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    with pytest.warns(UnknownNameWarning, match=r"did you mean 'payments'\?"):
        frame = store.events(component="paymnets")
    assert frame.empty and frame.dtypes.equals(store.events().dtypes)
    assert frame.attrs["notes"] == [
        "component: no component 'paymnets' in the store; did you mean 'payments'?"
    ]
    with pytest.warns(UnknownNameWarning, match="'identiy'"):
        frame = store.events(service=["identiy", "search-api"])
    assert set(frame["service"]) == {"search-api"}
    assert "notes" not in store.events(component="Payments").attrs


def test_since_is_inclusive_and_until_exclusive(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    at = T0 + dt.timedelta(minutes=70)
    assert store.events(since=at, until=at + dt.timedelta(microseconds=1))[
        "timestamp"
    ].tolist() == [at]
    assert store.events(since=at, until=at).empty


def test_investigation_id_and_include_deleted(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, ctx = loaded
    assert set(store.events(investigation_id=ctx["a"].id)["source_id"]) == {"s3", "s6"}
    with_deleted = store.events(investigation_id=ctx["a"].id, include_deleted=True)
    assert set(with_deleted["source_id"]) == {"s3", "s6", "s9"}
    assert with_deleted.set_index("source_id").loc["s9", "deleted_at"] is not pd.NaT
    assert len(store.events(include_deleted=True)) == 90


@pytest.mark.parametrize(
    ("filters", "titles"),
    [
        ({"status": "resolved"}, ["Checkout 500s"]),
        ({"priority": ["p0", "P1"]}, ["Checkout 500s", "Search slow"]),
        ({"min_priority": "P1"}, ["Checkout 500s", "Search slow"]),
        ({"impact_severity": "critical", "service": "checkout-api"}, ["Checkout 500s"]),
        ({"min_impact_severity": "high"}, ["Checkout 500s", "Search slow"]),
        ({"component": "search", "tags": ["timeout"]}, ["Search slow"]),
        ({"component": "SEARCH ", "service": "Checkout-API"}, []),
        ({"component": ["Payments", "search"]}, ["Checkout 500s", "Search slow"]),
        ({"since": T0 + dt.timedelta(hours=4)}, ["Search slow"]),
        ({}, ["Old one", "Checkout 500s", "Search slow"]),
    ],
)
def test_investigation_filters(
    loaded: tuple[rca.Store, dict[str, Any]], filters: dict[str, Any], titles: list[str]
) -> None:
    store, _ = loaded
    assert sorted(store.investigations(**filters)["title"]) == sorted(titles)


def test_investigations_include_deleted(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    assert "Deleted" in set(store.investigations(include_deleted=True)["title"])


def test_columns_and_limit(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    frame = store.events(columns=["timestamp", "severity"], limit=5)
    assert list(frame.columns) == ["timestamp", "severity"] and len(frame) == 5
    assert isinstance(frame["severity"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.events(severity="urgent"), "not one of"),
        (lambda s: s.events(min_severity=["high", "low"]), "one value"),
        (lambda s: s.events(since="next tuesday"), "cannot read"),
        (lambda s: s.events(columns=["sevrity"]), "did you mean 'severity'"),
        (lambda s: s.events(match="some"), "match"),
        (lambda s: s.events(tags=[]), "at least one tag"),
        (lambda s: s.events(source=[]), "empty list"),
        (lambda s: s.events(component=""), "blank"),
        (lambda s: s.events(limit=-1), "limit"),
        (lambda s: s.investigations(priority="P7"), "not one of"),
        (lambda s: s.event_investigations(investigation_staus="open"), "investigation_status"),
        (lambda s: s.event_investigations(min_confidence=2), "between 0 and 1"),
        (lambda s: s.counts("links"), "table"),
        (lambda s: s.counts(by="colour"), "cannot group"),
        (lambda s: s.counts(freq="fortnightly"), "freq"),
        (lambda s: s.timeline("nope"), "no investigation"),
    ],
)
def test_bad_arguments_raise_clear_errors(
    loaded: tuple[rca.Store, dict[str, Any]], call: Any, message: str
) -> None:
    store, _ = loaded
    with pytest.raises(rca.RcaError, match=message):
        call(store)


def test_bad_arguments_fail_before_any_sql(tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "x.duckdb")
    store.close()  # a closed store would fail at the first SQL statement
    with pytest.raises(rca.QueryError):
        store.events(severity="urgent")


# --- hostile values -------------------------------------------------------------------------

HOSTILE = (
    st.text(
        st.characters(exclude_categories=("Cs",), include_characters="'\";%_-\\\x00"),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(HOSTILE, min_size=1, max_size=6, unique=True), st.data())
def test_hostile_filter_values_are_just_values(values: list[str], data: st.DataObject) -> None:
    with rca.connect(":memory:") as store:
        store.add_events(
            [
                {
                    "source": "manual",
                    "event_type": "note",
                    "severity": "info",
                    "timestamp": n,
                    "component": value,
                    "tags": [value, "x"],
                    "source_id": value,
                }
                for n, value in enumerate(values)
            ]
        )
        pick = data.draw(st.sampled_from(values))
        full = store.events()
        same = [v for v in values if key(v) == key(pick)]  # names compare by key
        assert store.events(component=pick)["component"].tolist() == same
        has_pick = [pick in tags for tags in full["tags"].tolist()]  # cells as Python lists
        assert store.events(tags=pick)["source_id"].tolist() == list(full["source_id"][has_pick])
        like = pick.replace("_", "%")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownNameWarning)  # "%" is no wildcard: a typo
            found = store.events(component=like)
        assert found["component"].tolist() == [v for v in values if key(v) == key(like)]
        assert ("notes" in found.attrs) == found.empty
        assert store.stats()["events"] == len(values)


# --- the cross-join -------------------------------------------------------------------------


def test_event_investigations_is_one_row_per_link(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    frame = store.event_investigations()
    assert len(frame) == 3  # s9 (deleted event) and the deleted investigation's link hidden
    assert frame.columns[0] == "event_id"
    assert {"investigation_id", "investigation_title", "investigation_status"} <= set(frame.columns)
    assert list(frame.columns[-4:]) == ["confidence", "method", "reasons", "linked_at"]
    assert not any(c.startswith(("id", "title")) for c in frame.columns)
    assert isinstance(frame["investigation_priority"].dtype, pd.CategoricalDtype)
    assert len(store.event_investigations(include_deleted=True)) == 5


def test_event_investigations_filters_on_both_sides(
    loaded: tuple[rca.Store, dict[str, Any]],
) -> None:
    store, ctx = loaded
    assert sorted(store.event_investigations(min_confidence=0.5)["confidence"]) == [0.6, 0.9]
    payments = store.event_investigations(component="payments", investigation_status="resolved")
    assert set(payments["event_source_id"]) == {"s3", "s6"}
    assert set(
        store.event_investigations(investigation_min_priority="P0")["investigation_title"]
    ) == {"Checkout 500s"}
    assert store.event_investigations(method="linker")["event_source_id"].tolist() == ["s4"]
    assert store.event_investigations(investigation_id=ctx["b"].id)["event_source_id"].tolist() == [
        "s4"
    ]


# --- timeline ------------------------------------------------------------------------------


def test_timeline_orders_events_around_detection(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, ctx = loaded
    inv = ctx["a"]
    frame = store.timeline(inv.id, before="2h", after="30m")
    detected = pd.Timestamp(inv.detected_at)
    assert frame["timestamp"].is_monotonic_increasing
    assert (frame["timestamp"] >= detected - pd.Timedelta("2h")).all()
    assert (frame["timestamp"] < detected + pd.Timedelta("30m")).all()
    assert (frame["offset"] == frame["timestamp"] - detected).all()
    assert str(frame["offset"].dtype) == "timedelta64[us]"
    by_id = frame.set_index("source_id")
    assert by_id.loc["s6", "relation"] == "linked" and by_id.loc["s6", "confidence"] == 0.4
    others = frame[frame["relation"] != "linked"]
    assert ((others["component"] == "payments") | (others["service"] == "checkout-api")).all()
    assert frame["confidence"].isna().sum() == len(others)
    wider = store.timeline(inv.id, before="2h", after="30m", include_unrelated=True)
    assert len(wider) > len(frame) and "other" in set(wider["relation"])
    assert frame.attrs["anchor"] == inv.detected_at


def test_timeline_without_detection_uses_the_earliest_time(
    loaded: tuple[rca.Store, dict[str, Any]],
) -> None:
    store, ctx = loaded
    frame = store.timeline(ctx["c"].id, before="1h", after="1h", include_unrelated=True)
    assert frame.attrs["anchor"] == ctx["c"].created_at
    assert len(frame) > 0


# --- counts --------------------------------------------------------------------------------


def test_counts_by_columns_match_pandas(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    got = store.counts("events", by=["component", "severity"])
    full = store.events()
    want = (
        full.dropna(subset=["component"]).groupby(["component", "severity"], observed=True).size()
    )
    got_nonnull = got.dropna(subset=["component"]).set_index(["component", "severity"])["count"]
    assert got_nonnull.to_dict() == want.to_dict()
    assert got["count"].sum() == len(full)
    assert isinstance(got["severity"].dtype, pd.CategoricalDtype)


def test_hourly_counts_fill_empty_hours(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    frame = store.counts(
        by="severity",
        freq="1h",
        severity="critical",
        since="2026-03-01T08:00Z",
        until="2026-03-01T20:00Z",
    )
    assert list(frame.columns) == ["period", "severity", "count"]
    assert str(frame["period"].dtype) == "datetime64[us, UTC]"
    assert len(frame) == 12
    full = store.events(severity="critical", since="2026-03-01T08:00Z", until="2026-03-01T20:00Z")
    assert frame["count"].sum() == len(full)
    hours = full["timestamp"].dt.floor("h").value_counts()
    for period, count in zip(frame["period"], frame["count"], strict=True):
        assert hours.get(period, 0) == count


def test_counts_by_tag_count_each_tag(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    got = store.counts(by="tags").set_index("tags")["count"].to_dict()
    full = store.events()
    assert got == full["tags"].explode().value_counts().to_dict()


def test_calendar_periods_and_investigation_counts(
    loaded: tuple[rca.Store, dict[str, Any]],
) -> None:
    store, _ = loaded
    monthly = store.counts("investigations", by="priority", freq="M")
    assert monthly["period"].min() == pd.Timestamp("2026-03-01T00:00Z")
    assert (monthly["period"].dt.day == 1).all()
    assert monthly["count"].sum() == 3
    weekly = store.counts(freq="W", since="2026-02-25", until="2026-03-15")
    assert weekly["period"].dt.day_of_week.eq(0).all()  # weeks start on Monday
    assert weekly["count"].sum() == len(store.events())


def test_counts_with_no_grouping(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    assert store.counts()["count"].tolist() == [89]
    assert store.counts(include_deleted=True)["count"].tolist() == [90]


def test_every_query_works_on_an_empty_store(tmp_path: Path) -> None:
    with rca.connect(tmp_path / "empty.duckdb") as store:
        events = store.events()
        assert events.empty and list(events.columns) == list(rca.Event.model_fields)
        assert str(events["timestamp"].dtype) == "datetime64[us, UTC]"
        assert store.investigations().empty
        assert store.event_investigations().empty
        assert store.counts()["count"].tolist() == [0]
        assert store.counts(by="severity").empty
        assert store.counts(freq="1h").empty
        hourly = store.counts(freq="1h", since="2026-03-01T00:00Z", until="2026-03-01T03:00Z")
        assert hourly["count"].tolist() == [0, 0, 0]
        inv = store.add_investigation({"title": "lonely", "detected_at": "2026-03-01T10:00:00Z"})
        assert store.timeline(inv.id).empty


def test_timeline_sees_every_write_and_the_big_table_path_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rca_analytics import _linkindex

    with rca.connect(tmp_path / "t.duckdb") as store:
        inv = store.add_investigation(
            {"title": "t", "detected_at": T0, "component_affected": "payments"}
        )
        other = store.add_investigation({"title": "other"})
        ev = store.add_event(
            {
                "source": "ci",
                "event_type": "deploy",
                "severity": "info",
                "timestamp": T0 - dt.timedelta(minutes=5),
                "component": "api",
            }
        )
        assert store.timeline(inv.id).empty  # unrelated so far
        store.link(ev.id, inv.id, confidence=0.7)
        store.link(ev.id, other.id)
        first = store.timeline(inv.id)
        assert first["relation"].tolist() == ["linked"]
        assert first["confidence"].tolist() == [0.7]
        assert first["investigation_ids"].iloc[0] == [inv.id, other.id]
        store.delete_investigation(other.id)
        assert store.timeline(inv.id)["investigation_ids"].iloc[0] == [inv.id]
        monkeypatch.setattr(_linkindex, "LINK_INDEX_MAX", 0)
        store.add_event(
            {
                "source": "ci",
                "event_type": "build",
                "severity": "low",
                "timestamp": T0,
                "component": "payments",
            }
        )  # a write: index rebuilt
        big = store.timeline(inv.id)
        monkeypatch.setattr(_linkindex, "LINK_INDEX_MAX", 1000)
        store.add_event(
            {
                "source": "ci",
                "event_type": "build",
                "severity": "low",
                "timestamp": T0 + dt.timedelta(hours=2),
                "component": "payments",
            }
        )
        small = store.timeline(inv.id)
        pd.testing.assert_frame_equal(big, small)
        assert big["relation"].tolist() == ["linked", "component"]


def test_the_link_index_never_outlives_a_rollback_or_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rca_analytics import _linkindex

    path = tmp_path / "c.duckdb"
    first = rca.connect(path)
    inv = first.add_investigation({"title": "t", "detected_at": T0})
    ev = first.add_event(
        {
            "source": "ci",
            "event_type": "deploy",
            "severity": "info",
            "timestamp": T0,
            "component": "x",
        }
    )
    with pytest.raises(RuntimeError), first.transaction():
        first.link(ev.id, inv.id, confidence=0.4)
        assert first.timeline(inv.id)["relation"].tolist() == ["linked"]  # index built here
        raise RuntimeError("roll back")
    assert first.timeline(inv.id).empty
    monkeypatch.setattr(_linkindex, "LINK_INDEX_MAX", 0)
    second = rca.connect(path)
    first.link(ev.id, inv.id)
    first.timeline(inv.id)
    first.close()
    assert second.timeline(inv.id)["relation"].tolist() == ["linked"]
    second.close()


def test_freq_aliases_and_durations_mean_what_they_say(tmp_path: Path) -> None:
    with rca.connect(tmp_path / "f.duckdb") as store:
        store.add_events(
            [
                {
                    "source": "ci",
                    "event_type": "build",
                    "severity": "low",
                    "timestamp": T0 + dt.timedelta(milliseconds=n),
                }
                for n in (0, 1, 1)
            ]
        )
        assert store.counts(freq="ms", fill=False)["count"].tolist() == [1, 2]  # milliseconds
        fortnights = store.counts(freq="2W", since="2026-02-01", until="2026-04-01")
        assert fortnights["period"].dt.day_of_week.eq(0).all()
        inv = store.add_investigation(
            {"title": "t", "detected_at": T0 + dt.timedelta(hours=1), "component_affected": None}
        )
        assert len(store.timeline(inv.id, before=3600, include_unrelated=True)) == 3  # seconds
        with pytest.raises(rca.QueryError):
            store.timeline(inv.id, before=True)


def test_bounds_finer_than_a_microsecond_round_up(tmp_path: Path) -> None:
    with rca.connect(tmp_path / "b.duckdb") as store:
        store.add_event(
            {
                "source": "ci",
                "event_type": "build",
                "severity": "low",
                "timestamp": "2026-03-01T10:00:00Z",
            }
        )
        assert len(store.events(until="2026-03-01T10:00:00.0000005Z")) == 1
        assert len(store.events(since="2026-03-01T10:00:00.0000005Z")) == 0
        assert len(store.events(until=pd.Timestamp("2026-03-01T10:00:00.000000001Z"))) == 1


def test_sql_refuses_explain_analyze_of_a_write(store_path: Path) -> None:
    with rca.connect(store_path) as store:
        with pytest.raises(rca.QueryError, match="read queries only"):
            store.sql("EXPLAIN ANALYZE DELETE FROM links")
        assert len(store.sql("EXPLAIN SELECT * FROM events")) >= 1


def test_repeated_columns_and_groups_are_refused(loaded: tuple[rca.Store, dict[str, Any]]) -> None:
    store, _ = loaded
    with pytest.raises(rca.QueryError, match="once"):
        store.events(columns=["severity", "severity"])
    with pytest.raises(rca.QueryError, match="once"):
        store.counts(by=["severity", "severity"], freq="1h")


def test_a_spelling_pandas_is_retiring_is_refused_with_its_advice(store: rca.Store) -> None:
    """Hypothesis found freq='d' leaking a pandas deprecation warning instead of an answer."""
    inv = store.add_investigation({"title": "x"})
    day = store.counts(freq="d", since="2026-03-01", until="2026-03-03")  # "d" reads as "D"
    assert len(day) == 2 and day.equals(
        store.counts(freq="1D", since="2026-03-01", until="2026-03-03")
    )
    with pytest.raises(rca.QueryError, match=r"freq: '1H'.*Please use 'h'"):
        store.counts(freq="H", since="2026-03-01", until="2026-03-02")
    with pytest.raises(rca.QueryError, match=r"before: '2H'.*Please use 'h'"):
        store.timeline(inv.id, before="2H")
    assert len(store.timeline(inv.id, before="1d")) == 0
