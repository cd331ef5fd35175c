"""What every reader shares: the records it yields, its context, streaming helpers.

A reader is a generator ``read(paths, ctx, **options)`` yielding :class:`Parsed`
records (dicts with model field names) and telling its :class:`Context` what it could
not read (:meth:`Context.reject`, with a :class:`~rca_analytics.Reason`), what it left
out on purpose (:meth:`Context.skip`), what it assumed (:meth:`Context.note`) and how far
it got (:meth:`Context.advance`). It never touches a store. Deep inside, a reader raises
:class:`Refused` and reports it where it catches it (:meth:`Context.refuse`).

>>> ctx = Context()
>>> ctx.reject("app.log:3", Reason.BAD_JSON, "Expecting value", field="level")
>>> ctx.skip("below_min_level", 2)
>>> ctx.rejects[0].where, ctx.skipped
('app.log:3', {'below_min_level': 2})
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import fnmatch
import gzip
import hashlib
import json
import os
import re
import stat
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from .._reasons import Reason
from ..errors import ReaderError

__all__ = [
    "JSON_LINES_SUFFIXES",
    "MAX_DOCUMENT",
    "MAX_LINE",
    "READ_ERRORS",
    "ZERO_TIME_NOTE",
    "Context",
    "Input",
    "LineBlock",
    "Parsed",
    "Refused",
    "Reject",
    "Rule",
    "apply_rule",
    "check_rule",
    "digest",
    "expand",
    "is_zero_time",
    "json_document",
    "json_lines",
    "json_values",
    "kind_of",
    "level_rank",
    "line_blocks",
    "lines",
    "one_line",
    "pointer",
    "repaired",
    "revision",
    "severity_for_level",
    "stable_id",
    "summary_line",
    "where",
    "zero_as_missing",
]

#: Longest line a line reader keeps (16 MiB: collectors write whole batches on one line);
#: longer lines are rejected (``line_too_long``) without ever being held in memory whole.
MAX_LINE = 16 << 20
#: Largest JSON document (one file, in bytes once decompressed) a reader parses whole.
MAX_DOCUMENT = 256 << 20
_CHUNK = 1 << 20
#: Opening a FIFO that was swapped in after the check does not wait for a writer.
_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
#: What reading a (possibly gzip) file can raise part way: reported as ``unreadable``.
READ_ERRORS = (OSError, EOFError, zlib.error)
#: Namespace of the ids readers derive for investigations (uuid5).
_NAMESPACE = uuid.UUID("6f1d8a52-3c5e-4d0b-9a7e-2b4c8e1f0a93")

Model = Literal["event", "investigation"]
#: A caller's mapping rule: a dict (exact key, or glob pattern → value), a callable, or
#: one name for everything.
Rule = Mapping[str, str | None] | Callable[[str], str | None] | str
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Reject:
    """One input record that could not be read.

    Attributes:
        where: ``file:line``, ``file#/json/pointer`` or the file (or repository) alone.
        code: Why (``bad_json``, ``not_utf8``, ``line_too_long``, ``missing``,
            ``invalid_datetime``, ``invalid_type``, ``too_large``, ``not_regular_file``,
            ``unreadable`` ...; see ``docs/reasons.md``).
        message: What was wrong, for people.
        field: The field at fault, when one is.
        value: The offending value, when there is one.
        record: The record's id or key, when known (the store's rejects know it).
    """

    where: str
    code: Reason
    message: str
    field: str | None = None
    value: Any = None
    record: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """One record a reader made: model field names to values, and where it came from."""

    model: Model
    record: dict[str, Any]
    where: str


class Context:
    """What a running reader reports besides records: rejects, skips, progress.

    Args:
        progress: Called with ``(done, total)`` units whenever the reader advances
            (``total`` may grow as the reader discovers more input), or None.
    """

    def __init__(self, progress: Callable[[int, int], None] | None = None) -> None:
        self.rejects: list[Reject] = []
        self.skipped: dict[str, int] = {}
        self.notes: dict[str, int] = {}
        self._announced: dict[str, int] = {}
        self.unit = "B"
        self.total = 0
        self.done = 0
        self._progress = progress

    def reject(
        self,
        where: str,
        code: Reason,
        message: str,
        field: str | None = None,
        *,
        value: Any = None,
    ) -> None:
        """Record that the input at ``where`` could not become a record, and why.

        Raises:
            TypeError: ``code`` is not a :class:`~rca_analytics.Reason` (readers cannot
                make up codes).
        """
        if not isinstance(code, Reason):
            raise TypeError(f"a reject's code must be a Reason, not {code!r}")
        self.rejects.append(Reject(where, code, message, field, value))

    def refuse(self, err: Refused, at: str) -> None:
        """Record a :class:`Refused` as a reject: where it says, else ``at``."""
        self.reject(
            err.where if err.where is not None else at,
            err.code,
            err.message,
            err.field,
            value=err.value,
        )

    def skip(self, reason: str, count: int = 1) -> None:
        """Count input left out on purpose (below ``min_level``, a run not completed ...)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def note(self, what: str, count: int = 1) -> None:
        """Count something done to records that the caller should know (``naive_time_as_utc``)."""
        self.notes[what] = self.notes.get(what, 0) + count

    @property
    def files(self) -> int:
        """Files announced so far (:meth:`add_file`): the input files the reader found."""
        return len(self._announced)

    def add_file(self, path: Path) -> int:
        """Announce a file's size as work to do, once however often it is announced.

        Returns:
            The size announced (0 when the file cannot be looked at: reading it will
            report why).
        """
        key = os.fspath(path)
        size = self._announced.get(key)
        if size is None:
            size = 0
            with contextlib.suppress(OSError):
                size = path.stat().st_size
            self._announced[key] = size
            self.add_total(size)
        return size

    def add_total(self, amount: int, unit: str = "B") -> None:
        """Announce more work (bytes of a file, commits of a repository)."""
        self.unit = unit
        self.total += amount
        if self._progress is not None:
            self._progress(self.done, self.total)

    def advance(self, amount: int) -> None:
        """Count work done, in the unit of :meth:`add_total`."""
        self.done += amount
        if self._progress is not None:
            self._progress(self.done, self.total)


# --- naming records and places --------------------------------------------------------


def where(path: str | os.PathLike[str], line: int | None = None) -> str:
    """``file:line`` (or the file alone) as rejects name it.

    >>> where("logs/app.log", 12)
    'logs/app.log:12'
    """
    return f"{os.fspath(path)}:{line}" if line is not None else os.fspath(path)


def pointer(path: str | os.PathLike[str], *parts: str | int) -> str:
    """``file#/json/pointer`` (RFC 6901) of a value inside a JSON document.

    >>> pointer("alert.json", "alerts", 3, "labels", "a/b")
    'alert.json#/alerts/3/labels/a~1b'
    """
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{os.fspath(path)}#/" + "/".join(escaped) if parts else f"{os.fspath(path)}#"


def stable_id(*parts: object) -> str:
    """A UUID derived from ``parts``: the same input always gets the same record id.

    >>> stable_id("statuspage", "kctbh9vrtdwd", "0l2p9nhqnxpd") == stable_id(
    ...     "statuspage", "kctbh9vrtdwd", "0l2p9nhqnxpd")
    True
    """
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def digest(*parts: object, size: int = 16) -> str:
    """A short hex digest of ``parts`` (for source ids of records that have none).

    >>> digest("2026-03-01T10:00:00Z", "connection refused")
    '70b298763476449b'
    """
    h = hashlib.blake2b(digest_size=size // 2)
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def revision(time: dt.datetime | None) -> str | None:
    """A record's ``revision`` from the time it last changed in its source.

    Fixed-width UTC text, so that a later time is a greater revision: an ingest then
    replaces a stored record only with a newer version of it.

    >>> revision(dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    '2026-03-01T10:00:00.000000Z'
    """
    if time is None or time.tzinfo is None:
        return None
    return time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- zero ("unset") times ----------------------------------------------------------------

#: The note of a time read as absent because it is its producer's "unset" value.
ZERO_TIME_NOTE = "zero_time_as_missing"
#: The year of a time written as text (``0001-01-01T00:00:00Z``, ``0000-12-31 19:03:58``).
_TEXT_YEAR = re.compile(r"\s*(\d{4})-\d{1,2}-\d{1,2}(?:$|[T t\s])")
#: Zero as text: ``0``, ``00``, ``0.0`` (``"0"`` is how OTLP/JSON writes an unset time).
_TEXT_ZERO = re.compile(r"\s*0+(?:\.0*)?\s*")


def is_zero_time(value: object, *, unix: bool = False) -> bool:
    """Whether ``value`` is a producer's "unset" time rather than a time.

    Text dated in year 1 or earlier is: Go's zero ``time.Time``
    (``0001-01-01T00:00:00Z``, with any fraction or offset, and as Go prints it in a
    zone west of UTC: ``0000-12-31T19:03:58-04:56``), .NET's ``DateTime.MinValue``
    (``0001-01-01T00:00:00``), ``0001-01-01 00:00:00``, MySQL's zero date
    ``0000-00-00 00:00:00``. No event of interest is that old. With ``unix`` (a field of
    Unix time), zero is too, as a number or text (``0``, ``"0"``): OTLP defines a
    ``*UnixNano`` of 0 as unset. None and ``""`` are not zero times but absent ones.

    >>> [is_zero_time(t) for t in ("0001-01-01T00:00:00Z", "0001-01-01 00:00:00.000+00:00",
    ...                            "0000-12-31T19:03:58-04:56", "2026-03-01T10:00:00Z")]
    [True, True, True, False]
    >>> is_zero_time("0", unix=True), is_zero_time(0, unix=True), is_zero_time(0)
    (True, True, False)
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return unix and value == 0
    if not isinstance(value, str):
        return False
    if unix and _TEXT_ZERO.fullmatch(value):
        return True
    m = _TEXT_YEAR.match(value)
    return m is not None and int(m.group(1)) <= 1


def zero_as_missing(value: _T, ctx: Context, *, unix: bool = False) -> _T | None:
    """``value``, or None (noted ``zero_time_as_missing``) when it is a zero time.

    A reader calls it on a raw time before its own parsing, so that an "unset" time
    (see :func:`is_zero_time`) follows the reader's rule for a missing one: another
    time stands in, or the record is rejected (``missing``), never stored as year 1.

    >>> ctx = Context()
    >>> zero_as_missing("0001-01-01T00:00:00Z", ctx), zero_as_missing("2026-03-01", ctx)
    (None, '2026-03-01')
    >>> ctx.notes
    {'zero_time_as_missing': 1}
    """
    if is_zero_time(value, unix=unix):
        ctx.note(ZERO_TIME_NOTE)
        return None
    return value


def check_rule(option: str, rule: object) -> None:
    """Refuse an option value that is not a :data:`Rule` (before anything is read).

    >>> check_rule("component", {"src/*": "api"})
    >>> check_rule("component", 3)
    Traceback (most recent call last):
    ...
    rca_analytics.errors.ReaderError: component must be a name, a dict ... or a callable; not int
    """
    if rule is None or isinstance(rule, str) or callable(rule):
        return
    if isinstance(rule, Mapping) and all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in rule.items()
    ):
        return
    raise ReaderError(
        f"{option} must be a name, a dict of name or glob pattern to name, or a callable; "
        f"not {type(rule).__name__}"
    )


def apply_rule(rule: Rule | None, value: str | None) -> str | None:
    """Map ``value`` with a caller's rule; ``None`` when no rule or nothing matches.

    A dict maps exact keys first, then glob patterns (``"services/*/api/**"``) in
    order; a callable is called with the value; a string is the answer for every value.

    >>> rules = {"README.md": "docs", "src/payments/*": "payments"}
    >>> apply_rule(rules, "src/payments/api.py"), apply_rule(rules, "other"), apply_rule(None, "x")
    ('payments', None, None)
    """
    if rule is None or value is None:
        return None
    if isinstance(rule, str):
        return rule
    if callable(rule):
        return rule(value)
    if value in rule:
        return rule[value]
    for pattern, target in rule.items():
        if fnmatch.fnmatchcase(value, pattern):
            return target
    return None


# --- levels ----------------------------------------------------------------------------

_LEVEL_NAMES = {
    "emerg": 0, "emergency": 0, "panic": 0, "fatal": 1, "alert": 1, "crit": 2,
    "critical": 2, "err": 3, "error": 3, "eror": 3, "severe": 3, "warn": 4, "warning": 4,
    "wrn": 4, "notice": 5, "info": 6, "information": 6, "informational": 6, "inf": 6,
    "debug": 7, "dbg": 7, "trace": 8, "verbose": 8, "fine": 8, "finer": 8, "finest": 8,
}  # fmt: skip
_SEVERITY_BY_RANK = ["critical", "critical", "critical", "high", "medium", "low", "info"]


def level_rank(level: object) -> int | None:
    """A syslog-like rank of a log level name or number (0 = emergency ... 8 = trace).

    Names are case-insensitive (``ERROR``, ``Warn``, ``crit``); numbers are syslog
    severities 0-7, or Bunyan levels 10-60 (10 trace ... 60 fatal).

    >>> level_rank("WARNING"), level_rank(50), level_rank(3), level_rank("loud")
    (4, 3, 3, None)
    """
    if isinstance(level, bool):
        return None
    if isinstance(level, int):
        if 0 <= level <= 7:
            return level
        bunyan = {10: 8, 20: 7, 30: 6, 40: 4, 50: 3, 60: 1}
        return bunyan.get(level)
    if isinstance(level, str):
        name = level.strip().lower()
        if name.isascii() and name.isdigit() and len(name) <= 3:
            return level_rank(int(name))
        return _LEVEL_NAMES.get(name)
    return None


def severity_for_level(rank: int) -> str:
    """Event severity of a level rank.

    Emergency, alert and critical → critical; error → high; warning → medium;
    notice → low; info and below → info.

    >>> [severity_for_level(r) for r in (1, 3, 4, 5, 6, 7)]
    ['critical', 'high', 'medium', 'low', 'info', 'info']
    """
    return _SEVERITY_BY_RANK[rank] if rank < len(_SEVERITY_BY_RANK) else "info"


# --- files -------------------------------------------------------------------------------


def expand(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    suffixes: tuple[str, ...] = (),
    ctx: Context | None = None,
) -> list[Path]:
    """The files named by ``paths``: files as given, folders walked (sorted, recursive).

    In folders only names ending in one of ``suffixes`` (any name when empty) are
    taken, hidden files and folders never. A FIFO, device or socket is listed like a
    file, for :class:`Input` to refuse it (``not_regular_file``) when it is read. With
    ``ctx``, the sizes are announced as the work to do (so a progress bar knows the
    whole of it from the start).

    Raises:
        ReaderError: A path does not exist.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for sub in sorted(path.rglob("*")):
                rel = sub.relative_to(path).parts
                if any(p.startswith(".") for p in rel) or sub.is_dir() or not sub.exists():
                    continue  # hidden, a folder (walked), or a link to nothing
                if not suffixes or sub.name.lower().endswith(suffixes):
                    found.append(sub)
        elif path.exists():
            found.append(path)
        else:
            raise ReaderError(f"{path}: no such file or folder")
    unique = list(dict.fromkeys(found))  # a file named twice is read once
    if ctx is not None:
        for path in unique:
            ctx.add_file(path)
    return unique


class Refused(ReaderError):
    """Input a reader does not take: the one exception every reader raises inside itself.

    A file refused whole (``not_regular_file``, ``too_large``), a record or value that
    cannot be read (``missing``, ``invalid_type`` ...), a tool that failed
    (``git_failed``). The reader catches it and reports it (:meth:`Context.refuse`);
    it never leaves a reader.

    >>> err = Refused(Reason.MISSING, "the alert has no labels", field="labels")
    >>> ctx = Context()
    >>> ctx.refuse(err, "alerts.json#/alerts/0")
    >>> ctx.rejects[0].where, ctx.rejects[0].code, ctx.rejects[0].field
    ('alerts.json#/alerts/0', <Reason.MISSING: 'missing'>, 'labels')

    Args:
        code: Why.
        message: What was wrong, for people.
        where: Where, when the raiser knows (``file:line``, ``file#/pointer``); else the
            place the catcher names.
        field: The field at fault, when one is.
        value: The offending value, when there is one.
    """

    def __init__(
        self,
        code: Reason,
        message: str,
        *,
        where: str | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.where = where
        self.field = field
        self.value = value


_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _check_regular(mode: int) -> None:
    """Refuse what is not a regular file: reading it could block or never end."""
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _SPECIAL if test(mode)), "not a regular file")
    raise Refused(Reason.NOT_REGULAR_FILE, f"{kind}, not a regular file: not read")


class Input:
    """A regular file open for reading, decompressed when named ``*.gz``, up to a limit.

    The file is looked at (``stat``) before it is opened: a FIFO (opening it waits for
    a writer), a device (``/dev/zero`` never ends) or a socket is refused unopened.
    Limits count the bytes read (decompressed), never the size on disk: reading stops
    after ``limit + 1`` bytes, so memory stays bounded whatever the file inflates to.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "a.json.gz"
    >>> _ = path.write_bytes(gzip.compress(b" " * 100))
    >>> with Input(path, limit=64) as f:
    ...     f.read_all()
    Traceback (most recent call last):
    ...
    rca_analytics.ingest._base.Refused: more than 64 bytes (decompressed): too large to read whole

    Args:
        path: The file.
        limit: Most bytes that may be read (decompressed), or None for no limit.

    Raises:
        Refused: ``path`` is not a regular file (``not_regular_file``), or an
            uncompressed file is larger than ``limit`` (``too_large``).
        OSError: It cannot be opened.
    """

    def __init__(self, path: Path, *, limit: int | None = None) -> None:
        info = os.stat(path)
        _check_regular(info.st_mode)
        self.size = info.st_size
        self.compressed = path.name.lower().endswith(".gz")
        self.limit = limit
        self.taken = 0
        if limit is not None and not self.compressed and self.size > limit:
            raise Refused(Reason.TOO_LARGE, f"{self.size:,} bytes: too large to read whole")
        self._file = os.fdopen(os.open(path, os.O_RDONLY | _NONBLOCK), "rb")
        try:
            _check_regular(os.fstat(self._file.fileno()).st_mode)  # swapped since the stat?
        except Refused:
            self._file.close()
            raise
        self._stream: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=self._file, mode="rb") if self.compressed else self._file
        )

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._stream.close()
        self._file.close()

    @property
    def position(self) -> int:
        """Bytes of the file (as on disk) consumed so far, for progress."""
        return self._file.tell()

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only at the end of the file).

        Raises:
            Refused: More than ``limit`` bytes in all (``too_large``).
            OSError: Reading failed (``EOFError``, ``zlib.error`` for broken gzip).
        """
        if self.limit is not None:
            size = min(size, self.limit + 1 - self.taken)
        block = self._stream.read(size)
        self.taken += len(block)
        if self.limit is not None and self.taken > self.limit:
            unpacked = " (decompressed)" if self.compressed else ""
            raise Refused(
                Reason.TOO_LARGE,
                f"more than {self.limit:,} bytes{unpacked}: too large to read whole",
            )
        return block

    def read_all(self) -> bytearray:
        """The rest of the file (at most ``limit`` bytes), read in blocks.

        Raises:
            Refused: More than ``limit`` bytes (``too_large``).
            OSError: Reading failed.
        """
        whole = bytearray()
        while block := self.read(_CHUNK):
            whole += block
        return whole


def lines(path: Path, ctx: Context) -> Iterator[tuple[int, str]]:
    """The lines of a text file (``.gz`` too), streamed, numbered from 1, without EOL.

    As :func:`line_blocks` reads them, one at a time; blank lines are passed over.
    """
    for block in line_blocks(path, ctx):
        first, problems = block.first, block.problems
        for i, text in enumerate(block.texts):
            if problems and i in problems:
                block.report(path, ctx, i)
            elif text.strip(_BLANK):
                yield first + i, text


#: What makes a line blank (ASCII white space).
_BLANK = " \t\n\r\x0b\x0c"


class LineBlock:
    """The lines of one block: the first one's number, and their text.

    Blank lines and the lines refused are there (as blank); the refused ones' rejects
    wait in :attr:`problems` (by index) for their turn.
    """

    __slots__ = ("first", "problems", "texts")

    def __init__(
        self, first: int, texts: list[str], problems: dict[int, tuple[Reason, str]] | None = None
    ) -> None:
        self.first = first
        self.texts = texts
        self.problems = problems or {}

    def report(self, path: Path, ctx: Context, index: int) -> None:
        """Reject the line at ``index`` (one of :attr:`problems`)."""
        code, message = self.problems[index]
        ctx.reject(where(path, self.first + index), code, message)


def line_blocks(path: Path, ctx: Context, block: int = _CHUNK) -> Iterator[LineBlock]:
    r"""The lines of a text file (``.gz`` too) in blocks, numbered from 1, without EOL.

    Lines that are not UTF-8 are rejected (``not_utf8``), longer than
    :data:`MAX_LINE` bytes too (``line_too_long``: the rest of such a line is passed
    over as it is read, never held); they stay in their block as blank lines, as
    blank lines do. A UTF-8 byte-order mark is dropped, a ``\r`` before a line's end
    too; progress advances by bytes of the file read. A file that is not a regular one
    is rejected whole (``not_regular_file``).
    """
    size = ctx.add_file(path)
    number = 0  # lines handed out or rejected so far
    done = 0
    pending = b""
    overlong = False
    try:
        with Input(path) as f:
            while True:
                data = f.read(block)
                ctx.advance(f.position - done)
                done = f.position
                if not data:
                    break
                if number == 0 and not pending and data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8) :]
                cut_at = data.rfind(b"\n")
                if cut_at < 0:  # no line ends in this block
                    pending += data
                    if len(pending) > MAX_LINE:
                        overlong, pending = True, b""
                    continue
                whole = pending + data[:cut_at]
                pending = data[cut_at + 1 :]
                if overlong:  # the rest of a long line ends here
                    number += 1
                    ctx.reject(where(path, number), Reason.LINE_TOO_LONG, _too_long())
                    first_end = whole.find(b"\n")
                    whole = b"" if first_end < 0 else whole[first_end + 1 :]
                    overlong = False
                    if first_end < 0:
                        continue
                batch = _decode(whole, number + 1)
                number += len(batch.texts)
                yield batch
            if overlong or pending:
                number += 1
                if overlong or len(pending) > MAX_LINE:
                    ctx.reject(where(path, number), Reason.LINE_TOO_LONG, _too_long())
                else:
                    yield _decode(pending, number)
    except Refused as err:
        ctx.refuse(err, where(path))
    except READ_ERRORS as err:
        ctx.reject(where(path, number + 1), Reason.UNREADABLE, f"cannot read on: {err}")
    ctx.advance(max(size - done, 0))


def _decode(raw: bytes, first: int) -> LineBlock:
    """The lines of complete lines' bytes; bad ones blank, their rejects kept aside."""
    try:
        if len(raw) <= MAX_LINE or raw.find(b"\n") >= 0:
            text = raw.decode("utf-8")
            if len(text) <= MAX_LINE or all(len(x) <= MAX_LINE for x in text.split("\n")):
                return LineBlock(first, text.replace("\r\n", "\n").removesuffix("\r").split("\n"))
    except UnicodeDecodeError:
        pass
    texts: list[str] = []
    problems: dict[int, tuple[Reason, str]] = {}
    for i, part in enumerate(raw.split(b"\n")):
        if len(part) > MAX_LINE:
            problems[i] = (Reason.LINE_TOO_LONG, _too_long())
            texts.append("")
            continue
        try:
            texts.append(part.removesuffix(b"\r").decode("utf-8"))
        except UnicodeDecodeError as err:
            problems[i] = (
                Reason.NOT_UTF8,
                f"bytes at column {err.start + 1} are not UTF-8 text (binary data?)",
            )
            texts.append("")
    return LineBlock(first, texts, problems)


def _too_long() -> str:
    return f"line longer than {MAX_LINE:,} bytes; left out"


def json_lines(path: Path, ctx: Context) -> Iterator[tuple[int, Any]]:
    """Each line of a JSON-lines file decoded, numbered; bad lines rejected (``bad_json``)."""
    for number, text in lines(path, ctx):
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as err:
            ctx.reject(where(path, number), Reason.BAD_JSON, f"column {err.colno}: {err.msg}")
        except (ValueError, RecursionError) as err:  # 5,000-digit numbers, deep nesting
            ctx.reject(where(path, number), Reason.BAD_JSON, _json_problem(err))


def json_document(path: Path, ctx: Context) -> Any | None:
    """A whole JSON file decoded, or None after rejecting it (naming line and column).

    Files of more than :data:`MAX_DOCUMENT` (256 MiB) bytes, counted decompressed for
    ``.gz``, are rejected (``too_large``) after reading at most that much; readers of
    big inputs stream them as JSON lines instead. A FIFO, device or socket is rejected
    unopened (``not_regular_file``). (A file holding ``null`` also gives None;
    :func:`json_values` tells the two apart.)
    """
    value = _document(path, ctx, lines_follow=False)
    return None if value is _NOTHING else value


_NOTHING = object()
_LINES_FOLLOW = object()


def _document(path: Path, ctx: Context, *, lines_follow: bool) -> Any:
    """:func:`json_document`, with ``_NOTHING`` after a reject.

    With ``lines_follow``, ``_LINES_FOLLOW`` when the file is JSON values one per line
    (read on by :func:`lines`, which counts the progress).
    """
    size = ctx.add_file(path)
    value = _decoded(path, ctx, lines_follow=lines_follow)
    if value is not _LINES_FOLLOW:
        ctx.advance(size)
    return value


def _decoded(path: Path, ctx: Context, *, lines_follow: bool) -> Any:
    try:
        with Input(path, limit=MAX_DOCUMENT) as f:
            raw = f.read_all()
    except Refused as err:
        ctx.refuse(err, where(path))
        return _NOTHING
    except READ_ERRORS as err:
        ctx.reject(where(path), Reason.UNREADABLE, str(err))
        return _NOTHING
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        ctx.reject(
            where(path, line), Reason.NOT_UTF8, "bytes that are not UTF-8 text (binary data?)"
        )
        return _NOTHING
    del raw  # the text holds it now: half the memory while parsing
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        if lines_follow and err.msg == "Extra data" and text[: err.pos].rstrip().count("\n") == 0:
            return _LINES_FOLLOW  # the first line is a whole value: JSON lines after all
        ctx.reject(where(path, err.lineno), Reason.BAD_JSON, f"column {err.colno}: {err.msg}")
        return _NOTHING
    except (ValueError, RecursionError) as err:
        ctx.reject(where(path), Reason.BAD_JSON, _json_problem(err))
        return _NOTHING


def _json_problem(err: Exception) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    return str(err).split(";")[0]  # e.g. "Exceeds the limit (4300 digits) for integer ..."


#: Names always read as JSON lines by :func:`json_values`.
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def _looks_like_json_lines(path: Path) -> bool:
    """At least two lines, the first a whole JSON value (collectors write ``.json`` so)."""
    try:
        with Input(path) as f:
            head = f.read(MAX_LINE + 1)
    except (Refused, *READ_ERRORS):
        return False  # json_document reports it
    rows = [r for r in head.removeprefix(codecs.BOM_UTF8).split(b"\n") if r.strip()]
    if len(rows) < 2:
        return False
    try:
        json.loads(rows[0])
    except (ValueError, RecursionError):
        return False
    return True


def json_values(path: Path, ctx: Context) -> Iterator[tuple[str, tuple[int, ...], Any]]:
    """Each JSON value of a file: ``(where prefix, pointer parts, value)``.

    A file is JSON lines when named so (:data:`JSON_LINES_SUFFIXES`) or when its first
    line is a whole JSON value and more lines follow; else one document. A top-level
    list gives its items (pointer parts ``(i,)``); a ``null`` document is yielded as
    None, for the reader to reject. The prefix is ``file:line`` for
    JSON lines and the file otherwise, for :func:`pointer`.
    """
    as_lines = path.name.lower().endswith(JSON_LINES_SUFFIXES) or _looks_like_json_lines(path)
    if not as_lines:
        value = _document(path, ctx, lines_follow=True)
        if value is _NOTHING:
            return
        if value is not _LINES_FOLLOW:
            yield from _items(os.fspath(path), value)
            return
        # first line longer than the look-ahead, more lines after it: JSON lines
    for number, value in json_lines(path, ctx):
        yield from _items(where(path, number), value)


def _items(prefix: str, value: Any) -> Iterator[tuple[str, tuple[int, ...], Any]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield prefix, (i,), item
    else:
        yield prefix, (), value


def kind_of(value: Any) -> str:
    """The JSON-ish name of a value's type, for messages.

    >>> kind_of(None), kind_of([1]), kind_of("x")
    ('null', 'list', 'str')
    """
    return "null" if value is None else type(value).__name__


_BLANKS = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def one_line(text: str, limit: int = 200) -> str:
    r"""``text`` on one line, cut to ``limit`` characters (for titles and messages).

    >>> one_line("disk  full\n on /var", 12)
    'disk full o…'
    """
    flat = _BLANKS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def summary_line(text: str) -> str:
    r"""An event's summary from source text: one line, at most 200 characters.

    A lone surrogate shows as U+FFFD: the summary repeats text that is stored (and
    checked) elsewhere in the record, so it must not be a second reason to refuse it.

    >>> summary_line("disk \ud800 full\n on /var")
    'disk \ufffd full on /var'
    """
    return one_line(_without_surrogates(text), 200)


def repaired(value: _T, ctx: Context) -> _T:
    r"""``value`` with lone surrogates (``"\ud800"`` escapes in JSON) as U+FFFD.

    Text, or the dicts (keys too) and lists of it that a record holds. Such text is
    not Unicode (UTF-8 cannot hold it, the store refuses it); a call that replaced
    something is noted (``text_repaired``), so nothing changes silently.

    >>> ctx = Context()
    >>> repaired({"msg": "bad \ud800 here", "n": [1, "ok"]}, ctx) == {
    ...     "msg": "bad \ufffd here", "n": [1, "ok"]}
    True
    >>> repaired("fine ✓", ctx), ctx.notes
    ('fine ✓', {'text_repaired': 1})
    """
    fixed: _T = _without_surrogates(value)
    if fixed != value:
        ctx.note("text_repaired")
    return fixed


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    return value
