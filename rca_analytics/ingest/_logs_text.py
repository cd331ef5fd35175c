"""Logs reader: plain-text lines of a :class:`~._logpatterns.LineFormat`, read columnar.

A file is read in blocks of lines. DuckDB matches the format's pattern on all lines of
a block at once (RE2), tells entries from the lines that continue them, maps levels to
ranks, drops what is below ``min_level`` and reads the times of the rest; Python then
builds the events of the lines kept (a small share of a busy log).

Within a file, a line that does not match the format belongs to the entry above it
when the format has multi-line entries and the line looks like the rest of one (a
stack trace, an indented line); otherwise it is rejected with its ``file:line``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from .._reasons import Reason
from . import _logformats as lf
from ._base import (
    ZERO_TIME_NOTE,
    LineBlock,
    Parsed,
    level_rank,
    line_blocks,
    where,
)
from ._logpatterns import CONTINUES, FIELDS, LineFormat
from ._logs_event import EventBuilder
from ._logs_fields import MAX_ATTRIBUTES, LogFile, cut, with_stack

#: Bytes read at a time; the lines of a block are matched together.
BLOCK = 4 << 20
_ONE_DAY = dt.timedelta(days=1)


def _lit(text: str) -> str:
    """A SQL string literal (the patterns are the package's or checked by ``re``)."""
    return "'" + text.replace("'", "''") + "'"


def _lines_table(block: LineBlock) -> pa.Table:
    """A block's lines for DuckDB, numbered, in pieces so that its threads share them."""
    n = len(block.texts)
    table = pa.table(
        {
            "n": pa.array(np.arange(block.first, block.first + n, dtype=np.int64)),
            "line": pa.array(block.texts, pa.string()),
        }
    )
    return pa.Table.from_batches(table.to_batches(max_chunksize=1 << 15))


class _Plan:
    """The SQL of one format with the reader's options, made once per file."""

    def __init__(self, fmt: LineFormat, year: int | None, reference: dt.datetime | None) -> None:
        self.fmt = fmt
        groups = fmt.groups
        body = fmt.pattern
        # A pattern ending in the message takes the rest of the line: RE2 finds the groups
        # before it, and the message is what follows the match (a third of the work).
        self.rest_is_message = False
        for tail in ("(?P<message>.*)", "(?P<message>.*)$"):
            if body.endswith(tail) and "message" not in re.compile(body[: -len(tail)]).groupindex:
                body, self.rest_is_message = body[: -len(tail)], True
                groups = [n for n in groups if n != "message"]
                break
        self.names = ["_m", *groups]
        pattern = f"^({body})"
        g = "x.g"

        def field_sql(name: str) -> str:
            alts = [
                n for n in groups if n == name or (n.startswith(name) and n[len(name) :].isdigit())
            ]
            parts = [f"nullif({g}.{_quote(n)}, '')" for n in alts]
            return (
                "NULL::VARCHAR"
                if not parts
                else parts[0]
                if len(parts) == 1
                else (f"coalesce({', '.join(parts)})")
            )

        level = field_sql("level")
        if fmt.level_from == "status":
            status = field_sql("status")
            level = (
                f"CASE WHEN TRY_CAST({status} AS INTEGER) >= 500 THEN 'error' "
                f"WHEN TRY_CAST({status} AS INTEGER) >= 400 THEN 'notice' ELSE 'info' END"
            )
        pri = field_sql("pri") if fmt.level_from == "pri" else "NULL::VARCHAR"
        continuation = ", ".join(_lit(v) for v in fmt.continuation_levels)
        head = f"{g}._m <> ''"
        if continuation:
            head += f" AND coalesce(lower({level}), '') NOT IN ({continuation})"
        self.extract = f"""
            SELECT x.n, x.line, {head} AS head,
                   CASE WHEN {g}._m <> '' THEN TRUE  -- a level that continues an entry
                        ELSE regexp_matches(x.line, {_lit("^" + CONTINUES)}) END AS cont_like,
                   {level} AS level, TRY_CAST({pri} AS INTEGER) AS pri,
                   {field_sql("time")} AS time_text, x.g
            FROM (SELECT n, line, regexp_extract(line, {_lit(pattern)},
                                                 [{", ".join(_lit(n) for n in self.names)}]) AS g
                  FROM {{lines}} WHERE NOT regexp_full_match(line, '\\s*')) x
        """  # noqa: S608 - literals quoted, the pattern checked by re
        self.fields = {name: field_sql(name).replace("x.g", "r.g") for name in FIELDS}
        if self.rest_is_message:
            self.fields["message"] = "substr(r.line, length(r.g._m) + 1)"
        self.extras = [n for n in groups if not n.startswith("_") and not _is_field(n)]
        self.time = _time_sql(fmt, "r.time_text", year, reference)


def _is_field(name: str) -> bool:
    """Whether a group fills an event field (or an alternative of one: ``level2``)."""
    return name.rstrip("0123456789") in FIELDS or name in ("pri", "version", "msgid")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _time_sql(
    fmt: LineFormat, text: str, year: int | None, reference: dt.datetime | None
) -> tuple[str, str, str]:
    """SQL of the time, of whether it had an offset, of whether its year was missing.

    The time is in UTC when written with an offset, else as written; a missing year
    is ``year``, or the one that puts the time at most a day after ``reference``.
    """
    t = f"replace({text}, ',', '.')"
    zoned_parts: list[str] = []
    naive_parts: list[str] = []
    if "iso" in fmt.time_formats:
        iso = (
            f"regexp_replace(regexp_replace({t}, '\\s*(?:Z|UTC|GMT)$', '+00:00'), "
            "'\\s*([+-]\\d{2}):?(\\d{2})$', '\\1:\\2')"
        )
        offset = f"regexp_matches({iso}, '[+-]\\d{{2}}:\\d{{2}}$')"
        zoned_parts.append(f"CASE WHEN {offset} THEN TRY_CAST({iso} AS TIMESTAMPTZ)::TIMESTAMP END")
        naive_parts.append(f"CASE WHEN NOT {offset} THEN TRY_CAST({iso} AS TIMESTAMP) END")
    formats = [f for f in fmt.time_formats if f != "iso"]
    with_year = [f for f in formats if "%Y" in f or "%y" in f]
    zoned = [f for f in with_year if "%z" in f]
    naive = [f for f in with_year if "%z" not in f]
    if zoned:
        zoned_parts.append(f"try_strptime({t}, [{', '.join(map(_lit, zoned))}])::TIMESTAMP")
    if naive:
        naive_parts.append(f"try_strptime({t}, [{', '.join(map(_lit, naive))}])::TIMESTAMP")
    zoned_sql = f"coalesce({', '.join(zoned_parts)})" if zoned_parts else "NULL::TIMESTAMP"
    naive_sql = f"coalesce({', '.join(naive_parts)})" if naive_parts else "NULL::TIMESTAMP"
    yearless = [f"%Y {f}" for f in formats if f not in with_year]
    if not yearless:
        return (f"coalesce({zoned_sql}, {naive_sql})", f"{zoned_sql} IS NOT NULL", "FALSE")
    listed = ", ".join(map(_lit, yearless))
    if year is not None:
        guess = f"try_strptime('{year} ' || {t}, [{listed}])::TIMESTAMP"
    else:
        ref = reference or dt.datetime(dt.MAXYEAR, 1, 1)
        this = f"try_strptime('{ref.year} ' || {t}, [{listed}])::TIMESTAMP"
        before = f"try_strptime('{ref.year - 1} ' || {t}, [{listed}])::TIMESTAMP"
        limit = _lit((ref + _ONE_DAY).isoformat(sep=" "))
        # the year that puts the time at most a day after the file was last written
        guess = (
            f"CASE WHEN {this} IS NULL OR {this} > TIMESTAMP {limit} THEN {before} ELSE {this} END"
        )
    written = f"coalesce({zoned_sql}, {naive_sql})"
    return (
        f"coalesce({written}, {guess})",
        f"{zoned_sql} IS NOT NULL",
        f"{written} IS NULL AND {guess} IS NOT NULL",
    )


class TextLines(EventBuilder):
    """The plain-text formats of the logs reader (a base class of the reader)."""

    min_rank: int
    default_level: str | None
    default_rank: int | None
    _duck: duckdb.DuckDBPyConnection | None = None
    _extras: list[str]

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._duck is None:
            self._duck = duckdb.connect(
                config={
                    "enable_external_access": False,
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    "threads": 2,
                }
            )
        return self._duck

    def close(self) -> None:
        """Close the reader's DuckDB connection (opened by the first plain-text file)."""
        if self._duck is not None:
            self._duck.close()
            self._duck = None

    def _levels(self, fmt: LineFormat) -> pa.Table:
        """Level words (lower case) of the format and of every log → rank, name."""
        words: dict[str, tuple[int, str]] = {}
        for word in lf.LEVEL_WORDS:
            rank = level_rank(word)
            if rank is not None:
                words[word] = (rank, word)
        for word, meaning in fmt.levels.items():
            rank = level_rank(meaning)
            if rank is not None:
                words[word.lower()] = (rank, meaning)
        for i, name in enumerate(lf.SYSLOG_LEVELS):
            words.setdefault(str(i), (i, name))
        return pa.table(
            {
                "word": list(words),
                "rank": [r for r, _ in words.values()],
                "meaning": [m for _, m in words.values()],
            }
        )

    def text_lines(self, f: LogFile, fmt: LineFormat) -> Iterator[Parsed]:
        """The events of a plain-text file of format ``fmt``."""
        reference = None
        if self.year is None and not fmt.has_year:
            mtime = f.path.stat().st_mtime
            reference = dt.datetime.fromtimestamp(mtime, self.tzinfo).replace(tzinfo=None)
        plan = _Plan(fmt, self.year, reference)
        con = self._connection()
        con.register("_rca_levels", self._levels(fmt))
        default_rank = self.default_rank
        default_level = self.default_level
        assumed = default_rank is None and self.min_rank >= 7
        if assumed:  # min_level="debug": lines without a level are kept as info
            default_rank, default_level = 6, "info"
        kinds_sql, rows_sql = self._sql(plan, default_rank)
        self._extras = ["x_" + n for n in plan.extras]
        state = "start"  # start (no entry yet), keep (pending), drop (entry not kept)
        pending: Parsed | None = None
        pending_rec = -1
        stack: list[str] = []
        try:
            for batch in line_blocks(f.path, self.ctx, BLOCK):
                for index in batch.problems:  # not UTF-8, too long
                    batch.report(f.path, self.ctx, index)
                con.register("_rca_lines", _lines_table(batch))
                kinds = con.sql(kinds_sql).to_arrow_table()
                selected, last = self._select(f, kinds)
                here = False  # whether the pending entry is one of this block's
                rows: list[dict[str, Any]] = []
                if selected is not None:
                    con.register("_rca_sel", selected)
                    rows = con.sql(rows_sql).to_arrow_table().to_pylist()
                for row in rows:
                    kind = row["kind"]
                    if kind == "cont":
                        if row["rec"] > 0 or state == "keep":  # the entry above, kept
                            stack.append(row["line"])
                        elif state == "start":
                            self._unmatched(f, fmt, row["n"], row["line"])
                        continue
                    if kind == "bad":
                        self._unmatched(f, fmt, row["n"], row["line"])
                        continue
                    if pending is not None:
                        yield with_stack(pending, stack)
                        pending, stack = None, []
                    state = "drop"
                    if kind == "bad_pri":
                        self.ctx.reject(
                            where(f.path, row["n"]),
                            Reason.BAD_SYSLOG,
                            f"PRI {row['pri']} is out of range (0-191)",
                            field="pri",
                        )
                        continue
                    if row["ts"] is None or row["ts"].year <= 1:
                        self._bad_time(f, fmt, row)
                        continue
                    if row["level"] is None and row["pri"] is None:
                        row["rank"], row["meaning"] = default_rank, default_level
                        if assumed:
                            f.level_assumed += 1
                    parsed = self._event(f, fmt, row)
                    if parsed is None:
                        continue
                    if row["yearless"] and self.year is None:
                        f.years[row["ts"].year] += 1
                    state, pending, pending_rec, here = "keep", parsed, row["rec"], True
                if last:  # the block had entries: only its last one may go on
                    if pending is not None and not (here and pending_rec == last):
                        yield with_stack(pending, stack)
                        pending, stack = None, []
                    if pending is None:
                        state = "drop"
            if pending is not None:
                yield with_stack(pending, stack)
        finally:
            con.unregister("_rca_lines")

    def _select(self, f: LogFile, kinds: pa.Table) -> tuple[pa.Table | None, int]:
        """Count the entries skipped; the lines Python must see, and the last entry.

        Entries are numbered by counting first lines (``rec``); the lines selected are
        the entries kept or refused, their continuation lines, the lines rejected, and
        the lines before the block's first entry (they continue the block before).
        """
        head = kinds.column("head").to_numpy(zero_copy_only=False)
        rec = np.cumsum(head, dtype=np.int64)
        kind = kinds.column("kind").to_numpy(zero_copy_only=False)
        skipped = Counter(kind[head].tolist())
        f.below += skipped.get("below", 0)
        f.no_level += skipped.get("no_level", 0)
        f.unknown_level += skipped.get("unknown_level", 0)
        last = int(rec[-1]) if len(rec) else 0
        heads = head & np.isin(kind, ("keep", "bad_pri"))
        kept = np.zeros(last + 1, dtype=bool)
        kept[rec[heads]] = True
        kept[0] = True
        take = heads | (kind == "bad") | ((kind == "cont") & kept[rec])
        if not take.any():
            return None, last
        chosen = np.flatnonzero(take)
        return (
            pa.table(
                {
                    "n": kinds.column("n").take(pa.array(chosen)),
                    "rec": pa.array(rec[chosen]),
                    "kind": pa.array(kind[chosen]),
                }
            ),
            last,
        )

    def _sql(self, plan: _Plan, default_rank: int | None) -> tuple[str, str]:
        """SQL of (each line's kind; the fields and time of the lines selected)."""
        fields = ", ".join(f"{sql} AS {_quote('f_' + name)}" for name, sql in plan.fields.items())
        extras = "".join(
            f", nullif(r.g.{_quote(n)}, '') AS {_quote('x_' + n)}" for n in plan.extras
        )
        multiline = "TRUE" if plan.fmt.multiline else "FALSE"
        min_rank = int(self.min_rank)
        missing = (
            "'no_level'"
            if default_rank is None
            else ("'below'" if default_rank > min_rank else "'keep'")
        )
        kind = f"""
            CASE WHEN NOT r.head THEN
                     CASE WHEN {multiline} AND r.cont_like THEN 'cont' ELSE 'bad' END
                 WHEN r.pri > 191 THEN 'bad_pri'
                 WHEN r.pri IS NOT NULL THEN
                     CASE WHEN r.pri % 8 > {min_rank} THEN 'below' ELSE 'keep' END
                 WHEN r.level IS NULL THEN {missing}
                 WHEN l.rank IS NULL THEN 'unknown_level'
                 WHEN l.rank > {min_rank} THEN 'below'
                 ELSE 'keep' END"""
        levels = """LEFT JOIN _rca_levels l
              ON l.word = lower(CASE WHEN r.pri IS NOT NULL THEN (r.pri % 8)::VARCHAR
                                     ELSE r.level END)"""
        chosen = "(SELECT l.* FROM _rca_lines l SEMI JOIN _rca_sel s ON s.n = l.n)"
        kinds = f"""
            SELECT r.n, r.head, {kind} AS kind
            FROM ({plan.extract.replace("{lines}", "_rca_lines")}) r {levels}
            ORDER BY r.n
        """  # noqa: S608 - literals quoted, the pattern checked by re
        rows = f"""
            SELECT s.n, s.rec, s.kind, r.line, r.pri, l.rank, l.meaning, r.level,
                   CASE WHEN s.kind = 'keep' THEN r.time_text END AS time_text,
                   CASE WHEN s.kind = 'keep' THEN {plan.time[0]} END AS ts,
                   CASE WHEN s.kind = 'keep' THEN {plan.time[1]} END AS zoned,
                   CASE WHEN s.kind = 'keep' THEN {plan.time[2]} END AS yearless,
                   {fields}{extras}
            FROM _rca_sel s
            JOIN ({plan.extract.replace("{lines}", chosen)}) r
              ON r.n = s.n
            {levels}
            ORDER BY s.n
        """  # noqa: S608 - literals quoted, the pattern checked by re
        return kinds, rows

    # --- the records ---------------------------------------------------------------------

    def _unmatched(self, f: LogFile, fmt: LineFormat, number: int, line: str) -> None:
        if fmt.name == "plain":
            self.ctx.reject(
                where(f.path, number),
                Reason.INVALID_DATETIME,
                "no time at the start of the line (and no entry before it to continue)",
                field="time",
            )
        elif fmt.name.startswith("syslog"):
            self.ctx.reject(
                where(f.path, number),
                Reason.BAD_SYSLOG,
                "not an RFC 5424 or RFC 3164 syslog line",
            )
        else:
            self.ctx.reject(
                where(f.path, number),
                Reason.BAD_RECORD,
                f"does not match the {fmt.title} format ({fmt.name}) and does not look like "
                "the rest of the entry above",
                value=line[:200],
            )

    def _bad_time(self, f: LogFile, fmt: LineFormat, row: dict[str, Any]) -> None:
        text = row["time_text"]
        if row["ts"] is not None:  # year 1: Go's zero time, or another "unset" time
            self.ctx.note(ZERO_TIME_NOTE)
            self.ctx.reject(
                where(f.path, row["n"]),
                Reason.MISSING,
                f"time {text!r} is a zero time (unset)",
                field="time",
                value=text,
            )
            return
        if text is None or text == "-":
            self.ctx.reject(
                where(f.path, row["n"]), Reason.MISSING, "the timestamp is nil (-)", field="time"
            )
            return
        wanted = ", ".join(fmt.time_formats)
        self.ctx.reject(
            where(f.path, row["n"]),
            Reason.INVALID_DATETIME,
            f"time {text[:60]!r} is not a time of the format {fmt.name} ({wanted})",
            field="time",
            value=text,
        )

    def _event(self, f: LogFile, fmt: LineFormat, row: dict[str, Any]) -> Parsed | None:
        ts: dt.datetime | None = row["ts"]
        assert ts is not None
        if row["zoned"]:
            ts = ts.replace(tzinfo=dt.UTC)
        else:
            ts = self.in_utc(f, row["n"], ts.replace(tzinfo=self.tzinfo), "time", row["time_text"])
            if ts is None:
                return None
            f.naive += 1
        message = row["f_message"] or ""
        logger = row["f_logger"]
        thread = row["f_thread"]
        host = row["f_host"]
        pid: Any = row["f_pid"]
        service = None
        extra: dict[str, Any] = {}
        level: Any = row["level"] if row["level"] is not None else row["meaning"]
        line = row["line"]
        if fmt.name == "plain":
            _word, logger, thread, message = lf.plain_header(row["f_message"] or "")
        if row["pri"] is not None:
            level = lf.SYSLOG_LEVELS[row["pri"] % 8]
            extra["facility"] = lf.FACILITIES[row["pri"] // 8]
        if fmt.name.startswith("syslog"):
            service = logger
            if fmt.name == "syslog5424":
                s = lf.syslog(line)
                if s is not None:
                    message = s.message
                    host, logger, pid = s.host, s.app, s.procid
                    service = s.app
                    if s.msgid:
                        extra["msgid"] = s.msgid
                    for key, value in s.data.items():
                        if len(extra) >= MAX_ATTRIBUTES:
                            break
                        extra[key] = cut(value)
        for name in self._extras:
            found = row[name]
            if found is not None and len(extra) < MAX_ATTRIBUTES:
                extra[name[2:]] = cut(found)
        if fmt.level_from == "status":  # the request and how it ended
            level = row["meaning"]
            message = f"{message} {row.get('x_status') or ''}".strip()
        return self.event(
            f,
            row["n"],
            line,
            ts,
            row["rank"],
            level,
            message,
            service,
            logger,
            host,
            pid,
            thread,
            None,
            None,
            None,
            None,
            extra or None,
        )
