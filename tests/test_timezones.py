"""Time zones: one instant, however it is written, is one stored value, in any zone.

The same instant given as ``...Z``, ``+05:30``, ``-04:00``, an aware datetime in
America/New_York (either side of both 2026 US DST changes, ambiguous ``fold`` times
included), a pandas Timestamp or epoch seconds is stored identically by the single and
the bulk paths and comes back as ``datetime64[us, UTC]``. Results (frames, hourly, daily
and weekly counts, timelines, naive query bounds, ``store.sql``) do not change when the
process time zone is America/New_York, in a child process or after ``time.tzset()``, nor
when a DuckDB session beside the store runs in New York time. Naive record timestamps are
refused at the boundary; query filters read naive bounds as UTC, as documented.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics import _data

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
EDT = dt.timezone(dt.timedelta(hours=-4))
#: The 2026 US DST changes: 02:00 EST -> 03:00 EDT, and 02:00 EDT -> 01:00 EST.
SPRING = dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
FALL = dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
UTC_FRAME = "datetime64[us, UTC]"

_SERIAL = itertools.count()


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def notations(instant: dt.datetime) -> dict[str, Any]:
    """One instant written every way a record may carry it."""
    ny = instant.astimezone(NY)
    out: dict[str, Any] = {
        "Z": instant.isoformat().replace("+00:00", "Z"),
        "+05:30": instant.astimezone(IST).isoformat(),
        "-04:00": instant.astimezone(EDT).isoformat(),
        "new_york_iso": ny.isoformat(),
        "new_york_datetime": ny,
        "new_york_wall_clock": dt.datetime(*ny.timetuple()[:6], ny.microsecond, NY, fold=ny.fold),
        "pandas_new_york": pd.Timestamp(instant).tz_convert("America/New_York"),
        "pandas_utc": pd.Timestamp(instant),
        "fixed_offset_datetime": instant.astimezone(IST),
    }
    if instant.microsecond == 0:
        out["epoch_seconds"] = int(instant.timestamp())
    return out


def event(timestamp: Any, source_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "source": "metrics",
        "event_type": "alert",
        "severity": "high",
        "timestamp": timestamp,
        "source_id": source_id,
        "component": "payments",
        **extra,
    }


def assert_one_stored_instant(store: rca.Store, ids: list[str], instant: dt.datetime) -> None:
    """Every event (by id) holds ``instant``: as models, frame cells and SQL values."""
    for ev_id in ids:
        got = store.get_event(ev_id).timestamp
        assert got == instant
        assert got.utcoffset() == dt.timedelta(0) and got.tzinfo is UTC
    frame = store.events(columns=["id", "timestamp"])
    frame = frame[frame["id"].isin(ids)]
    assert len(frame) == len(ids)
    assert str(frame["timestamp"].dtype) == UTC_FRAME
    assert set(frame["timestamp"]) == {pd.Timestamp(instant)}
    micros = store.sql(
        "SELECT DISTINCT epoch_us(timestamp) AS us FROM events WHERE list_contains(?, id)", [ids]
    )["us"].tolist()
    assert micros == [(instant - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(0, 0, 1)]


# --- one instant, many notations ------------------------------------------------------------

INSTANTS = {
    "before-spring-change": utc("2026-03-08T06:30:00"),  # 01:30 EST
    "after-spring-change": utc("2026-03-08T07:30:00"),  # 03:30 EDT
    "fall-first-0130": utc("2026-11-01T05:30:00"),  # 01:30 EDT (fold=0)
    "fall-second-0130": utc("2026-11-01T06:30:00"),  # 01:30 EST (fold=1)
    "summer-microseconds": utc("2026-07-01T12:00:00.123456"),
}


@pytest.mark.slow
@pytest.mark.parametrize("instant", list(INSTANTS.values()), ids=list(INSTANTS))
def test_the_same_instant_in_any_notation_is_stored_identically(instant: dt.datetime) -> None:
    forms = notations(instant)
    with rca.connect(":memory:") as store:
        singles = forms
        ids = [store.add_event(event(v, f"one-{label}")).id for label, v in singles.items()]
        report = store.add_events([event(value, f"list-{label}") for label, value in forms.items()])
        assert (report.stored, report.rejected_rows) == (len(forms), 0)
        frames = {
            # a tz-aware column in New York time, as pandas keeps it
            "ny-column": pd.Series([pd.Timestamp(instant).tz_convert("America/New_York")] * 3),
            # Python datetimes in New York time (an object column)
            "ny-objects": pd.Series([instant.astimezone(NY)] * 3, dtype=object),
            # ISO text with three different offsets
            "iso-text": pd.Series([forms["Z"], forms["+05:30"], forms["new_york_iso"]]),
        }
        for label, column in frames.items():
            frame = pd.DataFrame([event(None, f"{label}-{n}") for n in range(3)])
            report = store.add_events(frame.assign(timestamp=column))
            assert (report.stored, report.rejected_rows) == (3, 0), label
        arrow = pa.table(
            {
                "source": ["git"],
                "event_type": ["commit"],
                "severity": ["info"],
                "timestamp": pa.array([pd.Timestamp(instant)], pa.timestamp("us", tz=str(NY))),
            }
        )
        assert store.add_events(arrow).stored == 1
        every = store.events()["id"].tolist()
        assert set(ids) <= set(every)
        assert len(every) == len(singles) + len(forms) + 3 * len(frames) + 1
        assert_one_stored_instant(store, every, instant)


def test_the_two_new_york_readings_of_an_ambiguous_wall_clock_stay_an_hour_apart() -> None:
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY)  # EDT, the first 01:30
    second = first.replace(fold=1)  # EST, the second 01:30
    with rca.connect(":memory:") as store:
        a = store.add_event(event(first, "first"))
        b = store.add_event(event(second, "second"))
        report = store.add_events(
            [event(first, "bulk-first"), event(second, "bulk-second")]
            + [event(pd.Timestamp(t), f"pandas-{t.fold}") for t in (first, second)]
        )
        assert report.stored == 4
        assert (a.timestamp, b.timestamp) == (utc("2026-11-01T05:30"), utc("2026-11-01T06:30"))
        by_id = store.events().set_index("source_id")["timestamp"]
        for name in ("first", "bulk-first", "pandas-0"):
            assert by_id[name] == pd.Timestamp(a.timestamp)
        for name in ("second", "bulk-second", "pandas-1"):
            assert by_id[name] == pd.Timestamp(b.timestamp)


NEW_YORK_TIMES = st.builds(
    lambda when, fold: when.replace(fold=fold),
    st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2028, 12, 31),
        timezones=st.just(NY),
        allow_imaginary=False,
    ),
    st.integers(0, 1),
)


@pytest.fixture(scope="module")
def shared_store() -> Iterator[rca.Store]:
    with rca.connect(":memory:") as store:
        yield store


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(NEW_YORK_TIMES)
@example(dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY))
@example(dt.datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1))
@example(dt.datetime(2026, 3, 8, 1, 59, 59, 999999, tzinfo=NY))
@example(dt.datetime(2026, 3, 8, 3, 0, tzinfo=NY))
def test_any_new_york_time_is_stored_as_its_utc_instant_whatever_the_notation(
    tally: Counter[str], shared_store: rca.Store, when: dt.datetime
) -> None:
    tally["time-zone examples tried (Hypothesis)"] += 1
    instant = when.astimezone(UTC)
    n = next(_SERIAL)
    forms = notations(instant) | {"drawn": when}
    ids = [
        shared_store.add_event(event(value, f"{n}-{label}")).id for label, value in forms.items()
    ]
    report = shared_store.add_events(
        pd.DataFrame(
            {
                "source": "ci",
                "event_type": "deploy",
                "severity": "info",
                "source_id": [f"{n}-frame", f"{n}-objects"],
                "timestamp": [pd.Timestamp(when), when],
            }
        )
    )
    assert (report.stored, report.rejected_rows) == (2, 0)
    frame = shared_store.events(source="ci", columns=["id", "source_id"])
    ids += frame[frame["source_id"].str.startswith(f"{n}-")]["id"].tolist()
    assert len(ids) == len(forms) + 2
    assert_one_stored_instant(shared_store, ids, instant)


@pytest.mark.parametrize(
    "instant",
    [utc("2026-11-01T05:30"), utc("2026-11-01T06:30")],
    ids=["first-0130-edt", "second-0130-est"],
)
def test_a_new_york_pandas_timestamp_in_the_repeated_hour_is_a_valid_record_time(
    instant: dt.datetime,
) -> None:
    stamp = pd.Timestamp(instant).tz_convert("America/New_York")
    with rca.connect(":memory:") as store:
        assert store.add_events([event(stamp, "bulk")]).stored == 1  # the bulk path takes it
        assert store.add_event(event(stamp, "one")).timestamp == instant
        assert rca.Event(**event(stamp + pd.Timedelta(1, "ns"), "n")).timestamp == instant


def test_a_new_york_pandas_timestamp_in_the_repeated_hour_is_a_valid_query_bound() -> None:
    with rca.connect(":memory:") as store:
        store.add_events([event(f"2026-11-01T0{h}:45:00Z", f"e{h}") for h in (5, 6)])
        since = pd.Timestamp("2026-11-01T06:30Z").tz_convert("America/New_York")  # 01:30 EST
        assert store.events(since=since)["source_id"].tolist() == ["e6"]


# --- naive record times are refused at the boundary --------------------------------------------

NAIVE = {
    "datetime": dt.datetime(2026, 3, 8, 2, 30),
    "iso-text": "2026-03-08T02:30:00",
    "iso-text-space": "2026-03-08 02:30",
    "pandas": pd.Timestamp("2026-03-08 02:30"),
    "numpy": np.datetime64("2026-03-08T02:30"),
    "date": dt.date(2026, 3, 8),
}


@pytest.fixture(params=["UTC", "America/New_York"])
def process_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with the process time zone (TZ, ``time.tzset()``) set to a zone."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", request.param)
        time.tzset()
        assert (
            time.tzname
            == {"UTC": ("UTC", "UTC"), "America/New_York": ("EST", "EDT")}[request.param]
        )
        yield request.param
    time.tzset()


def naive_codes(err: rca.ValidationFailed) -> list[tuple[str | None, str]]:
    return [(f.field, f.code) for f in err.failures]


@pytest.mark.parametrize("value", list(NAIVE.values()), ids=list(NAIVE))
def test_a_naive_record_time_is_refused_with_a_way_to_fix_it(process_zone: str, value: Any) -> None:
    with rca.connect(":memory:") as store:
        with pytest.raises(rca.ValidationFailed) as err:
            store.add_event(event(value, "naive"))
        assert naive_codes(err.value) == [("timestamp", "naive_datetime")]
        message = err.value.failures[0].message
        assert "2026-03-08" in message
        assert any(hint in message for hint in ("'Z'", "offset", "tzinfo=", "tz=", "T00:00:00Z"))

        with pytest.raises(rca.ValidationFailed) as err:
            store.add_investigation({"title": "t", "detected_at": value})
        assert naive_codes(err.value) == [("detected_at", "naive_datetime")]

        ev = store.add_event(event("2026-03-08T02:30:00Z", "aware"))
        inv = store.add_investigation({"title": "t"})
        with pytest.raises(rca.ValidationFailed) as err:
            store.update_event(ev.id, timestamp=value)
        assert naive_codes(err.value) == [("timestamp", "naive_datetime")]
        with pytest.raises(rca.ValidationFailed):
            store.link(ev.id, inv.id, linked_at=value)
        assert store.get_event(ev.id) == ev
        assert store.stats()["links"] == 0


def test_naive_rows_of_a_bulk_load_are_rejected_with_a_reason_and_aware_ones_stored(
    process_zone: str,
) -> None:
    rows = [event(value, f"naive-{label}") for label, value in NAIVE.items()]
    rows.append(event("2026-03-08T02:30:00-05:00", "aware"))
    naive_column = pd.DataFrame([event(None, f"frame-{n}") for n in range(3)]).assign(
        timestamp=pd.to_datetime(["2026-03-08 01:30", "2026-03-08 02:30", "2026-11-01 01:30"])
    )
    with rca.connect(":memory:") as store:
        for data, naive_rows in ((rows, len(NAIVE)), (naive_column, 3)):
            report = store.add_events(data)
            rejected = report.rejected
            assert report.rejected_rows == naive_rows
            assert set(rejected["field"]) == {"timestamp"}
            assert set(rejected["code"]) == {"naive_datetime"}
            assert sorted(rejected["row"]) == list(range(naive_rows))
        assert store.events()["source_id"].tolist() == ["aware"]
        assert store.events()["timestamp"].tolist() == [pd.Timestamp("2026-03-08T07:30Z")]


# --- query bounds: naive values read as UTC ----------------------------------------------------

#: Events a quarter-hour apart from 05:00 to 09:45 UTC on the day of the spring change.
SPRING_DAY = [SPRING - dt.timedelta(hours=2) + dt.timedelta(minutes=15 * k) for k in range(20)]

BOUNDS = {
    "aware-utc-text": ("2026-03-08T06:30:00Z", "2026-03-08T08:15:00Z"),
    "naive-text": ("2026-03-08T06:30", "2026-03-08T08:15:00"),
    "naive-text-space": ("2026-03-08 06:30", "2026-03-08 08:15"),
    "naive-datetime": (dt.datetime(2026, 3, 8, 6, 30), dt.datetime(2026, 3, 8, 8, 15)),
    "naive-pandas": (pd.Timestamp("2026-03-08 06:30"), pd.Timestamp("2026-03-08 08:15")),
    "new-york-datetime": (
        dt.datetime(2026, 3, 8, 1, 30, tzinfo=NY),  # EST
        dt.datetime(2026, 3, 8, 4, 15, tzinfo=NY),  # EDT
    ),
    "offsets": ("2026-03-08T01:30:00-05:00", "2026-03-08T12:15:00+04:00"),
    "pandas-new-york": (
        pd.Timestamp("2026-03-08 01:30", tz="America/New_York"),
        pd.Timestamp("2026-03-08 04:15", tz="America/New_York"),
    ),
    "epoch-seconds": (
        int(utc("2026-03-08T06:30").timestamp()),
        utc("2026-03-08T08:15").timestamp(),
    ),
}


@pytest.fixture(scope="module")
def spring_store() -> Iterator[rca.Store]:
    with rca.connect(":memory:") as store:
        report = store.add_events(
            [event(t.astimezone(NY), f"s{k:02d}") for k, t in enumerate(SPRING_DAY)]
        )
        assert report.stored == len(SPRING_DAY)
        store.add_investigations(
            [
                {"title": "early", "detected_at": "2026-03-08T01:59:00-05:00"},  # 06:59Z
                {
                    "title": "late",
                    "detected_at": dt.datetime(2026, 3, 8, 3, 1, tzinfo=NY),
                },  # 07:01Z
            ]
        )
        yield store


@pytest.mark.slow
@pytest.mark.parametrize(("since", "until"), list(BOUNDS.values()), ids=list(BOUNDS))
def test_query_bounds_mean_utc_when_naive_and_their_instant_otherwise(
    spring_store: rca.Store, process_zone: str, since: Any, until: Any
) -> None:
    full = spring_store.events()
    inside = (full["timestamp"] >= pd.Timestamp("2026-03-08T06:30Z")) & (
        full["timestamp"] < pd.Timestamp("2026-03-08T08:15Z")
    )
    expected = full[inside]["source_id"].tolist()
    assert expected == [f"s{k:02d}" for k in range(6, 13)]  # 06:30 .. 08:00, until exclusive
    assert spring_store.events(since=since, until=until)["source_id"].tolist() == expected
    counts = spring_store.counts(freq="h", since=since, until=until)
    assert counts["count"].sum() == len(expected)
    assert str(counts["period"].dtype) == UTC_FRAME
    titles = spring_store.investigations(since=since, until=until)["title"].tolist()
    assert titles == ["early", "late"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("since", "until"),
    [
        (dt.date(2026, 3, 8), dt.date(2026, 3, 9)),
        ("2026-03-08", "2026-03-09"),
        ("2026-03-08T00:00", "2026-03-09T00:00:00"),
    ],
    ids=["dates", "date-text", "naive-midnights"],
)
def test_a_date_bound_is_utc_midnight_not_new_york_midnight(
    process_zone: str, since: Any, until: Any
) -> None:
    with rca.connect(":memory:") as store:
        store.add_events(
            [
                event("2026-03-07T23:30:00-05:00", "ny-saturday-night"),  # 04:30Z on the 8th
                event("2026-03-08T00:30:00Z", "utc-sunday-early"),  # Saturday 19:30 in New York
                event("2026-03-08T23:30:00Z", "utc-sunday-late"),
                event("2026-03-08T20:30:00-04:00", "ny-sunday-night"),  # 00:30Z on the 9th
            ]
        )
        got = store.events(since=since, until=until)["source_id"].tolist()
        assert got == ["utc-sunday-early", "ny-saturday-night", "utc-sunday-late"]


# --- results do not depend on the process time zone -------------------------------------------

#: Events on both DST-change days, written in assorted notations (their UTC times in comments).
DST_EVENTS = [
    ("s1", "2026-03-07T21:00:00-05:00"),  # 02:00Z on the 8th; the 7th in New York
    ("s2", dt.datetime(2026, 3, 8, 1, 0, tzinfo=NY)),  # 06:00Z
    ("s3", "2026-03-08T06:30:00Z"),  # 06:30Z
    ("s4", "2026-03-08T12:29:59.999999+05:30"),  # 06:59:59.999999Z
    ("s5", dt.datetime(2026, 3, 8, 3, 0, tzinfo=NY)),  # 07:00Z, the first EDT minute
    ("s6", pd.Timestamp("2026-03-08 03:30", tz="America/New_York")),  # 07:30Z
    ("s7", "2026-03-08T04:15:00-04:00"),  # 08:15Z
    ("s8", int(utc("2026-03-08T08:59:00").timestamp())),  # 08:59Z
    ("f1", dt.datetime(2026, 11, 1, 1, 10, tzinfo=NY)),  # 05:10Z, the first 01:10
    ("f2", "2026-11-01T01:50:00-04:00"),  # 05:50Z
    ("f3", dt.datetime(2026, 11, 1, 1, 10, tzinfo=NY, fold=1)),  # 06:10Z, the second 01:10
    ("f4", "2026-11-01T06:20:00Z"),  # 06:20Z
    ("f5", pd.Timestamp(dt.datetime(2026, 11, 1, 1, 40, tzinfo=NY, fold=1))),  # 06:40Z
    ("f6", "2026-11-01T22:00:00-05:00"),  # 03:00Z on the 2nd, a Monday; Sunday in New York
]
DST_INVESTIGATIONS = [
    {
        "id": "spring",
        "title": "Spring",
        "detected_at": dt.datetime(2026, 3, 8, 3, 15, tzinfo=NY),  # 07:15Z
        "component_affected": "payments",
    },
    {
        "id": "fall",
        "title": "Fall",
        "detected_at": "2026-11-01T01:30:00-05:00",  # 06:30Z, the second 01:30
        "component_affected": "payments",
    },
]


def build_dst_store(store: rca.Store) -> None:
    report = store.add_events([event(when, sid) for sid, when in DST_EVENTS])
    assert (report.stored, report.rejected_rows) == (len(DST_EVENTS), 0)
    store.add_investigations(DST_INVESTIGATIONS)


def _counts(store: rca.Store, freq: str, since: Any, until: Any) -> list[list[Any]]:
    frame = store.counts(freq=freq, since=since, until=until)
    assert str(frame["period"].dtype) == UTC_FRAME
    return [[p.isoformat(), int(n)] for p, n in zip(frame["period"], frame["count"], strict=True)]


def _timeline(store: rca.Store, inv: str, before: str, after: str) -> list[list[Any]]:
    frame = store.timeline(inv, before=before, after=after)
    micros = frame["offset"] / pd.Timedelta(microseconds=1)
    return [[s, int(us)] for s, us in zip(frame["source_id"], micros, strict=True)]


def fingerprint(store: rca.Store) -> dict[str, Any]:
    """What a notebook would read off the DST store, as JSON-ready values."""
    frame, invs = store.events(), store.investigations()
    return {
        "dtypes": sorted(
            {str(frame[c].dtype) for c in ("timestamp", "created_at", "updated_at", "linked_at")}
        ),
        "events": [
            [s, t.isoformat()] for s, t in zip(frame["source_id"], frame["timestamp"], strict=True)
        ],
        "models": [store.get_event(i).timestamp.isoformat() for i in frame["id"]],
        "detected": [
            [i, t.isoformat()] for i, t in zip(invs["id"], invs["detected_at"], strict=True)
        ],
        "spring_hourly": _counts(store, "h", "2026-03-08T06:00", "2026-03-08T09:00"),
        "fall_hourly": _counts(store, "1h", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"),
        "spring_daily": _counts(store, "1D", "2026-03-07", "2026-03-10"),
        "fall_daily": _counts(store, "D", dt.date(2026, 10, 31), dt.date(2026, 11, 3)),
        "fall_weekly": _counts(store, "W", "2026-10-26", "2026-11-09"),
        "spring_timeline": _timeline(store, "spring", "90min", "1h"),
        "fall_timeline": _timeline(store, "fall", "1h", "30m"),
        "naive_window": store.events(
            since="2026-03-08T07:00", until=dt.datetime(2026, 3, 8, 8, 30)
        )["source_id"].tolist(),
        "sql": store.sql(
            "SELECT strftime(date_trunc('hour', timestamp), '%Y-%m-%d %H:%M') AS hour, "
            "count(*) AS n FROM events GROUP BY ALL ORDER BY ALL"
        ).values.tolist(),
        "session_time_zone": store.sql("SELECT current_setting('TimeZone') AS tz")["tz"][0],
    }


MINUTE = 60_000_000  # microseconds
EXPECTED = {
    "dtypes": [UTC_FRAME],
    "events": [
        ["s1", "2026-03-08T02:00:00+00:00"],
        ["s2", "2026-03-08T06:00:00+00:00"],
        ["s3", "2026-03-08T06:30:00+00:00"],
        ["s4", "2026-03-08T06:59:59.999999+00:00"],
        ["s5", "2026-03-08T07:00:00+00:00"],
        ["s6", "2026-03-08T07:30:00+00:00"],
        ["s7", "2026-03-08T08:15:00+00:00"],
        ["s8", "2026-03-08T08:59:00+00:00"],
        ["f1", "2026-11-01T05:10:00+00:00"],
        ["f2", "2026-11-01T05:50:00+00:00"],
        ["f3", "2026-11-01T06:10:00+00:00"],
        ["f4", "2026-11-01T06:20:00+00:00"],
        ["f5", "2026-11-01T06:40:00+00:00"],
        ["f6", "2026-11-02T03:00:00+00:00"],
    ],
    "detected": [["spring", "2026-03-08T07:15:00+00:00"], ["fall", "2026-11-01T06:30:00+00:00"]],
    # Bucketing by New York wall clock would give 01:00 EST and 03:00 EDT (no 02:00 hour)...
    "spring_hourly": [
        ["2026-03-08T06:00:00+00:00", 3],
        ["2026-03-08T07:00:00+00:00", 2],
        ["2026-03-08T08:00:00+00:00", 2],
    ],
    # ...and one 01:00 bucket of five events in the fall.
    "fall_hourly": [["2026-11-01T05:00:00+00:00", 2], ["2026-11-01T06:00:00+00:00", 3]],
    "spring_daily": [
        ["2026-03-07T00:00:00+00:00", 0],
        ["2026-03-08T00:00:00+00:00", 8],
        ["2026-03-09T00:00:00+00:00", 0],
    ],
    "fall_daily": [
        ["2026-10-31T00:00:00+00:00", 0],
        ["2026-11-01T00:00:00+00:00", 5],
        ["2026-11-02T00:00:00+00:00", 1],
    ],
    "fall_weekly": [["2026-10-26T00:00:00+00:00", 5], ["2026-11-02T00:00:00+00:00", 1]],
    # Real elapsed time, not wall-clock differences (which are an hour off across a change).
    "spring_timeline": [
        ["s2", -75 * MINUTE],
        ["s3", -45 * MINUTE],
        ["s4", -15 * MINUTE - 1],
        ["s5", -15 * MINUTE],
        ["s6", 15 * MINUTE],
    ],
    "fall_timeline": [
        ["f2", -40 * MINUTE],
        ["f3", -20 * MINUTE],
        ["f4", -10 * MINUTE],
        ["f5", 10 * MINUTE],
    ],
    "naive_window": ["s5", "s6", "s7"],
    "sql": [
        ["2026-03-08 02:00", 1],
        ["2026-03-08 06:00", 3],
        ["2026-03-08 07:00", 2],
        ["2026-03-08 08:00", 2],
        ["2026-11-01 05:00", 2],
        ["2026-11-01 06:00", 3],
        ["2026-11-02 03:00", 1],
    ],
    "session_time_zone": "UTC",
}


def check_fingerprint(fp: dict[str, Any]) -> None:
    assert {k: fp[k] for k in EXPECTED} == EXPECTED
    assert fp["models"] == [t for _, t in EXPECTED["events"]]


@pytest.mark.slow
def test_dst_results_are_utc_in_a_process_in_new_york_time(process_zone: str) -> None:
    with rca.connect(":memory:") as store:
        build_dst_store(store)
        check_fingerprint(fingerprint(store))


@pytest.mark.slow
def test_a_store_opened_in_utc_reads_the_same_after_the_process_moves_to_new_york(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with rca.connect(":memory:") as store:
        build_dst_store(store)
        before = fingerprint(store)
        with monkeypatch.context() as patch:
            patch.setenv("TZ", "America/New_York")
            time.tzset()
            try:
                assert time.localtime(SPRING.timestamp()).tm_isdst == 1  # the zone is in force
                assert fingerprint(store) == before
                build = store.add_events([event(when, f"again-{s}") for s, when in DST_EVENTS])
                assert build.stored == len(DST_EVENTS)
            finally:
                patch.undo()
                time.tzset()
        frame = store.events()
        again = frame[frame["source_id"].str.startswith("again-")]["timestamp"].tolist()
        assert again == [pd.Timestamp(t) for _, t in EXPECTED["events"]]
    check_fingerprint(before)


CHILD = """
import importlib.util, json, sys, time
import duckdb
import rca_analytics as rca
spec = importlib.util.spec_from_file_location("tz_fingerprint", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
with rca.connect(sys.argv[2], read_only=True) as store:
    fp = module.fingerprint(store)
with duckdb.connect() as plain:
    [(plain_zone,)] = plain.sql("SELECT current_setting('TimeZone')").fetchall()
print(json.dumps({"tzname": list(time.tzname), "plain_duckdb": plain_zone, "fingerprint": fp}))
"""


@pytest.mark.slow
def test_dst_results_are_the_same_in_child_processes_in_new_york_and_utc(tmp_path: Path) -> None:
    path = tmp_path / "dst.duckdb"
    with rca.connect(path) as store:
        build_dst_store(store)
        here = fingerprint(store)
    # DuckDB lets no reader open a file while a writer holds it: the store is closed above.
    children = {}
    for zone in ("America/New_York", "UTC"):
        env = {k: v for k, v in os.environ.items() if k not in ("TZ", "RCA_DB")} | {"TZ": zone}
        children[zone] = subprocess.Popen(
            [sys.executable, "-W", "error", "-c", CHILD, __file__, str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    outputs = {
        zone: (*child.communicate(timeout=120), child.returncode)
        for zone, child in children.items()
    }
    results = {}
    for zone, (out, err, returncode) in outputs.items():
        assert returncode == 0, err
        results[zone] = json.loads(out)
    new_york, utc_child = results["America/New_York"], results["UTC"]
    assert new_york["tzname"] == ["EST", "EDT"]  # TZ took effect in the child...
    assert new_york["plain_duckdb"] == "America/New_York"  # ...and a plain DuckDB follows it
    assert utc_child["plain_duckdb"] in ("UTC", "Etc/UTC")
    assert new_york["fingerprint"] == utc_child["fingerprint"] == here
    check_fingerprint(new_york["fingerprint"])


# --- DuckDB's TimeZone setting: what a user can reach -------------------------------------------


@pytest.mark.slow
def test_store_sql_cannot_change_the_session_time_zone(process_zone: str) -> None:
    with rca.connect(":memory:") as store:
        build_dst_store(store)
        for statement in (
            "SET TimeZone = 'America/New_York'",
            "SET SESSION TimeZone = 'America/New_York'",
            "RESET TimeZone",
            "SELECT 1; SET TimeZone = 'America/New_York'",
        ):
            with pytest.raises(rca.QueryError):
                store.sql(statement)
        check_fingerprint(fingerprint(store))


@pytest.mark.slow
def test_new_york_wall_clock_time_is_there_when_asked_for_explicitly(process_zone: str) -> None:
    """ICU is built in: converting on purpose works, and changes no stored value."""
    with rca.connect(":memory:") as store:
        build_dst_store(store)
        local = store.sql(
            "SELECT source_id, strftime(timezone('America/New_York', timestamp), '%H:%M') AS ny "
            "FROM events WHERE source_id IN ('s2', 's5', 'f1', 'f3') ORDER BY timestamp"
        ).values.tolist()
        assert local == [["s2", "01:00"], ["s5", "03:00"], ["f1", "01:10"], ["f3", "01:10"]]
        check_fingerprint(fingerprint(store))


@pytest.mark.slow
def test_a_duckdb_session_in_new_york_time_beside_the_store_changes_nothing() -> None:
    """Frames from a New York session load as their instants; the store's session stays UTC."""
    with duckdb.connect(":memory:") as user:
        user.execute("SET TimeZone = 'America/New_York'")
        assert user.sql("SELECT current_setting('TimeZone')").fetchall() == [("America/New_York",)]
        query = (
            "SELECT 'metrics' AS source, 'alert' AS event_type, 'high' AS severity, "
            "'payments' AS component, t.sid AS source_id, t.ts AS timestamp FROM (VALUES "
            + ", ".join(f"('{sid}', TIMESTAMPTZ '{ts}')" for sid, ts in EXPECTED["events"])
            + ") t(sid, ts)"
        )
        frame = user.sql(query).df()
        arrow = user.sql(query).to_arrow_table()
    assert str(frame["timestamp"].dtype).endswith("America/New_York]")
    with rca.connect(":memory:") as store:
        assert store.add_events(frame).stored == len(DST_EVENTS)
        store.add_investigations(DST_INVESTIGATIONS)
        check_fingerprint(fingerprint(store))
        # A second cursor on the store's own database cannot move the zone either.
        cursor = _data.of(store).connection().cursor()
        with pytest.raises(duckdb.Error, match="locked"):
            cursor.execute("SET TimeZone = 'America/New_York'")
        cursor.close()
        check_fingerprint(fingerprint(store))
    with rca.connect(":memory:") as store:
        report = store.add_events(arrow)
        assert report.stored == len(DST_EVENTS)
        store.add_investigations(DST_INVESTIGATIONS)
        check_fingerprint(fingerprint(store))


def test_a_naive_numpy_datetime64_bound_is_read_as_utc() -> None:
    import numpy as np

    with rca.connect(":memory:") as store:
        store.add_event(event("2026-03-01T10:30:00Z", "np-1"))
        got = store.events(since=np.datetime64("2026-03-01T10:00"))
        assert got["source_id"].tolist() == ["np-1"]
        assert store.events(until=np.datetime64("2026-03-01T10:00")).empty
