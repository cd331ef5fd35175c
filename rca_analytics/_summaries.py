"""An event's one-line summary, derived when a load or an older store has none.

Readers write each event's ``summary`` themselves (they know what the source said).
Rows loaded without one, and events of stores written before schema version 5, get
the summary this module derives in SQL from the event's type, names and ``data``
(the keys the readers and the earlier system use), in the same words:

=====================  =====================================================  ===========
event                  summary                                                from data
=====================  =====================================================  ===========
commit                 subject (short SHA)                                    subject/message
deploy, rollback       Deploy <service> <version> to <environment> (<state>)  version, sha
build, job, test_run   <workflow/suite/check> <job>: <conclusion>, N failed   conclusion ...
alert                  <alertname>: <summary> (resolved)                      annotations
span (traces)          <operation> <STATUS> <duration>                        name/span
note                   its first line                                         text
anything else          the first of summary, message, body, text, title,      ...
                       change, name; else "<event_type> <service>"
=====================  =====================================================  ===========

White space runs become one space and the text is cut to 200 characters, as
:func:`rca_analytics._validate.summary_text` does for given summaries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ._validate import MAX_SUMMARY

__all__ = ["derive", "derived_sql"]


# The data keys the derivation reads, taken out of each row's JSON in one parse.
KEYS = (
    "alertname", "body", "change", "check", "conclusion", "description", "duration_ms",
    "environment", "failed_total", "failures", "job", "message", "name", "operation",
    "repo", "run_number", "sha", "span", "state", "status", "status_code", "subject",
    "suite", "summary", "tag", "tests", "text", "title", "version", "workflow",
)  # fmt: skip
_SPEC = "{" + ", ".join(f'"{k}": "VARCHAR"' for k in KEYS) + "}"
# The white space RE2's \s matches (and vertical tab), for trim(): no pattern needed.
_WS = "' \t\n\x0b\x0c\r'"


def derived_sql(rows: str, *, keep: str = "") -> str:
    """``SELECT [keep,] summary FROM rows``: the derived summary of each row, in order.

    ``rows`` is a table or a parenthesised query with the events columns
    ``event_type``, ``source``, ``service``, ``component``, ``source_id`` and ``data``
    (JSON text); ``keep`` names columns to carry along (to join the result back).
    The summary is NULL only when the row has no type.
    """
    keys = f"json_transform(data, '{_SPEC}')"
    return (
        f"SELECT {keep + ', ' if keep else ''}{_derive('b')} AS summary "  # noqa: S608
        f"FROM (SELECT *, {keys} AS _k FROM {rows}) b"
    )


def _derive(a: str) -> str:
    """The summary of row ``a``, whose ``_k`` holds the :data:`KEYS` of its data."""
    t = f"{a}.event_type"

    def raw(key: str) -> str:
        return f"{a}._k['{key}']"

    # Every piece is NULL or holds a visible character, so no emptiness test wraps a
    # large expression: DuckDB expands nullif(x, '') into a CASE repeating x, and
    # nested around the whole text it made planning take 0.1-0.2 s a statement.
    # White space runs are folded once, at the end.
    def j(key: str) -> str:
        return f"nullif(trim({raw(key)}, {_WS}), '')"

    def first_line(expr: str) -> str:
        return f"nullif(trim(split_part({expr}, chr(10), 1), {_WS}), '')"

    where = f"coalesce({a}.service, {a}.component, {j('repo')})"
    sha = (
        f"CASE WHEN regexp_full_match(coalesce({a}.source_id, ''), '[0-9a-f]{{7,64}}') "
        f"THEN left({a}.source_id, 7) ELSE left({j('sha')}, 7) END"
    )
    subject = first_line(f"coalesce({j('subject')}, {raw('message')})")
    note = first_line(raw("text"))
    n_failed = f"coalesce({j('failed_total')}, {j('failures')})"
    failed = (  # a count written as digits (DuckDB's casts would take "1.5" and "0x10")
        f"CASE WHEN regexp_full_match({n_failed}, '[+-]?[0-9]{{1,18}}') "
        f"AND {n_failed}::BIGINT > 0 "
        f"THEN ', ' || {n_failed} || ' failed' || coalesce(' of ' || {j('tests')}, '') END"
    )
    duration_text = j("duration_ms")
    ms = (
        f"CASE WHEN regexp_full_match({duration_text}, '[+-]?[0-9]{{1,15}}(\\.[0-9]{{1,9}})?') "
        f"THEN {duration_text}::DOUBLE END"
    )
    duration = (
        f"CASE WHEN {ms} >= 1000 THEN round({ms} / 1000, 1) || ' s' "
        f"WHEN {ms} IS NOT NULL THEN round({ms}) || ' ms' END"
    )
    case = f"""CASE
      WHEN {t} = 'commit' AND {subject} IS NOT NULL
        THEN {subject} || coalesce(' (' || {sha} || ')', '')
      WHEN {t} IN ('deploy', 'deployment', 'rollback')
        THEN concat_ws(' ', CASE WHEN {t} = 'rollback' THEN 'Rollback' ELSE 'Deploy' END,
                       {where}, coalesce({j("version")}, {j("tag")}, {sha}),
                       'to ' || {j("environment")})
             || coalesce(' (' || coalesce({j("state")}, {j("status")}) || ')', '')
      WHEN {t} IN ('build', 'job', 'check', 'test_run', 'pipeline', 'workflow')
        THEN concat_ws(' ', coalesce({j("workflow")}, {j("check")}, {j("suite")},
                                     {j("name")}, {t} || coalesce(' ' || {where}, '')),
                       {j("job")}, '#' || {j("run_number")})
             || coalesce(': ' || {j("conclusion")}, '') || coalesce({failed}, '')
      WHEN {t} = 'alert'
        THEN concat_ws(': ', coalesce({j("alertname")}, {j("name")}, 'alert'),
                       coalesce({j("summary")}, {j("description")}, {j("message")}))
             || CASE WHEN {j("status")} = 'resolved' THEN ' (resolved)' ELSE '' END
      WHEN {t} = 'note' AND {note} IS NOT NULL
        THEN {note}
      WHEN {a}.source = 'traces' AND coalesce({j("name")}, {j("span")}, {j("operation")},
                                             {j("status")}, {j("status_code")}, {duration})
                                    IS NOT NULL
        THEN concat_ws(' ', coalesce({j("name")}, {j("span")}, {j("operation")}),
                       upper({j("status")}), upper({j("status_code")}), {duration})
      ELSE coalesce({j("summary")}, {j("message")}, {j("body")}, {j("text")},
                    {j("title")}, {j("change")}, {j("name")})
    END"""
    text = f"coalesce({case}, {t} || coalesce(' ' || {where}, ''))"
    text = f"trim(regexp_replace({text}, '[\\s\\v]+', ' ', 'g'))"  # RE2's \s lacks \v
    # one evaluation of the text: cut to the limit with "…" by a pattern, not length()
    return f"regexp_replace({text}, '^(.{{{MAX_SUMMARY - 1}}}).{{2,}}$', '\\1…')"


# --- the same derivation in Python, for one event at a time ---------------------------
# (planning the SQL above costs tens of milliseconds: too much for a single add_event;
# tests/test_summaries.py holds the two to the same words on generated events.)

_PY_WS = " \t\n\x0b\x0c\r"
_RE2_SPACE = re.compile(r"[\t\n\x0b\x0c\r ]+")  # what the SQL folds: RE2's \s and \v
_HEX_SHA = re.compile(r"[0-9a-f]{7,64}")
_COUNT = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,9})?")


def _text(value: Any) -> str | None:
    """A data value as json_transform reads it into VARCHAR (JSON text unless a string)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)


def _round(x: float, digits: int = 0) -> float:
    """DuckDB's round(): C's round (halves away from zero) of ``x * 10**digits``."""
    scale = 10.0**digits
    y = abs(x * scale)
    whole = float(math.trunc(y))
    if y - whole >= 0.5:
        whole += 1.0
    return math.copysign(whole, x) / scale


def _number_text(x: float) -> str:
    return repr(x) if math.isfinite(x) else ("nan" if x != x else ("inf" if x > 0 else "-inf"))


def derive(
    event_type: str | None,
    *,
    source: str | None,
    service: str | None,
    component: str | None,
    source_id: str | None,
    data: Mapping[str, Any] | None,
) -> str | None:
    """The derived summary of one event, in the words of :func:`derived_sql`.

    >>> derive("alert", source="metrics", service=None, component="cart", source_id=None,
    ...        data={"alertname": "Down", "summary": "x"})
    'Down: x'
    """
    if event_type is None:
        return None
    d = data if isinstance(data, Mapping) else {}
    t = event_type

    def raw(key: str) -> str | None:
        return _text(d.get(key))

    def j(key: str) -> str | None:
        value = raw(key)
        return (value.strip(_PY_WS) or None) if value is not None else None

    def first_line(value: str | None) -> str | None:
        return None if value is None else (value.split("\n", 1)[0].strip(_PY_WS) or None)

    def ws(*parts: str | None, sep: str = " ") -> str:
        return sep.join(p for p in parts if p is not None)

    where = service or component or j("repo")
    if _HEX_SHA.fullmatch(source_id or ""):
        sha: str | None = (source_id or "")[:7]
    else:
        given = j("sha")
        sha = None if given is None else given[:7]
    subject = first_line(j("subject") or raw("message"))
    note = first_line(raw("text"))
    case: str | None
    if t == "commit" and subject is not None:
        case = subject + (f" ({sha})" if sha is not None else "")
    elif t in ("deploy", "deployment", "rollback"):
        env = j("environment")
        state = j("state") or j("status")
        case = ws(
            "Rollback" if t == "rollback" else "Deploy",
            where,
            j("version") or j("tag") or sha,
            None if env is None else "to " + env,
        ) + (f" ({state})" if state is not None else "")
    elif t in ("build", "job", "check", "test_run", "pipeline", "workflow"):
        run = j("run_number")
        conclusion = j("conclusion")
        failed = j("failed_total") or j("failures")
        tests = j("tests")
        case = ws(
            j("workflow") or j("check") or j("suite") or j("name")
            or t + (" " + where if where is not None else ""),
            j("job"),
            None if run is None else "#" + run,
        )  # fmt: skip
        case += f": {conclusion}" if conclusion is not None else ""
        if failed is not None and _COUNT.fullmatch(failed) and int(failed) > 0:
            case += f", {failed} failed" + (f" of {tests}" if tests is not None else "")
    elif t == "alert":
        case = ws(
            j("alertname") or j("name") or "alert",
            j("summary") or j("description") or j("message"),
            sep=": ",
        ) + (" (resolved)" if j("status") == "resolved" else "")
    elif t == "note" and note is not None:
        case = note
    else:
        case = None
        traces = source == "traces"
        if traces:
            duration = None
            ms_text = j("duration_ms")
            ms = float(ms_text) if ms_text is not None and _DECIMAL.fullmatch(ms_text) else None
            if ms is not None and ms >= 1000:
                duration = _number_text(_round(ms / 1000, 1)) + " s"
            elif ms is not None:
                duration = _number_text(_round(ms)) + " ms"
            name = j("name") or j("span") or j("operation")
            status, code = j("status"), j("status_code")
            if any(v is not None for v in (name, status, code, duration)):
                case = ws(
                    name,
                    None if status is None else status.upper(),
                    None if code is None else code.upper(),
                    duration,
                )
        if case is None:
            case = (
                j("summary") or j("message") or j("body") or j("text") or j("title")
                or j("change") or j("name")
            )  # fmt: skip
    text = case if case is not None else t + (" " + where if where is not None else "")
    text = _RE2_SPACE.sub(" ", text).strip(" ")
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"
