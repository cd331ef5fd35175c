from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

import rca_analytics as rca

Factory = Callable[..., dict[str, Any]]


@pytest.fixture
def pair(
    store: rca.Store, event_data: Factory, investigation_data: Factory
) -> tuple[rca.Event, rca.Investigation]:
    return store.add_event(event_data()), store.add_investigation(investigation_data())


def test_links_are_stored_once_and_seen_from_both_sides(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    link = store.link(ev.id, inv.id, confidence=0.8, method="rule", reasons="same component")
    assert store.get_links() == [link]
    assert store.get_event(ev.id).investigation_ids == [inv.id]
    assert store.get_event(ev.id).linked_at == link.linked_at
    assert store.get_investigation(inv.id).event_ids == [ev.id]
    assert store.sql("SELECT count(*) AS n FROM links")["n"].item() == 1


def test_linking_again_replaces_the_attributes_and_keeps_one_link(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    store.link(ev.id, inv.id, confidence=0.4, method="linker", reasons=["time"])
    store.link(ev.id, inv.id, confidence=0.4, method="linker", reasons=["time"])  # no change
    new = store.link(ev.id, inv.id, confidence=1.0, method="manual", reasons=["confirmed"])
    (stored,) = store.get_links()
    assert stored == new
    actions = [c.action for c in store.history(ev.id)]
    assert actions == ["insert", "link", "link"]
    assert store.history(ev.id)[-1].detail["replaced"]["confidence"] == 0.4


def test_linking_moves_updated_at_on_both_sides(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    store.link(ev.id, inv.id)
    linked_ev, linked_inv = store.get_event(ev.id), store.get_investigation(inv.id)
    assert linked_ev.updated_at > ev.updated_at
    assert linked_inv.updated_at > inv.updated_at
    store.unlink(ev.id, inv.id)
    assert store.get_investigation(inv.id).updated_at > linked_inv.updated_at


def test_add_event_returns_what_get_event_returns(
    store: rca.Store, event_data: Factory, investigation_data: Factory
) -> None:
    a = store.add_investigation(investigation_data(id="zzz"))
    b = store.add_investigation(investigation_data(id="aaa"))
    ev = store.add_event(event_data(investigation_ids=[a.id, b.id]))
    assert ev == store.get_event(ev.id)


def test_link_validates_its_attributes(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    with pytest.raises(rca.ValidationFailed, match="confidence"):
        store.link(ev.id, inv.id, confidence=1.5)
    with pytest.raises(rca.ValidationFailed, match="method"):
        store.link(ev.id, inv.id, method="hunch")
    assert store.get_links() == []


def test_link_to_missing_or_deleted_records_is_not_found(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    with pytest.raises(rca.NotFound):
        store.link("nope", inv.id)
    with pytest.raises(rca.NotFound):
        store.link(ev.id, "nope")
    store.delete_investigation(inv.id)
    with pytest.raises(rca.NotFound, match="soft-deleted"):
        store.link(ev.id, inv.id)
    assert store.get_links() == []


def test_unlink_removes_the_link_and_says_when_there_is_none(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    link = store.link(ev.id, inv.id, confidence=0.7)
    assert store.unlink(ev.id, inv.id) == link
    assert store.get_investigation(inv.id).event_ids == []
    assert store.get_event(ev.id).linked_at is None
    with pytest.raises(rca.NotFound, match="not linked"):
        store.unlink(ev.id, inv.id)
    assert [c.action for c in store.history(inv.id)] == ["insert", "link", "unlink"]


def test_links_survive_a_delete_restore_cycle_on_both_sides(
    store: rca.Store, pair: tuple[rca.Event, rca.Investigation]
) -> None:
    ev, inv = pair
    store.link(ev.id, inv.id)
    store.delete_event(ev.id)
    assert store.get_investigation(inv.id).event_ids == []  # hidden while deleted
    assert len(store.get_links()) == 1  # but kept
    store.restore_event(ev.id)
    assert store.get_investigation(inv.id).event_ids == [ev.id]
    store.delete_investigation(inv.id)
    assert store.get_event(ev.id).investigation_ids == []
    assert store.restore_investigation(inv.id).event_ids == [ev.id]


def test_list_order_follows_link_time(store: rca.Store, event_data: Factory) -> None:
    inv = store.add_investigation({"title": "t"})
    events = [store.add_event(event_data()) for _ in range(3)]
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for n, ev in enumerate(reversed(events)):
        store.link(ev.id, inv.id, linked_at=base + dt.timedelta(minutes=n))
    assert store.get_investigation(inv.id).event_ids == [e.id for e in reversed(events)]


def test_relations_are_symmetric_and_stored_once(
    store: rca.Store, investigation_data: Factory
) -> None:
    a = store.add_investigation(investigation_data(title="a"))
    b = store.add_investigation(investigation_data(title="b"))
    c = store.add_investigation(investigation_data(title="c"))
    store.relate(b.id, a.id)
    assert store.get_investigation(a.id).updated_at > a.updated_at
    store.relate(a.id, b.id)  # harmless repeat
    store.relate(a.id, c.id)
    assert sorted(store.get_investigation(a.id).related_investigation_ids) == sorted([b.id, c.id])
    assert store.get_investigation(b.id).related_investigation_ids == [a.id]
    assert store.sql("SELECT count(*) AS n FROM investigation_relations")["n"].item() == 2
    store.delete_investigation(c.id)
    assert store.get_investigation(a.id).related_investigation_ids == [b.id]
    store.unrelate(b.id, a.id)
    assert store.get_investigation(a.id).related_investigation_ids == []
    with pytest.raises(rca.NotFound, match="not related"):
        store.unrelate(a.id, b.id)


def test_an_investigation_cannot_relate_to_itself(
    store: rca.Store, investigation_data: Factory
) -> None:
    a = store.add_investigation(investigation_data())
    with pytest.raises(rca.ValidationFailed, match="itself"):
        store.relate(a.id, a.id)
