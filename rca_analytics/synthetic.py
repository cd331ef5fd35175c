"""Labelled synthetic incident histories, to evaluate event linkers honestly.

:func:`history` generates weeks or months of signals from a made-up fleet of services
(commits, CI builds and test runs, deploys, config changes, error and warning logs,
alerts, span errors) together with the incidents that happened in it, as the frames a
store loads (``store.add_events(h.events)``, ``store.add_investigations(
h.investigations)``), and the answer key in ``h.truth``: which events a careful reviewer
would link to which investigation, as its ``cause`` or as a ``symptom``.

The noise is the point: changes that caused nothing (also in the affected component
just before an incident, and on staging), a steady background of recurring errors,
unrelated error floods and alert storms, clock skew per source, incidents without a
change behind them, incidents caused upstream in another service, and postmortem text
that names the culprit's id only sometimes (and an innocent commit, rarely).
Everything is deterministic for a seed, ids included.

>>> from rca_analytics.synthetic import history
>>> h = history(seed=3, days=7, incidents=4)
>>> sorted(h.truth["role"].unique()), bool(h.truth["event_id"].isin(h.events["id"]).all())
(['cause', 'symptom'], True)
>>> h.events["timestamp"].dtype, history(seed=3, days=7, incidents=4).events.equals(h.events)
(datetime64[us, UTC], True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import string
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from .ingest._base import digest
from .ingest._logformats import template as log_template
from .ingest.alerts import fingerprint as alert_fingerprint

__all__ = ["KINDS", "START", "HistorySettings", "SyntheticHistory", "history"]

#: Default start of a history: a Monday, midnight UTC.
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
#: Kinds of incident: a bad deploy (with the commit it shipped), a bad config change,
#: a change in an upstream dependency, or no change at all (capacity, third party).
KINDS = ("deploy", "config", "upstream", "no_change")

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Objs = npt.NDArray[np.object_]
Bools = npt.NDArray[np.bool_]

_US = 1_000_000
_MIN = 60 * _US
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
#: Human changes happen on weekends too, this much less often than on weekdays.
_WEEKEND = 0.15


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySettings:
    """What a synthetic history contains; every rate is a mean (counts are Poisson).

    Rates of changes (commits, deploys, config changes) are per weekday in office
    hours; weekends see 15 % of them. Logs, alerts and spans run around the clock.
    ``HistorySettings.scaled(events=..., incidents=...)`` picks the rates for a size.

    Attributes:
        seed: Seed of every random choice: the same settings give identical frames.
        days: Length of the history in days (at least 3).
        start: Aware start of the history (default 2026-01-05T00:00Z, a Monday).
        services: Number of services; their names come from a fixed list of 24 (a number
            is appended beyond). Each depends on one or two of the services after it.
        components_per_service: Smallest and largest number of components (repositories)
            of a service; the first is always ``<service>-api``.
        incidents: Number of incidents, each with one investigation.
        deploy_share: Share of incidents caused by a bad deploy of the affected
            service (the deploy and the bad commit it shipped are the causes). A deploy
            ships the latest commit of its component, so commits that landed after the
            bad one ship with it (innocent) and the bad one is often not the deploy's head.
        config_share: Share caused by a config change of the affected service.
        upstream_share: Share caused by a deploy or config change of a service the
            affected one depends on (the investigation names the affected one).
        no_change_share: Share with no change behind them (capacity, a third-party
            outage, an expired certificate, a cloud degradation): symptoms only.
            The four shares must add up to 1; counts are allocated exactly.
        upstream_deploy_share: Share of upstream incidents caused by a deploy (the
            rest by a config change).
        staged_culprit_share: Share of bad deploys whose commit went to staging first
            (that staging deploy is not a cause).
        near_miss_changes: Mean number of innocent changes (commit and build, prod or
            staging deploy, config change) in the affected service or component in the
            3 hours before each incident: bad luck timing.
        open_share: Share of investigations still open or in progress (no
            ``resolved_at``, no root cause); the latest incidents are the likeliest.
        missing_impact_start_share: Share of investigations without
            ``impact_started_at`` (only ``detected_at``).
        root_cause_id_share: Share of resolved investigations whose root cause names
            the culprit's full id: deploy id, full sha, build id or config change id
            (incidents without a change describe theirs in words).
        root_cause_short_sha_share: Share naming a short sha (a config change: its key
            and values); the rest describe the cause in words only.
        red_herring_share: Share of resolved investigations whose root cause names an
            innocent commit of the affected component from the 3 days before (as the
            cause, or as a suspect reverted without effect); words only when there is
            no such commit.
        commits_per_component_day: Commits per component and weekday.
        build_share: Share of commits that get a CI build (culprits always do).
        test_run_share: Share of builds that report a test run.
        prod_deploys_per_service_day: Production deploys per service and weekday.
        staging_deploys_per_service_day: Staging deploys per service and weekday.
        config_changes_per_day: Config changes (manual tickets or CI) per weekday.
        errors_per_component_hour: Background error logs per component and hour, from
            a fixed set of recurring templates per component.
        warnings_per_component_hour: Background warning logs per component and hour.
        unattributed_logs_per_hour: Infrastructure logs with neither component nor
            service (kernel, ingress, nodes), per hour.
        alerts_per_service_day: Background alerts per service and day (most resolve
            by themselves).
        span_errors_per_service_hour: Background failing spans per service and hour.
        error_floods_per_week: Unrelated error floods (a burst of one template in one
            component for minutes) per week.
        alert_storms_per_week: Alert storms (many alerts across several services
            within minutes, unrelated to any incident) per week.
        symptom_logs_median: Median size of an incident's new error-log flood.
        alerts_per_incident: Mean number of alerts an incident fires (some fire none:
            customers report them).
        spans_per_incident: Mean number of failing spans an incident causes.
        max_clock_skew_s: Largest clock offset, in seconds, of the ``logs``,
            ``metrics`` and ``traces`` sources (each gets one offset, between a third
            of it and all of it, either sign); 0 for exact clocks.
    """

    seed: int = 7
    days: int = 60
    start: dt.datetime = START
    services: int = 8
    components_per_service: tuple[int, int] = (2, 4)
    incidents: int = 60
    deploy_share: float = 0.4
    config_share: float = 0.15
    upstream_share: float = 0.2
    no_change_share: float = 0.25
    upstream_deploy_share: float = 0.7
    staged_culprit_share: float = 0.5
    near_miss_changes: float = 1.5
    open_share: float = 0.1
    missing_impact_start_share: float = 0.25
    root_cause_id_share: float = 0.35
    root_cause_short_sha_share: float = 0.2
    red_herring_share: float = 0.05
    commits_per_component_day: float = 2.5
    build_share: float = 0.9
    test_run_share: float = 0.6
    prod_deploys_per_service_day: float = 1.0
    staging_deploys_per_service_day: float = 2.5
    config_changes_per_day: float = 4.0
    errors_per_component_hour: float = 0.5
    warnings_per_component_hour: float = 1.0
    unattributed_logs_per_hour: float = 1.0
    alerts_per_service_day: float = 2.0
    span_errors_per_service_hour: float = 0.3
    error_floods_per_week: float = 2.0
    alert_storms_per_week: float = 1.0
    symptom_logs_median: float = 60.0
    alerts_per_incident: float = 2.0
    spans_per_incident: float = 12.0
    max_clock_skew_s: float = 180.0

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be a non-negative int, got {self.seed!r}")
        if not isinstance(self.days, int) or self.days < 3:
            problems.append(f"days must be an int >= 3, got {self.days!r}")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            problems.append("start must be an aware datetime")
        if self.services < 1 or self.incidents < 0:
            problems.append("services must be >= 1 and incidents >= 0")
        lo, hi = self.components_per_service
        if not 1 <= lo <= hi <= len(_SUFFIXES):
            problems.append(f"components_per_service must be within 1..{len(_SUFFIXES)}")
        shares = (self.deploy_share, self.config_share, self.upstream_share, self.no_change_share)
        if not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
            problems.append(f"the four incident shares must add up to 1, not {sum(shares)}")
        if self.root_cause_id_share + self.root_cause_short_sha_share > 1:
            problems.append("root_cause_id_share + root_cause_short_sha_share must be <= 1")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type != "float":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value >= 0)
            ):
                problems.append(f"{f.name} must be a finite number >= 0, got {value!r}")
            elif f.name.endswith("_share") and value > 1:
                problems.append(f"{f.name} must be within 0..1, got {value!r}")
        if problems:
            raise ValueError("; ".join(problems))

    def replace(self, **changes: Any) -> HistorySettings:
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def scaled(
        cls, events: int = 1_000_000, incidents: int = 1_000, *, days: int = 365, **changes: Any
    ) -> HistorySettings:
        """Settings for about ``events`` events and ``incidents`` incidents over ``days``.

        Services grow with the incident rate (about one incident per service every 8
        days, as by default); every background rate is then multiplied by one factor so
        that the expected number of events is ``events``.

        Args:
            events: Events wanted (the result is within a few percent of it).
            incidents: Incidents wanted (exactly).
            days: Length of the history.
            **changes: Other settings (``seed=...``), applied before the rates are picked.

        Raises:
            ValueError: The incidents alone would make more events than ``events``.

        >>> s = HistorySettings.scaled(events=200_000, incidents=100, days=90)
        >>> s.services, round(s.expected_events(), -4)
        (9, 200000.0)
        """
        default = cls()
        per_service_day = default.incidents / default.days / default.services
        services = max(default.services, min(200, round(incidents / days / per_service_day)))
        base = cls(days=days, incidents=incidents, services=services, **changes)
        incident_part = base._expected_incident_events()
        background = base.expected_events() - incident_part
        factor = (events - incident_part) / background
        if factor <= 0.01:
            raise ValueError(
                f"{incidents} incidents alone make about {incident_part:,.0f} events; "
                f"ask for more events than that"
            )
        return base.replace(**{name: getattr(base, name) * factor for name in _BACKGROUND_RATES})

    def expected_events(self) -> float:
        """The expected number of events of a history with these settings."""
        comps = self.services * sum(self.components_per_service) / 2
        work = _work_days(self)
        hours = self.days * 24.0
        weeks = self.days / 7
        commits = self.commits_per_component_day * comps * work
        builds = self.build_share * commits
        return (
            commits
            + builds
            + self.test_run_share * builds
            + (self.prod_deploys_per_service_day + self.staging_deploys_per_service_day)
            * self.services
            * work
            + self.config_changes_per_day * work
            + (self.errors_per_component_hour + self.warnings_per_component_hour) * comps * hours
            + self.unattributed_logs_per_hour * hours
            + self.alerts_per_service_day * self.services * self.days
            + self.span_errors_per_service_hour * self.services * hours
            + self.error_floods_per_week * weeks * _FLOOD_MEAN
            + self.alert_storms_per_week * weeks * _STORM_MEAN
            + self._expected_incident_events()
        )

    def _expected_incident_events(self) -> float:
        flood = min(self.symptom_logs_median * math.exp(0.8**2 / 2), 3000.0)
        per = (
            flood
            + 0.88 * max(1.0, self.alerts_per_incident)
            + 0.8 * self.spans_per_incident
            + self.near_miss_changes * (1 + 0.35 * self.build_share * (1 + self.test_run_share))
            + (self.deploy_share + self.upstream_share * self.upstream_deploy_share)
            * (2 + self.test_run_share + self.staged_culprit_share)
            + (self.config_share + self.upstream_share * (1 - self.upstream_deploy_share))
            + self.upstream_share * 0.6 * 30
        )
        return self.incidents * per


#: Settings that :meth:`HistorySettings.scaled` multiplies to reach a number of events.
_BACKGROUND_RATES = (
    "commits_per_component_day",
    "prod_deploys_per_service_day",
    "staging_deploys_per_service_day",
    "config_changes_per_day",
    "errors_per_component_hour",
    "warnings_per_component_hour",
    "unattributed_logs_per_hour",
    "alerts_per_service_day",
    "span_errors_per_service_hour",
    "error_floods_per_week",
    "alert_storms_per_week",
)
_FLOOD_MEDIAN = 120.0
_FLOOD_MEAN = _FLOOD_MEDIAN * math.exp(0.7**2 / 2)
_STORM_MEAN = 35.0


def _day_weights(s: HistorySettings) -> Floats:
    weekday = (s.start.astimezone(dt.UTC).weekday() + np.arange(s.days)) % 7
    return np.where(weekday < 5, 1.0, _WEEKEND)


def _work_days(s: HistorySettings) -> float:
    return float(_day_weights(s).sum())


# --- the history --------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SyntheticHistory:
    """A generated history: frames to load into a store, and the answer key.

    Attributes:
        events: One row per event, columns named as the :class:`~rca_analytics.Event`
            fields (``id``, ``timestamp`` ... ``tags``), in time order; loads with
            ``store.add_events(h.events)``.
        investigations: One row per incident, columns named as the
            :class:`~rca_analytics.Investigation` fields, without ``event_ids``: the
            links are the question.
        truth: ``event_id``, ``investigation_id``, ``role`` (``cause`` or
            ``symptom``) and ``detail`` (why a reviewer would link them).
        incidents: What happened, one row per investigation (same order): ``kind``
            (one of :data:`KINDS`), ``story``, the affected and the culprit
            ``service``/``component``, ``cause_type``, ``impact_at`` (the true start,
            also when the investigation does not tell), ``root_cause_mode`` (``id``,
            ``short``, ``words``, ``red_herring``, or None while open), and the innocent
            commit named by a red herring.
        noise: The injected noise episodes: ``kind`` (``alert_storm``, ``error_flood``,
            ``near_miss_change``), ``start``, ``end``, ``services``, ``events``, and for
            near misses the ``investigation_id`` and ``event_id``.
        clock_skew: Seconds added to the true time of each source's events.
        settings: The settings used.
    """

    events: pd.DataFrame
    investigations: pd.DataFrame
    truth: pd.DataFrame
    incidents: pd.DataFrame
    noise: pd.DataFrame
    clock_skew: dict[str, float]
    settings: HistorySettings

    def summary(self) -> dict[str, Any]:
        """Counts: events by source and type, incidents by kind, truth by role, noise.

        >>> sorted(history(seed=1, days=5, incidents=2).summary())
        ['clock_skew_s', 'events', 'events_by_source', 'events_by_type', 'incidents_by_kind',
         'investigations', 'investigations_by_status', 'noise', 'truth', 'truth_by_role']
        """
        ev, inv = self.events, self.investigations

        def counts(s: pd.Series) -> dict[str, int]:
            return {str(k): int(n) for k, n in s.value_counts().sort_index().items()}

        noise = Counter(self.noise["kind"].tolist()) if len(self.noise) else Counter()
        staging = ev["data"][ev["event_type"].eq("deploy").to_numpy()].map(
            lambda d: d.get("environment") == "staging"
        )
        return {
            "events": len(ev),
            "investigations": len(inv),
            "truth": len(self.truth),
            "events_by_source": counts(ev["source"]),
            "events_by_type": counts(ev["source"] + "/" + ev["event_type"]),
            "incidents_by_kind": {k: int((self.incidents["kind"] == k).sum()) for k in KINDS},
            "investigations_by_status": counts(inv["status"]),
            "truth_by_role": counts(self.truth["role"]),
            "noise": {
                "alert_storms": noise["alert_storm"],
                "error_floods": noise["error_flood"],
                "near_miss_changes": noise["near_miss_change"],
                "staging_deploys": int(staging.sum()),
            },
            "clock_skew_s": dict(self.clock_skew),
        }

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"<SyntheticHistory seed={s.seed} {s.days} days: {len(self.events):,} events, "
            f"{len(self.investigations)} investigations, {len(self.truth):,} truth links>"
        )


def history(settings: HistorySettings | None = None, /, **changes: Any) -> SyntheticHistory:
    """Generate a labelled synthetic incident history.

    Args:
        settings: The settings (default :class:`HistorySettings()`).
        **changes: Settings to change (``history(seed=3, days=30)``).

    Returns:
        The :class:`SyntheticHistory`: events, investigations, truth and more.
    """
    s = settings if settings is not None else HistorySettings()
    if changes:
        s = s.replace(**changes)
    return _Generator(s).run()


# --- vocabulary ---------------------------------------------------------------------------


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


_SERVICE_NAMES = _words(
    "checkout payments search identity inventory storefront shipping pricing notifications "
    "ledger catalog recommendations orders accounts reviews media fraud loyalty returns tax "
    "promotions gateway analytics support"
)
_SUFFIXES = ("api", "worker", "db", "web", "scheduler", "consumer", "cache", "sync")
_TEAMS = ("commerce", "platform", "growth", "core", "fulfilment", "identity", "data")
_REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
_PEOPLE = _words(
    "ana bo chen dara eli fatima gus hana ivan jo kemal lena mateo nia omar priya quinn rosa "
    "sven tomas"
)
_VENDORS = ("Paylane", "Smsly", "Geocodr", "MailFox", "CDNova")
_VERBS = ("fix", "add", "refactor", "bump", "tune", "remove", "document", "rename", "test")
_OBJECTS = _words(
    "retry budget,cache TTL,null check,metrics labels,timeouts,feature flag,logging,pagination,"
    "connection pool,schema,dependencies,error handling,batch size,healthcheck,rate limits",
    ",",
)
_DIRS = ("src/api", "src/core", "src/db", "src/jobs", "config", "tests", "migrations", "deploy")
_FILES = ("handlers", "models", "client", "pool", "settings", "retry", "cache", "views", "queue")
_ENDPOINTS = _words(
    "GET /api/v1/items,POST /api/v1/orders,GET /api/v2/search,POST /api/v1/cart,"
    "GET /api/v1/users/me,POST /api/v1/payments,GET /healthz,PUT /api/v1/stock",
    ",",
)
_CONFIG_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("db.pool.max_size", ("20", "30", "40", "50", "60")),
    ("http.client.timeout_ms", ("1500", "2000", "2500", "3000")),
    ("cache.ttl_s", ("120", "300", "600", "900")),
    ("feature.fast_checkout", ("false", "true")),
    ("worker.concurrency", ("4", "8", "12", "16")),
    ("rate_limit.rps", ("300", "500", "800", "1000")),
    ("retry.max_attempts", ("2", "3", "4")),
    ("log.level", ("info", "warn", "debug")),
    ("consumer.max_poll_records", ("200", "500", "1000")),
    ("auth.jwks_cache_s", ("600", "1800", "3600")),
)

#: Recurring background templates (level, message format); fields in braces are filled
#: with numbers (see ``_FIELDS``), so every message of a template has the same template.
_BACKGROUND = (
    ("warning", "slow query took {ms} ms (rows={n})"),
    ("warning", "retrying request after {ms} ms (attempt {k}/3)"),
    ("warning", "cache hit ratio {pct}% below threshold"),
    ("warning", "GC pause of {ms} ms"),
    ("warning", "request body too large: {n} bytes"),
    ("warning", "rate limit reached for client {id}"),
    ("warning", "deprecated API v{k} called by client {id}"),
    ("warning", "queue depth {n} above soft limit"),
    ("warning", "connection reset by peer {ip}"),
    ("warning", "feature flag cache refreshed late by {ms} ms"),
    ("error", "failed to send email to user {id}: mailbox unavailable"),
    ("error", "payment token {id} expired before capture"),
    ("error", "upstream timeout after {ms} ms on GET /api/v{k}/items"),
    ("error", "invalid JSON in request body at position {n}"),
    ("error", "user {id} not found"),
    ("error", "lock wait timeout exceeded after {ms} ms"),
    ("error", "health check to {ip} failed"),
    ("error", "unhandled exception in worker {n}: KeyError"),
    ("error", "message {id} moved to dead-letter queue after {k} attempts"),
    ("error", "object store PUT failed with status {code}: SlowDown"),
)
_INFRA = (
    ("error", "kernel: oom-killer invoked for pid {n}"),
    ("warning", "ingress: upstream connect error or disconnect/reset before headers, retried {k}"),
    ("warning", "node {ip} condition MemoryPressure for {n} s"),
    ("error", "dns resolver timeout after {ms} ms"),
)


@dataclass(frozen=True)
class _Story:
    """How one kind of incident shows, is titled and explained."""

    key: str
    title: str
    alert: str
    templates: tuple[tuple[str, str], ...]
    words: str  # what went wrong, for a postmortem ("the pool was shrunk")
    description: str
    remediation: str
    config: tuple[str, str, str, str] = ("", "", "", "")  # a bad config: key, old, new, effect
    commit: str = ""  # message of a bad commit


_CHANGE_STORIES = (
    _Story(
        "errors",
        "{svc}: elevated 5xx error rate",
        "HighErrorRate",
        (
            ("error", "HTTP 500 on POST /api/v{k}/orders: NullPointerException in OrderMapper"),
            ("error", "unhandled exception in request handler (request {id})"),
        ),
        "a null-handling regression in the order mapper",
        "{Svc} returns 5xx for about {pct}% of requests",
        "Rolled back; added a regression test for orders without a discount.",
        (
            "feature.fast_checkout",
            "false",
            "true",
            "it enabled the fast checkout path, which fails on orders without a discount",
        ),
        "handle orders without discount in OrderMapper",
    ),
    _Story(
        "latency",
        "{svc}: p99 latency above {k} s",
        "LatencySLOBurn",
        (
            ("warning", "request to /api/v{k}/search took {ms} ms (budget 800 ms)"),
            ("error", "query plan fell back to sequential scan after {ms} ms"),
        ),
        "an N+1 query in the listing endpoint",
        "{Svc} p99 latency is {k} s, {pct}% of requests time out",
        "Reverted the change; latency back under 800 ms.",
        (
            "cache.ttl_s",
            "300",
            "1",
            "cache entries expired after a second, so every request went to the database",
        ),
        "load listing details per item",
    ),
    _Story(
        "pool",
        "{svc}: requests failing, database connection pool exhausted",
        "DBPoolSaturated",
        (("error", "connection pool exhausted ({n}/{n}), waited {ms} ms"),),
        "a smaller database connection pool",
        "{Svc} requests fail waiting for database connections",
        "Restored the pool size; added a pool-saturation alert.",
        (
            "db.pool.max_size",
            "50",
            "5",
            "the database connection pool was too small for the traffic",
        ),
        "reduce default DB pool size",
    ),
    _Story(
        "crash",
        "{comp} pods crash-looping",
        "KubePodCrashLooping",
        (
            ("critical", "worker {n} killed: out of memory (rss {mb} MB)"),
            ("error", "container exited with code 137 after {n} s"),
        ),
        "a memory leak in the batch loader",
        "{comp} pods of {svc} restart every few minutes (OOMKilled)",
        "Rolled back and raised the memory limit until the leak is fixed.",
        (
            "worker.concurrency",
            "8",
            "64",
            "64 concurrent workers needed more memory than the pods have",
        ),
        "cache decoded batches in the loader",
    ),
    _Story(
        "queue",
        "{svc}: message backlog growing",
        "QueueBacklogHigh",
        (
            ("error", "consumer lag {n} on partition {k} above limit"),
            ("error", "failed to process message {id}: cannot decode field at offset {n}"),
        ),
        "a message schema change the consumers could not read",
        "{Svc} consumers fall behind, backlog at {n} messages",
        "Rolled back the producer and replayed the dead-letter queue.",
        (
            "consumer.max_poll_records",
            "500",
            "50000",
            "consumers fetched so many records per poll that they missed their deadline",
        ),
        "add currency to order event schema",
    ),
    _Story(
        "auth",
        "{svc}: users cannot log in",
        "AuthFailureRateHigh",
        (("error", "token validation failed for client {id}: invalid signature"),),
        "a signing key rotation that published the wrong key id",
        "Logins through {svc} fail for about {pct}% of users",
        "Republished the previous signing key.",
        (
            "auth.jwks_cache_s",
            "3600",
            "0",
            "token validation fetched signing keys on every request and was throttled",
        ),
        "rotate token signing key",
    ),
)
_UPSTREAM_TEMPLATES = (
    ("error", "call to {dep} failed with status {code} after {ms} ms"),
    ("error", "circuit breaker open for {dep} after {n} failures"),
)
_NO_CHANGE_STORIES = (
    _Story(
        "third_party",
        "{svc}: errors from {vendor}",
        "ExternalDependencyErrors",
        (("error", "{vendor} API returned {code} after {ms} ms"),),
        "an outage at {vendor}; nothing changed on our side",
        "{Svc} calls to {vendor} fail or time out",
        "Failed over to the secondary provider until {vendor} recovered.",
    ),
    _Story(
        "capacity",
        "{svc}: requests rejected under load",
        "HighLatency",
        (
            ("error", "request queue full ({n} waiting), rejecting request"),
            ("warning", "CPU throttled for {ms} ms in the last period"),
        ),
        "a traffic spike of {k}x from a marketing campaign, beyond provisioned capacity",
        "{Svc} rejects requests, traffic is {k}x the usual",
        "Scaled out and raised the autoscaling ceiling.",
    ),
    _Story(
        "certificate",
        "{svc}: TLS errors calling {vendor}",
        "BlackboxProbeFailed",
        (("error", "TLS handshake with {vendor} failed: certificate has expired"),),
        "an expired TLS certificate on the {vendor} endpoint",
        "{Svc} cannot reach {vendor} over TLS",
        "Rotated the certificate; added expiry monitoring 30 days ahead.",
    ),
    _Story(
        "cloud",
        "{svc}: slow disk I/O in {region}",
        "NodeDiskIOSaturation",
        (("error", "I/O timeout on volume vol-{id} after {ms} ms"),),
        "a storage degradation of the cloud provider in {region}",
        "{Svc} writes stall in {region}",
        "Moved traffic out of {region} until the provider fixed the volumes.",
    ),
)
_STORM_ALERTS = _words(
    "TargetDown KubeNodeNotReady HighLatency ErrorBudgetBurn KubePodNotReady BlackboxProbeFailed"
)
_BACKGROUND_ALERTS = _words(
    "HighLatency PodRestarting CPUThrottlingHigh DiskSpaceLow ErrorBudgetBurn MemoryPressure "
    "ReplicaLag CertificateExpiringSoon TargetDown HighErrorRate"
)
_SPAN_MESSAGES = ("deadline exceeded", "connection refused", "internal error", "unavailable")


# --- small tools ----------------------------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_UUID_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _rng(seed: int, stream: str) -> np.random.Generator:
    """A generator per stream: changing one part of the settings leaves the others be."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _hex_matrix(raw: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    out = np.empty((raw.shape[0], raw.shape[1] * 2), np.uint8)
    out[:, 0::2] = _HEX[raw >> 4]
    out[:, 1::2] = _HEX[raw & 15]
    return out


def _hex(rng: np.random.Generator, n: int, chars: int) -> Objs:
    """``n`` random lower-case hex strings of ``chars`` digits."""
    nbytes = (chars + 1) // 2
    raw = np.frombuffer(rng.bytes(n * nbytes), np.uint8).reshape(n, nbytes)
    text = np.ascontiguousarray(_hex_matrix(raw)[:, :chars])
    return text.view(f"S{chars}").ravel().astype(f"U{chars}").astype(object)


def _uuids(rng: np.random.Generator, n: int) -> Objs:
    """``n`` random UUID4 strings (version and variant bits set), from ``rng``."""
    raw = np.frombuffer(rng.bytes(n * 16), np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    out = np.full((n, 36), ord("-"), np.uint8)
    out[:, _UUID_POS] = _hex_matrix(raw)
    return out.view("S36").ravel().astype("U36").astype(object)


def _iso(us: Ints) -> Objs:
    """RFC 3339 text of epoch microseconds, as Alertmanager writes ``startsAt``."""
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    return np.char.add(text, "Z").astype(object)


def _where(mask: Bools, yes: Any, no: Any) -> Objs:
    """``numpy.where`` into an object array (values may be None)."""
    out = no.astype(object) if isinstance(no, np.ndarray) else _full(no, len(mask))
    out[mask] = yes[mask] if isinstance(yes, np.ndarray) else yes
    return out


def _pick(rng: np.random.Generator, values: Sequence[Any], n: int) -> Objs:
    """``n`` values drawn uniformly from ``values``, as an object array."""
    pool = np.empty(len(values), object)
    pool[:] = list(values)
    return pool[rng.integers(0, len(values), n)]


def _full(value: Any, n: int) -> Objs:
    out = np.empty(n, object)
    out[:] = [value] * n if isinstance(value, tuple) else value
    return out


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> Floats:
    return np.asarray(rng.lognormal(math.log(median), sigma, n), np.float64)


def _allocate(shares: Sequence[float], n: int, rng: np.random.Generator) -> Ints:
    """``n`` labels 0..k-1 in exactly these shares (largest remainders), shuffled."""
    exact = np.asarray(shares, np.float64) * n
    counts = np.floor(exact).astype(np.int64)
    rest = n - int(counts.sum())
    if rest:
        counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
    labels = np.repeat(np.arange(len(shares), dtype=np.int64), counts)
    return np.asarray(rng.permutation(labels), np.int64)


_FIELDS: dict[str, Callable[[np.random.Generator, int], list[Any]]] = {
    "n": lambda r, k: r.integers(2, 1000, k).tolist(),
    "ms": lambda r, k: (np.round(r.lognormal(6.0, 1.1, k)).astype(np.int64) + 5).tolist(),
    "id": lambda r, k: r.integers(100_000, 99_999_999, k).tolist(),
    "k": lambda r, k: r.integers(2, 10, k).tolist(),
    "pct": lambda r, k: r.integers(1, 100, k).tolist(),
    "mb": lambda r, k: r.integers(200, 4096, k).tolist(),
    "code": lambda r, k: r.choice(np.array([429, 500, 502, 503, 504]), k).tolist(),
    "ip": lambda r, k: [
        f"10.{a}.{b}.{c}:{p}"
        for a, b, c, p in zip(
            r.integers(0, 255, k).tolist(),
            r.integers(0, 255, k).tolist(),
            r.integers(1, 255, k).tolist(),
            r.integers(1024, 65535, k).tolist(),
            strict=True,
        )
    ],
}


def _render(fmt: str, rng: np.random.Generator, n: int) -> list[str]:
    """``n`` messages of one format, its numeric fields drawn at random."""
    names = list(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(fmt) if f))
    if not names:
        return [fmt] * n
    positional = fmt
    for i, name in enumerate(names):
        positional = positional.replace("{" + name + "}", "{" + str(i) + "}")
    columns = [_FIELDS[name](rng, n) for name in names]
    return list(map(positional.format, *columns))


def _fill(text: str, **names: str) -> str:
    """Put names (service, dependency, vendor ...) into a format, keeping number fields."""
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _work_times(
    rng: np.random.Generator, s: HistorySettings, n: int, first_day: int = 0, last_day: int = -1
) -> Ints:
    """``n`` times of human work: weekdays, mostly office hours (UTC), in the day range."""
    weights = _day_weights(s)
    last = s.days if last_day < 0 else last_day
    weights = weights[first_day:last]
    day = first_day + rng.choice(len(weights), n, p=weights / weights.sum())
    office = rng.random(n) < 0.9
    hour = np.where(office, np.clip(rng.normal(13.5, 2.6, n), 6.0, 21.0), rng.uniform(0, 24, n))
    return np.asarray(day * _DAY + (hour * _HOUR).astype(np.int64), np.int64)


def _factor_codes(values: Objs) -> tuple[Ints, list[Any]]:
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, np.int64), list(uniques)


# --- the generator ------------------------------------------------------------------------


@dataclass
class _Block:
    ts: Ints  # true time, µs after the start
    source: Objs
    event_type: Objs
    severity: Objs
    component: Objs
    service: Objs
    source_id: Objs
    data: list[dict[str, Any]]
    tags: Ints  # codes into the tag combinations


@dataclass
class _Topology:
    services: list[str]
    team: list[str]
    regions: list[list[str]]
    deps: list[list[int]]
    svc_weight: Floats
    components: list[str]
    comp_service: Ints
    comp_weight: Floats
    comp_paths: list[list[str]]
    endpoints: list[list[str]]
    comp_templates: list[Ints]  # background template ids per component
    comp_template_p: list[Floats]

    def comps_of(self, svc: int) -> Ints:
        return np.flatnonzero(self.comp_service == svc).astype(np.int64)


@dataclass
class _Incident:
    kind: str
    story: _Story
    svc: int
    comp: int
    cause_svc: int = -1
    cause_comp: int = -1
    cause_type: str | None = None  # deploy / config
    t_cause: int = 0
    t_impact: int = 0
    t_detect: int = 0
    has_alerts: bool = True
    vendor: str = ""
    region: str = ""
    number: int = 0  # a number for texts (pct, k)
    # filled while generating
    inv: int = -1
    status: str = "resolved"
    mode: str | None = None
    culprit: dict[str, Any] = dataclasses.field(default_factory=dict)
    herring: dict[str, Any] = dataclasses.field(default_factory=dict)
    t_end: int = 0
    t_mitigated: int | None = None


class _Generator:
    def __init__(self, s: HistorySettings) -> None:
        self.s = s
        self.span = s.days * _DAY
        start = s.start.astimezone(dt.UTC)
        self.start_us = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
            microseconds=1
        )
        self.blocks: list[_Block] = []
        self.n = 0
        self.tag_codes: dict[tuple[str, ...], int] = {}
        # (global row, incident, role, detail)
        self.truth: list[tuple[int, int, str, str]] = []
        self.noise: list[dict[str, Any]] = []
        skew_rng = _rng(s.seed, "skew")
        self.skew: dict[str, float] = {}
        for source in ("logs", "metrics", "traces"):
            size = s.max_clock_skew_s * skew_rng.uniform(1 / 3, 1.0)
            self.skew[source] = round(float(size * skew_rng.choice([-1.0, 1.0])), 3)

    # --- events -------------------------------------------------------------------------

    def add(
        self,
        ts: Ints,
        source: Any,
        event_type: Any,
        severity: Any,
        component: Any,
        service: Any,
        source_id: Any,
        data: list[dict[str, Any]],
        tag_parts: Sequence[Any],
    ) -> int:
        """Add events (scalars are broadcast); returns the global row of the first."""
        n = len(ts)

        def col(value: Any) -> Objs:
            if isinstance(value, np.ndarray):
                return value.astype(object)
            if isinstance(value, list):
                out = np.empty(n, object)
                out[:] = value
                return out
            return _full(value, n)

        block = _Block(
            np.asarray(ts, np.int64),
            col(source),
            col(event_type),
            col(severity),
            col(component),
            col(service),
            col(source_id),
            data,
            self._tags([col(p) for p in tag_parts], n),
        )
        assert len(block.data) == n, "one data dict per event"
        self.blocks.append(block)
        first = self.n
        self.n += n
        return first

    def _tags(self, parts: list[Objs], n: int) -> Ints:
        """Codes of each row's tag combination (the parts that are set, in order)."""
        if not parts:
            parts = [_full(None, n)]
        key = np.zeros(n, np.int64)
        uniques = []
        for p in parts:
            codes, values = _factor_codes(p)
            key = key * (len(values) + 1) + (codes + 1)
            uniques.append(values)
        distinct, inverse = np.unique(key, return_inverse=True)
        mapped = np.empty(len(distinct), np.int64)
        for j, k in enumerate(distinct.tolist()):
            combo: list[str] = []
            for values in reversed(uniques):
                k, c = divmod(k, len(values) + 1)
                if c:
                    combo.append(values[c - 1])
            combo.reverse()
            mapped[j] = self.tag_codes.setdefault(tuple(dict.fromkeys(combo)), len(self.tag_codes))
        return np.asarray(mapped[inverse.ravel()], np.int64)

    # --- run ------------------------------------------------------------------------------

    def run(self) -> SyntheticHistory:
        s = self.s
        self.top = self._topology()
        incidents = self._plan_incidents()
        self._changes(incidents)
        self._logs()
        self._error_floods()
        self._alerts()
        self._alert_storms()
        self._spans()
        for inc in incidents:
            self._symptoms(inc)
        ids = _uuids(_rng(s.seed, "event-ids"), self.n)
        events, order = self._frame(ids)
        inv_ids = _uuids(_rng(s.seed, "investigation-ids"), len(incidents))
        investigations = self._investigations(incidents, inv_ids)
        rank = np.empty(self.n, np.int64)
        rank[order] = np.arange(self.n)
        truth = self._truth(ids, inv_ids, rank)
        return SyntheticHistory(
            events=events,
            investigations=investigations,
            truth=truth,
            incidents=self._incident_frame(incidents, inv_ids),
            noise=self._noise_frame(ids, inv_ids),
            clock_skew=dict(self.skew),
            settings=s,
        )

    def _topology(self) -> _Topology:
        s, rng = self.s, _rng(self.s.seed, "topology")
        pool = _SERVICE_NAMES
        services = [
            pool[i % len(pool)] + ("" if i < len(pool) else str(i // len(pool) + 1))
            for i in range(s.services)
        ]
        team = [f"team:{_TEAMS[(i // 2) % len(_TEAMS)]}" for i in range(s.services)]
        regions = []
        for _ in services:
            first = int(rng.integers(0, len(_REGIONS)))
            more = rng.random() < 0.3
            regions.append(
                [_REGIONS[first]] + ([_REGIONS[(first + 1) % len(_REGIONS)]] if more else [])
            )
        deps: list[list[int]] = []
        for i in range(s.services):
            later = list(range(i + 1, s.services))
            k = min(len(later), int(rng.integers(1, 3)))
            deps.append(sorted(int(x) for x in rng.choice(later, k, replace=False)) if k else [])
        lo, hi = s.components_per_service
        components: list[str] = []
        comp_service: list[int] = []
        for i, svc in enumerate(services):
            k = int(rng.integers(lo, hi + 1))
            extra = rng.choice(len(_SUFFIXES) - 1, k - 1, replace=False) + 1
            for j in [0, *sorted(int(x) for x in extra)]:
                components.append(f"{svc}-{_SUFFIXES[j]}")
                comp_service.append(i)
        nc = len(components)
        comp_weight = _lognormal(rng, 1.0, 0.5, nc)
        comp_weight /= comp_weight.mean()
        svc_weight = _lognormal(rng, 1.0, 0.5, s.services)
        svc_weight /= svc_weight.mean()
        paths = [
            sorted(
                {
                    f"{_DIRS[d]}/{_FILES[f]}.py"
                    for d, f in zip(
                        rng.integers(0, len(_DIRS), 14).tolist(),
                        rng.integers(0, len(_FILES), 14).tolist(),
                        strict=True,
                    )
                }
            )
            for _ in range(nc)
        ]
        endpoints = [
            [_ENDPOINTS[int(j)] for j in rng.choice(len(_ENDPOINTS), 3, replace=False)]
            for _ in services
        ]
        templates, probs = [], []
        for _ in range(nc):
            k = int(rng.integers(3, 7))
            chosen = rng.choice(len(_BACKGROUND), k, replace=False).astype(np.int64)
            p = 1.0 / np.arange(1, k + 1) ** 1.1
            templates.append(chosen)
            probs.append(p / p.sum())
        return _Topology(
            services,
            team,
            regions,
            deps,
            svc_weight,
            components,
            np.asarray(comp_service, np.int64),
            comp_weight,
            paths,
            endpoints,
            templates,
            probs,
        )

    def _region(self, rng: np.random.Generator, svc: Ints) -> Objs:
        """A region of each event's service (services run in one or two)."""
        top = self.top
        out = np.empty(len(svc), object)
        pick = rng.random(len(svc))
        for i, regions in enumerate(top.regions):
            rows = svc == i
            out[rows] = np.asarray(regions, object)[(pick[rows] * len(regions)).astype(int)]
        return out

    def _names(self, idx: Ints, names: Sequence[str], keep: Bools | None = None) -> Objs:
        pool = np.empty(len(names) + 1, object)
        pool[:-1] = list(names)
        pool[-1] = None
        picked = np.where(idx < 0, len(names), idx)
        if keep is not None:
            picked = np.where(keep, picked, len(names))
        return pool[picked]

    # --- incidents ------------------------------------------------------------------------

    def _plan_incidents(self) -> list[_Incident]:
        s, top, rng = self.s, self.top, _rng(self.s.seed, "incidents")
        n = s.incidents
        kinds = _allocate(
            (s.deploy_share, s.config_share, s.upstream_share, s.no_change_share), n, rng
        )
        with_deps = [i for i in range(s.services) if top.deps[i]]
        p_svc = top.svc_weight / top.svc_weight.sum()
        first_day = min(2, s.days - 2)
        incidents: list[_Incident] = []
        for kind_index in kinds.tolist():
            kind = KINDS[kind_index]
            if kind == "upstream" and not with_deps:
                kind = "deploy"
            if kind == "upstream":
                w = p_svc[with_deps] / p_svc[with_deps].sum()
                svc = int(rng.choice(with_deps, p=w))
            else:
                svc = int(rng.choice(s.services, p=p_svc))
            comps = top.comps_of(svc)
            comp = int(comps[0] if rng.random() < 0.5 else rng.choice(comps))
            if kind == "no_change":
                story = _NO_CHANGE_STORIES[int(rng.integers(0, len(_NO_CHANGE_STORIES)))]
            elif kind == "upstream":
                story = _CHANGE_STORIES[int(rng.integers(0, 2))]  # errors or latency
            else:
                story = _CHANGE_STORIES[int(rng.integers(0, len(_CHANGE_STORIES)))]
            inc = _Incident(kind, story, svc, comp)
            inc.vendor = _VENDORS[int(rng.integers(0, len(_VENDORS)))]
            inc.region = top.regions[svc][0]
            inc.number = int(rng.integers(2, 9))
            if kind == "no_change":
                lo, hi = first_day * _DAY, self.span - 6 * _HOUR
                inc.t_impact = int(rng.integers(lo, max(lo + 1, hi)))
            else:
                if kind == "upstream":
                    inc.cause_svc = int(rng.choice(top.deps[svc]))
                    dep_comps = top.comps_of(inc.cause_svc)
                    inc.cause_comp = int(
                        dep_comps[0] if rng.random() < 0.6 else rng.choice(dep_comps)
                    )
                    deploy = rng.random() < s.upstream_deploy_share
                    inc.cause_type = "deploy" if deploy else "config"
                else:
                    inc.cause_svc, inc.cause_comp = svc, comp
                    inc.cause_type = "deploy" if kind == "deploy" else "config"
                inc.t_cause = int(_work_times(rng, s, 1, first_day, s.days - 1)[0])
                lag = float(np.clip(_lognormal(rng, 10.0, 0.9, 1)[0], 1.0, 180.0))
                inc.t_impact = inc.t_cause + int(lag * _MIN)
            inc.has_alerts = bool(rng.random() < 0.88)
            detect = float(np.clip(_lognormal(rng, 12.0, 1.0, 1)[0], 2.0, 600.0))
            if not inc.has_alerts:
                detect = min(detect * 2.5, 900.0)
            inc.t_detect = min(inc.t_impact + int(detect * _MIN), self.span - _MIN)
            inc.t_detect = max(inc.t_detect, inc.t_impact + _MIN)
            incidents.append(inc)
        incidents.sort(key=lambda i: i.t_detect)
        for i, inc in enumerate(incidents):
            inc.inv = i
        self._statuses(incidents, rng)
        return incidents

    def _statuses(self, incidents: list[_Incident], rng: np.random.Generator) -> None:
        s, n = self.s, len(incidents)
        n_open = round(s.open_share * n)
        if n_open:
            w = (np.arange(n, dtype=np.float64) + 1) ** 2
            for i in rng.choice(n, n_open, replace=False, p=w / w.sum()).tolist():
                incidents[i].status = "open" if rng.random() < 0.5 else "in_progress"
        for inc in incidents:
            if inc.status == "resolved" and rng.random() < 0.2:
                inc.status = "closed"
        done = [inc for inc in incidents if inc.status in ("resolved", "closed")]
        modes = ("id", "short", "words", "red_herring")
        rest = max(0.0, 1 - s.root_cause_id_share - s.root_cause_short_sha_share)
        herring = min(s.red_herring_share, rest)
        shares = (
            s.root_cause_id_share,
            s.root_cause_short_sha_share,
            rest - herring,
            herring,
        )
        for inc, m in zip(done, _allocate(shares, len(done), rng).tolist(), strict=True):
            inc.mode = modes[m]

    # --- changes --------------------------------------------------------------------------

    def _changes(self, incidents: list[_Incident]) -> None:
        """Commits, builds, test runs, deploys and config changes, culprits among them."""
        s, top = self.s, self.top
        rng = _rng(s.seed, "changes")
        # background commits, then the incidents' commits: (time, component, incident, role)
        expect = s.commits_per_component_day * _work_days(s) * top.comp_weight
        per_comp = rng.poisson(expect)
        c_t = [_work_times(rng, s, int(k)) for k in per_comp]
        c_comp = [np.full(int(k), c, np.int64) for c, k in enumerate(per_comp)]
        c_inc = [np.full(int(per_comp.sum()), -1, np.int64)]
        # roles: 0 background, 1 culprit, 3 near miss (and for deploys 4: culprit on staging)
        c_role = [np.zeros(int(per_comp.sum()), np.int64)]
        deploys: list[tuple[int, int, int, str, int]] = []  # t, svc, incident, env, role
        configs: list[tuple[int, int, int, int, int]] = []  # t, svc, comp, incident, role
        extra_t: list[int] = []
        extra_comp: list[int] = []
        extra_inc: list[int] = []
        extra_role: list[int] = []

        def commit(t: int, comp: int, inc: int, role: int) -> None:
            extra_t.append(t)
            extra_comp.append(comp)
            extra_inc.append(inc)
            extra_role.append(role)

        for inc in incidents:
            if inc.cause_type == "deploy":
                lead = float(np.clip(_lognormal(rng, 300.0, 1.0, 1)[0], 40.0, 4320.0))
                t_commit = max(inc.t_cause - int(lead * _MIN), 0)
                commit(t_commit, inc.cause_comp, inc.inv, 1)
                deploys.append((inc.t_cause, inc.cause_svc, inc.inv, "production", 1))
                if rng.random() < s.staged_culprit_share:
                    t_stage = inc.t_cause - int(rng.uniform(1, 20) * _HOUR)
                    if t_stage > t_commit + 20 * _MIN:
                        deploys.append((t_stage, inc.cause_svc, inc.inv, "staging", 4))
            elif inc.cause_type == "config":
                comp = inc.cause_comp if rng.random() < 0.6 else -1
                configs.append((inc.t_cause, inc.cause_svc, comp, inc.inv, 1))
            for _ in range(int(rng.poisson(s.near_miss_changes))):
                t = inc.t_impact - int(rng.uniform(5, 180) * _MIN)
                if t < 0:
                    continue
                what = rng.random()
                if what < 0.35:
                    commit(t, inc.comp, inc.inv, 3)
                elif what < 0.6:
                    deploys.append((t, inc.svc, inc.inv, "production", 3))
                elif what < 0.8:
                    deploys.append((t, inc.svc, inc.inv, "staging", 3))
                else:
                    configs.append((t, inc.svc, inc.comp if rng.random() < 0.5 else -1, inc.inv, 3))
        ct = np.concatenate([*c_t, np.asarray(extra_t, np.int64)])
        ccomp = np.concatenate([*c_comp, np.asarray(extra_comp, np.int64)])
        cinc = np.concatenate([*c_inc, np.asarray(extra_inc, np.int64)])
        crole = np.concatenate([*c_role, np.asarray(extra_role, np.int64)])
        order = np.argsort(ct, kind="stable")
        ct, ccomp, cinc, crole = ct[order], ccomp[order], cinc[order], crole[order]
        self._commits(rng, ct, ccomp, cinc, crole, incidents)
        self._deploys(rng, deploys, incidents)
        self._configs(rng, configs, incidents)

    def _commits(
        self,
        rng: np.random.Generator,
        ct: Ints,
        ccomp: Ints,
        cinc: Ints,
        crole: Ints,
        incidents: list[_Incident],
    ) -> None:
        s, top = self.s, self.top
        n = len(ct)
        csvc = top.comp_service[ccomp]
        sha = _hex(rng, n, 40)
        authors = _pick(rng, _PEOPLE, n)
        story_msg = {inc.inv: inc.story.commit for inc in incidents if inc.cause_type == "deploy"}
        messages = [
            f"{v} {o} in {top.components[c]}"
            for v, o, c in zip(
                _pick(rng, _VERBS, n), _pick(rng, _OBJECTS, n), ccomp.tolist(), strict=True
            )
        ]
        relate = rng.random(n) < 0.6
        for i in np.flatnonzero(crole == 1).tolist():
            if relate[i]:
                messages[i] = story_msg[int(cinc[i])]
        nfiles = rng.integers(1, 6, n)
        added = rng.integers(1, 200, int(nfiles.sum())).tolist()
        deleted = rng.integers(0, 80, int(nfiles.sum())).tolist()
        file_pick = rng.random(int(nfiles.sum()))
        data: list[dict[str, Any]] = []
        pos = 0
        for i, k in enumerate(nfiles.tolist()):
            paths = top.comp_paths[int(ccomp[i])]
            files = []
            seen = set()
            for j in range(pos, pos + k):
                path = paths[int(file_pick[j] * len(paths))]
                if path not in seen:
                    seen.add(path)
                    files.append({"path": path, "added": added[j], "deleted": deleted[j]})
            pos += k
            data.append(
                {
                    "sha": sha[i],
                    "author": authors[i],
                    "message": messages[i],
                    "files": files,
                    "insertions": sum(f["added"] for f in files),
                    "deletions": sum(f["deleted"] for f in files),
                    "repository": top.components[int(ccomp[i])],
                }
            )
        with_service = rng.random(n) < 0.4
        first = self.add(
            ct,
            "git",
            "commit",
            "info",
            self._names(ccomp, top.components),
            self._names(csvc, top.services, with_service),
            sha,
            data,
            [self._names(csvc, top.team)],
        )
        self.commits: dict[str, Any] = {
            "t": ct,
            "comp": ccomp,
            "svc": csvc,
            "sha": sha,
            "inc": cinc,
            "role": crole,
        }
        self.commit_msg = messages
        self.commit_first = first
        for i in np.flatnonzero(crole == 3).tolist():
            self._near_miss(int(cinc[i]), first + i, int(ct[i]), top.services[int(csvc[i])])
        # builds and test runs
        build = (rng.random(n) < s.build_share) | (crole == 1)
        bi = np.flatnonzero(build)
        nb = len(bi)
        bt = ct[bi] + (rng.uniform(3, 15, nb) * _MIN).astype(np.int64)
        failed = (rng.random(nb) < 0.1) & (crole[bi] != 1)
        start_no = int(rng.integers(40_000, 60_000))
        build_no = start_no + np.argsort(np.argsort(bt, kind="stable"), kind="stable")
        build_id = np.asarray([f"build-{k}" for k in build_no.tolist()], object)
        pipeline = [f"{top.components[c]}/ci" for c in ccomp[bi].tolist()]
        status = np.where(failed, "failure", "success").astype(object)
        durations = rng.integers(90, 1200, nb).tolist()
        bdata = [
            {
                "status": st,
                "sha": sha[i],
                "pipeline": p,
                "branch": "main",
                "duration_s": d,
            }
            for st, i, p, d in zip(status.tolist(), bi.tolist(), pipeline, durations, strict=True)
        ]
        first_b = self.add(
            bt,
            "ci",
            "build",
            np.where(failed, "high", "info"),
            self._names(ccomp[bi], top.components),
            self._names(csvc[bi], top.services, rng.random(nb) < 0.5),
            build_id,
            bdata,
            [self._names(csvc[bi], top.team), _where(failed, "failed", None)],
        )
        self.build_of = dict(zip(bi.tolist(), build_id.tolist(), strict=True))
        for j in np.flatnonzero(crole[bi] == 3).tolist():
            i = int(bi[j])
            self._near_miss(int(cinc[i]), first_b + j, int(bt[j]), top.services[int(csvc[i])])
        ti = np.flatnonzero(rng.random(nb) < s.test_run_share)
        nt = len(ti)
        tt = bt[ti] + (rng.uniform(1, 6, nt) * _MIN).astype(np.int64)
        tests = rng.integers(40, 2500, nt)
        failures = np.where(
            failed[ti] | (rng.random(nt) < 0.05), rng.integers(1, 12, nt), 0
        ).astype(np.int64)
        tdata = [
            {
                "status": "failure" if f else "success",
                "sha": sha[int(bi[j])],
                "pipeline": pipeline[j],
                "suite": "pytest",
                "tests": t,
                "failures": f,
            }
            for j, t, f in zip(ti.tolist(), tests.tolist(), failures.tolist(), strict=True)
        ]
        self.add(
            tt,
            "ci",
            "test_run",
            np.where(failures > 0, "medium", "info"),
            self._names(ccomp[bi][ti], top.components),
            None,
            np.char.add(build_id[ti].astype(str), ":tests").astype(object),
            tdata,
            [self._names(csvc[bi][ti], top.team)],
        )

    def _deploys(
        self,
        rng: np.random.Generator,
        extra: list[tuple[int, int, int, str, int]],
        incidents: list[_Incident],
    ) -> None:
        s, top, c = self.s, self.top, self.commits
        work = _work_days(s)
        t_parts, svc_parts, env_parts = [], [], []
        for env_name, rate in (
            ("production", s.prod_deploys_per_service_day),
            ("staging", s.staging_deploys_per_service_day),
        ):
            per = rng.poisson(rate * work * top.svc_weight)
            for i, k in enumerate(per.tolist()):
                t_parts.append(_work_times(rng, s, k))
                svc_parts.append(np.full(k, i, np.int64))
                env_parts.append(_full(env_name, k))
        nbg = sum(len(t) for t in t_parts)
        t = np.concatenate([*t_parts, np.asarray([e[0] for e in extra], np.int64)])
        svc = np.concatenate([*svc_parts, np.asarray([e[1] for e in extra], np.int64)])
        env_extra = np.empty(len(extra), object)
        env_extra[:] = [e[3] for e in extra]
        env: Objs = np.concatenate([*env_parts, env_extra])
        inc = np.concatenate([np.full(nbg, -1, np.int64), np.asarray([e[2] for e in extra])])
        role = np.concatenate([np.zeros(nbg, np.int64), np.asarray([e[4] for e in extra])])
        inc = inc.astype(np.int64)
        role = role.astype(np.int64)
        order = np.argsort(t, kind="stable")
        t, svc, env, inc, role = t[order], svc[order], env[order], inc[order], role[order]
        n = len(t)
        # the commit each deploy ships: the latest eligible commit of the service before it
        commit_idx = np.full(n, -1, np.int64)
        eligible = (c["role"] == 0) | (c["role"] == 3)
        lag = np.where(env == "production", 45 * _MIN, 15 * _MIN).astype(np.int64)
        for i in range(s.services):
            rows = np.flatnonzero(svc == i)
            cands = np.flatnonzero(eligible & (c["svc"] == i))
            if len(rows) and len(cands):
                pos = np.searchsorted(c["t"][cands], t[rows] - lag[rows], side="right") - 1
                commit_idx[rows] = np.where(pos >= 0, cands[np.maximum(pos, 0)], -1)
        culprit_commit = {}
        for ci in np.flatnonzero(c["role"] == 1).tolist():
            culprit_commit[int(c["inc"][ci])] = ci
        by_inv = {x.inv: x for x in incidents}
        for j in np.flatnonzero((role == 1) | (role == 4)).tolist():
            # a bad deploy ships the latest commit of the component: the culprit, or an
            # innocent commit that landed after it
            x = by_inv[int(inc[j])]
            ships = (
                (c["comp"] == x.cause_comp)
                & (c["t"] <= t[j] - 20 * _MIN)
                & (eligible | (c["inc"] == x.inv))
            )
            commit_idx[j] = int(np.flatnonzero(ships)[-1])
        missing = commit_idx < 0
        random_sha = _hex(rng, n, 40)
        sha = np.where(missing, random_sha, c["sha"][np.maximum(commit_idx, 0)]).astype(object)
        comp_first = np.asarray([top.comps_of(i)[0] for i in range(s.services)], np.int64)
        comp = np.where(missing, comp_first[svc], c["comp"][np.maximum(commit_idx, 0)])
        # versions: the position of the shipped commit among its service's commits
        seq = np.zeros(len(c["t"]), np.int64)
        for i in range(s.services):
            rows = np.flatnonzero(c["svc"] == i)
            seq[rows] = np.arange(len(rows))
        cseq = np.where(missing, rng.integers(0, 9, n), seq[np.maximum(commit_idx, 0)] + 10)
        major = 1 + svc % 3
        version = [
            f"v{m}.{q // 20}.{q % 20}" for m, q in zip(major.tolist(), cseq.tolist(), strict=True)
        ]
        failed = (rng.random(n) < 0.04) & (role != 1)
        number = int(rng.integers(1000, 5000)) + np.arange(n)
        deploy_id = np.asarray([f"deploy-{k}" for k in number.tolist()], object)
        region = self._region(rng, svc)
        strategy = _pick(rng, ("rolling", "canary", "blue-green"), n)
        data = [
            {
                "version": v,
                "sha": h,
                "environment": e,
                "service": top.services[sv],
                "status": "failure" if f else "success",
                "region": r,
                "strategy": st,
                "triggered_by": a,
            }
            for v, h, e, sv, f, r, st, a in zip(
                version,
                sha.tolist(),
                env.tolist(),
                svc.tolist(),
                failed.tolist(),
                region.tolist(),
                strategy.tolist(),
                _pick(rng, _PEOPLE, n).tolist(),
                strict=True,
            )
        ]
        env_tag = np.where(env == "production", "env:prod", "env:staging").astype(object)
        first = self.add(
            t,
            "ci",
            "deploy",
            np.where(failed, "high", "info"),
            self._names(comp, top.components),
            self._names(svc, top.services),
            deploy_id,
            data,
            [env_tag, "region:" + region.astype(str), self._names(svc, top.team), "deploy"],
        )
        for j in np.flatnonzero(role == 1).tolist():
            x = by_inv[int(inc[j])]
            ci = culprit_commit[x.inv]
            hi = int(commit_idx[j])
            up = (
                f"upstream dependency {top.services[x.cause_svc]}: " if x.kind == "upstream" else ""
            )
            x.culprit = {
                "deploy": deploy_id[j],
                "version": version[j],
                "sha": c["sha"][ci],
                "build": self.build_of[ci],
                "message": self.commit_msg[ci],
                "head": ci == hi,
            }
            self.truth.append(
                (first + j, x.inv, "cause", f"{up}{deploy_id[j]} shipped the bad change to prod")
            )
            where = "its head commit"
            if ci != hi:  # commits are in time order: those of the component in between
                later = int((c["comp"][ci + 1 : hi + 1] == x.cause_comp).sum())
                where = f"not its head: {later} later commit(s) shipped with it"
            self.truth.append(
                (
                    self.commit_first + ci,
                    x.inv,
                    "cause",
                    f"{up}commit {c['sha'][ci][:10]} is the bad change, shipped by "
                    f"{deploy_id[j]} ({where}); the deploy is a cause too",
                )
            )
        for j in np.flatnonzero(role == 3).tolist():
            self._near_miss(int(inc[j]), first + j, int(t[j]), top.services[int(svc[j])])

    def _configs(
        self,
        rng: np.random.Generator,
        extra: list[tuple[int, int, int, int, int]],
        incidents: list[_Incident],
    ) -> None:
        s, top = self.s, self.top
        k = int(rng.poisson(s.config_changes_per_day * _work_days(s)))
        p = top.svc_weight / top.svc_weight.sum()
        t = np.concatenate([_work_times(rng, s, k), np.asarray([e[0] for e in extra], np.int64)])
        svc = np.concatenate(
            [rng.choice(s.services, k, p=p), np.asarray([e[1] for e in extra], np.int64)]
        ).astype(np.int64)
        comp_bg = np.where(
            rng.random(k) < 0.4,
            np.asarray([rng.choice(top.comps_of(int(x))) for x in svc[:k]], np.int64),
            -1,
        )
        comp = np.concatenate([comp_bg, np.asarray([e[2] for e in extra], np.int64)])
        inc = np.concatenate([np.full(k, -1), np.asarray([e[3] for e in extra])]).astype(np.int64)
        role = np.concatenate([np.zeros(k), np.asarray([e[4] for e in extra])]).astype(np.int64)
        order = np.argsort(t, kind="stable")
        t, svc, comp, inc, role = t[order], svc[order], comp[order], inc[order], role[order]
        n = len(t)
        manual = rng.random(n) < 0.4
        staging = (rng.random(n) < 0.2) & (role != 1)
        keys = rng.integers(0, len(_CONFIG_KEYS), n)
        by_inv = {x.inv: x for x in incidents}
        rows: list[tuple[str, str, str]] = []
        for j in range(n):
            if role[j] == 1:
                rows.append(by_inv[int(inc[j])].story.config[:3])
                continue
            key, values = _CONFIG_KEYS[int(keys[j])]
            a, b = rng.choice(len(values), 2, replace=False).tolist()
            rows.append((key, values[a], values[b]))
        manual_no = int(rng.integers(1000, 9000)) + np.cumsum(manual)
        ci_no = int(rng.integers(100, 900)) + np.cumsum(~manual)
        source_id = np.asarray(
            [
                f"CHG-{m:05d}" if is_manual else f"config-{c}"
                for is_manual, m, c in zip(
                    manual.tolist(), manual_no.tolist(), ci_no.tolist(), strict=True
                )
            ],
            object,
        )
        env = np.where(staging, "staging", "production").astype(object)
        authors = _pick(rng, _PEOPLE, n)
        data = [
            {"key": key, "old": old, "new": new, "environment": e, "changed_by": a}
            for (key, old, new), e, a in zip(rows, env.tolist(), authors.tolist(), strict=True)
        ]
        first = self.add(
            t,
            np.where(manual, "manual", "ci"),
            "config_change",
            np.where(manual, "low", "info"),
            self._names(comp, top.components),
            self._names(svc, top.services),
            source_id,
            data,
            [
                np.where(staging, "env:staging", "env:prod").astype(object),
                self._names(svc, top.team),
                "config",
            ],
        )
        for j in np.flatnonzero(role == 1).tolist():
            x = by_inv[int(inc[j])]
            key, old, new = rows[j]
            x.culprit = {"config": source_id[j], "key": key, "old": old, "new": new}
            up = (
                f"upstream dependency {top.services[x.cause_svc]}: " if x.kind == "upstream" else ""
            )
            self.truth.append(
                (
                    first + j,
                    x.inv,
                    "cause",
                    f"{up}config change {source_id[j]}: {key} {old} -> {new}",
                )
            )
        for j in np.flatnonzero(role == 3).tolist():
            self._near_miss(int(inc[j]), first + j, int(t[j]), top.services[int(svc[j])])

    def _near_miss(self, inv: int, row: int, t: int, service: str) -> None:
        self.noise.append(
            {
                "kind": "near_miss_change",
                "start": t,
                "end": t,
                "services": service,
                "events": 1,
                "inv": inv,
                "row": row,
            }
        )

    # --- logs, alerts, spans --------------------------------------------------------------

    def _log_block(
        self,
        rng: np.random.Generator,
        t: Ints,
        comp: Ints,
        specs: Sequence[tuple[str, str]],
        spec_idx: Ints,
        *,
        with_component: Bools | None = None,
        staging: Bools | None = None,
        names: dict[str, str] | None = None,
    ) -> int:
        """Log events of formats ``specs[spec_idx]`` in components ``comp`` (-1: none)."""
        top = self.top
        n = len(t)
        messages = np.empty(n, object)
        level = np.empty(n, object)
        tpl = np.empty(n, object)
        fp = np.empty(n, object)
        for k in np.unique(spec_idx).tolist():
            rows = np.flatnonzero(spec_idx == k)
            lvl, fmt = specs[k]
            fmt = _fill(fmt, **(names or {}))
            rendered = _render(fmt, rng, len(rows))
            messages[rows] = rendered
            level[rows] = lvl
            template = log_template(rendered[0])
            tpl[rows] = template
            fp[rows] = digest(template)
        svc = np.where(comp >= 0, top.comp_service[np.maximum(comp, 0)], -1)
        comp_names = self._names(comp, top.components, with_component)
        loggers = [
            f"{c}.{m}" if c else "system"
            for c, m in zip(
                self._names(comp, top.components).tolist(),
                _pick(rng, ("app", "http", "db", "jobs"), n).tolist(),
                strict=True,
            )
        ]
        data = [
            {"message": m, "level": lv, "logger": lg, "template": tp, "fingerprint": f}
            for m, lv, lg, tp, f in zip(
                messages.tolist(), level.tolist(), loggers, tpl.tolist(), fp.tolist(), strict=True
            )
        ]
        event_type = np.where(level == "warning", "warning", "error").astype(object)
        severity = np.select(
            [level == "warning", level == "critical"], ["medium", "critical"], "high"
        ).astype(object)
        env = None
        if staging is not None:
            env = np.where(staging, "env:staging", "env:prod").astype(object)
        elif n:
            env = _where(comp >= 0, "env:prod", None)
        skewed = t + int(self.skew["logs"] * _US)
        return self.add(
            skewed,
            "logs",
            event_type,
            severity,
            comp_names,
            self._names(svc, top.services),
            _hex(rng, n, 20),
            data,
            [level, env, self._names(svc, top.team)],
        )

    def _logs(self) -> None:
        """Steady background errors and warnings, and unattributed infrastructure logs."""
        s, top, rng = self.s, self.top, _rng(self.s.seed, "logs")
        hours = s.days * 24.0
        nc = len(top.components)
        rate = (s.errors_per_component_hour + s.warnings_per_component_hour) * hours
        per = rng.poisson(rate * top.comp_weight)
        n = int(per.sum())
        comp = np.repeat(np.arange(nc, dtype=np.int64), per)
        t = rng.integers(0, self.span, n).astype(np.int64)
        # each component's templates, by weight; warnings and errors at the settings' rates
        spec = np.empty(n, np.int64)
        want_error = rng.random(n) < s.errors_per_component_hour / max(
            s.errors_per_component_hour + s.warnings_per_component_hour, 1e-12
        )
        u = rng.random(n)
        is_error = np.asarray([lvl == "error" for lvl, _ in _BACKGROUND])
        for c in range(nc):
            rows = np.flatnonzero(comp == c)
            ids, p = top.comp_templates[c], top.comp_template_p[c]
            for err in (True, False):
                sub = rows[want_error[rows] == err]
                mine = is_error[ids] == err
                pool = ids[mine] if mine.any() else np.flatnonzero(is_error == err)[:2]
                pp = p[mine] if mine.any() else np.ones(len(pool))
                cum = np.cumsum(pp / pp.sum())
                spec[sub] = pool[np.minimum(np.searchsorted(cum, u[sub]), len(pool) - 1)]
        self._log_block(
            rng,
            t,
            comp,
            _BACKGROUND,
            spec,
            with_component=rng.random(n) < 0.85,
            staging=rng.random(n) < 0.1,
        )
        k = int(rng.poisson(s.unattributed_logs_per_hour * hours))
        self._log_block(
            rng,
            rng.integers(0, self.span, k).astype(np.int64),
            np.full(k, -1, np.int64),
            _INFRA,
            rng.integers(0, len(_INFRA), k).astype(np.int64),
        )

    def _error_floods(self) -> None:
        """Bursts of one template in one component for minutes, unrelated to incidents."""
        s, top, rng = self.s, self.top, _rng(self.s.seed, "floods")
        incident_specs = [tp for st in _CHANGE_STORIES for tp in st.templates]
        for _ in range(int(rng.poisson(s.error_floods_per_week * s.days / 7))):
            comp = int(rng.integers(0, len(top.components)))
            start = int(rng.integers(0, self.span - _HOUR))
            duration = int(rng.uniform(5, 40) * _MIN)
            size = int(np.clip(_lognormal(rng, _FLOOD_MEDIAN, 0.7, 1)[0], 20, 2000))
            if rng.random() < 0.5:
                spec = incident_specs[int(rng.integers(0, len(incident_specs)))]
            else:
                spec = _BACKGROUND[int(rng.choice(top.comp_templates[comp]))]
            spec = (spec[0] if spec[0] != "warning" else "error", spec[1])
            t = start + np.sort(rng.integers(0, duration, size)).astype(np.int64)
            self._log_block(
                rng,
                t,
                np.full(size, comp, np.int64),
                [spec],
                np.zeros(size, np.int64),
                names={"dep": top.services[int(rng.integers(0, s.services))]},
            )
            self.noise.append(
                {
                    "kind": "error_flood",
                    "start": start,
                    "end": start + duration,
                    "services": top.services[int(top.comp_service[comp])],
                    "events": size,
                }
            )

    def _alert_block(
        self,
        rng: np.random.Generator,
        t: Ints,
        svc: Ints,
        alertname: Objs,
        severity_label: Objs,
        comp: Ints,
        duration: Ints,
        node: Objs | None = None,
    ) -> int:
        """Alert events as the alerts reader makes them (fingerprint:startsAt ids)."""
        top = self.top
        n = len(t)
        skewed = t + int(self.skew["metrics"] * _US)
        ends = skewed + duration
        firing = (duration <= 0) | (ends > self.span)
        ends_iso = _iso(ends + self.start_us)
        region = self._region(rng, np.maximum(svc, 0))
        cache: dict[tuple[tuple[str, str], ...], str] = {}
        data = []
        source_id = np.empty(n, object)
        starts = _iso(skewed + self.start_us)
        nodes = node if node is not None else _full(None, n)
        for j in range(n):
            labels = {"alertname": alertname[j], "severity": severity_label[j]}
            if svc[j] >= 0:
                labels["service"] = top.services[int(svc[j])]
                labels["namespace"] = top.services[int(svc[j])]
            if comp[j] >= 0:
                labels["component"] = top.components[int(comp[j])]
            if nodes[j]:
                labels["node"] = nodes[j]
            labels["region"] = region[j]
            key = tuple(sorted(labels.items()))
            fp = cache.get(key)
            if fp is None:
                fp = cache[key] = alert_fingerprint(labels)
            source_id[j] = f"{fp}:{starts[j]}"
            status = "firing" if firing[j] else "resolved"
            where = labels.get("service") or labels.get("node") or "cluster"
            data.append(
                {
                    "alertname": alertname[j],
                    "fingerprint": fp,
                    "status": status,
                    "ends_at": None if firing[j] else ends_iso[j],
                    "summary": f"{alertname[j]} on {where}",
                    "labels": labels,
                }
            )
        severity = np.select(
            [severity_label == "critical", severity_label == "warning"],
            ["critical", "medium"],
            "info",
        ).astype(object)
        status_tag = np.where(firing, "firing", "resolved").astype(object)
        return self.add(
            skewed,
            "metrics",
            "alert",
            severity,
            self._names(comp, top.components),
            self._names(svc, top.services),
            source_id,
            data,
            [status_tag, "region:" + region.astype(str), self._names(svc, top.team)],
        )

    def _alerts(self) -> None:
        s, top, rng = self.s, self.top, _rng(self.s.seed, "alerts")
        per = rng.poisson(s.alerts_per_service_day * s.days * top.svc_weight)
        n = int(per.sum())
        svc = np.repeat(np.arange(s.services, dtype=np.int64), per)
        comp = np.full(n, -1, np.int64)
        with_comp = np.flatnonzero(rng.random(n) < 0.3)
        for j in with_comp.tolist():
            comp[j] = int(rng.choice(top.comps_of(int(svc[j]))))
        u = rng.random(n)
        sev = np.where(u < 0.1, "critical", np.where(u < 0.8, "warning", "info")).astype(object)
        resolved = rng.random(n) < 0.85
        duration = np.where(resolved, (rng.uniform(2, 60, n) * _MIN).astype(np.int64), 0)
        self._alert_block(
            rng,
            rng.integers(0, self.span, n).astype(np.int64),
            svc,
            _pick(rng, _BACKGROUND_ALERTS, n),
            sev,
            comp,
            duration.astype(np.int64),
        )

    def _alert_storms(self) -> None:
        """Many alerts across several services within minutes (a network or node blip)."""
        s, top, rng = self.s, self.top, _rng(self.s.seed, "storms")
        for _ in range(int(rng.poisson(s.alert_storms_per_week * s.days / 7))):
            start = int(rng.integers(0, self.span - _HOUR))
            width = int(rng.uniform(2, 8) * _MIN)
            k = int(np.clip(rng.poisson(_STORM_MEAN), 15, 80))
            n_svc = min(s.services, int(rng.integers(3, 7)))
            chosen = rng.choice(s.services, n_svc, replace=False).astype(np.int64)
            svc = chosen[rng.integers(0, n_svc, k)]
            node_alert = rng.random(k) < 0.25
            svc = np.where(node_alert, -1, svc)
            node_names = [f"ip-10-0-{a}-{b}" for a, b in rng.integers(0, 255, (k, 2)).tolist()]
            nodes = _where(node_alert, np.asarray(node_names, object), None)
            names = np.where(node_alert, "KubeNodeNotReady", _pick(rng, _STORM_ALERTS, k))
            t = start + np.sort(rng.integers(0, width, k)).astype(np.int64)
            self._alert_block(
                rng,
                t,
                svc.astype(np.int64),
                names.astype(object),
                np.where(rng.random(k) < 0.4, "critical", "warning").astype(object),
                np.full(k, -1, np.int64),
                (rng.uniform(3, 25, k) * _MIN).astype(np.int64),
                nodes,
            )
            self.noise.append(
                {
                    "kind": "alert_storm",
                    "start": start,
                    "end": start + width,
                    "services": ",".join(top.services[int(i)] for i in sorted(chosen.tolist())),
                    "events": k,
                }
            )

    def _span_block(
        self, rng: np.random.Generator, t: Ints, svc: Ints, comp: Ints, messages: Objs
    ) -> int:
        top = self.top
        n = len(t)
        trace = _hex(rng, n, 32)
        span = _hex(rng, n, 16)
        names = np.empty(n, object)
        pick = rng.integers(0, 3, n)
        for i in range(self.s.services):
            rows = np.flatnonzero(svc == i)
            names[rows] = np.asarray(top.endpoints[i], object)[pick[rows]]
        duration = np.round(_lognormal(rng, 900.0, 1.0, n), 1).tolist()
        data = [
            {
                "trace_id": tr,
                "span_id": sp,
                "name": nm,
                "kind": "server",
                "status_code": "error",
                "status_message": msg,
                "duration_ms": d,
            }
            for tr, sp, nm, msg, d in zip(
                trace.tolist(),
                span.tolist(),
                names.tolist(),
                messages.tolist(),
                duration,
                strict=True,
            )
        ]
        source_id = np.char.add(np.char.add(trace.astype(str), ":"), span.astype(str))
        return self.add(
            t + int(self.skew["traces"] * _US),
            "traces",
            "span_error",
            "high",
            self._names(comp, top.components),
            self._names(svc, top.services),
            source_id.astype(object),
            data,
            ["error", self._names(svc, top.team)],
        )

    def _spans(self) -> None:
        s, top, rng = self.s, self.top, _rng(self.s.seed, "spans")
        per = rng.poisson(s.span_errors_per_service_hour * s.days * 24 * top.svc_weight)
        n = int(per.sum())
        svc = np.repeat(np.arange(s.services, dtype=np.int64), per)
        comp = np.where(
            rng.random(n) < 0.5,
            np.asarray([top.comps_of(int(i))[0] for i in svc.tolist()], np.int64),
            -1,
        ).astype(np.int64)
        self._span_block(
            rng,
            rng.integers(0, self.span, n).astype(np.int64),
            svc,
            comp,
            _pick(rng, _SPAN_MESSAGES, n),
        )

    # --- incident symptoms ----------------------------------------------------------------

    def _symptoms(self, inc: _Incident) -> None:
        s, top = self.s, self.top
        rng = _rng(s.seed, f"incident-{inc.inv}")
        inv = inc.inv
        svc_name = top.services[inc.svc]
        dep = top.services[inc.cause_svc] if inc.kind == "upstream" else ""
        names = {"dep": dep, "vendor": inc.vendor, "region": inc.region, "svc": svc_name}
        # how long it lasts, in true time
        mitigate = float(np.clip(_lognormal(rng, 45.0, 0.9, 1)[0], 8.0, 720.0))
        if inc.status == "open" or (inc.status == "in_progress" and rng.random() < 0.5):
            end = min(inc.t_detect + int(rng.uniform(60, 360) * _MIN), self.span - 1)
        else:
            end = min(inc.t_detect + int(mitigate * _MIN), self.span - 1)
            inc.t_mitigated = end
        inc.t_end = end
        # the new error-log flood in the affected component
        start = inc.t_impact + int(rng.uniform(0, 3) * _MIN)
        size = int(np.clip(_lognormal(rng, s.symptom_logs_median, 0.8, 1)[0], 10, 3000))
        specs = list(_UPSTREAM_TEMPLATES if inc.kind == "upstream" else inc.story.templates)
        if len(specs) > 1 and rng.random() < 0.5:
            specs = specs[:1]
        if end > start:
            frac = rng.beta(1.0, 2.5, size)
            t = np.sort(start + (frac * (end - start)).astype(np.int64))
            spec = rng.integers(0, len(specs), size).astype(np.int64)
            first = self._log_block(
                rng,
                t,
                np.full(size, inc.comp, np.int64),
                specs,
                spec,
                with_component=rng.random(size) < 0.95,
                names=names,
            )
            for j in range(size):
                tp = self.blocks[-1].data[j]["template"]
                self.truth.append(
                    (
                        first + j,
                        inv,
                        "symptom",
                        f"new log template in {top.components[inc.comp]}: {tp}",
                    )
                )
        # upstream: the dependency shows errors of its own, sometimes
        if inc.kind == "upstream" and rng.random() < 0.6 and end > inc.t_impact:
            k = int(rng.integers(10, 50))
            t = np.sort(rng.integers(inc.t_impact, end, k)).astype(np.int64)
            story = inc.story
            first = self._log_block(
                rng,
                t,
                np.full(k, inc.cause_comp, np.int64),
                story.templates[:1],
                np.zeros(k, np.int64),
                names=names,
            )
            for j in range(k):
                self.truth.append(
                    (
                        first + j,
                        inv,
                        "symptom",
                        f"logs of the upstream dependency {dep} ({top.components[inc.cause_comp]})",
                    )
                )
        # alerts
        if inc.has_alerts:
            k = 1 + int(rng.poisson(max(s.alerts_per_incident - 1, 0.0)))
            first_alert = max(
                inc.t_detect - int(rng.uniform(0.5, 4) * _MIN), inc.t_impact + 30 * _US
            )
            others = np.sort(rng.integers(first_alert, max(end, first_alert + 1), k - 1))
            t = np.concatenate([[first_alert], others]).astype(np.int64)
            svc = np.full(k, inc.svc, np.int64)
            names_a = np.asarray(
                [inc.story.alert]
                + [
                    inc.story.alert if rng.random() < 0.5 else str(rng.choice(_STORM_ALERTS[1:4]))
                    for _ in range(k - 1)
                ],
                object,
            )
            if inc.kind == "upstream" and k > 1 and rng.random() < 0.5:
                svc[-1] = inc.cause_svc
                names_a[-1] = "HighErrorRate"
            comp = np.where(
                rng.random(k) < 0.4, np.where(svc == inc.svc, inc.comp, inc.cause_comp), -1
            )
            mitigated = inc.t_mitigated
            duration = np.where(
                mitigated is None, 0, np.maximum((mitigated or 0) - t, _MIN)
            ).astype(np.int64)
            sev = np.where(
                np.arange(k) == 0,
                "critical",
                np.where(rng.random(k) < 0.5, "critical", "warning"),
            ).astype(object)
            first = self._alert_block(rng, t, svc, names_a, sev, comp.astype(np.int64), duration)
            for j in range(k):
                self.truth.append(
                    (
                        first + j,
                        inv,
                        "symptom",
                        f"alert {names_a[j]} fired for {top.services[int(svc[j])]}",
                    )
                )
        # failing spans
        if rng.random() < 0.8 and end > inc.t_impact:
            k = int(rng.poisson(s.spans_per_incident))
            if k:
                t = np.sort(rng.integers(inc.t_impact, end, k)).astype(np.int64)
                svc = np.full(k, inc.svc, np.int64)
                comp = np.where(rng.random(k) < 0.5, inc.comp, -1).astype(np.int64)
                msgs = _full(
                    "upstream unavailable" if inc.kind == "upstream" else "internal error", k
                )
                first = self._span_block(rng, t, svc, comp, msgs)
                for j in range(k):
                    self.truth.append((first + j, inv, "symptom", f"failing span on {svc_name}"))

    # --- frames ---------------------------------------------------------------------------

    def _frame(self, ids: Objs) -> tuple[pd.DataFrame, Ints]:
        blocks = self.blocks
        ts = np.concatenate([b.ts for b in blocks]) + self.start_us
        order = np.argsort(ts, kind="stable")

        def cat(name: str) -> Objs:
            return np.concatenate([getattr(b, name) for b in blocks])[order]

        data = np.empty(self.n, object)
        data[:] = [d for b in blocks for d in b.data]
        combos = sorted(self.tag_codes, key=self.tag_codes.__getitem__)
        tag_values = pa.array([list(c) for c in combos], pa.list_(pa.string()))
        tags = tag_values.take(pa.array(np.concatenate([b.tags for b in blocks])[order]))
        times = pd.Series(ts[order].astype("datetime64[us]")).dt.tz_localize("UTC")
        frame = pd.DataFrame(
            {
                "id": pd.array(ids[order], dtype="str"),
                "timestamp": times,
                "source": pd.array(cat("source"), dtype="str"),
                "event_type": pd.array(cat("event_type"), dtype="str"),
                "severity": pd.array(cat("severity"), dtype="str"),
                "component": pd.array(cat("component"), dtype="str"),
                "service": pd.array(cat("service"), dtype="str"),
                "source_id": pd.array(cat("source_id"), dtype="str"),
                "data": pd.Series(data[order], dtype=object),
                "tags": pd.Series(pd.arrays.ArrowExtensionArray(tags)),
            }
        )
        return frame, order

    def _times(self, values: Sequence[int | None]) -> pd.Series:
        start_us = self.start_us
        arr = np.array(
            [
                np.datetime64(start_us + v, "us") if v is not None else np.datetime64("NaT")
                for v in values
            ],
            dtype="datetime64[us]",
        )
        return pd.Series(arr).dt.tz_localize("UTC")

    def _investigations(self, incidents: list[_Incident], inv_ids: Objs) -> pd.DataFrame:
        s, top = self.s, self.top
        rng = _rng(s.seed, "investigations")
        start = s.start.astimezone(dt.UTC)
        rows: dict[str, list[Any]] = {
            name: []
            for name in (
                "title",
                "description",
                "status",
                "impact_severity",
                "priority",
                "impact_started_at",
                "detected_at",
                "started_at",
                "mitigated_at",
                "resolved_at",
                "root_cause",
                "remediation",
                "lessons_learned",
                "component_affected",
                "service_affected",
                "tags",
                "created_by",
                "assigned_to",
                "created_at",
                "updated_at",
            )
        }
        impacts = ("critical", "high", "medium", "low")
        for inc in incidents:
            story, svc = inc.story, top.services[inc.svc]
            comp = top.components[inc.comp]
            fill = {
                "svc": svc,
                "Svc": _cap(svc),
                "comp": comp,
                "vendor": inc.vendor,
                "region": inc.region,
                "k": str(inc.number),
                "pct": str(int(rng.integers(3, 40))),
                "n": str(int(rng.integers(2, 90)) * 1000),
                "dep": top.services[inc.cause_svc] if inc.cause_svc >= 0 else "",
            }
            impact = impacts[int(rng.choice(4, p=[0.1, 0.3, 0.4, 0.2]))]
            prio = impacts.index(impact)
            if rng.random() < 0.2:
                prio = int(np.clip(prio + rng.choice([-1, 1]), 0, 3))
            when = (start + dt.timedelta(microseconds=inc.t_impact)).strftime("%H:%M")
            description = _fill(story.description, **fill) + f" since about {when} UTC."
            if inc.has_alerts:
                description += f" Alert {story.alert} fired."
            else:
                description += " Reported by customers through support."
            if inc.kind == "upstream" and rng.random() < 0.5:
                description += f" Many failures are on calls to {fill['dep']}."
            created = inc.t_detect + int(rng.uniform(1, 10) * _MIN)
            started = None if inc.status == "open" else created + int(rng.uniform(0, 10) * _MIN)
            mitigated = inc.t_mitigated if inc.status != "open" else None
            if mitigated is not None and started is not None:
                mitigated = max(mitigated, started)
            resolved = None
            if inc.status in ("resolved", "closed"):
                assert mitigated is not None
                resolved = mitigated + int(
                    np.clip(_lognormal(rng, 180.0, 1.2, 1)[0], 10.0, 7200.0) * _MIN
                )
            updated = (resolved or mitigated or started or created) + int(
                rng.uniform(0, 2 * 24 * 60) * _MIN
            )
            root = self._root_cause(inc, fill, rng) if resolved is not None else None
            remediation = _fill(story.remediation, **fill) if resolved is not None else None
            if inc.kind == "config" and remediation is not None:
                remediation = "Reverted the config change."
            if inc.kind == "upstream" and remediation is not None:
                remediation = f"The {fill['dep']} team rolled back their change."
            lessons = None
            if resolved is not None and rng.random() < 0.5:
                lessons = str(
                    rng.choice(
                        [
                            "Changes need a canary stage with automatic rollback.",
                            "Alert on saturation, not only on errors.",
                            "Dependencies need timeouts and circuit breakers.",
                            "Config changes need the same review as code.",
                        ]
                    )
                )
            missing_start = rng.random() < s.missing_impact_start_share
            rows["title"].append(_fill(story.title, **fill))
            rows["description"].append(description)
            rows["status"].append(inc.status)
            rows["impact_severity"].append(impact)
            rows["priority"].append(f"P{prio}")
            rows["impact_started_at"].append(None if missing_start else inc.t_impact)
            rows["detected_at"].append(inc.t_detect)
            rows["started_at"].append(started)
            rows["mitigated_at"].append(mitigated)
            rows["resolved_at"].append(resolved)
            rows["root_cause"].append(root)
            rows["remediation"].append(remediation)
            rows["lessons_learned"].append(lessons)
            rows["component_affected"].append(comp if rng.random() < 0.8 else None)
            rows["service_affected"].append(svc)
            rows["tags"].append(
                list(dict.fromkeys([f"sev{prio + 1}", top.team[inc.svc], story.key]))
            )
            rows["created_by"].append(str(rng.choice(_PEOPLE)))
            rows["assigned_to"].append(str(rng.choice(_PEOPLE)) if started else None)
            rows["created_at"].append(created)
            rows["updated_at"].append(updated)
        frame = pd.DataFrame({"id": pd.array(inv_ids, dtype="str")})
        for name, values in rows.items():
            if name.endswith("_at"):
                frame[name] = self._times(values)
            elif name == "tags":
                frame[name] = pd.Series(
                    pd.arrays.ArrowExtensionArray(pa.array(values, pa.list_(pa.string())))
                )
            else:
                frame[name] = pd.array(values, dtype="str")
        return frame

    def _root_cause(self, inc: _Incident, fill: dict[str, str], rng: np.random.Generator) -> str:
        """The postmortem's root cause; sets ``inc.mode`` to how it names the culprit."""
        mode = inc.mode or "words"
        herring = self._herring(inc) if mode == "red_herring" else None
        if mode == "red_herring" and herring is None:
            mode = "words"
        if inc.kind == "no_change" and mode in ("id", "short"):
            mode = "words"
        inc.mode = mode
        top = self.top
        words = _fill(inc.story.words, **fill)
        if inc.cause_type == "config":
            words = f"a config change ({inc.story.config[3]})"
        where = top.components[inc.cause_comp] if inc.cause_comp >= 0 else fill["comp"]
        if herring is not None:
            inc.herring = herring
            short = herring["sha"][:7]
            if inc.kind == "no_change" or rng.random() < 0.5:
                return (
                    f"Commit {short} ({herring['message']}) was reverted first as the "
                    f"suspect, without effect. The cause was {words}."
                )
            return f"Caused by commit {short} in {top.components[herring['comp']]}: {words}."
        if inc.kind == "no_change":
            return f"{_cap(words)}."
        text = self._change_text(inc, mode, words, where, rng)
        if inc.kind == "upstream":
            text += f" {_cap(fill['svc'])} depends on {fill['dep']} and failed with it."
        return text

    def _change_text(
        self, inc: _Incident, mode: str, words: str, where: str, rng: np.random.Generator
    ) -> str:
        top, c = self.top, inc.culprit
        service = top.services[inc.cause_svc]
        if "config" in c:
            effect = inc.story.config[3]
            if mode == "id":
                return (
                    f"Config change {c['config']} set {c['key']} from {c['old']} to {c['new']} "
                    f"on {service}; {effect}."
                )
            if mode == "short":
                return (
                    f"{c['key']} was changed from {c['old']} to {c['new']} on {service}: {effect}."
                )
            return f"A configuration change on {service}: {effect}."
        if mode == "id":
            ref = (
                f"Deploy {c['deploy']} ({c['version']}) of {service}",
                f"Commit {c['sha']}",
                f"Build {c['build']}",
            )[int(rng.integers(0, 3))]
            return f"{ref} introduced {words} in {where}."
        if mode == "short":
            return f"Commit {c['sha'][:8]} ({c['message']}) introduced {words} in {where}."
        return f"The release that day introduced {words} in {where}."

    def _herring(self, inc: _Incident) -> dict[str, Any] | None:
        """An innocent commit of the affected component in the 3 days before impact."""
        c = self.commits
        comp = inc.comp
        ok = (
            (c["comp"] == comp)
            & (c["t"] < inc.t_impact)
            & (c["t"] > inc.t_impact - 3 * _DAY)
            & ((c["role"] == 0) | (c["role"] == 3))
        )
        rows = np.flatnonzero(ok)
        if not len(rows):
            return None
        i = int(rows[-1])
        return {"sha": c["sha"][i], "message": self.commit_msg[i], "comp": comp, "row": i}

    def _truth(self, ids: Objs, inv_ids: Objs, rank: Ints) -> pd.DataFrame:
        if not self.truth:
            empty = pd.array([], dtype="str")
            return pd.DataFrame(
                {"event_id": empty, "investigation_id": empty, "role": empty, "detail": empty}
            )
        row = np.asarray([t[0] for t in self.truth], np.int64)
        inv = np.asarray([t[1] for t in self.truth], np.int64)
        role = np.asarray([t[2] for t in self.truth], object)
        detail = np.asarray([t[3] for t in self.truth], object)
        order = np.lexsort((rank[row], role != "cause", inv))
        return pd.DataFrame(
            {
                "event_id": pd.array(ids[row[order]], dtype="str"),
                "investigation_id": pd.array(inv_ids[inv[order]], dtype="str"),
                "role": pd.array(role[order], dtype="str"),
                "detail": pd.array(detail[order], dtype="str"),
            }
        )

    def _incident_frame(self, incidents: list[_Incident], inv_ids: Objs) -> pd.DataFrame:
        top = self.top

        def name(names: list[str], i: int) -> str | None:
            return names[i] if i >= 0 else None

        c = self.commits
        return pd.DataFrame(
            {
                "investigation_id": pd.array(inv_ids, dtype="str"),
                "kind": pd.array([i.kind for i in incidents], dtype="str"),
                "story": pd.array([i.story.key for i in incidents], dtype="str"),
                "service": pd.array([top.services[i.svc] for i in incidents], dtype="str"),
                "component": pd.array([top.components[i.comp] for i in incidents], dtype="str"),
                "cause_type": pd.array([i.cause_type for i in incidents], dtype="str"),
                "cause_service": pd.array(
                    [name(top.services, i.cause_svc) for i in incidents], dtype="str"
                ),
                "cause_component": pd.array(
                    [name(top.components, i.cause_comp) for i in incidents], dtype="str"
                ),
                "impact_at": self._times([i.t_impact for i in incidents]),
                "root_cause_mode": pd.array(
                    [i.mode if i.status in ("resolved", "closed") else None for i in incidents],
                    dtype="str",
                ),
                "herring_sha": pd.array(
                    [c["sha"][i.herring["row"]] if i.herring else None for i in incidents],
                    dtype="str",
                ),
            }
        )

    def _noise_frame(self, ids: Objs, inv_ids: Objs) -> pd.DataFrame:
        rows = self.noise
        return pd.DataFrame(
            {
                "kind": pd.array([r["kind"] for r in rows], dtype="str"),
                "start": self._times([r["start"] for r in rows]),
                "end": self._times([r["end"] for r in rows]),
                "services": pd.array([r["services"] for r in rows], dtype="str"),
                "events": np.asarray([r["events"] for r in rows], np.int64),
                "investigation_id": pd.array(
                    [inv_ids[r["inv"]] if "inv" in r else None for r in rows], dtype="str"
                ),
                "event_id": pd.array(
                    [ids[r["row"]] if "row" in r else None for r in rows], dtype="str"
                ),
            }
        )
