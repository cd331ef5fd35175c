"""Postmortem reports: a pinned Markdown snapshot, self-contained HTML seen in a browser."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rca_analytics as rca
from rca_analytics import report

SNAPSHOT = Path(__file__).parent / "snapshots" / "postmortem.md"
T = dt.datetime(2026, 3, 3, 9, 15, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


@pytest.fixture
def incident(store: rca.Store) -> str:
    """One incident with fixed ids and times: the report is the same on every run."""
    inv = store.add_investigation(
        {
            "id": "inv-checkout-500s",
            "title": "Checkout 500s | after <payments> deploy",
            "description": "Checkout returned 500 for 12% of requests.",
            "status": "resolved",
            "impact_severity": "critical",
            "priority": "P0",
            "component_affected": "payments",
            "service_affected": "checkout-api",
            "impact_started_at": at(-8),
            "detected_at": at(0),
            "mitigated_at": at(25),
            "resolved_at": at(50),
            "root_cause": "v2.14.0 shrank the DB pool from 50 to 5.",
            "remediation": "Rolled back; pool-saturation alert added.",
            "tags": ["db", "rollback"],
            "created_by": "ana",
            "created_at": at(5),
        }
    )
    other = store.add_investigation(
        {"id": "inv-earlier", "title": "Pool warnings", "status": "closed",
         "detected_at": at(-60 * 24 * 7), "resolved_at": at(-60 * 24 * 7 + 30),
         "created_at": at(-60 * 24 * 7 + 5)}
    )  # fmt: skip
    store.relate(inv.id, other.id)
    events = [
        ("ev-deploy", "ci", "deploy", "info", at(-12), "deploy-42", {"version": "v2.14.0"}),
        ("ev-commit", "git", "commit", "info", at(-90), "9f2c1ab" + "0" * 33,
         {"message": "Tune pool size"}),
        ("ev-alert", "metrics", "alert", "critical", at(-2), "fp-1",
         {"alertname": "ErrorRateHigh"}),
    ] + [
        (f"ev-err-{i}", "logs", "error", "high", at(-6 + 3 * i), f"err-{i}",
         {"message": f"pool exhausted after {i} ms", "template": "pool exhausted after <*> ms",
          "fingerprint": "tpl-pool"})
        for i in range(8)
    ]  # fmt: skip
    for event_id, source, kind, severity, when, source_id, data in events:
        store.add_event(
            {"id": event_id, "source": source, "event_type": kind, "severity": severity,
             "timestamp": when, "source_id": source_id, "data": data,
             "component": "payments", "service": "checkout-api"}
        )  # fmt: skip
    for event_id in ("ev-deploy", "ev-alert", "ev-err-0"):
        store.link(event_id, inv.id, linked_at=at(30))
    return inv.id


@pytest.mark.slow
def test_the_markdown_is_pinned(store: rca.Store, incident: str) -> None:
    """Changing the report's content changes this snapshot; RCA_UPDATE_SNAPSHOTS=1 rewrites it."""
    text = report.postmortem(store, incident, as_of="2026-03-10").to_markdown()
    if os.environ.get("RCA_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


def plain(markdown: str) -> str:
    """Markdown with its backslash escapes undone (what a reader sees, roughly)."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.mark.slow
def test_the_report_tells_the_story(store: rca.Store, incident: str) -> None:
    text = plain(report.postmortem(store, incident, as_of="2026-03-10").to_markdown())
    for part in (
        "# Postmortem: Checkout 500s | after <payments> deploy",
        "| time to detect | 8 min | detected_at - impact_started_at |",
        "| time to mitigate | 25 min | mitigated_at - detected_at |",
        "![Events by source; the incident window shaded](<timeline.png>)",
        "| ci | deploy | 1 |",
        "deploy-42",
        "change_before: deploy 4 min before impact start",
        "v2.14.0 shrank the DB pool",
        "| inv-earlier | Pool warnings | closed |",
        "median time to resolve 40 min (median of resolved_at - detected_at over 2",
    ):
        assert part in text, part


@pytest.mark.slow
def test_html_is_one_self_contained_page(store: rca.Store, incident: str) -> None:
    doc = report.postmortem(store, incident, as_of="2026-03-10")
    page = doc.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;payments&gt;" in page and "<payments>" not in page
    assert 'src="data:image/png;base64,' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched
    fragment = doc._repr_html_()  # in Jupyter: styles scoped to the report's own div
    assert fragment.startswith('<div class="rca-report">') and fragment in page
    assert "body{" not in fragment and doc._repr_markdown_() == doc.to_markdown()


@pytest.mark.slow
def test_save_by_suffix(store: rca.Store, incident: str, tmp_path: Path) -> None:
    doc = report.postmortem(store, incident, as_of="2026-03-10")
    md = doc.save(tmp_path / "pm.md")
    assert "](<pm-timeline.png>)" in md.read_text()
    assert (tmp_path / "pm-timeline.png").read_bytes().startswith(b"\x89PNG")
    assert doc.save(tmp_path / "pm.html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"\.md or \.html"):
        doc.save(tmp_path / "pm.pdf")


@pytest.mark.slow
def test_without_matplotlib_the_report_says_so(
    store: rca.Store, incident: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    doc = report.postmortem(store, incident, as_of="2026-03-10")
    assert not doc.figures
    assert "needs matplotlib" in doc.to_markdown()


def test_an_investigation_with_nothing_around_it(store: rca.Store) -> None:
    inv = store.add_investigation({"title": "Quiet"})
    text = report.postmortem(store, inv.id).to_markdown()
    assert "No events around the incident." in text
    assert "Not enough times recorded" in text
    assert "Not recorded yet." in text


def _window_pixels(png: Path) -> int:
    """Pixels of the plot's shaded incident window (#ffd6d6) in a screenshot."""
    import matplotlib.image

    rgb = matplotlib.image.imread(str(png))[..., :3]
    target = [int(report.WINDOW_COLOUR[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    close = (abs(rgb - target) < 0.03).all(axis=-1)
    return int(close.sum())


def _screenshot(browser: str, page: Path, out: Path) -> None:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1000,1400", f"--screenshot={out}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.mark.browser
def test_the_html_shows_its_timeline_in_a_real_browser(
    store: rca.Store, incident: str, tmp_path: Path
) -> None:
    """Headless Chromium (Debian's package; `python3 tasks.py test` installs it)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (python3 tasks.py test installs it)")
    doc = report.postmortem(store, incident, as_of="2026-03-10")
    page = doc.save(tmp_path / "pm.html")
    _screenshot(browser, page, tmp_path / "shot.png")
    assert _window_pixels(tmp_path / "shot.png") > 2000
    # The same page without its image has none of that colour: the check can fail.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', page.read_text()))
    _screenshot(browser, bare, tmp_path / "bare.png")
    assert _window_pixels(tmp_path / "bare.png") < 50


@pytest.mark.slow
def test_a_reliability_review(store: rca.Store, incident: str) -> None:
    doc = report.review(store, since="2026-02-01", until="2026-04-01", as_of="2026-04-02")
    text = plain(doc.to_markdown())
    for part in (
        "# Reliability review 2026-02-01 to 2026-04-01",
        "2 incidents, by impact severity and status:",  # and the earlier one
        "| time to resolve | 2 | 40 min |",  # 50 and 30 min
        "| deployment_frequency | 0.02 per day (0.1 per week) | not rated: 1 deploy, "
        "needs ≥ 10 | 1 |",
        "## Repeat incidents",
        "| no_events | 1 |",
        "time to resolve: median, p90, mean of resolved_at - detected_at over 2 investigations",
        "where since=2026-02-01 00:00, until=2026-04-01 00:00",
    ):
        assert part in text, part
    assert "trend" in doc.figures
    with pytest.raises(rca.QueryError, match="before"):
        report.review(store, since="2026-05-01", until="2026-04-01")


HOSTILE = (
    "Title </table><script>alert(1)</script> [click](https://evil.example) "
    "![px](https://evil.example/p.png) <img src=https://evil.example/i.png> | pipe"
)
HOSTILE_TEXT = (
    "one\n```\n1. list\n    code\n# heading\n&amp; *bold* `tick` ~~strike~~\r| fake | row |"
)


@pytest.mark.slow
def test_hostile_text_is_shown_literally(store: rca.Store) -> None:
    from markdown_it import MarkdownIt

    inv = store.add_investigation(
        {"title": HOSTILE, "root_cause": HOSTILE_TEXT, "remediation": HOSTILE,
         "detected_at": at(0), "component_affected": "pay"}
    )  # fmt: skip
    store.add_event(
        {"source": "logs", "event_type": "error", "severity": "high", "component": "pay",
         "timestamp": at(1), "data": {"message": HOSTILE_TEXT}}
    )  # fmt: skip
    doc = report.postmortem(store, inv.id, plot=False)
    rendered = MarkdownIt("commonmark").enable("table").render(doc.to_markdown())
    for tag in ("<img", "<a ", "<script", "<pre", "<code", "<ol", "<ul", "<h1>Title </table>"):
        assert tag not in rendered, tag
    assert rendered.count("<h1>") == 1 and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "[click](https://evil.example)" in rendered  # the text, not a link
    assert "```" in rendered and "&amp;amp;" in rendered and "# heading" in rendered
    assert "<td>| fake | row |" not in rendered  # a carriage return forges no table row
    page = doc.to_html()
    assert "<script>" not in page and "<img src=https" not in page
    assert "one<br>" in page  # line breaks of the root cause kept


def _demo_report(store: rca.Store, priority: str) -> str:
    invs = store.investigations(columns=["id", "priority"])
    inv_id = invs.loc[invs["priority"].astype(str) == priority, "id"].iloc[0]
    return plain(report.postmortem(store, inv_id, as_of="2026-03-20", plot=False).to_markdown())


def _section(text: str, heading: str) -> str:
    return text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.slow
def test_the_demo_p0_names_its_deploy_first_and_collapses_its_flood(
    demo_store: rca.Store,
) -> None:
    text = _demo_report(demo_store, "P0")
    changes = _section(text, "Suspected changes")
    assert "Top suspect: " in changes and "ci/deploy, 47 min before detection" in changes
    first_row = next(line for line in changes.splitlines() if line.startswith("| 2026"))
    assert "| ci/deploy |" in first_row and "deploy-incident-0" in first_row
    assert "| yes |" in first_row
    timeline = _section(text, "Timeline")
    rows = [line for line in timeline.splitlines() if line.startswith("| 2026")]
    errors = [r for r in rows if "| logs | error |" in r and "upstream failed" in r]
    assert len(errors) == 1 and " over " in errors[0]  # 14-24 errors: one row
    assert "events in" in timeline and len(rows) < 15


@pytest.mark.slow
def test_a_change_below_the_threshold_is_no_suspect(demo_store: rca.Store) -> None:
    changes = _section(_demo_report(demo_store, "P3"), "Suspected changes")
    assert "Top suspect" not in changes
    assert "No change reaches the linker's threshold (0.70): none is a suspect" in changes
