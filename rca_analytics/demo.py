"""A realistic demo incident history: a week of signals around four incidents.

``build(store)`` fills a store with a few investigations and a few hundred events
from all six sources (commits, CI builds and deploys, error logs, alerts, traces,
manual notes), linked where an engineer would link them; ``summary(store)`` prints
what a reviewer would want to see first. Everything is deterministic for a seed.

>>> import rca_analytics as rca
>>> from rca_analytics import demo
>>> store = rca.connect(":memory:")
>>> counts = demo.build(store)
>>> counts["investigations"], counts["events"] > 200, counts["links"] > 10
(4, True, True)
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from ._linker_config import LinkerConfig
from .models import Event, Investigation, Link
from .store import Store

__all__ = ["build", "summary"]

START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
DAYS = 7

_SERVICES = {
    "payments": "checkout-api",
    "search": "search-api",
    "auth": "identity",
    "inventory": "inventory-sync",
    "web": "storefront",
}
_AUTHORS = ["ana", "bo", "chen", "dara", "eli", "fatima", "gus"]
_COMMIT_VERBS = ["fix", "add", "refactor", "bump", "tune", "remove", "document"]
_COMMIT_OBJECTS = [
    "retry budget",
    "cache TTL",
    "null check",
    "metrics labels",
    "timeouts",
    "feature flag",
    "logging",
    "pagination",
    "connection pool",
    "schema",
]


@dataclass(frozen=True)
class _Incident:
    title: str
    component: str
    impact: str
    priority: str
    status: str
    detected: dt.datetime
    cause_lead: dt.timedelta  # cause event this long before detection
    cause_type: str  # deploy / commit / config / none
    cause_text: str
    duration: dt.timedelta | None  # detection -> resolution
    root_cause: str | None
    remediation: str | None
    lessons: str | None
    tags: tuple[str, ...]


_INCIDENTS = [
    _Incident(
        "Checkout 500s after payments deploy",
        "payments",
        "critical",
        "P0",
        "resolved",
        START + dt.timedelta(days=1, hours=9, minutes=15),
        dt.timedelta(minutes=47),
        "deploy",
        "payments v2.14.0",
        dt.timedelta(minutes=50),
        "payments v2.14.0 shrank the DB connection pool from 50 to 5; checkout requests "
        "timed out waiting for connections and returned 500.",
        "Rolled back to v2.13.2; restored pool size; added a pool-saturation alert.",
        "Config defaults changed in a refactor need a review checklist item.",
        ("deploy", "db", "rollback"),
    ),
    _Incident(
        "Search p99 latency above 2 s",
        "search",
        "high",
        "P1",
        "resolved",
        START + dt.timedelta(days=3, hours=2, minutes=40),
        dt.timedelta(minutes=25),
        "config",
        "nightly index rebuild moved to 02:15",
        dt.timedelta(hours=1, minutes=35),
        "The index rebuild cron was moved into peak APAC traffic and saturated the search nodes.",
        "Moved the rebuild back to 05:00 UTC and throttled it.",
        "Scheduled jobs need the same change review as code.",
        ("latency", "cron"),
    ),
    _Incident(
        "SSO logins failing",
        "auth",
        "medium",
        "P2",
        "closed",
        START + dt.timedelta(days=4, hours=14, minutes=5),
        dt.timedelta(hours=3),
        "none",
        "",
        dt.timedelta(hours=2, minutes=10),
        "The IdP signing certificate expired; no change on our side.",
        "Rotated the certificate; added expiry monitoring 30 days ahead.",
        None,
        ("certificate", "sso"),
    ),
    _Incident(
        "Intermittent inventory sync timeouts",
        "inventory",
        "low",
        "P3",
        "in_progress",
        START + dt.timedelta(days=6, hours=11, minutes=30),
        dt.timedelta(hours=5),
        "commit",
        "raise batch size to 5000",
        None,
        None,
        None,
        None,
        ("timeout",),
    ),
]


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _event(
    ts: dt.datetime,
    source: str,
    event_type: str,
    severity: str,
    component: str,
    source_id: str,
    tags: list[str],
    data: dict[str, Any],
    summary: str | None = None,
) -> Event:
    """A demo event; without ``summary`` the store derives it, as for any load."""
    return Event(
        timestamp=ts,
        source=source,
        event_type=event_type,
        severity=severity,
        component=component,
        service=_SERVICES[component],
        source_id=source_id,
        tags=tags,
        data=data,
        summary=summary,
        parsed_at=ts + dt.timedelta(minutes=1),
    )


def _background(rng: random.Random) -> list[Event]:
    """Ordinary work: commits, builds, deploys, a few warnings, alerts and slow spans."""
    components = list(_SERVICES)
    events = _commits_and_builds(rng, components)
    events += _deploys(rng, components)
    events += _warnings(rng, components)
    events += _resolved_alerts(rng, components)
    events += _slow_spans(rng, components)
    return events


def _commits_and_builds(rng: random.Random, components: list[str]) -> list[Event]:
    """Commits in working hours, and a CI build for every other one."""
    events: list[Event] = []
    for n in range(DAYS * 14):
        ts = START + dt.timedelta(
            days=rng.randrange(DAYS), hours=rng.randint(8, 18), minutes=rng.randrange(60)
        )
        comp = rng.choice(components)
        sha = _sha(rng)
        msg = f"{rng.choice(_COMMIT_VERBS)} {rng.choice(_COMMIT_OBJECTS)} in {comp}"
        events.append(
            _event(
                ts,
                "git",
                "commit",
                "info",
                comp,
                sha,
                [],
                {
                    "author": rng.choice(_AUTHORS),
                    "message": msg,
                    "files": rng.randint(1, 12),
                    "lines_added": rng.randint(1, 400),
                    "lines_deleted": rng.randint(0, 200),
                },
            )
        )
        if n % 2 == 0:
            events.append(_build(rng, n, ts, comp, sha))
    return events


def _build(rng: random.Random, n: int, ts: dt.datetime, comp: str, sha: str) -> Event:
    """The CI build of commit number ``n``, a few minutes after it."""
    failed = rng.random() < 0.15
    return _event(
        ts + dt.timedelta(minutes=rng.randint(6, 14)),
        "ci",
        "build",
        "medium" if failed else "info",
        comp,
        f"build-{1000 + n}",
        ["flaky"] if failed and rng.random() < 0.5 else [],
        {
            "conclusion": "failure" if failed else "success",
            "sha": sha,
            "duration_s": rng.randint(180, 900),
        },
    )


def _deploys(rng: random.Random, components: list[str]) -> list[Event]:
    """Three production deploys a day."""
    events: list[Event] = []
    for n in range(DAYS * 3):
        ts = START + dt.timedelta(days=n // 3, hours=10 + 3 * (n % 3), minutes=rng.randrange(60))
        comp = rng.choice(components)
        events.append(
            _event(
                ts,
                "ci",
                "deploy",
                "info",
                comp,
                f"deploy-{comp}-{n}",
                ["deploy"],
                {
                    "environment": "production",
                    "state": "success",
                    "version": f"v2.{rng.randint(0, 13)}.{rng.randint(0, 9)}",
                },
            )
        )
    return events


def _warnings(rng: random.Random, components: list[str]) -> list[Event]:
    """Routine warnings at any time of day."""
    events: list[Event] = []
    for n in range(DAYS * 8):
        ts = START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        comp = rng.choice(components)
        events.append(
            _event(
                ts,
                "logs",
                "error",
                rng.choice(["low", "medium"]),
                comp,
                f"log-bg-{n}",
                [],
                {
                    "level": "warning",
                    "logger": f"{comp}.worker",
                    "message": rng.choice(
                        ["retrying request", "slow query", "cache miss storm", "queue lag"]
                    ),
                },
            )
        )
    return events


def _resolved_alerts(rng: random.Random, components: list[str]) -> list[Event]:
    """Alerts that resolved themselves."""
    events: list[Event] = []
    for n in range(DAYS * 2):
        ts = START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        comp = rng.choice(components)
        events.append(
            _event(
                ts,
                "metrics",
                "alert",
                "low",
                comp,
                f"alert-bg-{n}",
                ["auto-resolved"],
                {
                    "alertname": "HighLatency",
                    "status": "resolved",
                    "value": round(rng.uniform(0.5, 1.5), 2),
                },
            )
        )
    return events


def _slow_spans(rng: random.Random, components: list[str]) -> list[Event]:
    """Slow (not failing) spans."""
    events: list[Event] = []
    for _ in range(DAYS * 3):
        ts = START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        comp = rng.choice(components)
        events.append(
            _event(
                ts,
                "traces",
                "slow_span",
                "low",
                comp,
                f"{rng.getrandbits(64):016x}",
                [],
                {"span": f"{comp}.handle", "duration_ms": rng.randint(800, 3000)},
            )
        )
    return events


# A signal of an incident, with the confidence and reason an engineer would link it with
# (not linked when the confidence is 0).
_Signal = tuple[Event, float, str]


def _incident_events(rng: random.Random, i: int, inc: _Incident) -> list[_Signal]:
    """Signals of one incident, each with the confidence and reason an engineer would give."""
    cause = _cause(rng, i, inc)
    out = [cause] if cause is not None else []
    first_alert = inc.detected - dt.timedelta(minutes=rng.randint(2, 6))
    out.append(
        (
            _event(
                first_alert,
                "metrics",
                "alert",
                inc.impact if inc.impact != "low" else "medium",
                inc.component,
                f"alert-incident-{i}",
                ["paging"],
                {"alertname": "ErrorRateHigh", "status": "firing", "threshold": 0.05},
                f"ErrorRateHigh: error rate above 5 % on {inc.component}",
            ),
            0.9,
            "first alert on the affected component",
        )
    )
    out += _error_burst(rng, i, inc, first_alert)
    out += _failing_spans(rng, inc, first_alert)
    out.append(
        (
            _event(
                inc.detected + dt.timedelta(minutes=3),
                "manual",
                "note",
                "info",
                inc.component,
                f"note-incident-{i}",
                ["incident-channel"],
                {"text": f"Declared incident: {inc.title}", "author": rng.choice(_AUTHORS)},
            ),
            1.0,
            "incident declaration",
        )
    )
    return out


def _cause(rng: random.Random, i: int, inc: _Incident) -> _Signal | None:
    """The change behind incident ``i`` (a deploy, config change or commit), if any."""
    comp, cause_at = inc.component, inc.detected - inc.cause_lead
    minutes = int(inc.cause_lead.total_seconds() // 60)
    if inc.cause_type == "deploy":
        data = {
            "environment": "production",
            "state": "success",
            "version": inc.cause_text.split()[-1],
        }
        ev = _event(
            cause_at,
            "ci",
            "deploy",
            "info",
            comp,
            f"deploy-incident-{i}",
            ["deploy"],
            data,
            f"Deploy {comp} {data['version']} to production",
        )
        return ev, 0.92, f"deploy of {inc.cause_text} {minutes} min before detection"
    if inc.cause_type == "config":
        ev = _event(
            cause_at,
            "manual",
            "config_change",
            "medium",
            comp,
            f"config-incident-{i}",
            ["config"],
            {"change": inc.cause_text},
            f"Config change on {comp}: {inc.cause_text}",
        )
        return ev, 0.85, f"config change {minutes} min before detection: {inc.cause_text}"
    if inc.cause_type == "commit":
        ev = _event(
            cause_at,
            "git",
            "commit",
            "info",
            comp,
            _sha(rng),
            [],
            {
                "author": rng.choice(_AUTHORS),
                "message": inc.cause_text,
                "files": 2,
                "lines_added": 3,
                "lines_deleted": 3,
            },
        )
        return ev, 0.55, f"commit touching {comp} {minutes} min before detection"
    return None


def _error_burst(
    rng: random.Random, i: int, inc: _Incident, first_alert: dt.datetime
) -> list[_Signal]:
    """Error logs after the first alert; the first three are linked."""
    comp = inc.component
    out: list[_Signal] = []
    for n in range(rng.randint(14, 24)):
        ts = first_alert + dt.timedelta(seconds=rng.randint(0, 40 * 60))
        ev = _event(
            ts,
            "logs",
            "error",
            "high" if inc.impact in {"critical", "high"} else "medium",
            comp,
            f"log-incident-{i}-{n}",
            [],
            {
                "level": "error",
                "logger": f"{comp}.api",
                "message": "upstream request failed: timeout",
                "template": "upstream failed: *",
            },
        )
        out.append((ev, 0.7 if n < 3 else 0.0, "error burst after the first alert"))
    return out


def _failing_spans(rng: random.Random, inc: _Incident, first_alert: dt.datetime) -> list[_Signal]:
    """Failing spans on the affected service; the first is linked."""
    comp = inc.component
    out: list[_Signal] = []
    for n in range(rng.randint(3, 6)):
        ts = first_alert + dt.timedelta(seconds=rng.randint(0, 30 * 60))
        ev = _event(
            ts,
            "traces",
            "span_error",
            "high",
            comp,
            f"{rng.getrandbits(64):016x}",
            [],
            {"span": f"{comp}.handle", "status": "ERROR", "duration_ms": rng.randint(2000, 30000)},
        )
        out.append((ev, 0.6 if n == 0 else 0.0, "failing spans on the affected service"))
    return out


def build(store: Store, *, seed: int = 7) -> dict[str, int]:
    """Fill ``store`` with the demo history (in one transaction); returns counts.

    Args:
        store: An empty, writable store.
        seed: Changes the noise, never the shape of the story.
    """
    rng = random.Random(seed)
    events = _background(rng)
    investigations: list[Investigation] = []
    links: list[Link] = []
    for i, inc in enumerate(_INCIDENTS):
        inv = Investigation(
            title=inc.title,
            impact_severity=inc.impact,
            priority=inc.priority,
            status=inc.status,
            detected_at=inc.detected,
            started_at=inc.detected + dt.timedelta(minutes=6),
            resolved_at=inc.detected + inc.duration if inc.duration else None,
            root_cause=inc.root_cause,
            remediation=inc.remediation,
            lessons_learned=inc.lessons,
            component_affected=inc.component,
            service_affected=_SERVICES[inc.component],
            tags=list(inc.tags),
            created_by=rng.choice(_AUTHORS),
            assigned_to=rng.choice(_AUTHORS),
            created_at=inc.detected + dt.timedelta(minutes=4),
            description=f"{inc.title} on {_SERVICES[inc.component]}.",
        )
        investigations.append(inv)
        for ev, confidence, reason in _incident_events(rng, i, inc):
            events.append(ev)
            if confidence > 0:
                links.append(
                    Link(
                        event_id=ev.id,
                        investigation_id=inv.id,
                        confidence=confidence,
                        method="manual" if confidence >= 0.9 else "rule",
                        reasons=[reason],
                        linked_at=inv.created_at,
                    )
                )
    events.sort(key=lambda e: e.timestamp)
    with store.transaction():
        store.add_investigations(investigations, on_duplicate="raise")
        store.add_events(events, on_duplicate="raise")
        for link in links:
            store.link(
                link.event_id,
                link.investigation_id,
                confidence=link.confidence,
                method=link.method,
                reasons=link.reasons,
                linked_at=link.linked_at,
            )
        store.relate(investigations[0].id, investigations[3].id)
    return {"events": len(events), "investigations": len(investigations), "links": len(links)}


def _minutes(delta: dt.timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    return f"{total // 60} h {total % 60:02d} min" if total >= 60 else f"{total} min"


def _linker_line(store: Store, investigation_id: str) -> str:
    """The linker's top suspect, called so only at or above its threshold."""
    threshold = LinkerConfig().min_confidence
    suspects = store.changes_before(investigation_id, window="6h")
    if suspects.empty:
        return "      linker: no change in the 6 h before"
    best = suspects.iloc[0]
    what = f"{best['summary']} at {best['timestamp']:%H:%M}Z"
    if not best["suspect"]:
        return (
            f"      linker: no suspect (no change reaches its threshold {threshold:.2f}; "
            f"closest: {what}, confidence {best['confidence']:.2f})"
        )
    return (
        f"      linker's top suspect: {what}, confidence {best['confidence']:.2f} "
        f"({'; '.join(best['reasons'][:2])})"
    )


def summary(store: Store) -> str:
    """A short plain-text report of a store: counts, then each investigation's story."""
    stats = store.stats()
    by_source = store.counts(by="source").sort_values(["count", "source"], ascending=[False, True])
    inv_ids = store.investigations().sort_values("priority", ascending=False, kind="stable")["id"]
    lines = [
        f"rca_analytics store {store.path or ':memory:'} (schema v{store.schema_version})",
        f"  {stats['events']} events ("
        + ", ".join(
            f"{src} {n}" for src, n in zip(by_source["source"], by_source["count"], strict=True)
        )
        + f"), {stats['investigations']} investigations, {stats['links']} links",
        "",
    ]
    for inv_id in inv_ids:
        inv = store.get_investigation(inv_id)
        lines.append(
            f"  {inv.priority.value} {inv.impact_severity.value:<8} "
            f"{inv.status.value:<11} {inv.title}"
        )
        when = f"detected {inv.detected_at:%Y-%m-%d %H:%M}Z" if inv.detected_at else "not detected"
        if inv.detected_at and inv.resolved_at:
            when += f", resolved after {_minutes(inv.resolved_at - inv.detected_at)}"
        lines.append(f"      {when}; {len(inv.event_ids)} linked events")
        changes = store.event_investigations(
            investigation_id=inv.id, event_type=["deploy", "commit", "config_change"]
        )
        if not changes.empty:
            top = changes.sort_values("confidence", ascending=False, kind="stable").iloc[0]
            lines.append(
                f"      linked change: {top['event_summary']} at {top['event_timestamp']:%H:%M}Z "
                f"({'; '.join(top['reasons'])}), confidence {top['confidence']:.2f}"
            )
        elif inv.detected_at:
            lines.append("      no change linked before detection")
        lines.append(_linker_line(store, inv.id))
        if inv.root_cause:
            lines.append(f"      root cause: {inv.root_cause}")
    return "\n".join(lines)
