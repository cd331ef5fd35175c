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

import json
import os
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .._reasons import Reason
from ._base import (
    Context,
    Parsed,
    Refused,
    Rule,
    check_rule,
    expand,
    json_document,
    pointer,
    where,
)
from ._github_common import MAX_DESCRIPTION as MAX_DESCRIPTION
from ._github_common import Body, type_name
from ._github_events import EventMapper

__all__ = ["ON_DUPLICATE", "SUFFIXES", "SUPPORTED_EVENTS", "read"]

#: Names of the files taken from folders (a file named as input is read whatever its name).
SUFFIXES = (".json", ".json.gz")

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
    for path in expand(paths, SUFFIXES, ctx=ctx):
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


class _Reader(EventMapper):
    """Reads deliveries and hands each body to its event's handler."""

    # --- one delivery -----------------------------------------------------------------

    def delivery(self, path: Path, base: tuple[str | int, ...], item: Any) -> Iterator[Parsed]:
        here = pointer(path, *base) if base else where(path)
        if not isinstance(item, dict):
            self.ctx.reject(
                here,
                Reason.INVALID_TYPE,
                f"expected a webhook body (an object), got {type_name(item)}",
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
    ) -> tuple[Body, str | None] | None:
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
            return Body(path, base, False, item, None), None
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
                at, Reason.INVALID_TYPE, f"{key} is {type_name(raw)}, expected a webhook body", key
            )
            return None
        return Body(path, (*base, key), opaque, raw, delivery), name.lower() if name else None

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
