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

from ._validate import MAX_SUMMARY

__all__ = ["derived_sql"]


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
    failed = (
        f"CASE WHEN TRY_CAST(coalesce({j('failed_total')}, {j('failures')}) AS BIGINT) > 0 "
        f"THEN ', ' || coalesce({j('failed_total')}, {j('failures')}) || ' failed' "
        f"|| coalesce(' of ' || {j('tests')}, '') END"
    )
    ms = f"TRY_CAST({j('duration_ms')} AS DOUBLE)"
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
    text = f"trim(regexp_replace({text}, '\\s+', ' ', 'g'))"
    # one evaluation of the text: cut to the limit with "…" by a pattern, not length()
    return f"regexp_replace({text}, '^(.{{{MAX_SUMMARY - 1}}}).{{2,}}$', '\\1…')"
