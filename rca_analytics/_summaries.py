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

__all__ = ["derive_sql"]


def _one_line(expr: str) -> str:
    return f"nullif(trim(regexp_replace({expr}, '\\s+', ' ', 'g')), '')"


def derive_sql(a: str, *, data: str | None = None) -> str:
    """SQL for the derived summary of the events row of alias ``a``.

    ``data`` is the SQL of the row's ``data`` as JSON (default ``a.data``); every other
    column is read from alias ``a``. The result is NULL only when the row has no type.
    """
    d = data or f"{a}.data"
    t = f"{a}.event_type"

    def j(key: str) -> str:  # white space is folded once, at the end
        return f"nullif(trim(({d}) ->> '{key}'), '')"

    where = f"coalesce({a}.service, {a}.component, {j('repo')})"
    sha = (
        f"CASE WHEN regexp_full_match(coalesce({a}.source_id, ''), '[0-9a-f]{{7,64}}') "
        f"THEN left({a}.source_id, 7) ELSE left({j('sha')}, 7) END"
    )
    first_line = f"split_part(coalesce({j('subject')}, ({d}) ->> 'message'), chr(10), 1)"
    failed = (
        f"CASE WHEN TRY_CAST(coalesce({j('failed_total')}, {j('failures')}) AS BIGINT) > 0 "
        f"THEN ', ' || coalesce({j('failed_total')}, {j('failures')}) || ' failed' "
        f"|| coalesce(' of ' || {j('tests')}, '') END"
    )
    duration = (
        f"CASE WHEN TRY_CAST({j('duration_ms')} AS DOUBLE) >= 1000 "
        f"THEN ' ' || round(TRY_CAST({j('duration_ms')} AS DOUBLE) / 1000, 1) || ' s' "
        f"WHEN TRY_CAST({j('duration_ms')} AS DOUBLE) IS NOT NULL "
        f"THEN ' ' || round(TRY_CAST({j('duration_ms')} AS DOUBLE)) || ' ms' END"
    )
    case = f"""CASE
      WHEN {t} = 'commit' AND {first_line} IS NOT NULL
        THEN {_one_line(first_line)} || coalesce(' (' || {sha} || ')', '')
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
      WHEN {t} = 'note' AND ({d}) ->> 'text' IS NOT NULL
        THEN {_one_line(f"split_part(({d}) ->> 'text', chr(10), 1)")}
      WHEN {a}.source = 'traces'
        THEN concat_ws(' ', coalesce({j("name")}, {j("span")}, {j("operation")}),
                       upper({j("status")}), upper({j("status_code")}))
             || coalesce({duration}, '')
      ELSE coalesce({j("summary")}, {j("message")}, {j("body")}, {j("text")},
                    {j("title")}, {j("change")}, {j("name")})
    END"""
    text = _one_line(f"coalesce(nullif(trim({case}), ''), concat_ws(' ', {t}, {where}))")
    # one evaluation of the text: cut to the limit with "…" by a pattern, not length()
    return f"regexp_replace({text}, '^(.{{{MAX_SUMMARY - 1}}}).{{2,}}$', '\\1…')"
