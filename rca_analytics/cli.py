"""The ``rca`` command: a thin layer over the Python API for scripts.

Data goes to stdout, progress and errors to stderr. Text for people shows control
characters as escapes (:mod:`._terminal`); CSV cells a spreadsheet would run as
formulas get a leading ``'`` unless ``--raw-csv``. Errors never print a traceback
(``RCA_DEBUG=1`` does); ``rca --help`` lists the exit statuses.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._terminal import StdoutLost, flush, printable, say, write_data
from ._terminal import table as text_table
from ._version import __version__
from .errors import RcaError

__all__ = ["main"]

#: What each exit status of ``rca`` means (``rca --help`` shows it; the README too).
_EXIT_STATUS = {
    0: "success",
    1: "an error the message on stderr explains: an rca_analytics error, a file or disk "
    "the system refused (the path, the reason and what to do), or an ingest that read "
    "nothing (--allow-empty makes this 0)",
    2: "a usage error",
    3: "records were rejected (listed on stderr; the good ones are stored; "
    "--allow-rejects makes this 0)",
    4: "an internal error: a bug, shown as one line to report (RCA_DEBUG=1 shows the traceback)",
    130: "interrupted (Ctrl-C)",
    141: "the reader of stdout went away (e.g. `| head`): stops quietly, as git does",
}

DEMO_FILE = "rca-demo.duckdb"


def _demo(args: argparse.Namespace) -> int:
    from . import demo
    from .errors import CorruptStore
    from .store import connect

    path = Path(args.path)
    if path.is_dir():
        say(f"rca: {path} is a folder; give a file path", err=True)
        return 2
    if path.exists():
        if not args.force:
            say(f"rca: {path} exists; pass --force to replace it with a fresh demo store", err=True)
            return 1
        # Never pull a file from under a process that has it open; a file that is not
        # a store at all is replaced, as --force asked.
        with contextlib.suppress(CorruptStore):
            connect(path).close()
        path.unlink()
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as store:
        demo.build(store, seed=args.seed)
        say(demo.summary(store))
    return 0


def _import_sqlite(args: argparse.Namespace) -> int:
    from .store import connect

    with connect(args.into) as store:
        report = store.import_sqlite(args.legacy, progress=None if args.progress else False)
    problems = [
        f"rejected: {r.where} {r.record!r}"
        + (f" field {r.field}" if isinstance(r.field, str) and r.field else "")
        + f": {r.code}: {r.message}"
        for r in report.rejects.itertuples(index=False)
    ]
    return _imported(report.summary(), problems, allow=args.allow_rejects)


def _imported(summary: str, problems: list[str], *, allow: bool) -> int:
    """An import's summary on stdout, each problem on stderr; exit 3 on problems."""
    say(summary)
    for line in problems:
        say(f"rca: {line}", err=True)
    return 0 if allow or not problems else 3


def _import_options(command: argparse.ArgumentParser, rejected: str) -> None:
    """``--into``, ``--no-progress`` and ``--allow-rejects`` of the import commands."""
    command.add_argument(
        "--into", default=None, help="the store to import into (default: $RCA_DB or ./rca.duckdb)"
    )
    command.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on stderr"
    )
    command.add_argument(
        "--allow-rejects", action="store_true", help=f"exit 0 even when {rejected}"
    )


def _import_lake(args: argparse.Namespace) -> int:
    from .store import connect

    with connect(args.into) as store:
        report = store.import_lake(
            args.lake,
            on_duplicate=args.on_duplicate,
            progress=None if args.progress else False,
        )
    problems = [
        f"not imported: {r.where} ({r.record})"
        + (f" field {r.field}" if isinstance(r.field, str) and r.field else "")
        + f": {r.code}: {r.message}"
        for r in report.rejects.itertuples(index=False)
    ]
    return _imported(report.summary(), problems, allow=args.allow_rejects)


#: Reader options the command line offers: flag → (option name, argparse settings).
_READER_FLAGS: dict[str, tuple[str, dict[str, object]]] = {
    "--rev": ("rev", {"action": "append", "metavar": "REV", "help": "git: branch, tag, sha or "
                      "range (v1..v2); repeatable (default HEAD)"}),
    "--all": ("all_refs", {"action": "store_true", "default": None,
                           "help": "git: every branch and tag"}),
    "--since": ("since", {"metavar": "TIME", "help": "git: commits after TIME (ISO 8601)"}),
    "--until": ("until", {"metavar": "TIME", "help": "git: commits before TIME (ISO 8601)"}),
    "--format": ("format", {"metavar": "FMT", "help": "logs: json, logfmt, plain, a line "
                            "format (apache_error, access, syslog, log4j, klog ... see "
                            "docs/readers/logs.md), a pattern with named groups, or a "
                            ".toml/.json format file (default: detected per file)"}),
    "--time-format": ("time_format", {"metavar": "STRPTIME", "help": "logs: time format of "
                                      "the time group of --format PATTERN (default ISO 8601)"}),
    "--min-level": ("min_level", {"metavar": "LEVEL", "help": "logs, otlp: keep records at or "
                                  "above LEVEL (default warning)"}),
    "--tz": ("tz", {"metavar": "ZONE", "help": "logs, junit: zone of times without an offset "
                    "(default UTC)"}),
    "--year": ("year", {"type": int, "help": "logs: year of RFC 3164 syslog times"}),
    "--slow-ms": ("slow_ms", {"type": float, "metavar": "MS",
                              "help": "otlp: spans at least this long are slow (default 1000)"}),
    "--incident-label": ("incident_labels", {"action": "append", "metavar": "LABEL",
                                             "help": "github: issue label marking an incident; "
                                             "repeatable (default incident)"}),
    "--service": ("service", {"metavar": "NAME", "help": "service of every record read"}),
    "--component": ("component", {"action": "append", "metavar": "PATTERN=NAME",
                                  "help": "component rule (glob pattern on the reader's key, "
                                  "e.g. a file path); repeatable, first match wins"}),
}  # fmt: skip


def _reader_options(args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {}
    for name, _settings in _READER_FLAGS.values():
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    if "component" in options:
        rules: dict[str, str] = {}
        for rule in options["component"]:  # type: ignore[attr-defined]
            pattern, sep, target = str(rule).partition("=")
            if not sep or not pattern or not target:
                raise _Usage(f"--component takes PATTERN=NAME, not {rule!r}")
            rules[pattern] = target
        options["component"] = rules
    return options


class _Usage(Exception):
    """A command line that cannot work (exit status 2)."""


def _ingest(args: argparse.Namespace) -> int:
    import json

    from .ingest import options as reader_options
    from .store import connect

    try:
        options = _reader_options(args)
    except _Usage as err:
        say(f"rca: {err}", err=True)
        return 2
    accepted = set(reader_options(args.kind))
    flags = {name: flag for flag, (name, _s) in _READER_FLAGS.items()}
    wrong = [flags[name] for name in options if name not in accepted]
    if wrong:
        say(f"rca: the {args.kind} reader takes no {', '.join(wrong)}", err=True)
        return 2
    with connect(args.db) as store:
        report = store.ingest(
            args.kind,
            args.paths,
            progress=None if args.progress else False,
            on_duplicate=args.on_duplicate,
            **options,
        )
    if args.json:
        write_data(json.dumps(report.to_dict(), indent=2))
    else:
        say(report.summary())
    empty = report.nothing_read
    if empty is not None:
        allowed = "" if args.allow_empty else " (--allow-empty makes this exit 0)"
        say(f"rca: ingest {args.kind}: {empty}; nothing stored{allowed}", err=True)
        return 0 if args.allow_empty else 1
    if report.ok:
        return 0
    for row in report.rejects.itertuples(index=False):
        named = f" field {row.field}" if isinstance(row.field, str) and row.field else ""
        say(f"rca: rejected: {row.where}{named}: {row.code}: {row.message}", err=True)
    return 0 if args.allow_rejects else 3


#: Roles of candidates, in the order a person reads them: what changed first.
_ROLES = (("change", "changes"), ("symptom", "symptoms"), ("context", "context"))


def _print_candidates(frame: object, as_json: bool, extra: Sequence[str] = ()) -> None:
    """Candidates as JSON lines (every column) or tables by role: changes first.

    Each row says when, what (the event's summary), where, how sure and the top reason;
    a collapsed flood shows how many events it stands for.
    """
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    if as_json:
        write_data(frame.to_json(orient="records", lines=True, date_format="iso"))
        return
    if frame.empty:
        say("no candidates")
        return
    shown = pd.DataFrame(
        {
            "conf": frame["confidence"].map("{:.2f}".format),
            "when": frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%SZ"),
            **{name: frame[name] for name in extra},
            "what": frame["summary"].fillna(frame["source"].astype(str) + "/" + frame["event_type"])
            if "summary" in frame
            else frame["source"].astype(str) + "/" + frame["event_type"],
            "where": frame["component"].fillna(frame["service"]).fillna(""),
            "why": [r[0] if len(r) else "" for r in frame["reasons"]],
            "event_id": frame["event_id"],
        }
    )
    suspects = frame["suspect"].fillna(False).astype(bool) if "suspect" in frame else None
    if suspects is not None:
        shown.loc[suspects.to_numpy(), "conf"] += "*"
    if "count" in frame:
        many = frame["count"].fillna(1).astype(int) > 1
        shown.loc[many, "what"] = (
            shown.loc[many, "what"] + " (×" + frame.loc[many, "count"].astype(int).astype(str) + ")"
        )
    groups = (
        [(title, frame["role"].astype(str).eq(role)) for role, title in _ROLES]
        if "role" in frame
        else [("", pd.Series(True, index=frame.index))]
    )
    for title, rows in groups:
        part = shown[rows.to_numpy()]
        if part.empty:
            continue
        if title:
            events = int(frame.loc[rows, "count"].sum()) if "count" in frame else len(part)
            more = f", {events} events" if events != len(part) else ""
            say(f"{title} ({len(part)}{more})")
        cells = [[printable(_cut(str(c), 90)) for c in row] for row in part.itertuples(index=False)]
        say(text_table(cells, list(part.columns), right=frozenset({0})))
    if suspects is not None and suspects.any():
        say("* suspect: a change at or above the linker's threshold")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _suggest(args: argparse.Namespace) -> int:
    from .store import connect

    with connect(args.db, read_only=True) as store:
        frame = store.suggest_links(
            args.investigation, min_confidence=args.min_confidence, limit=args.limit
        )
    _print_candidates(frame, args.json)
    return 0


def _changes(args: argparse.Namespace) -> int:
    from .store import connect

    with connect(args.db, read_only=True) as store:
        frame = store.changes_before(args.investigation, window=args.window)
    _print_candidates(frame, args.json, extra=("scope",))
    return 0


def _autolink(args: argparse.Namespace) -> int:
    import json

    from .store import connect

    with connect(args.db) as store:
        report = store.auto_link(
            args.investigation,
            min_confidence=args.min_confidence,
            progress=None if args.progress else False,
        )
    if args.json:
        body = report.to_dict()
        del body["links"]  # the links themselves: store.get_links()
        write_data(json.dumps(body))
    else:
        say(report.summary())
    return 0


def _review(args: argparse.Namespace) -> int:
    from .store import connect

    with connect(args.db) as store:
        review = store.label_link(
            args.event, args.investigation, accepted=args.accept, by=args.by, note=args.note
        )
    say(f"{'accepted' if review.accepted else 'rejected'}: {args.event} -> {args.investigation}")
    return 0


def _quality(args: argparse.Namespace) -> int:
    import json

    from .store import connect

    with connect(args.db, read_only=True) as store:
        q = store.linker_quality(min_confidence=args.min_confidence)
    figures = {
        "min_confidence": q.min_confidence,
        "precision": q.precision,
        "recall": q.recall,
        "f1": q.f1,
        "true_positives": q.true_positives,
        "false_positives": q.false_positives,
        "false_negatives": q.false_negatives,
        "labelled": q.labelled,
    }
    if args.json:
        write_data(json.dumps(figures))
    else:
        say(repr(q))
    return 0


def _linking_commands(commands: Any) -> None:
    db = {"default": None, "help": "the store (default: $RCA_DB or ./rca.duckdb)"}
    suggest = commands.add_parser(
        "suggest", help="candidate events of an investigation, with confidence and reasons"
    )
    suggest.add_argument("investigation", help="investigation id")
    suggest.add_argument("--db", **db)
    suggest.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    suggest.add_argument("--min-confidence", type=float, default=0.0, help="default 0")
    suggest.add_argument("--json", action="store_true", help="JSON lines, every column")
    suggest.set_defaults(func=_suggest)
    changes = commands.add_parser(
        "changes", help="git, CI and deploy events before an investigation's impact start"
    )
    changes.add_argument("investigation", help="investigation id")
    changes.add_argument("--db", **db)
    changes.add_argument("--window", default="6h", help="how far back (default 6h)")
    changes.add_argument("--json", action="store_true", help="JSON lines, every column")
    changes.set_defaults(func=_changes)
    auto = commands.add_parser(
        "autolink", help="link confident candidates (one investigation, or every open one)"
    )
    auto.add_argument("investigation", nargs="?", default=None, help="default: every open one")
    auto.add_argument("--db", **db)
    auto.add_argument("--min-confidence", type=float, default=None, help="default 0.7")
    auto.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on stderr"
    )
    auto.add_argument("--json", action="store_true", help="print the counts as JSON")
    auto.set_defaults(func=_autolink)
    review = commands.add_parser("review", help="accept or reject an event's link to an incident")
    review.add_argument("event", help="event id")
    review.add_argument("investigation", help="investigation id")
    verdict = review.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--accept", dest="accept", action="store_true")
    verdict.add_argument("--reject", dest="accept", action="store_false")
    review.add_argument("--by", default=None, help="who reviewed")
    review.add_argument("--note", default=None, help="why")
    review.add_argument("--db", **db)
    review.set_defaults(func=_review)
    quality = commands.add_parser("quality", help="the linker's precision/recall on reviews")
    quality.add_argument("--db", **db)
    quality.add_argument("--min-confidence", type=float, default=None, help="default 0.7")
    quality.add_argument("--json", action="store_true", help="print the figures as JSON")
    quality.set_defaults(func=_quality)


#: What makes a spreadsheet read a CSV cell as a formula (OWASP, "CSV Injection"): a first
#: non-blank character = + - @ (or its full-width form), or a first tab, CR, LF or NUL.
_FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_FORMULA_CONTROLS = ("\t", "\r", "\n", "\0")


def _formulas(text: Any) -> Any:
    """Which cells of a text column a spreadsheet would read as formulas."""
    controls = text.str.startswith(_FORMULA_CONTROLS, na=False)
    return controls | text.str.lstrip().str.startswith(_FORMULA_SIGNS, na=False)


def _formulas_as_text(frame: Any) -> Any:
    """Text cells a spreadsheet would run as formulas, led by a ``'`` so they show as text.

    Only text columns change: numbers (a negative figure, say) stay numbers.
    """
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if pd.api.types.infer_dtype(out[column], skipna=True) == "string":
            text = out[column].astype("str")
            out[column] = text.mask(_formulas(text), "'" + text)
    return out


def _flat_column(values: Any, *, nested_as_text: bool) -> Any:
    """A column as a flat format holds it.

    Durations become seconds; lists and dicts JSON text, or with ``nested_as_text``
    False (for JSON) plain lists.
    """
    import json

    kind = str(values.dtype)
    if kind.startswith("timedelta"):
        return values.dt.total_seconds()
    if kind.startswith("list"):
        encode = json.dumps if nested_as_text else list
        return values.map(lambda v: encode(list(v)) if v is not None else None)
    if (
        nested_as_text
        and values.dtype == object
        and values.map(lambda v: isinstance(v, dict | list)).any()
    ):
        return values.map(lambda v: json.dumps(v, default=str) if isinstance(v, dict | list) else v)
    return values


def _frame_out(frame: Any, *, fmt: str, output: str | None, raw_csv: bool) -> None:
    """A DataFrame as CSV, JSON lines or Parquet, to a file or stdout.

    Args:
        frame: The rows.
        fmt: ``"csv"``, ``"json"`` or ``"parquet"``.
        output: The file, or None for stdout.
        raw_csv: Write CSV cells as stored, formulas too (see :func:`_formulas_as_text`).
    """
    out = frame.copy()
    for column in out.columns:
        out[column] = _flat_column(out[column], nested_as_text=fmt != "json")
    if fmt == "csv" and not raw_csv:
        out = _formulas_as_text(out)
    data: str | bytes
    if fmt == "parquet":
        data = out.to_parquet(index=False)
    elif fmt == "csv":  # rows end in CRLF (RFC 4180), so a cell holding a CR is quoted too
        data = out.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ", lineterminator="\r\n")
    else:
        data = out.to_json(orient="records", lines=True, date_format="iso", date_unit="us")
    if output is None:
        write_data(data)
    elif isinstance(data, bytes):
        Path(output).write_bytes(data)
    else:
        Path(output).write_text(data, encoding="utf-8", newline="")


def _query(args: argparse.Namespace) -> int:
    import warnings

    from ._filters import QUERIES
    from .errors import UnknownNameWarning
    from .store import connect

    filters: dict[str, Any] = {}
    for f in QUERIES[args.table]:
        value = getattr(args, f.name, None)
        if value is not None:
            filters[f.name] = value if f.many and len(value) > 1 else value[0]
    unused = [
        f.flag
        for table_filters in QUERIES.values()
        for f in table_filters
        if f.name not in filters and getattr(args, f.name, None) is not None
    ]
    if unused:
        say(f"rca: query {args.table} takes no {unused[0]}", err=True)
        return 2
    columns = args.columns.split(",") if args.columns else None
    with connect(args.db, read_only=True) as store, warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownNameWarning)  # its words are in the notes
        query = store.events if args.table == "events" else store.investigations
        frame = query(
            columns=columns, limit=args.limit, include_deleted=args.include_deleted, **filters
        )
    for note in frame.attrs.get("notes", ()):
        say(f"rca: {note}", err=True)
    _frame_out(frame, fmt=args.format, output=args.output, raw_csv=args.raw_csv)
    return 0


def _report(args: argparse.Namespace) -> int:
    from . import report
    from .store import connect

    suffix = Path(args.output).suffix.lower() if args.output else ""
    by_suffix = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}.get(suffix)
    if args.format and by_suffix and args.format != by_suffix:
        say(f"rca: --format {args.format} but the output is a {suffix} file", err=True)
        return 2
    fmt = args.format or by_suffix or "md"
    with connect(args.db, read_only=True) as store:
        if args.kind == "postmortem":
            doc = report.postmortem(store, args.investigation, plot=not args.no_plot)
        else:
            doc = report.review(store, since=args.since, until=args.until, plot=not args.no_plot)
    if args.output:
        target = Path(args.output)
        if by_suffix is None:
            target = target.with_name(target.name + (".html" if fmt == "html" else ".md"))
        say(str(doc.save(target)))
    else:
        say(doc.to_html() if fmt == "html" else doc.to_markdown())
    return 0


def _export(args: argparse.Namespace) -> int:
    from .store import connect

    keys: str | list[str] = (
        "auto" if args.partition_by == "auto" else [k for k in args.partition_by.split(",") if k]
    )
    with connect(args.db, read_only=True) as store:
        result = store.export_lake(args.path, partition_by=keys, replace=args.replace)
    say(
        f"{result.path} ({'/'.join(result.partition_by) or 'no partitions'}: "
        f"{result.layout_reason}): {result.partitions_written} of {result.partitions} event "
        "partitions "
        f"written, {result.events:,} events ({'full' if result.full else 'changes only'}, "
        f"{result.seconds:.1f} s)"
    )
    return 0


def _filter_options(query: argparse.ArgumentParser) -> None:
    """The filters of store.events / store.investigations as options, from their table."""
    from ._filters import QUERIES, Filter

    by_name: dict[str, dict[str, Filter]] = {}
    for table, table_filters in QUERIES.items():
        for f in table_filters:
            by_name.setdefault(f.name, {})[table] = f
    groups = {
        ("events", "investigations"): query.add_argument_group("filters of both tables"),
        ("events",): query.add_argument_group("event filters"),
        ("investigations",): query.add_argument_group("investigation filters"),
    }
    for name, of_table in by_name.items():
        f = next(iter(of_table.values()))  # name, flag, metavar and arity agree (a test pins it)
        texts = {t: g.help.replace("``", "").replace("%", "%%") for t, g in of_table.items()}
        if len(set(texts.values())) == 1:
            help_text = texts[next(iter(texts))]
        else:  # e.g. --component: events' component, investigations' component_affected
            help_text = "; ".join(
                f"{t}: {x[:1].lower()}{x[1:].rstrip('.')}" for t, x in texts.items()
            )
            help_text += "."
        arity: dict[str, Any] = {"nargs": "+", "action": "extend"} if f.many else {"nargs": 1}
        groups[tuple(of_table)].add_argument(
            f.flag, dest=name, default=None, metavar=f.metavar, help=help_text, **arity
        )


def _data_commands(commands: Any) -> None:
    db = {"default": None, "help": "the store (default: $RCA_DB or ./rca.duckdb)"}
    query = commands.add_parser(
        "query",
        help="events or investigations as CSV, JSON lines or Parquet, for scripts",
        description="Filters are the Python API's (store.events / store.investigations), "
        "with the same descriptions; give several values to a filter that takes a list "
        "(or repeat it). Times are ISO 8601: 2026-03-01, 2026-03-01T10:00 (UTC) or "
        "2026-03-01T10:00:00+01:00.",
    )
    query.add_argument("table", choices=("events", "investigations"), help="what to list")
    query.add_argument("--db", **db)
    query.add_argument(
        "--format",
        choices=("csv", "json", "parquet"),
        default="csv",
        help="csv (default), json (JSON lines) or parquet",
    )
    query.add_argument(
        "--raw-csv",
        action="store_true",
        help="write CSV text cells exactly as stored; by default a cell a spreadsheet would "
        "run as a formula (first non-blank character = + - @, or a leading tab, CR, LF or "
        "NUL) gets a leading ' so it shows as text",
    )
    query.add_argument("-o", "--output", default=None, help="file (default: stdout)")
    query.add_argument("--columns", default=None, help="only these fields (comma-separated)")
    query.add_argument("--limit", type=int, default=None, help="at most this many rows")
    query.add_argument(
        "--include-deleted", action="store_true", help="include soft-deleted records"
    )
    _filter_options(query)
    query.set_defaults(func=_query)
    export = commands.add_parser("export", help="write the store as a Parquet lake")
    export.add_argument("target", choices=("lake",))
    export.add_argument("path", help="the lake folder (created; brought up to date when it exists)")
    export.add_argument("--db", **db)
    export.add_argument(
        "--partition-by",
        default="auto",
        help="event partition keys: source, day, month (comma-separated; '' for none); "
        "default auto: the finest layout whose files hold at least 32 MB",
    )
    export.add_argument(
        "--replace",
        action="store_true",
        help="let this store replace a lake exported from another store (refused otherwise)",
    )
    export.set_defaults(func=_export)
    rep = commands.add_parser("report", help="a postmortem or a reliability review document")
    kinds = rep.add_subparsers(dest="kind", metavar="KIND", required=True)
    postmortem = kinds.add_parser("postmortem", help="one investigation's postmortem")
    postmortem.add_argument("investigation", help="investigation id")
    review = kinds.add_parser("review", help="a reliability review of a period")
    review.add_argument("--since", default=None, help="start (default 90 days before --until)")
    review.add_argument("--until", default=None, help="end (default now)")
    for sub in (postmortem, review):
        sub.add_argument("--db", **db)
        sub.add_argument("--format", choices=("md", "html"), default=None,
                         help="default: by the output's suffix, else md")  # fmt: skip
        sub.add_argument("-o", "--output", default=None,
                         help="file (.md writes the plots beside it); default stdout")  # fmt: skip
        sub.add_argument("--no-plot", action="store_true", help="no plots")
        sub.set_defaults(func=_report)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose error messages show control characters as escapes."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``message`` (escaped) to stderr; exit with status 2."""
        super().error(printable(message))


def _epilog() -> str:
    """The exit statuses and environment variables, for ``rca --help``."""
    import textwrap

    lines = ["exit status:"]
    for code, meaning in _EXIT_STATUS.items():
        lines.append(
            textwrap.fill(meaning, 79, initial_indent=f"  {code:<5}", subsequent_indent=" " * 7)
        )
    lines += [
        "",
        "environment:",
        "  RCA_DB        the store when --db or --into is not given (default ./rca.duckdb)",
        "  RCA_DEBUG     1: an error shows its traceback instead of one line (for bug reports)",
        "  RCA_PROGRESS  0: no progress bars",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rca",
        description="Incident root-cause analysis on an embedded DuckDB store.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rca_analytics {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="build a demo incident store and print its summary")
    demo.add_argument(
        "path", nargs="?", default=DEMO_FILE, help=f"store file (default {DEMO_FILE})"
    )
    demo.add_argument("--force", action="store_true", help="replace the file if it exists")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the noise (default 7)")
    demo.set_defaults(func=_demo)
    legacy = commands.add_parser(
        "import-sqlite", help="import a SQLite store of the earlier system into a store"
    )
    legacy.add_argument("legacy", help="the earlier system's SQLite file (read only)")
    _import_options(legacy, "rows or links were rejected (they are listed on stderr)")
    legacy.set_defaults(func=_import_sqlite)
    lake = commands.add_parser(
        "import-lake",
        help="merge a Parquet lake (rca export lake, here or by another team) into a store",
    )
    lake.add_argument("lake", help="the lake folder")
    lake.add_argument(
        "--on-duplicate",
        choices=("skip", "update"),
        default="skip",
        help="records already here: keep them (default) or take the lake's fields",
    )
    _import_options(lake, "records or links were not imported (they are listed on stderr)")
    lake.set_defaults(func=_import_lake)
    from .ingest import KINDS

    ingest = commands.add_parser(
        "ingest",
        help="read files (or a git repository) of another system into a store",
        description="Read inputs with one of the readers (field mappings in docs/readers/) and "
        "store what they yield; bad records are listed on stderr and the good ones stored.",
    )
    ingest.add_argument("kind", choices=KINDS, help="the reader")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or repository")
    ingest.add_argument("--db", default=None, help="the store (default: $RCA_DB or ./rca.duckdb)")
    ingest.add_argument(
        "--on-duplicate",
        choices=("skip", "update"),
        default=None,
        help="records already stored: skip them or update them (default: the reader's choice)",
    )
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on stderr"
    )
    ingest.add_argument(
        "--allow-rejects",
        action="store_true",
        help="exit 0 even when records were rejected (they are listed on stderr)",
    )
    ingest.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 even when nothing was read: no input file found (none named as the "
        "reader takes them, an empty folder), or files that gave no record, reject or skip",
    )
    options = ingest.add_argument_group("reader options (each reader takes some)")
    for flag, (name, settings) in _READER_FLAGS.items():
        options.add_argument(flag, dest=name, **settings)  # type: ignore[arg-type]
    ingest.set_defaults(func=_ingest)
    _linking_commands(commands)
    _data_commands(commands)
    return parser


#: What to do about a file or disk the system refused, by errno.
_OS_HINTS = {
    errno.ENOSPC: "free some space on that disk and run the command again",
    errno.EDQUOT: "free some space (or get a bigger quota) and run the command again",
    errno.EACCES: "check its permissions, or choose another path",
    errno.EPERM: "check its permissions, or choose another path",
    errno.EROFS: "that file system is read-only: choose another path",
    errno.ENOTDIR: "part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "it is a folder: give a file path",
    errno.EEXIST: "something other than a folder is there: move it or choose another path",
    errno.ENOENT: "check the path; the folder of an output must exist",
    errno.EFBIG: "the file system cannot hold so large a file: choose another disk",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n) and run the command again",
    errno.EIO: "the disk reported an input/output error: check it",
    errno.EBADF: "it is closed: redirect it to a file or /dev/null instead",
}
_OS_HINT = "check the path and run the command again"


def _writes_to(path: str, output: str) -> bool:
    """Whether ``path`` is in the output's folder (the output, beside or inside it) or above it."""
    here, there = Path(os.path.abspath(path)), Path(os.path.abspath(output))
    return here == there or there.parent in here.parents or here in there.parents


def _os_failure(err: OSError, *, path: str | None, writing: bool) -> str:
    """One line: the path, what the system said and what to do.

    Args:
        err: What the system refused.
        path: The file or folder concerned, if known.
        writing: Whether the command was writing it.
    """
    reason = os.strerror(err.errno) if err.errno else str(err)
    where = f"cannot {'write' if writing else 'open'} {path}: " if path else ""
    return f"rca: error: {where}{reason} ({_OS_HINTS.get(err.errno or 0, _OS_HINT)})"


def _os_target(err: OSError, args: argparse.Namespace) -> tuple[str | None, bool]:
    """The path an error is about, and whether the command was writing it.

    When the system does not name the file (pyarrow does not), the command's output.
    """
    output: str | None = getattr(args, "output", None) or getattr(args, "path", None)
    if err.filename is None:
        return output, output is not None
    return str(err.filename), output is not None and _writes_to(str(err.filename), output)


def _failed(err: Exception, args: argparse.Namespace) -> int:
    """Say in one line on stderr what went wrong; return the exit status."""
    if isinstance(err, StdoutLost):
        if isinstance(err.error, BrokenPipeError):
            return 141  # the reader went away (`rca ... | head`): nothing to say
        say(_os_failure(err.error, path="standard output", writing=True), err=True)
        return 1
    if isinstance(err, RcaError):
        say(f"rca: error: {err}", err=True)
        return 1
    if isinstance(err, OSError):
        path, writing = _os_target(err, args)
        say(_os_failure(err, path=path, writing=writing), err=True)
        return 1
    say(
        f"rca: internal error: {type(err).__name__}: {' '.join(str(err).split())} (a bug in "
        f"rca_analytics {__version__}: please report it with the command you ran; "
        "RCA_DEBUG=1 shows the traceback)",
        err=True,
    )
    return 4


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (``rca --help`` lists them).

    An error ends as one line on stderr, never a traceback (unless ``RCA_DEBUG=1``).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.func(args)
        flush()
    except KeyboardInterrupt:
        say("rca: interrupted", err=True)
        return 130
    except Exception as err:
        if os.environ.get("RCA_DEBUG", "") not in ("", "0"):
            raise
        return _failed(err, args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
