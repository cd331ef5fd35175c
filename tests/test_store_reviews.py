"""A reviewer's verdict on a link is kept, respected by every writer, and never lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

import rca_analytics as rca

Make = Callable[..., dict[str, Any]]


@pytest.fixture
def pair(store: rca.Store, event_data: Make, investigation_data: Make) -> tuple[str, str]:
    inv = store.add_investigation(investigation_data())
    ev = store.add_event(event_data())
    store.link(ev.id, inv.id, confidence=0.74, method="linker", reasons=["time: 5 min before"])
    return ev.id, inv.id


def test_rejecting_unlinks_and_keeps_what_was_judged(
    store: rca.Store, pair: tuple[str, str]
) -> None:
    ev, inv = pair
    review = store.label_link(ev, inv, accepted=False, by="ana", note="staging deploy")
    assert (review.accepted, review.confidence, review.method) == (False, 0.74, "linker")
    assert review.reasons == ["time: 5 min before"]
    assert store.get_links(investigation_id=inv) == []
    assert store.get_investigation(inv).event_ids == []
    assert store.get_event(ev).investigation_ids == []
    assert store.events(investigation_id=inv).empty
    assert store.event_investigations().empty
    frame = store.reviews(inv)
    assert frame[["accepted", "reviewed_by", "note"]].values.tolist() == [
        [False, "ana", "staging deploy"]
    ]
    assert str(frame["reviewed_at"].dtype) == "datetime64[us, UTC]"
    unlink = [c for c in store.history(inv) if c.action == "unlink"][-1]
    assert unlink.detail["review"]["accepted"] is False


def test_accepting_keeps_the_link_and_shows_the_verdict_on_it(
    store: rca.Store, pair: tuple[str, str]
) -> None:
    ev, inv = pair
    store.label_link(ev, inv, accepted=True, by="bo")
    [link] = store.get_links(event_id=ev)
    assert (link.accepted, link.reviewed_by, link.method, link.confidence) == (
        True,
        "bo",
        "linker",
        0.74,
    )
    assert link.reviewed_at is not None


def test_changing_ones_mind_restores_the_link_as_it_was(
    store: rca.Store, pair: tuple[str, str]
) -> None:
    ev, inv = pair
    store.label_link(ev, inv, accepted=False)
    review = store.label_link(ev, inv, accepted=True, note="on second look")
    assert review.confidence == 0.74  # what was judged survives the round trip
    [link] = store.get_links(investigation_id=inv)
    assert (link.method, link.confidence, link.reasons, link.accepted) == (
        "linker",
        0.74,
        ["time: 5 min before"],
        True,
    )
    assert len(store.reviews()) == 1  # a later verdict replaces the earlier one


def test_accepting_an_unlinked_pair_links_it_by_hand(
    store: rca.Store, event_data: Make, investigation_data: Make
) -> None:
    inv = store.add_investigation(investigation_data())
    ev = store.add_event(event_data())
    store.label_link(ev.id, inv.id, accepted=True)
    [link] = store.get_links()
    assert (link.method, link.confidence, link.accepted) == ("manual", 1.0, True)
    assert store.reviews()["confidence"].isna().all()  # nothing was linked when judged


def test_no_load_relinks_a_rejected_pair_but_a_person_can(
    store: rca.Store, pair: tuple[str, str], investigation_data: Make
) -> None:
    ev, inv = pair
    store.label_link(ev, inv, accepted=False)
    report = store.add_events(
        [{**store.get_event(ev).model_dump(), "investigation_ids": [inv]}], on_duplicate="update"
    )
    assert store.get_links() == []
    assert report.links_refused == 1 and "links_refused=1" in repr(report)  # not silently
    store.link(ev, inv)
    assert len(store.get_links()) == 1
    assert store.reviews().empty  # the manual link overrode the rejection


def test_verdicts_name_real_records(store: rca.Store, pair: tuple[str, str]) -> None:
    ev, inv = pair
    with pytest.raises(rca.NotFound):
        store.label_link("nope", inv, accepted=False)
    with pytest.raises(rca.ValidationFailed, match="accepted"):
        store.label_link(ev, inv, accepted="yes")  # type: ignore[arg-type]
    assert store.reviews().empty


def test_a_read_only_version_3_file_has_no_reviews(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    rca.connect(path).close()
    with duckdb.connect(str(path)) as con:  # what schema version 3 looked like
        con.execute("DROP TABLE link_reviews")
        con.execute("DROP TABLE name_aliases")  # and what came after it
        con.execute("ALTER TABLE events DROP COLUMN summary")
        con.execute("UPDATE rca_meta SET value = '3' WHERE key = 'schema_version'")
    with rca.connect(path, read_only=True) as store:
        assert store.reviews().empty
        assert list(store.reviews().columns) == list(rca.Review.model_fields)
        assert store.get_links() == []
    with rca.connect(path) as store:  # and a writable open migrates it
        assert store.schema_version == 5 and store.reviews().empty
