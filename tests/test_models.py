from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rca_analytics as rca

UTC = dt.UTC


def ev(**overrides: Any) -> rca.Event:
    data: dict[str, Any] = {
        "source": "git",
        "event_type": "commit",
        "severity": "info",
        "timestamp": "2026-03-01T10:02:00Z",
    }
    data.update(overrides)
    return rca.Event(**data)


def failures(excinfo: pytest.ExceptionInfo[rca.ValidationFailed]) -> dict[str | None, str]:
    return {f.field: f.code for f in excinfo.value.failures}


# --- enums ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CRITICAL ", "critical"),
        (" info", "info"),
        ("High", "high"),
        (rca.EventSeverity.LOW, "low"),
    ],
)
def test_event_severity_is_forgiving_about_case_and_blanks(raw: Any, expected: str) -> None:
    assert ev(severity=raw).severity == rca.EventSeverity(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("p0", "P0"), (" P1 ", "P1"), ("p3", "P3"), (rca.Priority.P2, "P2")],
)
def test_priority_accepts_lower_case(raw: Any, expected: str) -> None:
    assert rca.Investigation(title="t", priority=raw).priority is rca.Priority(expected)


@pytest.mark.parametrize("raw", ["in progress", "IN-PROGRESS", " In_Progress "])
def test_status_accepts_spaces_and_hyphens(raw: str) -> None:
    inv = rca.Investigation(title="t", status=raw)
    assert inv.status is rca.InvestigationStatus.IN_PROGRESS


def test_unknown_enum_value_is_rejected_with_the_choices() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(severity="sever")
    (failure,) = excinfo.value.failures
    assert (failure.field, failure.code, failure.value) == ("severity", "invalid_choice", "sever")
    assert "critical" in failure.message and "info" in failure.message


def test_impact_severity_has_no_info_level() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Investigation(title="t", impact_severity="info")
    assert failures(excinfo) == {"impact_severity": "invalid_choice"}


def test_enums_are_strings() -> None:
    e = ev(source="CI", event_type="Build")
    assert e.source == "ci" and isinstance(e.source, str)
    assert e.event_type == "build"


# --- time --------------------------------------------------------------------------------


def test_offset_input_comes_back_as_the_same_instant_in_utc() -> None:
    e = ev(timestamp="2026-03-01T10:02:00+01:00")
    assert e.timestamp == dt.datetime(2026, 3, 1, 9, 2, tzinfo=UTC)
    assert e.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-01T09:02:00Z",
        "2026-03-01 09:02:00z",
        "2026-03-01T04:02:00-05:00",
        dt.datetime(2026, 3, 1, 9, 2, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 10, 2, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        pd.Timestamp("2026-03-01T09:02:00", tz="UTC"),
        pd.Timestamp("2026-03-01T11:02:00", tz="Europe/Athens"),
        1772355720,
        1772355720.0,
        np.int64(1772355720),
    ],
)
def test_timestamp_inputs_that_name_an_instant(raw: Any) -> None:
    assert ev(timestamp=raw).timestamp == dt.datetime(2026, 3, 1, 9, 2, tzinfo=UTC)


def test_epoch_seconds_keep_microseconds() -> None:
    e = ev(timestamp=1772355720.123456)
    assert e.timestamp == dt.datetime(2026, 3, 1, 9, 2, 0, 123456, tzinfo=UTC)


def test_nanosecond_fractions_are_truncated_to_microseconds_without_warning() -> None:
    assert ev(timestamp="2026-03-01T09:02:00.123456789Z").timestamp.microsecond == 123456
    ts = pd.Timestamp("2026-03-01T09:02:00.123456789", tz="UTC")
    assert ev(timestamp=ts).timestamp.microsecond == 123456


@pytest.mark.parametrize(
    "raw",
    [
        dt.datetime(2026, 3, 1, 9, 2),
        "2026-03-01T09:02:00",
        "2026-03-01",
        dt.date(2026, 3, 1),
        pd.Timestamp("2026-03-01T09:02:00"),
        np.datetime64("2026-03-01T09:02:00"),
    ],
)
def test_naive_times_are_rejected_with_a_fix(raw: Any) -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(timestamp=raw)
    (failure,) = excinfo.value.failures
    assert failure.field == "timestamp"
    assert failure.code == "naive_datetime"
    assert "Z" in failure.message or "tz" in failure.message


def test_epoch_milliseconds_are_not_silently_taken_as_seconds() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(timestamp=1772355720000)
    assert "milliseconds" in excinfo.value.failures[0].message


@pytest.mark.parametrize(
    "raw",
    [
        True,
        np.bool_(True),
        "yesterday",
        [2026],
        math.inf,
        10**400,
        -7e10,
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_nonsense_times_are_rejected(raw: Any) -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(timestamp=raw)
    assert list(failures(excinfo)) == ["timestamp"]


# --- strictness ---------------------------------------------------------------------------


def test_unknown_field_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Event(source="git", event_type="commit", sevrity="info", timestamp=0)
    by_field = {f.field: f for f in excinfo.value.failures}
    assert by_field["sevrity"].code == "unknown_field"
    assert "did you mean 'severity'" in by_field["sevrity"].message
    assert by_field["severity"].code == "missing"


def test_every_problem_is_reported_not_just_the_first() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Event(source="svn", event_type="", severity="urgent", timestamp="soon", tags=[1])
    assert failures(excinfo) == {
        "source": "invalid_choice",
        "event_type": "empty",
        "severity": "invalid_choice",
        "timestamp": "invalid_datetime",
        "tags": "invalid_type",
    }
    assert str(excinfo.value).startswith("Event: 5 problems")


def test_failures_name_an_investigation_by_title_when_there_is_no_id() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Investigation(title="Checkout 500s", priority="P9")
    assert excinfo.value.failures[0].record == "title='Checkout 500s'"


def test_failures_name_the_record_by_source_key_when_there_is_no_id() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(severity="bad", source_id="9fceb02")
    assert excinfo.value.failures[0].record == "git:9fceb02"
    assert "record git:9fceb02" in str(excinfo.value)


@pytest.mark.parametrize("field", ["root_cause", "remediation", "lessons_learned"])
def test_long_text_limit_is_2000_characters(field: str) -> None:
    ok = rca.Investigation(title="t", **{field: "x" * 2000})
    assert len(getattr(ok, field)) == 2000
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Investigation(title="t", **{field: "é" * 2001})
    (failure,) = excinfo.value.failures
    assert (failure.field, failure.code) == (field, "too_long")
    assert "2001" in failure.message and "2000" in failure.message


def test_event_type_is_lower_case_words() -> None:
    assert ev(event_type=" Config-Change  now").event_type == "config_change_now"
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(event_type=" - ")
    assert failures(excinfo) == {"event_type": "empty"}


def test_title_is_required_and_not_blank() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Investigation(title="   ")
    assert failures(excinfo) == {"title": "empty"}
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Investigation()
    assert failures(excinfo) == {"title": "missing"}


def test_lone_surrogates_are_rejected_because_they_cannot_be_stored() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Investigation(title="bad \ud800 title")
    assert failures(excinfo) == {"title": "invalid_text"}
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(data={"k": "\udfff"})
    assert failures(excinfo) == {"data": "invalid_text"}


def test_assignment_is_validated_and_a_bad_value_changes_nothing() -> None:
    inv = rca.Investigation(title="t")
    with pytest.raises(rca.ValidationFailed):
        inv.status = "bogus"  # type: ignore[assignment]
    assert inv.status is rca.InvestigationStatus.OPEN
    inv.status = "RESOLVED"  # type: ignore[assignment]
    assert inv.status is rca.InvestigationStatus.RESOLVED


# --- missing values ------------------------------------------------------------------------


def test_pandas_missing_markers_mean_missing() -> None:
    inv = rca.Investigation(
        title="t",
        detected_at=pd.NaT,
        priority=np.nan,
        root_cause=None,
        component_affected=pd.NA,
        tags=None,
    )
    assert inv.detected_at is None
    assert inv.priority is rca.Priority.P2  # the default applies
    assert inv.component_affected is None
    assert inv.tags == []


def test_missing_required_value_from_pandas_is_reported_as_missing() -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(timestamp=pd.NaT)
    assert failures(excinfo) == {"timestamp": "missing"}


def test_blank_optional_names_are_missing() -> None:
    assert ev(component="  ", service="").component is None


# --- collections ---------------------------------------------------------------------------


def test_tags_drop_duplicates_keeping_first_occurrence_order() -> None:
    assert ev(tags=["db", " timeout", "db", "", "api", "timeout"]).tags == ["db", "timeout", "api"]


def test_tags_as_json_text_like_the_earlier_store_kept_them() -> None:
    assert ev(tags='["db", "timeout", "db"]').tags == ["db", "timeout"]
    assert ev(tags="[wip]").tags == ["[wip]"]  # not JSON: one tag


def test_a_single_tag_string_is_one_tag() -> None:
    assert ev(tags="deploy").tags == ["deploy"]


def test_tags_from_numpy_arrays() -> None:
    assert ev(tags=np.array(["a", "b", "a"])).tags == ["a", "b"]


def test_data_is_made_json_ready() -> None:
    e = ev(
        data={
            "n": np.int64(3),
            "x": np.float64(0.5),
            "missing": math.nan,
            "when": dt.datetime(2026, 3, 1, tzinfo=UTC),
            "nested": {"ids": (1, 2)},
            "id": uuid.UUID(int=1),
        }
    )
    assert e.data == {
        "n": 3,
        "x": 0.5,
        "missing": None,
        "when": "2026-03-01T00:00:00+00:00",
        "nested": {"ids": [1, 2]},
        "id": "00000000-0000-0000-0000-000000000001",
    }
    assert json.loads(json.dumps(e.data)) == e.data


def test_data_accepts_json_object_text() -> None:
    assert ev(data='{"a": [1, 2]}').data == {"a": [1, 2]}


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"a": {"b": math.inf}}, "a.b"),
        ({1: "x"}, "key 1"),
        ({"a": [object()]}, "a[0]"),
        ({"when": dt.datetime(2026, 3, 1)}, "when"),
        ("[1, 2]", "mapping"),
        ("not json", "JSON"),
    ],
)
def test_data_that_json_cannot_hold_is_rejected_with_its_path(data: Any, where: str) -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        ev(data=data)
    (failure,) = excinfo.value.failures
    assert failure.field == "data"
    assert where in failure.message


# --- identity and defaults -----------------------------------------------------------------


def test_ids_are_generated_uuid4_text() -> None:
    a, b = ev(), ev()
    assert a.id != b.id
    assert uuid.UUID(a.id).version == 4


def test_uuid_objects_and_numeric_source_ids_become_text() -> None:
    u = uuid.uuid4()
    e = ev(id=u, source_id=4711)
    assert (e.id, e.source_id) == (str(u), "4711")
    assert ev(source_id=np.int64(4711)).source_id == "4711"
    assert ev(source_id=4711.0).source_id == "4711"  # pandas makes floats of int columns with gaps
    with pytest.raises(rca.ValidationFailed):
        ev(source_id=47.5)


def test_updated_at_defaults_to_created_at() -> None:
    inv = rca.Investigation(title="t", created_at="2026-01-01T00:00:00Z")
    assert inv.updated_at == inv.created_at
    e = ev(created_at=0)
    assert e.updated_at == e.created_at


def test_defaults_of_an_investigation() -> None:
    inv = rca.Investigation(title="t")
    assert inv.status is rca.InvestigationStatus.OPEN
    assert inv.impact_severity is rca.ImpactSeverity.MEDIUM
    assert inv.priority is rca.Priority.P2
    assert inv.created_at.tzinfo is UTC


# --- round trips and old records ----------------------------------------------------------


def test_dict_round_trip_of_every_model() -> None:
    records: list[rca.Event | rca.Investigation | rca.Link] = [
        ev(tags=["a"], data={"k": [1, {"x": None}]}, parsed_at=5, component="c"),
        rca.Investigation(
            title="t",
            root_cause="r",
            detected_at=1,
            resolved_at=2,
            event_ids=["e1"],
            tags=["x"],
        ),
        rca.Link(event_id="e", investigation_id="i", confidence=0.25, method="rule", reasons="r"),
    ]
    for record in records:
        as_dict = record.to_dict()
        json.dumps(as_dict)  # JSON-ready
        assert type(record).from_dict(as_dict) == record


def test_first_generation_investigations_load() -> None:
    old = {
        "id": "inv-001",
        "title": "Database outage",
        "status": "closed",
        "created_at": "2024-05-01T10:00:00+00:00",
        "updated_at": "2024-05-02T10:00:00+00:00",
    }
    inv = rca.Investigation.from_dict(old)
    assert inv.id == "inv-001"
    assert inv.status is rca.InvestigationStatus.CLOSED
    assert inv.priority is rca.Priority.P2
    assert inv.updated_at == dt.datetime(2024, 5, 2, 10, tzinfo=UTC)


# --- links --------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [-0.01, 1.01, math.nan, math.inf, True, "high"])
def test_link_confidence_must_be_a_number_in_0_1(confidence: Any) -> None:
    with pytest.raises(rca.ValidationFailed) as excinfo:
        rca.Link(event_id="e", investigation_id="i", confidence=confidence)
    assert list(failures(excinfo)) == ["confidence"]


def test_link_method_and_defaults() -> None:
    link = rca.Link(event_id="e", investigation_id="i", method="LINKER")
    assert link.method is rca.LinkMethod.LINKER
    assert link.confidence == 1.0 and link.reasons == []
    with pytest.raises(rca.ValidationFailed):
        rca.Link(event_id="e", investigation_id="i", method="guess")


# --- notebook manners ---------------------------------------------------------------------


def test_reprs_are_short_and_readable() -> None:
    e = ev(component="payments", service="checkout-api", source_id="9fceb02")
    assert repr(e) == (
        "<Event git/commit info 2026-03-01T10:02:00Z payments/checkout-api source_id='9fceb02'>"
    )
    inv = rca.Investigation(title="Checkout 500s " * 10, impact_severity="critical")
    assert len(repr(inv)) < 120
    assert repr(inv).startswith("<Investigation 'Checkout 500s")


def test_html_repr_lists_every_field_and_escapes() -> None:
    inv = rca.Investigation(title="<script>alert(1)</script>", tags=["a&b"])
    page = inv._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page and "a&amp;b" in page
    for name in rca.Investigation.model_fields:
        assert f">{name}<" in page
