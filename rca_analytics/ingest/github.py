"""GitHub webhook bodies: CI runs, jobs and checks, pushes, deployments, releases, incidents.

Each ``.json`` (or ``.json.gz``) file holds one webhook body, a delivery envelope
(``{"headers": {"X-GitHub-Event": ...}, "payload": {...}}``) or a JSON list of either.
The event name comes from the ``event`` option, else the envelope's ``X-GitHub-Event``,
else the folder holding the file (``push/``, ``workflow_run/`` ...), else the body's
shape. Completed workflow runs, jobs and check runs become ``ci`` events whose
severity follows their conclusion; pushes and releases become ``git`` events;
deployments and deployment statuses ``ci`` ``deploy`` events; issues carrying an
incident label become investigations. Source ids come from GitHub's own ids, so
redeliveries and overlapping exports collapse into one record. The mapping is in
``docs/readers/github.md``.

>>> import json, pathlib, tempfile
>>> import rca_analytics as rca
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "workflow_run"
>>> folder.mkdir()
>>> body = {"action": "completed", "repository": {"full_name": "acme/shop", "name": "shop"},
...         "workflow_run": {"id": 42, "run_attempt": 1, "name": "CI", "status": "completed",
...                          "conclusion": "failure", "run_started_at": "2026-03-01T09:00:00Z",
...                          "updated_at": "2026-03-01T09:04:30Z", "head_branch": "main"}}
>>> _ = (folder / "delivery.json").write_text(json.dumps(body))
>>> ev = rca.read("github", folder.parent).events.iloc[0]
>>> ev.source, ev.event_type, ev.severity, ev.source_id, ev.service, ev.data["duration_s"]
('ci', 'build', 'high', 'workflow_run:42:1', 'shop', 270)
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic_core import PydanticCustomError

from .._reasons import Reason
from .._validate import to_utc
from ._base import (
    Context,
    Parsed,
    Refused,
    Rule,
    apply_rule,
    check_rule,
    expand,
    json_document,
    one_line,
    pointer,
    revision,
    stable_id,
    where,
)

__all__ = ["ON_DUPLICATE", "SUPPORTED_EVENTS", "read"]

#: A later delivery of an issue (closed, relabelled) overwrites the investigation made
#: of an earlier one; events are facts and the first stored wins.
ON_DUPLICATE: dict[str, Literal["skip", "update"]] = {"investigation": "update"}

#: The webhook events this reader turns into records.
SUPPORTED_EVENTS = (
    "workflow_run",
    "workflow_job",
    "check_run",
    "push",
    "deployment",
    "deployment_status",
    "release",
    "issues",
)

#: Other GitHub webhook event names: a folder so named is read as that (unsupported) event.
_OTHER_EVENTS = frozenset(
    """branch_protection_configuration branch_protection_rule check_suite code_scanning_alert
    commit_comment create custom_property custom_property_values delete dependabot_alert
    deploy_key deployment_protection_rule deployment_review discussion discussion_comment
    fork github_app_authorization gollum installation installation_repositories
    installation_target issue_comment label marketplace_purchase member membership
    merge_group meta milestone org_block organization package page_build
    personal_access_token_request ping project project_card project_column projects_v2
    projects_v2_item public pull_request pull_request_review pull_request_review_comment
    pull_request_review_thread registry_package repository repository_advisory
    repository_dispatch repository_import repository_ruleset
    repository_vulnerability_alert secret_scanning_alert secret_scanning_alert_location
    security_advisory security_and_analysis sponsorship star status sub_issues team
    team_add watch workflow_dispatch""".split()  # noqa: SIM905
)

_CONCLUSION_SEVERITY = {
    "failure": "high",
    "timed_out": "high",
    "startup_failure": "high",
    "cancelled": "low",
    "action_required": "low",
    "stale": "low",
    "success": "info",
    "neutral": "info",
    "skipped": "info",
}
_STATE_SEVERITY = {
    "failure": "high",
    "error": "high",
    "inactive": "low",
    "success": "info",
    "created": "info",
    "pending": "info",
    "queued": "info",
    "in_progress": "info",
    "waiting": "info",
}
_RELEASE_ACTIONS = frozenset({"published", "released", "prereleased", "created"})
_IMPACT_ORDER = ("critical", "high", "medium", "low")
_PRIORITY_ORDER = ("P0", "P1", "P2", "P3")
_SEV_LABEL = re.compile(
    r"(?:sev|severity)[\s:/_=.-]*([0-9]|critical|crit|major|high|medium|moderate|minor|low)",
    re.ASCII,
)
_PRIORITY_LABEL = re.compile(
    r"(?:p|priority)[\s:/_=.-]*([0-9]|critical|urgent|high|medium|normal|low)", re.ASCII
)
_IMPACT_WORDS = {
    "0": "critical",
    "1": "critical",
    "2": "high",
    "3": "medium",
    "critical": "critical",
    "crit": "critical",
    "major": "high",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "minor": "low",
    "low": "low",
}
_PRIORITY_WORDS = {
    "0": "P0",
    "1": "P1",
    "2": "P2",
    "3": "P3",
    "critical": "P0",
    "urgent": "P0",
    "high": "P1",
    "medium": "P2",
    "normal": "P2",
    "low": "P3",
}
#: Longest issue body kept as the description (GitHub's own limit).
MAX_DESCRIPTION = 65_536
#: Longest name-like value (workflow, job, ref, title ...) kept, in characters.
_NAME_LIMIT = 300
#: Longest commit message or check output title kept, in characters.
_MESSAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class _Body:
    """One webhook body and where it sits in its file."""

    path: Path
    base: tuple[str | int, ...]
    #: The body was JSON text inside the file: pointers stop at that text.
    opaque: bool
    data: dict[str, Any]
    delivery: str | None

    def at(self, *parts: str | int) -> str:
        """JSON pointer of a value of the body."""
        if self.opaque:
            return pointer(self.path, *self.base)
        return pointer(self.path, *self.base, *parts)

    @property
    def where(self) -> str:
        return pointer(self.path, *self.base) if self.base else where(self.path)


# --- reading values ----------------------------------------------------------------------


def _field(parts: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in parts)


_TYPE_NAMES = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}


def _type_name(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _TYPE_NAMES.get(type(value), "null")


def _need(body: _Body, parts: Sequence[str | int], kind: type | tuple[type, ...]) -> Any:
    """The value at ``parts`` of the body, of type ``kind``; else :class:`Refused`."""
    value: Any = body.data
    for i, key in enumerate(parts):
        if not isinstance(value, dict):
            raise Refused(
                Reason.INVALID_TYPE,
                f"{_field(parts[:i])} is {_type_name(value)}, expected an object",
                where=body.at(*parts[:i]),
                field=_field(parts[:i]),
                value=value,
            )
        value = value.get(key) if isinstance(key, str) else None
        if value is None:
            raise Refused(
                Reason.MISSING,
                "missing",
                where=body.at(*parts[: i + 1]),
                field=_field(parts[: i + 1]),
            )
    wanted = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in wanted) or not isinstance(value, wanted):
        expected = " or ".join(dict.fromkeys(_TYPE_NAMES.get(t, "a number") for t in wanted))
        raise Refused(
            Reason.INVALID_TYPE,
            f"{_field(parts)} is {_type_name(value)}, expected {expected}",
            where=body.at(*parts),
            field=_field(parts),
            value=value,
        )
    return value


def _object(body: _Body, *parts: str) -> dict[str, Any]:
    value: dict[str, Any] = _need(body, parts, dict)
    return value


def _ident(body: _Body, *parts: str) -> str:
    """A GitHub id (a number, or its text)."""
    value = _need(body, parts, (int, str))
    text = str(value).strip()
    if not text:
        raise Refused(Reason.EMPTY, "empty", where=body.at(*parts), field=_field(parts))
    return text


def _time(body: _Body, ctx: Context, *parts: str) -> dt.datetime:
    """A required time: ISO 8601 text (``Z`` or offset) or epoch seconds."""
    value = _need(body, parts, (str, int, float))
    moment = _to_time(value, ctx)
    if moment is None:
        raise Refused(
            Reason.INVALID_DATETIME,
            f"{str(value)[:60]!r} is not a time",
            where=body.at(*parts),
            field=_field(parts),
            value=value,
        )
    return moment


def _to_time(value: Any, ctx: Context | None = None) -> dt.datetime | None:
    """``value`` as an aware time, or None; offset-less text is taken as UTC (noted)."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return to_utc(value)
    except PydanticCustomError as err:
        if err.type != Reason.NAIVE_DATETIME or not isinstance(value, str):
            return None
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:  # pragma: no cover - to_utc parsed it already
        return None
    if ctx is not None:
        ctx.note("naive_time_as_utc")
    return naive.replace(tzinfo=dt.UTC)


def _pull_request_numbers(prs: Any) -> list[int] | None:
    """The numbers of a run's or check's pull requests, or None when it names none."""
    if not isinstance(prs, list) or not prs:
        return None
    return [p["number"] for p in prs if isinstance(_dig(p, "number"), int)]


def _dig(value: Any, *keys: str) -> Any:
    """The value at ``keys`` of nested objects, or None when any step is absent."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any, limit: int = _NAME_LIMIT) -> str | None:
    """A short one-line text of a name-like value (None when absent or not text)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    flat = one_line(str(value), limit)
    return flat or None


def _number(text: str) -> int | str:
    """An id as a number in ``data`` when it is one (GitHub's ids are)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else text


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _login(value: Any) -> str | None:
    return _text(_dig(value, "login")) or _text(_dig(value, "name"))


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | float | None:
    if start is None or end is None or end < start:
        return None
    seconds = (end - start).total_seconds()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _header(headers: Any, name: str) -> str | None:
    """A header's value from a dict (any case; value text or a list of text)."""
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.strip().lower() == name:
            if isinstance(value, list) and value:
                value = value[0]
            return value.strip() if isinstance(value, str) and value.strip() else None
    return None


def _inferred(data: Mapping[str, Any]) -> str | None:
    """The event a body is, from its keys (when nothing else names it)."""
    keys = data.keys()
    if "zen" in keys and "hook" in keys:
        return "ping"
    for key in ("deployment_status", "deployment", "workflow_job", "check_run", "check_suite"):
        if key in keys:
            return key
    if "workflow_run" in keys:
        return "workflow_run"
    if "release" in keys:
        return "release"
    if "comment" in keys:
        if "issue" in keys:
            return "issue_comment"
        return "pull_request_review_comment" if "pull_request" in keys else "commit_comment"
    if "review" in keys and "pull_request" in keys:
        return "pull_request_review"
    if "pull_request" in keys:
        return "pull_request"
    if "issue" in keys:
        return "issues"
    if "pusher" in keys or {"ref", "before", "after", "commits"} <= keys:
        return "push"
    return None


def _folder_event(path: Path) -> str | None:
    name = path.parent.name.strip().lower()
    return name if name in SUPPORTED_EVENTS or name in _OTHER_EVENTS else None


def _as_patterns(value: str | Sequence[str]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value)
    return tuple(p.strip().lower() for p in items if isinstance(p, str) and p.strip())


# --- the reader --------------------------------------------------------------------------


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    event: str | None = None,
    service: Rule | None = None,
    component: Rule | None = None,
    severity: Rule | None = None,
    incident_labels: str | Sequence[str] = ("incident", "incident:*", "incident/*"),
    impact: Rule | None = None,
    priority: Rule | None = None,
) -> Iterator[Parsed]:
    """Read GitHub webhook bodies into ``ci``/``git`` events and incident investigations.

    Args:
        paths: ``.json`` / ``.json.gz`` files, or folders (walked recursively).
        ctx: Where rejects, skips, notes and progress go.
        event: The webhook event of every body (``X-GitHub-Event``), overriding
            envelopes, folder names and the bodies' shapes.
        service: The service of every record (a name), or a rule (dict of exact names
            or globs, or a callable) from the repository's full name (``acme/shop``) to
            the service; the repository's name (``shop``) when absent or nothing matches.
        component: The component of every record (a name), or a rule from a record's
            subject to its component: ``workflow:<name>``, ``job:<workflow>/<job>``,
            ``check:<name>``, ``environment:<name>``, ``ref:<ref>``, ``tag:<tag>``, and
            for issues ``label:<name>`` of each label (the first that maps wins). No
            component when absent or nothing matches.
        severity: Rule from a CI conclusion (``failure``, ``cancelled`` ...) or a
            deployment state (``error``, ``inactive`` ...) to an event severity, before
            the defaults.
        incident_labels: Issue labels (case-insensitive globs) that make an issue an
            incident.
        impact: Rule from an issue label to an impact severity, before the defaults
            (``sev1``, ``severity:high`` ...); the most severe label wins.
        priority: Rule from an issue label to a priority, before the defaults
            (``P1``, ``priority:high`` ...); the most urgent label wins.

    Yields:
        Event records, then the incident investigations (one per issue: its latest
        delivery).

    Raises:
        ReaderError: A path does not exist, or a rule is neither a name, a dict nor a
            callable (before anything is read).
    """
    for option, rule in (
        ("service", service),
        ("component", component),
        ("severity", severity),
        ("impact", impact),
        ("priority", priority),
    ):
        check_rule(option, rule)
    reader = _Reader(
        ctx,
        event=event.strip().lower() if isinstance(event, str) and event.strip() else None,
        service=service,
        component=component,
        severity=severity,
        incident_labels=_as_patterns(incident_labels),
        impact=impact,
        priority=priority,
    )
    for path in expand(paths, (".json", ".json.gz"), ctx=ctx):
        rejected = len(ctx.rejects)
        doc = json_document(path, ctx)
        if doc is None:
            if len(ctx.rejects) == rejected:
                ctx.reject(
                    where(path), Reason.INVALID_TYPE, "the file holds null, not a webhook body"
                )
            continue
        if isinstance(doc, list):
            if not doc:
                ctx.skip("empty_list")
            for i, item in enumerate(doc):
                yield from reader.delivery(path, (i,), item)
        else:
            yield from reader.delivery(path, (), doc)
    yield from reader.investigations()


#: What :meth:`_Reader._decode` gives after rejecting the text.
_UNREADABLE = object()


@dataclass
class _Issue:
    updated: dt.datetime
    order: int
    parsed: Parsed


class _Reader:
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
        self.handlers: dict[str, Callable[[_Body, str], Parsed | None]] = {
            "workflow_run": self._workflow_run,
            "workflow_job": self._workflow_job,
            "check_run": self._check_run,
            "push": self._push,
            "deployment": self._deployment,
            "deployment_status": self._deployment_status,
            "release": self._release,
            "issues": self._issue,
        }

    # --- one delivery -----------------------------------------------------------------

    def delivery(self, path: Path, base: tuple[str | int, ...], item: Any) -> Iterator[Parsed]:
        here = pointer(path, *base) if base else where(path)
        if not isinstance(item, dict):
            self.ctx.reject(
                here,
                Reason.INVALID_TYPE,
                f"expected a webhook body (an object), got {_type_name(item)}",
            )
            return
        unwrapped = self._unwrap(path, base, item)
        if unwrapped is None:
            return
        body, named = unwrapped
        name = self.event or named or _folder_event(path) or _inferred(body.data)
        if name is None:
            self.ctx.reject(
                body.where,
                Reason.UNKNOWN_FORMAT,
                "not a GitHub webhook body this reader knows (no X-GitHub-Event, folder "
                "name or known keys); name it with event=",
            )
            return
        handler = self.handlers.get(name)
        if handler is None:
            self.ctx.skip(f"unsupported_event:{name}")
            return
        try:
            parsed = handler(body, name)
        except Refused as bad:
            self.ctx.refuse(bad, body.where)
            return
        if parsed is not None:
            yield parsed

    def _unwrap(
        self, path: Path, base: tuple[str | int, ...], item: dict[str, Any]
    ) -> tuple[_Body, str | None] | None:
        """The body inside a delivery envelope (or the item itself) and its event name."""
        outer = item
        request = item.get("request")
        if isinstance(request, dict) and ("payload" in request or "body" in request):
            item, base = request, (*base, "request")  # GitHub's deliveries API
        key = "payload" if "payload" in item else "body" if "body" in item else None
        if key is None:
            if "headers" in item:
                self.ctx.reject(
                    pointer(path, *base, "payload"),
                    Reason.MISSING,
                    "a delivery with headers but no payload or body",
                    "payload",
                )
                return None
            return _Body(path, base, False, item, None), None
        headers = item.get("headers")
        name = _header(headers, "x-github-event")
        for holder in (item, outer):
            for field in ("x_github_event", "X-GitHub-Event", "event"):
                value = holder.get(field)
                if name is None and isinstance(value, str) and value.strip():
                    name = value.strip()
        delivery = _header(headers, "x-github-delivery")
        if delivery is None and isinstance(outer.get("guid"), str):
            delivery = outer["guid"]
        raw = item[key]
        at = pointer(path, *base, key)
        opaque = isinstance(raw, str)
        if isinstance(raw, str):
            raw = self._decode(raw, at)
            if raw is _UNREADABLE:
                return None
        if not isinstance(raw, dict):
            self.ctx.reject(
                at, Reason.INVALID_TYPE, f"{key} is {_type_name(raw)}, expected a webhook body", key
            )
            return None
        return _Body(path, (*base, key), opaque, raw, delivery), name.lower() if name else None

    def _decode(self, text: str, at: str) -> Any:
        """A body given as JSON text (or form-encoded ``payload=...``); else rejected."""
        stripped = text.strip()
        if stripped.startswith("payload="):
            stripped = urllib.parse.parse_qs(stripped).get("payload", [""])[0]
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as err:
            self.ctx.reject(at, Reason.BAD_JSON, f"column {err.colno}: {err.msg}")
        except ValueError as err:  # a 5,000-digit number
            self.ctx.reject(at, Reason.BAD_JSON, str(err).split(";")[0])
        except RecursionError:
            self.ctx.reject(at, Reason.BAD_JSON, "nested too deeply")
        return _UNREADABLE

    # --- shared ---------------------------------------------------------------------------

    def _repo(self, body: _Body) -> tuple[str, str]:
        full = _text(_need(body, ("repository", "full_name"), str), 1000)
        if full is None:
            raise Refused(
                Reason.EMPTY,
                "empty",
                where=body.at("repository", "full_name"),
                field="repository.full_name",
            )
        name = _text(_dig(body.data, "repository", "name")) or full.rsplit("/", 1)[-1]
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
        body: _Body,
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
        action = _text(body.data.get("action"))
        metadata = _compact({"github_event": name, "action": action, "delivery": body.delivery})
        record = {
            "timestamp": timestamp,
            "source": source,
            "event_type": event_type,
            "severity": severity,
            "component": self._component(subject),
            "service": self._service(*repo),
            "source_id": source_id,
            "data": _compact({"repo": repo[0], **data}),
            "metadata": metadata,
        }
        return Parsed("event", record, body.where)

    def _completed(self, body: _Body, obj: dict[str, Any]) -> bool:
        """A CI delivery is final when its action (or, without one, status) says so."""
        action = body.data.get("action")
        if isinstance(action, str):
            return action == "completed"
        return obj.get("status") == "completed"

    # --- CI ---------------------------------------------------------------------------------

    def _workflow_run(self, body: _Body, name: str) -> Parsed | None:
        run = _object(body, "workflow_run")
        run_id = _ident(body, "workflow_run", "id")
        repo = self._repo(body)
        if not self._completed(body, run):
            self.ctx.skip("not_completed")
            return None
        attempt = run.get("run_attempt")
        if isinstance(attempt, bool) or not isinstance(attempt, int):
            attempt = 1
            self.ctx.note("run_attempt_assumed_1")
        ended = _time(body, self.ctx, "workflow_run", "updated_at")
        conclusion = _text(run.get("conclusion"))
        workflow = _text(run.get("name")) or _text(_dig(body.data, "workflow", "name"))
        started = _to_time(run.get("run_started_at")) or _to_time(run.get("created_at"))
        prs = run.get("pull_requests")
        data = {
            "workflow": workflow,
            "workflow_path": _text(run.get("path")),
            "run_id": _number(run_id),
            "run_number": run.get("run_number") if isinstance(run.get("run_number"), int) else None,
            "run_attempt": attempt,
            "conclusion": conclusion,
            "trigger": _text(run.get("event")),
            "head_branch": _text(run.get("head_branch")),
            "head_sha": _text(run.get("head_sha")),
            "title": _text(run.get("display_title"), _MESSAGE_LIMIT),
            "actor": _login(run.get("triggering_actor")) or _login(run.get("actor")),
            "html_url": _text(run.get("html_url"), 1000),
            "duration_s": _seconds(started, ended),
            "pull_requests": _pull_request_numbers(prs),
        }
        return self._event(
            body,
            name,
            timestamp=ended,
            source="ci",
            event_type="build",
            severity=self._severity(conclusion, _CONCLUSION_SEVERITY, "conclusion"),
            source_id=f"workflow_run:{run_id}:{attempt}",
            repo=repo,
            subject=f"workflow:{workflow}" if workflow else None,
            data=data,
        )

    def _workflow_job(self, body: _Body, name: str) -> Parsed | None:
        job = _object(body, "workflow_job")
        job_id = _ident(body, "workflow_job", "id")
        repo = self._repo(body)
        if not self._completed(body, job):
            self.ctx.skip("not_completed")
            return None
        ended = _time(body, self.ctx, "workflow_job", "completed_at")
        conclusion = _text(job.get("conclusion"))
        workflow = _text(job.get("workflow_name"))
        job_name = _text(job.get("name"))
        raw_steps = job.get("steps")
        steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
        failed = [
            _text(s.get("name")) or f"#{s.get('number')}"
            for s in steps
            if isinstance(s, dict) and s.get("conclusion") in ("failure", "timed_out")
        ]
        labels = job.get("labels")
        data = {
            "workflow": workflow,
            "job": job_name,
            "job_id": _number(job_id),
            "run_id": job.get("run_id") if isinstance(job.get("run_id"), int) else None,
            "run_attempt": job.get("run_attempt")
            if isinstance(job.get("run_attempt"), int)
            else None,
            "conclusion": conclusion,
            "head_branch": _text(job.get("head_branch")),
            "head_sha": _text(job.get("head_sha")),
            "html_url": _text(job.get("html_url"), 1000),
            "duration_s": _seconds(_to_time(job.get("started_at")), ended),
            "runner": _text(job.get("runner_name")),
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
            severity=self._severity(conclusion, _CONCLUSION_SEVERITY, "conclusion"),
            source_id=f"workflow_job:{job_id}",
            repo=repo,
            subject=subject,
            data=data,
        )

    def _check_run(self, body: _Body, name: str) -> Parsed | None:
        check = _object(body, "check_run")
        check_id = _ident(body, "check_run", "id")
        repo = self._repo(body)
        if not self._completed(body, check):
            self.ctx.skip("not_completed")
            return None
        ended = _time(body, self.ctx, "check_run", "completed_at")
        conclusion = _text(check.get("conclusion"))
        check_name = _text(check.get("name"))
        prs = check.get("pull_requests")
        data = {
            "check": check_name,
            "check_id": _number(check_id),
            "app": _text(_dig(check, "app", "slug")) or _text(_dig(check, "app", "name")),
            "conclusion": conclusion,
            "head_branch": _text(_dig(check, "check_suite", "head_branch")),
            "head_sha": _text(check.get("head_sha")),
            "output_title": _text(_dig(check, "output", "title"), _MESSAGE_LIMIT),
            "html_url": _text(check.get("html_url"), 1000),
            "details_url": _text(check.get("details_url"), 1000),
            "duration_s": _seconds(_to_time(check.get("started_at")), ended),
            "pull_requests": _pull_request_numbers(prs),
        }
        return self._event(
            body,
            name,
            timestamp=ended,
            source="ci",
            event_type="check",
            severity=self._severity(conclusion, _CONCLUSION_SEVERITY, "conclusion"),
            source_id=f"check_run:{check_id}",
            repo=repo,
            subject=f"check:{check_name}" if check_name else None,
            data=data,
        )

    # --- git ----------------------------------------------------------------------------

    def _push(self, body: _Body, name: str) -> Parsed:
        ref = _need(body, ("ref",), str)
        before = _need(body, ("before",), str)
        after = _need(body, ("after",), str)
        repo = self._repo(body)
        head = body.data.get("head_commit")
        pushed = body.data["repository"].get("pushed_at")
        if pushed is not None:
            when = _time(body, self.ctx, "repository", "pushed_at")
        elif isinstance(head, dict) and head.get("timestamp") is not None:
            when = _time(body, self.ctx, "head_commit", "timestamp")
            self.ctx.note("push_time_from_head_commit")
        else:
            raise Refused(
                Reason.MISSING,
                "no push time (repository.pushed_at or head_commit.timestamp)",
                where=body.at("repository", "pushed_at"),
                field="repository.pushed_at",
            )
        commits = body.data.get("commits")
        message = _dig(head, "message")
        data = {
            "ref": _text(ref, 1000),
            "before": _text(before),
            "after": _text(after),
            "created": _flag(body.data.get("created")),
            "deleted": _flag(body.data.get("deleted")),
            "forced": _flag(body.data.get("forced")),
            "base_ref": _text(body.data.get("base_ref"), 1000),
            "pusher": _login(body.data.get("pusher")) or _login(body.data.get("sender")),
            "commits": len(commits) if isinstance(commits, list) else None,
            "head_commit": _text(_dig(head, "id")),
            "message": one_line(message.split("\n", 1)[0], _MESSAGE_LIMIT)
            if isinstance(message, str) and message.strip()
            else None,
            "compare_url": _text(body.data.get("compare"), 1000),
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

    def _release(self, body: _Body, name: str) -> Parsed | None:
        release = _object(body, "release")
        release_id = _ident(body, "release", "id")
        repo = self._repo(body)
        action = body.data.get("action")
        if isinstance(action, str) and action not in _RELEASE_ACTIONS:
            self.ctx.skip(f"release_action:{action}")
            return None
        if release.get("draft") is True:
            self.ctx.skip("draft_release")
            return None
        field = "published_at" if release.get("published_at") is not None else "created_at"
        when = _time(body, self.ctx, "release", field)
        tag = _text(release.get("tag_name"))
        data = {
            "release_id": _number(release_id),
            "tag": tag,
            "name": _text(release.get("name")),
            "target": _text(release.get("target_commitish")),
            "draft": _flag(release.get("draft")),
            "prerelease": _flag(release.get("prerelease")),
            "author": _login(release.get("author")),
            "html_url": _text(release.get("html_url"), 1000),
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
            "environment": _text(deployment.get("environment")),
            "sha": _text(deployment.get("sha")),
            "ref": _text(deployment.get("ref"), 1000),
            "task": _text(deployment.get("task")),
            "production": _flag(deployment.get("production_environment")),
            "transient": _flag(deployment.get("transient_environment")),
            "creator": _login(deployment.get("creator")),
        }

    def _deployment(self, body: _Body, name: str) -> Parsed:
        deployment = _object(body, "deployment")
        deployment_id = _ident(body, "deployment", "id")
        repo = self._repo(body)
        when = _time(body, self.ctx, "deployment", "created_at")
        data = {
            "state": "created",
            "deployment_id": _number(deployment_id),
            **self._deployment_data(deployment),
            "description": _text(deployment.get("description"), _MESSAGE_LIMIT),
            "workflow_run_id": _dig(body.data, "workflow_run", "id"),
        }
        environment = data["environment"]
        return self._event(
            body,
            name,
            timestamp=when,
            source="ci",
            event_type="deploy",
            severity=self._severity("created", _STATE_SEVERITY, "state"),
            source_id=f"deployment:{deployment_id}",
            repo=repo,
            subject=f"environment:{environment}" if environment else None,
            data=data,
        )

    def _deployment_status(self, body: _Body, name: str) -> Parsed:
        status = _object(body, "deployment_status")
        status_id = _ident(body, "deployment_status", "id")
        state = _text(_need(body, ("deployment_status", "state"), str))
        repo = self._repo(body)
        when = _time(body, self.ctx, "deployment_status", "created_at")
        deployment = body.data.get("deployment")
        deployment = deployment if isinstance(deployment, dict) else {}
        data = {
            "state": state,
            "deployment_id": deployment.get("id")
            if isinstance(deployment.get("id"), int)
            else None,
            "status_id": _number(status_id),
            **self._deployment_data(deployment),
            "description": _text(status.get("description"), _MESSAGE_LIMIT),
            "target_url": _text(status.get("target_url"), 1000),
            "environment_url": _text(status.get("environment_url"), 1000),
            "log_url": _text(status.get("log_url"), 1000),
            "creator": _login(status.get("creator")) or _login(deployment.get("creator")),
        }
        data["environment"] = _text(status.get("environment")) or data["environment"]
        environment = data["environment"]
        return self._event(
            body,
            name,
            timestamp=when,
            source="ci",
            event_type="deploy",
            severity=self._severity(state, _STATE_SEVERITY, "state"),
            source_id=f"deployment_status:{status_id}",
            repo=repo,
            subject=f"environment:{environment}" if environment else None,
            data=data,
        )

    # --- incidents --------------------------------------------------------------------------

    def _issue(self, body: _Body, name: str) -> None:
        issue = _object(body, "issue")
        number = _ident(body, "issue", "number")
        repo = self._repo(body)
        if body.data.get("action") == "deleted":
            self.ctx.skip("issue_deleted")
            return None
        title = _need(body, ("issue", "title"), str)
        created = _time(body, self.ctx, "issue", "created_at")
        updated = _to_time(issue.get("updated_at"), self.ctx) or created
        raw_labels = issue.get("labels")
        labels = [
            label
            for item in (raw_labels if isinstance(raw_labels, list) else [])
            if (label := _text(item.get("name") if isinstance(item, dict) else item))
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
        resolved_at = _to_time(issue.get("closed_at"), self.ctx) if closed else None
        description = issue.get("body") if isinstance(issue.get("body"), str) else None
        if description is not None and len(description) > MAX_DESCRIPTION:
            description = description[:MAX_DESCRIPTION]
            self.ctx.note("description_truncated")
        assignees = issue.get("assignees")
        assignee = _login(issue.get("assignee")) or next(
            (
                login
                for a in (assignees if isinstance(assignees, list) else [])
                if (login := _login(a))
            ),
            None,
        )
        record: dict[str, Any] = {
            "id": stable_id("github", repo[0], number),
            "title": one_line(title, _NAME_LIMIT) or f"{repo[0]}#{number}",
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
            "created_by": _login(issue.get("user")),
            "assigned_to": assignee,
            "revision": revision(updated),
        }
        impact = self._from_labels(labels, self.impact_rule, _impact_of, _IMPACT_ORDER)
        if impact is not None:
            record["impact_severity"] = impact
        urgency = self._from_labels(labels, self.priority_rule, _priority_of, _PRIORITY_ORDER)
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


def _impact_of(label: str) -> str | None:
    match = _SEV_LABEL.fullmatch(label.strip().lower())
    if match is None:
        return None
    word = match.group(1)
    return "low" if word.isdigit() and int(word) > 3 else _IMPACT_WORDS[word]


def _priority_of(label: str) -> str | None:
    match = _PRIORITY_LABEL.fullmatch(label.strip().lower())
    if match is None:
        return None
    word = match.group(1)
    return "P3" if word.isdigit() and int(word) > 3 else _PRIORITY_WORDS[word]
