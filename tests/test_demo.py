from __future__ import annotations

import pytest

import rca_analytics as rca
from rca_analytics import demo


@pytest.mark.slow
def test_demo_covers_all_six_sources_and_links_every_incident() -> None:
    with rca.connect(":memory:") as store:
        counts = demo.build(store)
        stats = store.stats()
        assert stats["events"] == counts["events"] >= 200
        assert stats["investigations"] == 4
        assert stats["links"] == counts["links"]
        sources = set(store.sql("SELECT DISTINCT source FROM events")["source"])
        assert sources == {s.value for s in rca.EventSource}
        for inv_id in store.sql("SELECT id FROM investigations")["id"]:
            inv = store.get_investigation(inv_id)
            assert inv.event_ids, inv.title
            for ev_id in inv.event_ids:
                ev = store.get_event(ev_id)
                assert ev.component == inv.component_affected


@pytest.mark.slow
def test_demo_is_deterministic_for_a_seed() -> None:
    def keys(seed: int) -> list[str]:
        with rca.connect(":memory:") as store:
            demo.build(store, seed=seed)
            return store.sql("SELECT source_id FROM events ORDER BY source_id")[
                "source_id"
            ].tolist()

    assert keys(3) == keys(3)
    assert keys(3) != keys(4)


@pytest.mark.slow
def test_summary_tells_each_incident_story() -> None:
    with rca.connect(":memory:") as store:
        demo.build(store)
        text = demo.summary(store)
    assert "4 investigations" in text
    assert "P0 critical" in text
    assert "linked change: Deploy payments v2.14.0 to production" in text
    assert "47 min before detection" in text
    assert "linker's top suspect: Deploy payments v2.14.0 to production" in text
    # the P3's closest change scores 0.06: below the threshold it is no suspect
    assert "linker: no suspect (no change reaches its threshold 0.70" in text
    assert "no change linked before detection" in text  # the certificate expiry
    assert "resolved after 50 min" in text
