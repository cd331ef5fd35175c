"""The GitHub reader's mapping of each webhook event type to records.

Workflow runs and jobs, check runs, pushes, releases, deployments, deployment statuses
and incident issues; :class:`EventMapper` holds the reader's options and one handler
per event.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._reasons import Reason
from ._base import (
    Context,
    Parsed,
    Refused,
    Rule,
    apply_rule,
    one_line,
    revision,
    stable_id,
    summary_line,
    zero_as_missing,
)
from ._github_common import (
    CONCLUSION_SEVERITY,
    IMPACT_ORDER,
    MAX_DESCRIPTION,
    MESSAGE_LIMIT,
    NAME_LIMIT,
    PRIORITY_ORDER,
    RELEASE_ACTIONS,
    STATE_SEVERITY,
    Body,
    as_flag,
    as_number,
    compact,
    dig,
    impact_of,
    login_of,
    need,
    need_ident,
    need_object,
    need_time,
    priority_of,
    pull_request_numbers,
    seconds_between,
    short_text,
    to_time,
)


@dataclass
class _Issue:
    updated: dt.datetime
    order: int
    parsed: Parsed


class EventMapper:
    """The reader's options and what it makes of each supported webhook event."""

    def __init__(
        self,
        ctx: Context,
        *,
        event: str | None,
        service: Rule | None,
        component: Rule | None,
        severity: Rule | None,
        incident_labels: tuple[str, ...],
        impact: Rule | None,
        priority: Rule | None,
    ) -> None:
        self.ctx = ctx
        self.event = event
        self.service_rule = service
        self.component_rule = component
        self.severity_rule = severity
        self.incident_labels = incident_labels
        self.impact_rule = impact
        self.priority_rule = priority
        self.issues: dict[tuple[str, str], _Issue] = {}
        self.order = 0
        self.handlers: dict[str, Callable[[Body, str], Parsed | None]] = {
            "workflow_run": self._workflow_run,
            "workflow_job": self._workflow_job,
            "check_run": self._check_run,
            "push": self._push,
            "deployment": self._deployment,
            "deployment_status": self._deployment_status,
            "release": self._release,
            "issues": self._issue,
        }

    # --- shared ---------------------------------------------------------------------------

    def _repo(self, body: Body) -> tuple[str, str]:
        full = short_text(need(body, ("repository", "full_name"), str), 1000)
        if full is None:
            raise Refused(
                Reason.EMPTY,
                "empty",
                where=body.at("repository", "full_name"),
                field="repository.full_name",
            )
        name = short_text(dig(body.data, "repository", "name")) or full.rsplit("/", 1)[-1]
        return full, name

    def _service(self, full: str, name: str) -> str:
        return apply_rule(self.service_rule, full) or name

    def _component(self, subject: str | None) -> str | None:
        if isinstance(self.component_rule, str):
            return self.component_rule  # one component for everything
        return apply_rule(self.component_rule, subject) if subject is not None else None

    def _severity(self, value: str | None, defaults: Mapping[str, str], what: str) -> str:
        if value is not None:
            chosen = apply_rule(self.severity_rule, value)
            if chosen is not None:
                return chosen
            if value in defaults:
                return defaults[value]
        self.ctx.note(f"unknown_{what}")
        return "low"

    def _event(
        self,
        body: Body,
        name: str,
        *,
        timestamp: dt.datetime,
        source: str,
        event_type: str,
        severity: str,
        source_id: str,
        repo: tuple[str, str],
        subject: str | None,
        data: dict[str, Any],
    ) -> Parsed:
        action = short_text(body.data.get("action"))
        metadata = compact({"github_event": name, "action": action, "delivery": body.delivery})
        record = {
            "timestamp": timestamp,
            "source": source,
            "event_type": event_type,
            "severity": severity,
            "component": self._component(subject),
            "service": self._service(*repo),
            "source_id": source_id,
            "summary": summary_line(summary_of(event_type, repo[0], data)),
            "data": compact({"repo": repo[0], **data}),
            "metadata": metadata,
        }
        return Parsed("event", record, body.where)

    def _completed(self, body: Body, obj: dict[str, Any]) -> bool:
        """A CI delivery is final when its action (or, without one, status) says so."""
        action = body.data.get("action")
        if isinstance(action, str):
            return action == "completed"
        return obj.get("status") == "completed"

    # --- CI ---------------------------------------------------------------------------------

    def _workflow_run(self, body: Body, name: str) -> Parsed | None:
        run = need_object(body, "workflow_run")
        run_id = need_ident(body, "workflow_run", "id")
        repo = self._repo(body)
        if not self._completed(body, run):
            self.ctx.skip("not_completed")
            return None
        attempt = run.get("run_attempt")
        if isinstance(attempt, bool) or not isinstance(attempt, int):
            attempt = 1
            self.ctx.note("run_attempt_assumed_1")
        ended = need_time(body, self.ctx, "workflow_run", "updated_at")
        conclusion = short_text(run.get("conclusion"))
        workflow = short_text(run.get("name")) or short_text(dig(body.data, "workflow", "name"))
        started = to_time(run.get("run_started_at"), self.ctx) or to_time(
            run.get("created_at"), self.ctx
        )
        prs = run.get("pull_requests")
        data = {
            "workflow": workflow,
            "workflow_path": short_text(run.get("path")),
            "run_id": as_number(run_id),
            "run_number": run.get("run_number") if isinstance(run.get("run_number"), int) else None,
            "run_attempt": attempt,
            "conclusion": conclusion,
            "trigger": short_text(run.get("event")),
            "head_branch": short_text(run.get("head_branch")),
            "head_sha": short_text(run.get("head_sha")),
            "title": short_text(run.get("display_title"), MESSAGE_LIMIT),
            "actor": login_of(run.get("triggering_actor")) or login_of(run.get("actor")),
            "html_url": short_text(run.get("html_url"), 1000),
            "duration_s": seconds_between(started, ended),
            "pull_requests": pull_request_numbers(prs),
        }
        return self._event(
            body,
            name,
            timestamp=ended,
            source="ci",
            event_type="build",
            severity=self._severity(conclusion, CONCLUSION_SEVERITY, "conclusion"),
            source_id=f"workflow_run:{run_id}:{attempt}",
            repo=repo,
            subject=f"workflow:{workflow}" if workflow else None,
            data=data,
        )

    def _workflow_job(self, body: Body, name: str) -> Parsed | None:
        job = need_object(body, "workflow_job")
        job_id = need_ident(body, "workflow_job", "id")
        repo = self._repo(body)
        if not self._completed(body, job):
            self.ctx.skip("not_completed")
            return None
        ended = need_time(body, self.ctx, "workflow_job", "completed_at")
        conclusion = short_text(job.get("conclusion"))
        workflow = short_text(job.get("workflow_name"))
        job_name = short_text(job.get("name"))
        raw_steps = job.get("steps")
        steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
        failed = [
            short_text(s.get("name")) or f"#{s.get('number')}"
            for s in steps
            if isinstance(s, dict) and s.get("conclusion") in ("failure", "timed_out")
        ]
        labels = job.get("labels")
        data = {
            "workflow": workflow,
            "job": job_name,
            "job_id": as_number(job_id),
            "run_id": job.get("run_id") if isinstance(job.get("run_id"), int) else None,
            "run_attempt": job.get("run_attempt")
            if isinstance(job.get("run_attempt"), int)
            else None,
            "conclusion": conclusion,
            "head_branch": short_text(job.get("head_branch")),
            "head_sha": short_text(job.get("head_sha")),
            "html_url": short_text(job.get("html_url"), 1000),
            "duration_s": seconds_between(to_time(job.get("started_at"), self.ctx), ended),
            "runner": short_text(job.get("runner_name")),
            "runner_labels": [x for x in labels if isinstance(x, str)][:20]
            if isinstance(labels, list)
            else None,
            "steps": len(steps),
            "failed_steps": failed[:50],
        }
        subject = f"job:{workflow or ''}/{job_name or ''}" if workflow or job_name else None
        return self._event(
            body,
            name,
            timestamp=ended,
            source="ci",
            event_type="job",
            severity=self._severity(conclusion, CONCLUSION_SEVERITY, "conclusion"),
            source_id=f"workflow_job:{job_id}",
            repo=repo,
            subject=subject,
            data=data,
        )

    def _check_run(self, body: Body, name: str) -> Parsed | None:
        check = need_object(body, "check_run")
        check_id = need_ident(body, "check_run", "id")
        repo = self._repo(body)
        if not self._completed(body, check):
            self.ctx.skip("not_completed")
            return None
        ended = need_time(body, self.ctx, "check_run", "completed_at")
        conclusion = short_text(check.get("conclusion"))
        check_name = short_text(check.get("name"))
        prs = check.get("pull_requests")
        data = {
            "check": check_name,
            "check_id": as_number(check_id),
            "app": short_text(dig(check, "app", "slug")) or short_text(dig(check, "app", "name")),
            "conclusion": conclusion,
            "head_branch": short_text(dig(check, "check_suite", "head_branch")),
            "head_sha": short_text(check.get("head_sha")),
            "output_title": short_text(dig(check, "output", "title"), MESSAGE_LIMIT),
            "html_url": short_text(check.get("html_url"), 1000),
            "details_url": short_text(check.get("details_url"), 1000),
            "duration_s": seconds_between(to_time(check.get("started_at"), self.ctx), ended),
            "pull_requests": pull_request_numbers(prs),
        }
        return self._event(
            body,
            name,
            timestamp=ended,
            source="ci",
            event_type="check",
            severity=self._severity(conclusion, CONCLUSION_SEVERITY, "conclusion"),
            source_id=f"check_run:{check_id}",
            repo=repo,
            subject=f"check:{check_name}" if check_name else None,
            data=data,
        )

    # --- git ----------------------------------------------------------------------------

    def _push(self, body: Body, name: str) -> Parsed:
        ref = need(body, ("ref",), str)
        before = need(body, ("before",), str)
        after = need(body, ("after",), str)
        repo = self._repo(body)
        head = body.data.get("head_commit")
        pushed = zero_as_missing(body.data["repository"].get("pushed_at"), self.ctx, unix=True)
        if pushed is not None:
            when = need_time(body, self.ctx, "repository", "pushed_at")
        elif isinstance(head, dict) and head.get("timestamp") is not None:
            when = need_time(body, self.ctx, "head_commit", "timestamp")
            self.ctx.note("push_time_from_head_commit")
        else:
            raise Refused(
                Reason.MISSING,
                "no push time (repository.pushed_at or head_commit.timestamp)",
                where=body.at("repository", "pushed_at"),
                field="repository.pushed_at",
            )
        commits = body.data.get("commits")
        message = dig(head, "message")
        data = {
            "ref": short_text(ref, 1000),
            "before": short_text(before),
            "after": short_text(after),
            "created": as_flag(body.data.get("created")),
            "deleted": as_flag(body.data.get("deleted")),
            "forced": as_flag(body.data.get("forced")),
            "base_ref": short_text(body.data.get("base_ref"), 1000),
            "pusher": login_of(body.data.get("pusher")) or login_of(body.data.get("sender")),
            "commits": len(commits) if isinstance(commits, list) else None,
            "head_commit": short_text(dig(head, "id")),
            "message": one_line(message.split("\n", 1)[0], MESSAGE_LIMIT)
            if isinstance(message, str) and message.strip()
            else None,
            "compare_url": short_text(body.data.get("compare"), 1000),
        }
        return self._event(
            body,
            name,
            timestamp=when,
            source="git",
            event_type="push",
            severity="info",
            source_id=f"push:{repo[0]}:{ref}:{before}:{after}",
            repo=repo,
            subject=f"ref:{ref}",
            data=data,
        )

    def _release(self, body: Body, name: str) -> Parsed | None:
        release = need_object(body, "release")
        release_id = need_ident(body, "release", "id")
        repo = self._repo(body)
        action = body.data.get("action")
        if isinstance(action, str) and action not in RELEASE_ACTIONS:
            self.ctx.skip(f"release_action:{action}")
            return None
        if release.get("draft") is True:
            self.ctx.skip("draft_release")
            return None
        published = zero_as_missing(release.get("published_at"), self.ctx)
        field = "published_at" if published is not None else "created_at"
        when = need_time(body, self.ctx, "release", field)
        tag = short_text(release.get("tag_name"))
        data = {
            "release_id": as_number(release_id),
            "tag": tag,
            "name": short_text(release.get("name")),
            "target": short_text(release.get("target_commitish")),
            "draft": as_flag(release.get("draft")),
            "prerelease": as_flag(release.get("prerelease")),
            "author": login_of(release.get("author")),
            "html_url": short_text(release.get("html_url"), 1000),
        }
        return self._event(
            body,
            name,
            timestamp=when,
            source="git",
            event_type="release",
            severity="info",
            source_id=f"release:{repo[0]}:{release_id}",
            repo=repo,
            subject=f"tag:{tag}" if tag else None,
            data=data,
        )

    # --- deployments ----------------------------------------------------------------------

    def _deployment_data(self, deployment: dict[str, Any]) -> dict[str, Any]:
        return {
            "environment": short_text(deployment.get("environment")),
            "sha": short_text(deployment.get("sha")),
            "ref": short_text(deployment.get("ref"), 1000),
            "task": short_text(deployment.get("task")),
            "production": as_flag(deployment.get("production_environment")),
            "transient": as_flag(deployment.get("transient_environment")),
            "creator": login_of(deployment.get("creator")),
        }

    def _deployment(self, body: Body, name: str) -> Parsed:
        deployment = need_object(body, "deployment")
        deployment_id = need_ident(body, "deployment", "id")
        repo = self._repo(body)
        when = need_time(body, self.ctx, "deployment", "created_at")
        data = {
            "state": "created",
            "deployment_id": as_number(deployment_id),
            **self._deployment_data(deployment),
            "description": short_text(deployment.get("description"), MESSAGE_LIMIT),
            "workflow_run_id": dig(body.data, "workflow_run", "id"),
        }
        environment = data["environment"]
        return self._event(
            body,
            name,
            timestamp=when,
            source="ci",
            event_type="deploy",
            severity=self._severity("created", STATE_SEVERITY, "state"),
            source_id=f"deployment:{deployment_id}",
            repo=repo,
            subject=f"environment:{environment}" if environment else None,
            data=data,
        )

    def _deployment_status(self, body: Body, name: str) -> Parsed:
        status = need_object(body, "deployment_status")
        status_id = need_ident(body, "deployment_status", "id")
        state = short_text(need(body, ("deployment_status", "state"), str))
        repo = self._repo(body)
        when = need_time(body, self.ctx, "deployment_status", "created_at")
        deployment = body.data.get("deployment")
        deployment = deployment if isinstance(deployment, dict) else {}
        data = {
            "state": state,
            "deployment_id": deployment.get("id")
            if isinstance(deployment.get("id"), int)
            else None,
            "status_id": as_number(status_id),
            **self._deployment_data(deployment),
            "description": short_text(status.get("description"), MESSAGE_LIMIT),
            "target_url": short_text(status.get("target_url"), 1000),
            "environment_url": short_text(status.get("environment_url"), 1000),
            "log_url": short_text(status.get("log_url"), 1000),
            "creator": login_of(status.get("creator")) or login_of(deployment.get("creator")),
        }
        data["environment"] = short_text(status.get("environment")) or data["environment"]
        environment = data["environment"]
        return self._event(
            body,
            name,
            timestamp=when,
            source="ci",
            event_type="deploy",
            severity=self._severity(state, STATE_SEVERITY, "state"),
            source_id=f"deployment_status:{status_id}",
            repo=repo,
            subject=f"environment:{environment}" if environment else None,
            data=data,
        )

    # --- incidents --------------------------------------------------------------------------

    def _issue(self, body: Body, name: str) -> None:
        issue = need_object(body, "issue")
        number = need_ident(body, "issue", "number")
        repo = self._repo(body)
        if body.data.get("action") == "deleted":
            self.ctx.skip("issue_deleted")
            return None
        title = need(body, ("issue", "title"), str)
        created = need_time(body, self.ctx, "issue", "created_at")
        updated = to_time(issue.get("updated_at"), self.ctx) or created
        raw_labels = issue.get("labels")
        labels = [
            label
            for item in (raw_labels if isinstance(raw_labels, list) else [])
            if (label := short_text(item.get("name") if isinstance(item, dict) else item))
        ]
        if not any(
            fnmatch.fnmatchcase(label.lower(), pattern)
            for label in labels
            for pattern in self.incident_labels
        ):
            self.ctx.skip("not_incident")
            return None
        closed = issue.get("state") == "closed"
        reason = issue.get("state_reason")
        status = "closed" if closed and reason in ("not_planned", "duplicate") else "open"
        status = "resolved" if closed and status == "open" else status
        resolved_at = to_time(issue.get("closed_at"), self.ctx) if closed else None
        description = issue.get("body") if isinstance(issue.get("body"), str) else None
        if description is not None and len(description) > MAX_DESCRIPTION:
            description = description[:MAX_DESCRIPTION]
            self.ctx.note("description_truncated")
        assignees = issue.get("assignees")
        assignee = login_of(issue.get("assignee")) or next(
            (
                login
                for a in (assignees if isinstance(assignees, list) else [])
                if (login := login_of(a))
            ),
            None,
        )
        record: dict[str, Any] = {
            "id": stable_id("github", repo[0], number),
            "title": one_line(title, NAME_LIMIT) or f"{repo[0]}#{number}",
            "description": description or None,
            "status": status,
            "detected_at": created,
            "resolved_at": resolved_at,
            "created_at": created,
            "service_affected": self._service(*repo),
            "component_affected": next(
                (c for label in labels if (c := self._component(f"label:{label}"))), None
            ),
            "tags": labels,
            "created_by": login_of(issue.get("user")),
            "assigned_to": assignee,
            "revision": revision(updated),
        }
        impact = self._from_labels(labels, self.impact_rule, impact_of, IMPACT_ORDER)
        if impact is not None:
            record["impact_severity"] = impact
        urgency = self._from_labels(labels, self.priority_rule, priority_of, PRIORITY_ORDER)
        if urgency is not None:
            record["priority"] = urgency
        key = (repo[0].lower(), number)
        self.order += 1
        candidate = _Issue(updated, self.order, Parsed("investigation", record, body.where))
        held = self.issues.get(key)
        if held is None:
            self.issues[key] = candidate
        else:
            self.ctx.skip("superseded")
            if (candidate.updated, candidate.order) > (held.updated, held.order):
                self.issues[key] = candidate
        return None

    @staticmethod
    def _from_labels(
        labels: list[str],
        rule: Rule | None,
        default: Callable[[str], str | None],
        order: tuple[str, ...],
    ) -> str | None:
        found = [v for label in labels if (v := apply_rule(rule, label) or default(label))]
        if not found:
            return None
        folded = [v.strip().lower() for v in order]
        return min(
            found,
            key=lambda v: (
                folded.index(v.strip().lower()) if v.strip().lower() in folded else len(folded)
            ),
        )

    def investigations(self) -> Iterator[Parsed]:
        for held in self.issues.values():
            yield held.parsed


def summary_of(event_type: str, repo: str, data: Mapping[str, Any]) -> str:
    """What a delivery says, in one line for a person.

    >>> summary_of("deploy", "octo/shop", {"sha": "f95f852bd8fc", "environment": "production",
    ...                                    "state": "success", "ref": "main"})
    'Deploy octo/shop f95f852 (main) to production: success'
    """

    def get(key: str) -> str:
        value = data.get(key)
        return "" if value is None else str(value)

    def joined(*parts: str) -> str:
        return " ".join(p for p in parts if p)

    then = f": {get('conclusion')}" if get("conclusion") else ""
    if event_type == "build":
        number = f"#{get('run_number')}" if get("run_number") else ""
        title = f" ({get('title')})" if get("title") else ""
        return joined(get("workflow") or "workflow", number) + then + title
    if event_type == "job":
        failed = data.get("failed_steps") or []
        steps = f", failed step {failed[0]}" if failed else ""
        return joined(get("workflow"), "/" if get("workflow") else "", get("job")) + then + steps
    if event_type == "check":
        title = f" ({get('output_title')})" if get("output_title") else ""
        return (get("check") or "check") + then + title
    if event_type == "push":
        ref = get("ref").removeprefix("refs/heads/").removeprefix("refs/tags/")
        by = f"by {get('pusher')}" if get("pusher") else ""
        if data.get("deleted"):
            return joined("Delete", ref, by)
        count = data.get("commits")
        what = f"{count} commit{'s' if count != 1 else ''}" if isinstance(count, int) else ""
        head = f": {get('message')}" if get("message") and count else ""
        return joined("Push", what, "to" if ref else "", ref, by) + head
    if event_type == "release":
        name = f": {get('name')}" if get("name") and get("name") != get("tag") else ""
        return f"Release {get('tag') or get('name')} of {repo}{name}"
    if event_type == "deploy":
        ref = f"({get('ref')})" if get("ref") else ""
        state = f": {get('state')}" if get("state") else ""
        where = f"to {get('environment')}" if get("environment") else ""
        return joined("Deploy", repo, get("sha")[:7], ref, where) + state
    return joined(event_type, repo)
