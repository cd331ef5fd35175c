"""Aliases: declared once per store, honoured by filters, frames, counts and metrics.

Also: filters compare names in any case and spacing, and a name filter that matches
nothing says so (``attrs["notes"]``, and an ``UnknownNameWarning`` when a near name
exists).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics.errors import UnknownNameWarning

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def _event(minutes: int, component: str | None, service: str | None = None) -> dict[str, object]:
    return {
        "source": "logs",
        "event_type": "error",
        "severity": "high",
        "timestamp": T0 + dt.timedelta(minutes=minutes),
        "source_id": f"e{minutes}",
        "component": component,
        "service": service,
    }


@pytest.fixture
def spelt(tmp_path: Path) -> Iterator[rca.Store]:
    """Events and investigations naming payments three ways, and checkout."""
    with rca.connect(tmp_path / "s.duckdb") as store:
        store.add_events(
            [
                _event(-50, "Payments", "Checkout-API"),
                _event(-40, "payments-api", "checkout-api"),
                _event(-30, "  PAYMENTS ", None),
                _event(-20, "checkout", "web"),
                _event(-10, None, "CHECKOUT-API "),
            ]
        )
        store.add_investigations(
            [
                {
                    "id": "INC-1",
                    "title": "Card payments fail",
                    "detected_at": T0,
                    "component_affected": "payments-api",
                    "service_affected": "checkout-api",
                },
                {
                    "id": "INC-2",
                    "title": "Payments slow again",
                    "detected_at": T0 + dt.timedelta(days=3),
                    "component_affected": "Payments",
                },
                {"id": "INC-3", "title": "Checkout down", "component_affected": "checkout"},
            ]
        )
        yield store


# --- any case and spacing ---------------------------------------------------------------


def test_filters_compare_names_in_any_case_and_spacing(spelt: rca.Store) -> None:
    frame = spelt.events(component=" payments\t")
    assert frame["source_id"].tolist() == ["e-50", "e-30"]
    assert frame["component"].tolist() == ["Payments", "PAYMENTS"]  # as stored, no alias
    assert spelt.events(service="CHECKOUT-api")["source_id"].tolist() == ["e-50", "e-40", "e-10"]
    assert spelt.investigations(component="PAYMENTS")["id"].tolist() == ["INC-2"]
    assert spelt.investigations(service="Checkout-Api")["id"].tolist() == ["INC-1"]
    assert spelt.counts("events", component="payments")["count"].tolist() == [2]
    linked = spelt.link(spelt.events(component="checkout")["id"][0], "INC-3")
    assert linked.investigation_id == "INC-3"
    frame = spelt.event_investigations(component="CHECKOUT", investigation_component="Checkout")
    assert frame["investigation_id"].tolist() == ["INC-3"]


def test_timeline_relates_events_of_any_spelling(spelt: rca.Store) -> None:
    timeline = spelt.timeline("INC-2", before="4d", after="1h")
    assert timeline["source_id"].tolist() == ["e-50", "e-30"]
    assert timeline["relation"].tolist() == ["component", "component"]


# --- aliases ------------------------------------------------------------------------------


def test_an_alias_stands_for_its_name_in_filters_and_frames(spelt: rca.Store) -> None:
    spelt.alias("payments", "payments-api")
    frame = spelt.events(component="Payments-API")
    assert frame["source_id"].tolist() == ["e-50", "e-40", "e-30"]
    assert frame["component"].tolist() == ["payments"] * 3  # as the team writes it
    assert spelt.get_event(frame["id"][0]).component == "Payments"  # the record keeps its own
    investigations = spelt.investigations(component="payments")
    assert investigations["id"].tolist() == ["INC-1", "INC-2"]
    assert investigations["component_affected"].tolist() == ["payments", "payments"]
    assert spelt.investigations()["component_affected"].tolist() == [
        "payments",
        "payments",
        "checkout",
    ]
    # only the name columns change
    assert spelt.events()["service"].fillna("-").tolist() == [
        "Checkout-API",
        "checkout-api",
        "-",
        "web",
        "CHECKOUT-API",
    ]


def test_aliases_reach_joins_timelines_counts_and_metrics(spelt: rca.Store) -> None:
    spelt.alias("Payments", "payments-api")
    spelt.alias("checkout-api", "Checkout API")
    ids = spelt.events()["id"].tolist()
    spelt.link(ids[0], "INC-1")
    joined = spelt.event_investigations(investigation_component="PAYMENTS")
    assert joined[["event_component", "investigation_component_affected"]].values.tolist() == [
        ["Payments", "Payments"]
    ]
    assert joined["investigation_service_affected"].tolist() == ["checkout-api"]
    timeline = spelt.timeline("INC-1", before="1h")
    assert timeline["relation"].tolist() == ["linked", "component", "component", "service"]
    assert timeline["component"].fillna("-").tolist() == ["Payments"] * 3 + ["-"]
    shown = timeline["service"].fillna("-").tolist()
    assert shown == ["checkout-api", "checkout-api", "-", "checkout-api"]
    counts = spelt.counts("events", by="component")
    assert counts.values.tolist() == [["Payments", 3], ["checkout", 1], ["None", 1]] or (
        counts.dropna().values.tolist() == [["Payments", 3], ["checkout", 1]]
    )
    by_service = spelt.counts("investigations", by="service", service="CHECKOUT API")
    assert by_service.values.tolist() == [["checkout-api", 1]]
    repeats = rca.metrics.recurrence(spelt, by="component", within="7d")
    assert repeats[["component_affected", "incidents", "repeats"]].values.tolist() == [
        ["Payments", 2, 1],
        ["checkout", 1, 0],
    ]


def test_one_declaration_makes_every_spelling_one_name(spelt: rca.Store) -> None:
    spelt.alias("payments")
    counts = spelt.counts("events", by="component").dropna()
    assert counts[counts["component"] != "None"].values.tolist() == [
        ["checkout", 1],
        ["payments", 2],
        ["payments-api", 1],
    ]


def test_aliases_are_listed_and_persist(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with rca.connect(path) as store:
        assert store.aliases().empty
        assert list(store.aliases().columns) == ["alias", "name", "created_at"]
        store.alias("payments", "Payments-API", "pay ")
        store.alias("payments", "pay")  # again: harmless
        store.add_event(_event(0, "PAY"))
    with rca.connect(path, read_only=True) as store:
        frame = store.aliases()
        assert frame[["alias", "name"]].values.tolist() == [
            ["pay", "payments"],
            ["payments", "payments"],
            ["payments-api", "payments"],
        ]
        assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
        assert store.events(component="payments-api")["component"].tolist() == ["payments"]
        with pytest.raises(rca.ReadOnlyStore):
            store.alias("checkout", "co")
        with pytest.raises(rca.ReadOnlyStore):
            store.remove_alias("pay")


def test_a_conflict_is_refused_and_nothing_is_stored(spelt: rca.Store) -> None:
    spelt.alias("payments", "payments-api", "pay")
    spelt.alias("checkout", "checkout-web")
    cases = {
        # an alias standing for another name already
        ("billing", "new-alias", "pay"): "'pay' stands for 'payments' already",
        # the name is itself an alias
        ("pay", "p"): "'pay' is itself an alias of 'payments'",
        # an alias that is a name with aliases of its own
        ("payments", "new-alias", "Checkout"): "is a name with aliases of its own (checkout-web)",
        # another spelling of a name that is declared
        ("PAYMENTS", "new-alias"): "'PAYMENTS' is written 'payments' already",
    }
    before = spelt.aliases()
    for (name, *aliases), message in cases.items():
        with pytest.raises(rca.ValidationFailed) as refused:
            spelt.alias(name, *aliases)
        [failure] = refused.value.failures
        assert failure.code == rca.Reason.DUPLICATE_ID
        assert failure.field == "alias"
        assert message in failure.message, failure.message
        assert "remove_alias(" in failure.message or "declare aliases of" in failure.message
    pd.testing.assert_frame_equal(spelt.aliases(), before)  # "new-alias" not stored


def test_every_conflict_and_blank_is_listed(spelt: rca.Store) -> None:
    spelt.alias("payments", "pay")
    spelt.alias("checkout")
    with pytest.raises(rca.ValidationFailed) as refused:
        spelt.alias("billing", "pay", "CHECKOUT")
    assert [f.value for f in refused.value.failures] == ["pay", "CHECKOUT"]
    with pytest.raises(rca.ValidationFailed) as refused:
        spelt.alias("  ", "x")
    assert [(f.field, f.code) for f in refused.value.failures] == [("name", "empty")]
    with pytest.raises(rca.ValidationFailed) as refused:
        spelt.alias("billing", "", "\t")
    assert [(f.field, f.code) for f in refused.value.failures] == [("alias", "empty")] * 2


def test_removing_aliases(spelt: rca.Store) -> None:
    spelt.alias("payments", "payments-api", "pay")
    spelt.alias("checkout", "co")
    spelt.remove_alias("PAYMENTS-API")
    assert spelt.aliases()["alias"].tolist() == ["checkout", "co", "pay", "payments"]
    assert spelt.events(component="payments-api")["component"].tolist() == ["payments-api"]
    spelt.remove_alias("Payments")  # a name: with all its aliases
    assert spelt.aliases()["alias"].tolist() == ["checkout", "co"]
    with pytest.raises(rca.NotFound, match=r"no alias 'coo'.*did you mean 'co'\?"):
        spelt.remove_alias("checkout", "coo")
    assert len(spelt.aliases()) == 2  # nothing removed


def test_aliases_roll_back_with_their_transaction(spelt: rca.Store) -> None:
    assert spelt.events(component="pay").empty is True
    with pytest.raises(RuntimeError), spelt.transaction():
        spelt.alias("payments", "pay")
        assert len(spelt.events(component="pay")) == 2  # seen inside
        raise RuntimeError("boom")
    assert spelt.aliases().empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownNameWarning)
        assert spelt.events(component="pay").empty


def test_queries_see_new_aliases_and_new_spellings(spelt: rca.Store) -> None:
    assert len(spelt.events(component="payments")) == 2
    spelt.alias("payments", "payments-api")
    assert len(spelt.events(component="payments")) == 3
    spelt.add_event(_event(5, "PAYMENTS-API"))
    assert len(spelt.events(component="payments")) == 4


# --- a name that matches nothing ------------------------------------------------------------


def test_a_misspelt_name_warns_and_notes(spelt: rca.Store) -> None:
    with pytest.warns(UnknownNameWarning, match=r"did you mean 'PAYMENTS'\?") as caught:
        frame = spelt.events(component="paymnts")
    assert frame.empty and list(frame.columns) == list(spelt.events().columns)
    assert frame.attrs["notes"] == [
        "component: no component 'paymnts' in the store; did you mean 'PAYMENTS'?"
    ]
    [warning] = caught
    assert warning.filename == __file__  # the caller's line, not the package's
    assert isinstance(warning.message, UnknownNameWarning)
    assert (warning.message.keyword, warning.message.name) == ("component", "paymnts")
    assert warning.message.suggestion == "PAYMENTS"  # one of the two spellings stored


def test_a_misspelt_name_in_a_list_warns_too(spelt: rca.Store) -> None:
    spelt.alias("checkout-api", "Checkout API")
    with pytest.warns(UnknownNameWarning, match="did you mean 'checkout-api'"):
        frame = spelt.events(service=["web", "checkout api!"])
    assert frame["service"].tolist() == ["web"]
    assert frame.attrs["notes"][0].startswith("service: no service 'checkout api!'")


def test_a_name_with_no_near_one_is_only_noted(spelt: rca.Store) -> None:
    frame = spelt.investigations(component="kafka")  # no warning (filterwarnings=error)
    assert frame.empty
    assert frame.attrs["notes"] == ["component: no component 'kafka' in the store"]
    assert "notes" not in spelt.investigations(component="payments").attrs


def test_every_query_notes_unknown_names(spelt: rca.Store) -> None:
    with pytest.warns(UnknownNameWarning):
        joined = spelt.event_investigations(investigation_component="chekout")
    assert joined.attrs["notes"] == [
        "investigation_component: no component 'chekout' in the store; did you mean 'checkout'?"
    ]
    with pytest.warns(UnknownNameWarning):
        counts = spelt.counts("investigations", by="component", service="checkot-api")
    assert counts.empty and "did you mean 'checkout-api'" in counts.attrs["notes"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spelt.events(component="PAYMENTS").attrs == {}


def test_an_alias_is_a_near_name(spelt: rca.Store) -> None:
    spelt.alias("payments", "payments-gateway")
    with pytest.warns(UnknownNameWarning, match="did you mean 'payments'"):
        spelt.events(component="payments-gatewy")


def test_warnings_can_be_silenced_or_made_errors(spelt: rca.Store) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownNameWarning)
        assert spelt.events(component="paymnts").attrs["notes"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownNameWarning)
        with pytest.raises(UnknownNameWarning):
            spelt.events(component="paymnts")
