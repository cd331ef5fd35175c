"""What a synthetic history contains: :class:`HistorySettings`.

Also the kinds of incident, the default start, and the calendar of human work (weekdays
and weekends).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._tools import DAY, HOUR, Floats, Ints
from ._vocabulary import SUFFIXES

#: Default start of a history: a Monday, midnight UTC.
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
#: Kinds of incident: a bad deploy (with the commit it shipped), a bad config change,
#: a change in an upstream dependency, or no change at all (capacity, third party).
KINDS = ("deploy", "config", "upstream", "no_change")

#: Human changes happen on weekends too, this much less often than on weekdays.
_WEEKEND = 0.15


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
        if not 1 <= lo <= hi <= len(SUFFIXES):
            problems.append(f"components_per_service must be within 1..{len(SUFFIXES)}")
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
        work = work_days(self)
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
            + self.alert_storms_per_week * weeks * STORM_MEAN
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
#: Median size of an unrelated error flood, and the mean size of an alert storm.
FLOOD_MEDIAN = 120.0
_FLOOD_MEAN = FLOOD_MEDIAN * math.exp(0.7**2 / 2)
STORM_MEAN = 35.0


def day_weights(s: HistorySettings) -> Floats:
    """Weight of each day of the history for human work: 1 on weekdays, less on weekends."""
    weekday = (s.start.astimezone(dt.UTC).weekday() + np.arange(s.days)) % 7
    return np.where(weekday < 5, 1.0, _WEEKEND)


def work_days(s: HistorySettings) -> float:
    """The number of days of the history, weekends counting for less."""
    return float(day_weights(s).sum())


def work_times(
    rng: np.random.Generator, s: HistorySettings, n: int, first_day: int = 0, last_day: int = -1
) -> Ints:
    """``n`` times of human work: weekdays, mostly office hours (UTC), in the day range."""
    weights = day_weights(s)
    last = s.days if last_day < 0 else last_day
    weights = weights[first_day:last]
    day = first_day + rng.choice(len(weights), n, p=weights / weights.sum())
    office = rng.random(n) < 0.9
    hour = np.where(office, np.clip(rng.normal(13.5, 2.6, n), 6.0, 21.0), rng.uniform(0, 24, n))
    return np.asarray(day * DAY + (hour * HOUR).astype(np.int64), np.int64)
