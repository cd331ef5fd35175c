"""Reader of JUnit/xUnit XML test reports: one ``ci`` ``test_run`` event per test suite.

Reads the XML of pytest ``--junitxml``, Maven Surefire/Failsafe, TestNG's JUnit
reporter, Jenkins (nested suites), jest-junit, cargo-nextest, gotestsum and the tools
that copy them: a ``<testsuites>`` or a lone ``<testsuite>`` root, suites possibly
nested. Every suite that directly holds test cases becomes one event: its counts
(counted from the test cases, not taken on trust from attributes), duration, failed
tests and start time. Errors make it ``high``, failures ``medium``, anything else
``info``. Field mappings and rules: ``docs/readers/junit.md``.

Files are parsed as a stream with expat (memory bounded by one test case, whatever
the file size), and a document type declaration is refused (``forbidden_dtd``), so
entity bombs and external entities are never expanded.

>>> import pathlib, tempfile
>>> from rca_analytics.ingest._base import Context
>>> report = pathlib.Path(tempfile.mkdtemp()) / "TEST-api.xml"
>>> _ = report.write_text(
...     '<testsuite name="api" timestamp="2026-03-01T10:00:00Z" time="1.5">'
...     '<testcase classname="tests.api" name="test_ok" time="0.5"/>'
...     '<testcase classname="tests.api" name="test_pay" time="1.0">'
...     '<failure message="assert 500 == 200">Traceback ...</failure></testcase>'
...     '</testsuite>')
>>> [event] = [p.record for p in read([report], Context())]
>>> event["severity"], event["data"]["tests"], event["data"]["failures"]
('medium', 2, 1)
>>> event["data"]["failed_tests"][0]["test"], event["data"]["failed_tests"][0]["message"]
('tests.api::test_pay', 'assert 500 == 200')
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import os
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from .._reasons import Reason
from ..errors import ReaderError
from ._base import (
    MAX_LINE,
    READ_ERRORS,
    Context,
    Input,
    Parsed,
    Refused,
    Reject,
    Rule,
    apply_rule,
    check_rule,
    digest,
    expand,
    is_zero_time,
    one_line,
    where,
    zero_as_missing,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_FAILED",
    "MAX_MARKUP",
    "MAX_PROPERTIES",
    "SUFFIXES",
    "SeverityRule",
    "read",
]

#: Names of the files taken from folders (a file named as input is read whatever its name).
SUFFIXES = (".xml", ".xml.gz")

#: Failed test cases listed in an event's ``data.failed_tests`` (``failed_total`` counts all).
MAX_FAILED = 50
#: Suite properties kept in ``data.properties`` at most (when asked for).
MAX_PROPERTIES = 50
#: Deepest element nesting accepted; deeper files are refused (``too_deep``).
MAX_DEPTH = 100
#: Longest piece of markup (a start tag with its attributes, a comment ...) read, in
#: bytes; expat holds one whole, so a file with a longer one is refused (``too_large``).
MAX_MARKUP = MAX_LINE
#: What a severity rule is: worst outcome → severity, or a callable of the counts.
SeverityRule = Mapping[str, str] | Callable[[Mapping[str, int]], str | None]

_CHUNK = 1 << 20
_TEXT_KEPT = 4096
_COUNTS = ("tests", "failures", "errors", "skipped")
_OUTCOME_RANK = {"passed": 0, "skipped": 1, "failure": 2, "error": 3}
_DEFAULT_SEVERITY = {"errors": "high", "failures": "medium", "skipped": "info", "passed": "info"}
_ZONE_WORD = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True, slots=True)
class _Options:
    component: Rule | None
    service: Rule | None
    severity: SeverityRule | None
    zone: dt.tzinfo
    tz: str
    timestamp: dt.datetime | None
    tags: list[str]
    properties: tuple[str, ...]


@dataclass(eq=False, slots=True)
class _Case:
    depth: int
    line: int
    classname: str
    name: str
    time: float | None
    outcome: str = "passed"
    type: str | None = None
    message: str | None = None
    text: list[str] = field(default_factory=list)
    flaky: bool = False


@dataclass(eq=False, slots=True)
class _Suite:
    """An open ``<testsuite>`` (or ``<testsuites>``) element and what it holds so far."""

    kind: str
    name: str
    line: int
    depth: int
    parents: list[str]
    timestamp: str | None
    time_from: str
    hostname: str | None
    run_id: str | None
    package: str | None
    declared: dict[str, int] = field(default_factory=dict)
    declared_time: float | None = None
    bad: Reject | None = None
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    time_sum: float = 0.0
    timed: bool = False
    nested: bool = False
    subtree: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))
    failed: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: int = 0
    first_classname: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    component: Rule | None = None,
    service: Rule | None = None,
    severity: SeverityRule | None = None,
    tz: str = "UTC",
    timestamp: dt.datetime | str | None = None,
    tags: Sequence[str] = (),
    properties: Sequence[str] = (),
) -> Iterator[Parsed]:
    """Yield one ``test_run`` event per test suite that holds test cases.

    Args:
        paths: ``.xml`` / ``.xml.gz`` files, or folders (walked for those names).
        ctx: Where rejects, skips, notes and progress (bytes) go.
        component: The component of every event (a name), or a rule mapping the
            suite name (then its ``package`` attribute) to a component: dict (exact
            or glob → value) or callable; none by default or when nothing matches.
        service: The service of every event (a name), or a rule mapping the suite
            name to a service (none when nothing matches); none by default.
        severity: Overrides the severity: a dict from the worst outcome
            (``errors``, ``failures``, ``skipped``, ``passed``) to a severity, merged
            over the defaults (high, medium, info, info), or a callable taking the
            counts (``tests``, ``passed``, ``failures``, ``errors``, ``skipped``) and
            returning a severity (None for the default).
        tz: Time zone of suite timestamps written without an offset (most of them).
        timestamp: Time of suites that carry none (aware ``datetime`` or ISO text
            with an offset); else the file's modification time is used. A zero
            time (Go's ``0001-01-01T00:00:00Z``, which gotestsum writes) is none:
            the enclosing suite's time stands in, else this (noted
            ``zero_time_as_missing``).
        tags: Tags of every event.
        properties: Names or glob patterns of suite ``<property>`` entries to keep
            in ``data.properties`` (``["*"]`` for all, at most 50); none by default.

    Raises:
        ReaderError: A path does not exist, ``tz`` is no known time zone,
            ``timestamp`` is not an aware time (or is a zero time), or
            ``component``/``service`` is no rule.
    """
    check_rule("component", component)
    check_rule("service", service)
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        known = "e.g. 'UTC', 'Europe/Berlin'"
        raise ReaderError(f"tz={tz!r} is not a known time zone ({known})") from err
    options = _Options(
        component,
        service,
        severity,
        zone,
        tz,
        _option_time(timestamp),
        [tags] if isinstance(tags, str) else list(tags),
        (properties,) if isinstance(properties, str) else tuple(properties),
    )
    for path in expand(paths, SUFFIXES, ctx=ctx):
        yield from _File(path, ctx, options).read()


def _option_time(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        if is_zero_time(value):
            raise ReaderError(f"timestamp={value!r} is the zero time (unset): give a time")
        parsed = _parse_time(value)
        if parsed is None:
            raise ReaderError(f"timestamp={value!r} is not an ISO time")
        value = parsed
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ReaderError(
            f"timestamp={value!r} must be an aware datetime or ISO text with an offset"
        )
    if value.year <= 1:
        raise ReaderError(f"timestamp={value!r} is the zero time (unset): give a time")
    return value


def _parse_time(raw: str) -> dt.datetime | None:
    text = _LONG_FRACTION.sub(r"\1", _ZONE_WORD.sub("+00:00", raw.strip()))
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _number(raw: str) -> float | None:
    """A duration as producers write it (``1.5``, ``0,25``, ``1,234.5``); None if not one."""
    text = raw.strip()
    if "," in text:
        text = text.replace(",", "") if "." in text else text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _count(raw: str) -> int | None:
    value = _number(raw)
    return int(value) if value is not None and value.is_integer() and "," not in raw else None


def _attr(attrs: Mapping[str, str], key: str) -> str | None:
    return (attrs.get(key) or "").strip() or None


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return one_line(line)
    return None


class _File:
    """One report file, parsed as a stream; finished suites are queued in ``ready``."""

    def __init__(self, path: Path, ctx: Context, options: _Options) -> None:
        self.path = path
        self.ctx = ctx
        self.options = options
        self.ready: list[Parsed] = []
        self.stack: list[str] = []
        self.suites: list[_Suite] = []
        self.case: _Case | None = None
        self.capture_depth: int | None = None
        self.captured = 0
        self.suite_elements = 0
        self._mtime: dt.datetime | None = None
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.parser = parser

    # --- driving the parser ---------------------------------------------------------------

    def read(self) -> Iterator[Parsed]:
        size = self.ctx.add_file(self.path)
        done = 0
        try:
            with Input(self.path) as f:
                if f.size == 0:
                    self.ctx.reject(where(self.path, 1), Reason.BAD_XML, "empty file: no XML in it")
                    return
                fed = 0
                while True:
                    block = f.read(_CHUNK)
                    self.ctx.advance(f.position - done)
                    done = f.position
                    self.parser.Parse(block, not block)
                    fed += len(block)
                    self._check_markup(fed)
                    yield from self._take_ready()
                    if not block:
                        break
        except Refused as err:  # the file (unopened), or from inside an expat handler
            yield from self._take_ready()
            self.ctx.refuse(err, where(self.path))
        except expat.ExpatError as err:
            yield from self._take_ready()
            self.ctx.reject(
                where(self.path, err.lineno),
                Reason.BAD_XML,
                f"column {err.offset + 1}: {expat.ErrorString(err.code)}{self._left_out()}",
            )
        except LookupError as err:  # <?xml encoding="bogus"?>
            yield from self._take_ready()
            line = self.parser.CurrentLineNumber
            self.ctx.reject(where(self.path, line), Reason.BAD_XML, f"{err}{self._left_out()}")
        except READ_ERRORS as err:
            yield from self._take_ready()
            self.ctx.reject(where(self.path), Reason.UNREADABLE, f"cannot read on: {err}")
        self.ctx.advance(max(size - done, 0))

    def _check_markup(self, fed: int) -> None:
        """Refuse a piece of markup longer than :data:`MAX_MARKUP` (expat holds it whole)."""
        start = max(self.parser.CurrentByteIndex, 0)  # past the last event read
        if fed - start > MAX_MARKUP:
            raise Refused(
                Reason.TOO_LARGE,
                f"a tag, comment or other markup longer than {MAX_MARKUP:,} bytes"
                f"{self._left_out()}",
                where=where(self.path, self.parser.CurrentLineNumber),
            )

    def _take_ready(self) -> Iterator[Parsed]:
        ready, self.ready = self.ready, []
        yield from ready

    def _left_out(self) -> str:
        unfinished = sum(1 for s in self.suites if s.kind == "testsuite")
        return f"; {unfinished} unfinished suite(s) left out" if unfinished else ""

    # --- expat handlers -------------------------------------------------------------------

    def _doctype(self, name: str, *_: object) -> None:
        raise Refused(
            Reason.FORBIDDEN_DTD,
            f"document type declaration <!DOCTYPE {name}> refused (entities are never expanded)",
            where=where(self.path, self.parser.CurrentLineNumber),
        )

    def _entity(self, name: str, *_: object) -> None:  # pragma: no cover - needs a DOCTYPE
        raise Refused(
            Reason.FORBIDDEN_DTD,
            f"entity declaration {name!r} refused",
            where=where(self.path, self.parser.CurrentLineNumber),
        )

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        self.stack.append(name)
        depth = len(self.stack)
        line = self.parser.CurrentLineNumber
        if depth > MAX_DEPTH:
            raise Refused(
                Reason.TOO_DEEP,
                f"elements nested deeper than {MAX_DEPTH}{self._left_out()}",
                where=where(self.path, line),
            )
        if depth == 1:
            self._check_root(name, line)
        top = self.suites[-1] if self.suites else None
        under_top = top is not None and top.depth == depth - 1
        if name in ("testsuite", "testsuites") and (depth == 1 or (under_top and top is not None)):
            self._open_suite(name, attrs, line, depth, top)
        elif name == "testcase" and under_top and top is not None:
            if top.kind == "testsuite":
                self._open_case(attrs, line, depth, top)
            else:
                self.ctx.skip("testcase_outside_suite")
        elif self.case is not None and self.case.depth == depth - 1:
            self._case_child(name, attrs)
        elif (
            name == "property"
            and top is not None
            and top.depth == depth - 2
            and self.stack[-2] == "properties"
        ):
            self._property(top, attrs)

    def _end(self, tag: str) -> None:
        depth = len(self.stack)
        self.stack.pop()
        if self.capture_depth == depth:
            self.capture_depth = None
        if self.case is not None and self.case.depth == depth:
            self._close_case(self.case)
            self.case = None
        elif self.suites and self.suites[-1].depth == depth:
            self._close_suite(self.suites.pop())

    def _text(self, text: str) -> None:
        case = self.case
        if self.capture_depth is not None and case is not None and self.captured < _TEXT_KEPT:
            case.text.append(text[: _TEXT_KEPT - self.captured])
            self.captured += len(text)

    # --- structure ------------------------------------------------------------------------

    def _check_root(self, name: str, line: int) -> None:
        if name in ("testsuites", "testsuite"):
            return
        if name == "testng-results":
            raise Refused(
                Reason.UNKNOWN_FORMAT,
                "<testng-results> (TestNG's own report) is not read; "
                "use TestNG's JUnit reports (junitreports/TEST-*.xml) instead",
                where=where(self.path, line),
            )
        raise Refused(
            Reason.UNKNOWN_FORMAT,
            f"root element <{name}> is not <testsuites> or <testsuite> (not a JUnit report)",
            where=where(self.path, line),
        )

    def _open_suite(
        self, kind: str, attrs: dict[str, str], line: int, depth: int, parent: _Suite | None
    ) -> None:
        own_time = zero_as_missing((attrs.get("timestamp") or "").strip() or None, self.ctx)
        if own_time is not None:
            stamp, time_from = own_time, "suite"
        elif parent is not None and parent.timestamp is not None:
            stamp, time_from = parent.timestamp, "parent_suite"
        else:
            stamp, time_from = None, ""
        name = attrs.get("name", "").strip()
        parents = [*parent.parents, parent.name] if parent and parent.kind == "testsuite" else []
        suite = _Suite(
            kind=kind,
            name=name,
            line=line,
            depth=depth,
            parents=parents,
            timestamp=stamp,
            time_from=time_from,
            hostname=_attr(attrs, "hostname") or (parent.hostname if parent else None),
            run_id=_attr(attrs, "uuid") or (parent.run_id if parent else None),
            package=_attr(attrs, "package"),
        )
        if parent is not None:
            parent.nested = True
        if kind == "testsuite":
            self.suite_elements += 1
            for key in _COUNTS:
                raw = attrs.get(key)
                if raw is None or not raw.strip():
                    continue
                value = _count(raw)
                if value is None and suite.bad is None:
                    suite.bad = self._invalid_type(line, key, raw, "a count")
                elif value is not None:
                    suite.declared[key] = value
            raw_time = attrs.get("time")
            if raw_time is not None and raw_time.strip():
                suite.declared_time = _number(raw_time)
                if suite.declared_time is None and suite.bad is None:
                    suite.bad = self._invalid_type(line, "time", raw_time, "a duration in seconds")
        self.suites.append(suite)

    def _invalid_type(self, line: int, key: str, raw: str, wanted: str) -> Reject:
        message = f"{key}={one_line(raw, 40)!r} is not {wanted}"
        return Reject(where(self.path, line), Reason.INVALID_TYPE, message, key, raw)

    def _open_case(self, attrs: dict[str, str], line: int, depth: int, suite: _Suite) -> None:
        raw_time = attrs.get("time")
        time: float | None = None
        if raw_time is not None and raw_time.strip():
            time = _number(raw_time)
            if time is None and suite.bad is None:
                suite.bad = self._invalid_type(line, "time", raw_time, "a duration in seconds")
        self.case = _Case(
            depth=depth,
            line=line,
            classname=(attrs.get("classname") or "").strip(),
            name=(attrs.get("name") or "").strip(),
            time=time,
        )

    def _case_child(self, name: str, attrs: dict[str, str]) -> None:
        case = self.case
        assert case is not None
        if name in ("flakyFailure", "flakyError"):
            case.flaky = True
            return
        outcome = {"failure": "failure", "error": "error", "skipped": "skipped"}.get(name)
        if outcome is None or _OUTCOME_RANK[outcome] <= _OUTCOME_RANK[case.outcome]:
            return
        case.outcome = outcome
        if outcome == "skipped":
            return
        case.type = (attrs.get("type") or "").strip() or None
        message = attrs.get("message")
        case.message = _first_line(message) if message else None
        case.text = []
        self.captured = 0
        self.capture_depth = len(self.stack)

    def _property(self, suite: _Suite, attrs: dict[str, str]) -> None:
        patterns = self.options.properties
        name = attrs.get("name")
        if not patterns or name is None or len(suite.properties) >= MAX_PROPERTIES:
            return
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            suite.properties[name] = one_line(attrs.get("value", ""))

    def _close_case(self, case: _Case) -> None:
        suite = self.suites[-1]
        suite.tests += 1
        suite.subtree["tests"] += 1
        key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(case.outcome)
        if key is not None:
            setattr(suite, key, getattr(suite, key) + 1)
            suite.subtree[key] += 1
        if case.flaky and case.outcome == "passed":
            suite.flaky += 1
        if case.time is not None:
            suite.timed = True
            suite.time_sum += case.time
        if suite.first_classname is None and case.classname:
            suite.first_classname = case.classname
        test = f"{case.classname}::{case.name}" if case.classname else case.name
        if case.outcome in ("failure", "error") and len(suite.failed) < MAX_FAILED:
            message = case.message or _first_line("".join(case.text))
            suite.failed.append(
                {"test": test, "outcome": case.outcome, "type": case.type, "message": message}
            )
        time = "" if case.time is None else f"{case.time:.3f}"
        mark = digest(test, case.outcome, time, size=32)
        suite.fingerprint = (suite.fingerprint + int(mark, 16)) % (1 << 128)

    def _close_suite(self, suite: _Suite) -> None:
        parent = self.suites[-1] if self.suites else None
        if parent is not None:
            for key in _COUNTS:
                parent.subtree[key] += suite.subtree[key]
        if suite.kind == "testsuites":
            if parent is None and self.suite_elements == 0:
                self.ctx.skip("empty_report")
            return
        if suite.bad is not None:
            bad = suite.bad
            self.ctx.reject(bad.where, bad.code, bad.message, bad.field, value=bad.value)
            return
        event = self._event(suite)
        if event is not None:
            self.ready.append(Parsed("event", event, where(self.path, suite.line)))

    # --- the event ----------------------------------------------------------------------------

    def _event(self, suite: _Suite) -> dict[str, Any] | None:
        declared = suite.declared
        data: dict[str, Any] = {"suite": suite.name or suite.first_classname}
        differ = False
        if suite.tests:
            counts = {
                "tests": suite.tests,
                "passed": suite.tests - suite.failures - suite.errors - suite.skipped,
                "failures": suite.failures,
                "errors": suite.errors,
                "skipped": suite.skipped,
            }
            differ = any(declared[k] != suite.subtree[k] for k in declared)
        elif suite.nested:
            return None  # a container: the suites inside it are the events
        elif any(declared.values()):
            tests, failures, errors, skipped = (declared.get(k, 0) for k in _COUNTS)
            counts = {
                "tests": tests,
                "passed": max(tests - failures - errors - skipped, 0),
                "failures": failures,
                "errors": errors,
                "skipped": skipped,
            }
            self.ctx.note("counts_from_attributes")
        else:
            self.ctx.skip("empty_suite")
            return None
        when = self._when(suite)
        if when is None:
            return None
        timestamp, identity_time, time_from = when
        if not suite.nested and suite.declared_time is not None:
            duration: float | None = suite.declared_time
        elif suite.timed:
            duration = round(suite.time_sum, 6)
            self.ctx.note("duration_from_testcases")
        else:
            duration = None
        if suite.parents:
            data["parent_suites"] = list(suite.parents)
        data.update(counts)
        if differ:
            self.ctx.note("counts_differ_from_attributes")
            data["declared"] = dict(declared)
        if suite.flaky:
            data["flaky"] = suite.flaky
        data["duration_s"] = duration
        data["time_from"] = time_from
        for key in ("hostname", "run_id", "package"):
            if getattr(suite, key):
                data[key] = getattr(suite, key)
        data["failed_total"] = counts["failures"] + counts["errors"]
        data["failed_tests"] = suite.failed
        if suite.properties:
            data["properties"] = suite.properties
        options = self.options
        label = data["suite"] or ""
        source_id = digest(
            " > ".join([*suite.parents, label]),
            identity_time,
            suite.hostname or "",
            suite.run_id or "",
            *(counts[k] for k in ("tests", "failures", "errors", "skipped")),
            f"{suite.fingerprint:032x}",
            size=32,
        )
        return {
            "timestamp": timestamp,
            "source": "ci",
            "event_type": "test_run",
            "severity": _severity(counts, options.severity),
            "component": options.component
            if isinstance(options.component, str)
            else apply_rule(options.component, label or None)
            or apply_rule(options.component, suite.package),
            "service": options.service
            if isinstance(options.service, str)
            else apply_rule(options.service, label or None),
            "source_id": f"junit:{source_id}",
            "summary": _summary(label, counts, suite.failed),
            "data": data,
            "tags": list(options.tags),
            "metadata": {"file": os.fspath(self.path)},
        }

    def _when(self, suite: _Suite) -> tuple[dt.datetime, str, str] | None:
        """The suite's time in UTC, the text of it that enters its identity, where it came from."""
        options = self.options
        if suite.timestamp is not None:
            parsed = _parse_time(suite.timestamp)
            if parsed is None:
                self.ctx.reject(
                    where(self.path, suite.line),
                    Reason.INVALID_DATETIME,
                    f"timestamp {one_line(suite.timestamp, 60)!r} is not an ISO time",
                    "timestamp",
                    value=suite.timestamp,
                )
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=options.zone)
                self.ctx.note(f"naive_time_as_{options.tz.lower()}")
            return parsed.astimezone(dt.UTC), suite.timestamp, suite.time_from
        if options.timestamp is not None:
            return options.timestamp.astimezone(dt.UTC), options.timestamp.isoformat(), "option"
        if self._mtime is None:
            self._mtime = dt.datetime.fromtimestamp(self.path.stat().st_mtime, dt.UTC)
        self.ctx.note("time_from_mtime")
        return self._mtime, "", "file_mtime"


def _severity(counts: Mapping[str, int], rule: SeverityRule | None) -> str:
    if callable(rule):
        chosen = rule(dict(counts))
        if chosen is not None:
            return chosen
        rule = None
    if counts["errors"]:
        worst = "errors"
    elif counts["failures"]:
        worst = "failures"
    elif counts["skipped"]:
        worst = "skipped"
    else:
        worst = "passed"
    return {**_DEFAULT_SEVERITY, **(rule or {})}[worst]


def _summary(label: str, counts: Mapping[str, int], failed: list[dict[str, Any]]) -> str:
    """``pytest: 2 of 10 failed (test_pay::test_timeout, ...)`` or ``pytest: 10 passed``."""
    bad = counts["failures"] + counts["errors"]
    name = label or "tests"
    if not bad:
        return f"{name}: {counts['tests'] - counts['skipped']} passed" + (
            f", {counts['skipped']} skipped" if counts["skipped"] else ""
        )
    first = failed[0]["test"] if failed and isinstance(failed[0].get("test"), str) else None
    more = ", ..." if bad > 1 else ""
    return f"{name}: {bad} of {counts['tests']} failed" + (f" ({first}{more})" if first else "")
