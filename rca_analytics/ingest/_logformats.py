r"""Pieces of the logs reader: times, level words, logfmt, syslog, plain headers, templates.

Pure functions on text; :mod:`rca_analytics.ingest.logs` does the files and the records.

>>> template("GET /api/orders/81234 took 35ms for user 'bob'")
"GET /api/orders/<*> took <*> for user '<*>'"
>>> logfmt('time="2021-09-15T21:17:10Z" level=error msg="pod \\"x\\" gone" n=1')
{'time': '2021-09-15T21:17:10Z', 'level': 'error', 'msg': 'pod "x" gone', 'n': '1'}
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from pathlib import Path

from ._base import Input

__all__ = [
    "FACILITIES",
    "LEVEL_WORDS",
    "SYSLOG_LEVELS",
    "Syslog",
    "classify",
    "epoch",
    "head",
    "is_level_word",
    "logfmt",
    "plain_header",
    "sample",
    "syslog",
    "template",
    "text_time",
]

#: Bytes of a file read to detect its format, and lines of it looked at.
HEAD_BYTES = 64 << 10
HEAD_LINES = 20

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# --- times ----------------------------------------------------------------------------------


def epoch(value: float) -> dt.datetime:
    """An epoch time in seconds, milliseconds, microseconds or nanoseconds, told apart by size.

    Below 10^11 it is seconds (up to the year 5138), below 10^14 milliseconds, below
    10^17 microseconds, else nanoseconds (cut to microseconds).

    >>> epoch(1534860261221373).isoformat(), epoch(1700000000).isoformat()
    ('2018-08-21T14:04:21.221373+00:00', '2023-11-14T22:13:20+00:00')

    Raises:
        OverflowError: Out of the range of datetimes.
        ValueError: Not a finite number.
    """
    size = abs(value)
    if isinstance(value, int):
        if size < 10**11:
            us = value * 1_000_000
        elif size < 10**14:
            us = value * 1_000
        elif size < 10**17:
            us = value
        else:
            us = value // 1_000
    else:
        if value != value or size == float("inf"):
            raise ValueError("not a finite number")
        scale = 1e6 if size < 1e11 else 1e3 if size < 1e14 else 1.0 if size < 1e17 else 1e-3
        us = round(value * scale)
    return _EPOCH + dt.timedelta(microseconds=us)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ZONE_WORD = re.compile(r"\s*(?:Z|UTC|GMT)$")
_SPACED_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def text_time(text: str) -> dt.datetime:
    """A time written as text; naive when the text has no offset.

    ISO 8601 / RFC 3339 (``T`` or space, ``.`` or ``,`` fractions of any length),
    epoch digits, ``2024/01/02 03:04:05``, Apache ``02/Jan/2024:03:04:05 +0000``, or
    RFC 2822.

    >>> text_time("2024-01-02 03:04:05,123").isoformat()
    '2024-01-02T03:04:05.123000'
    >>> text_time("02/Jan/2024:03:04:05 +0100").isoformat()
    '2024-01-02T03:04:05+01:00'

    Raises:
        ValueError: Not a time this function knows (OverflowError when out of range).
    """
    s = text.strip()
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        pass
    if _NUMBER.fullmatch(s):
        return epoch(float(s) if "." in s else int(s))
    s2 = _ZONE_WORD.sub("+00:00", s)
    s2 = _SPACED_OFFSET.sub(r"\1", s2)
    if len(s2) >= 10 and s2[4] == "/" and s2[7] == "/":
        s2 = f"{s2[:4]}-{s2[5:7]}-{s2[8:]}"
    if s2 != s:
        try:
            return dt.datetime.fromisoformat(s2)
        except ValueError:
            pass
    if len(s) >= 20 and s[2] == "/" and s[6] == "/":
        fmt = "%d/%b/%Y:%H:%M:%S %z" if len(s) > 20 else "%d/%b/%Y:%H:%M:%S"
        return dt.datetime.strptime(s, fmt)
    try:
        return email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not a time: {s[:60]!r}") from None


# --- levels as words in text ------------------------------------------------------------------

#: Level names recognised as words in plain lines and syslog messages.
LEVEL_WORDS = frozenset(
    {
        "emerg", "emergency", "panic", "fatal", "alert", "crit", "critical", "err", "error",
        "eror", "severe", "warn", "warning", "wrn", "notice", "info", "information",
        "informational", "inf", "debug", "dbg", "trace", "verbose", "fine", "finer", "finest",
    }
)  # fmt: skip
_PUNCT = "[]()<>:|"


def is_level_word(token: str) -> bool:
    """Whether a header token names a level (``ERROR``, ``[warn]``, ``level=error``)."""
    return _level_word(token) is not None


def _level_word(token: str) -> str | None:
    """The level a header token names: ``ERROR``, ``[warn]``, ``<info>``, ``level=error``."""
    if token.startswith(("level=", "lvl=")):
        value = token.partition("=")[2].strip('"')
        return value if value.lower() in LEVEL_WORDS else None
    bare = token.strip(_PUNCT)
    if not bare or bare.lower() not in LEVEL_WORDS:
        return None
    if bare.isupper() or token[0] in "[(<":
        return bare
    return None


# --- plain lines -----------------------------------------------------------------------------

_TS_BSD = r"[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?"
_TOKEN = re.compile(r"\S+")
_THREAD = re.compile(r"\[([^\]]{1,200})\]\s*")
_LOGGER = re.compile(r"([A-Za-z_$][\w.$/-]*)( - |: )")
_SEPARATORS = frozenset({"-", "|", ":", "--"})


def plain_header(rest: str) -> tuple[str | None, str | None, str | None, str]:
    """(level, logger, thread, message) of what follows the time of a plain line.

    The level is the first of the next four words that names one, in capitals
    (``ERROR``) or brackets (``[warn]``, ``<info>``), or ``level=...``. A single word
    before it is the logger (``[thread]`` in brackets); after it, ``[thread]`` and
    ``logger -`` (or ``logger:`` after a thread, or a dotted ``a.b.C:``) are taken off
    the message.

    >>> plain_header("ERROR [main] foo: msg")
    ('ERROR', 'foo', 'main', 'msg')
    >>> plain_header("- payments.db - WARNING - slow query 3 s")
    ('WARNING', 'payments.db', None, 'slow query 3 s')
    >>> plain_header("something happened")
    (None, None, None, 'something happened')
    """
    before: list[str] = []
    for i, m in enumerate(_TOKEN.finditer(rest)):
        if i >= 4:
            break
        token = m.group()
        level = _level_word(token)
        if level is None:
            if token not in _SEPARATORS:
                before.append(token)
            continue
        logger = thread = None
        if len(before) == 1:
            word = before[0].rstrip(":")
            if word.startswith("[") and word.endswith("]"):
                thread = word[1:-1] or None
            else:
                logger = word or None
        after = rest[m.end() :].lstrip()
        if after[:2] in ("- ", ": ", "| "):
            after = after[2:].lstrip()
        t = _THREAD.match(after)
        if t is not None:
            thread = t.group(1)
            after = after[t.end() :]
        lg = _LOGGER.match(after)
        if lg is not None and (lg.group(2) == " - " or t is not None or "." in lg.group(1)):
            logger = lg.group(1)
            after = after[lg.end() :]
        return level, logger, thread, after
    return None, None, None, rest


# --- logfmt ----------------------------------------------------------------------------------

_PAIR = re.compile(r'([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|\S*))?')


def logfmt(text: str) -> dict[str, str]:
    """The ``key=value`` pairs of a logfmt line; empty when it has none.

    Quoted values are unescaped; bare keys are ``"true"``.
    """
    out: dict[str, str] = {}
    pairs = 0
    for key, value in _PAIR.findall(text):
        if value.startswith('"') and len(value) >= 2 and value.endswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            pairs += 1
        elif value:
            pairs += 1
        else:
            # bare word, or "key=" with nothing after: a pair only when '=' is there
            if text.find(key + "=") >= 0:
                pairs += 1
                value = ""
            else:
                value = "true"
        out.setdefault(key, value)
    return out if pairs else {}


_LOGFMT_START = re.compile(r"\s*[\w.@/-]+=(?:\"|\S)")


# --- syslog ----------------------------------------------------------------------------------

_5424 = re.compile(
    r"<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) "
    r"(?P<procid>\S+) (?P<msgid>\S+)(?: (?P<rest>.*))?$",
    re.S,
)
_3164 = re.compile(
    rf"(?:<(?P<pri>\d{{1,3}})>)?(?:(?P<bsd>{_TS_BSD})|(?P<iso>\d{{4}}-\d{{2}}-\d{{2}}T\S+))"
    r"\s+(?P<rest>.*)$",
    re.S,
)
_TAGGED = re.compile(
    r"(?:(?P<host>[^\s:\[\]]+)\s+)?(?P<tag>[^\s:\[\]]+)(?:\[(?P<pid>[^\]]*)\])?:(?:\s|$)(?P<msg>.*)$",
    re.S,
)
_SD_ELEMENT = re.compile(r'\[(?P<id>[^\s\]=]+)(?P<params>(?:\s+[^\s=\]]+="(?:[^"\\]|\\.)*")*)\s*\]')
_SD_PARAM = re.compile(r'([^\s=\]]+)="((?:[^"\\]|\\.)*)"')
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")

#: Syslog severity names (RFC 5424 table 2), by number.
SYSLOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
#: Syslog facility names (RFC 5424 table 1), by number.
FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip


class Syslog:
    """One parsed syslog line (either RFC).

    Attributes:
        rfc: 5424 or 3164.
        pri: The PRI number, or None when the line has none.
        time: The timestamp text (None when nil).
        bsd: True when the time is ``Mmm dd hh:mm:ss`` (no year, no zone).
        host, app, procid, msgid: Header fields (None when nil ``-`` or absent).
        data: Structured data as ``sd-id.param`` → value (RFC 5424).
        message: The message (BOM removed).
    """

    __slots__ = ("app", "bsd", "data", "host", "message", "msgid", "pri", "procid", "rfc", "time")

    def __init__(self, rfc: int, pri: int | None, time: str | None, bsd: bool) -> None:
        self.rfc = rfc
        self.pri = pri
        self.time = time
        self.bsd = bsd
        self.host: str | None = None
        self.app: str | None = None
        self.procid: str | None = None
        self.msgid: str | None = None
        self.data: dict[str, str] = {}
        self.message = ""


def _nil(value: str | None) -> str | None:
    return None if value is None or value == "-" else value


def syslog(text: str) -> Syslog | None:
    r"""A syslog line (RFC 5424, or RFC 3164 with or without PRI), or None.

    >>> s = syslog('<165>1 2003-10-11T22:14:15.003Z web1 evntslog - ID47 '
    ...            '[exampleSDID@32473 iut="3" eventSource="App"] \ufeffAn application event')
    >>> s.rfc, s.pri, s.host, s.app, s.procid, s.msgid, s.message
    (5424, 165, 'web1', 'evntslog', None, 'ID47', 'An application event')
    >>> s.data
    {'exampleSDID@32473.iut': '3', 'exampleSDID@32473.eventSource': 'App'}
    >>> s = syslog("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed on /dev/pts/8")
    >>> s.rfc, s.pri, s.time, s.host, s.app, s.procid, s.message
    (3164, 34, 'Oct 11 22:14:15', 'mymachine', 'su', '230', "'su root' failed on /dev/pts/8")
    """
    m = _5424.match(text)
    if m is not None:
        out = Syslog(5424, int(m["pri"]), _nil(m["ts"]), False)
        out.host, out.app = _nil(m["host"]), _nil(m["app"])
        out.procid, out.msgid = _nil(m["procid"]), _nil(m["msgid"])
        rest = m["rest"] or ""
        if rest.startswith("-"):
            rest = rest[2:] if rest[1:2] == " " else rest[1:]
        else:
            pos = 0
            while True:
                sd = _SD_ELEMENT.match(rest, pos)
                if sd is None:
                    break
                for key, value in _SD_PARAM.findall(sd["params"]):
                    out.data[f"{sd['id']}.{key}"] = _SD_UNESCAPE.sub(r"\1", value)
                pos = sd.end()
            rest = rest[pos:]
            if rest.startswith(" "):
                rest = rest[1:]
        out.message = rest[1:] if rest.startswith("\ufeff") else rest
        return out
    m = _3164.match(text)
    if m is None:
        return None
    bsd = m["bsd"]
    out = Syslog(3164, int(m["pri"]) if m["pri"] else None, bsd or m["iso"], bsd is not None)
    rest = m["rest"]
    t = _TAGGED.match(rest)
    if t is not None:
        out.host, out.app, out.procid = t["host"], t["tag"], t["pid"] or None
        out.message = t["msg"]
    else:
        host, _, message = rest.partition(" ")
        out.host, out.message = host or None, message
    return out


# --- detection -------------------------------------------------------------------------------


def classify(text: str) -> str | None:
    """Whether one line is a structured record: ``json``, ``logfmt``, or None.

    (Line formats are told apart by their patterns: ``_logpatterns.detect``.)

    >>> [classify(s) for s in ('{"level":"info"}', "level=info msg=hi",
    ...  "<13>Mar  1 10:00:00 host app: hi", "2024-01-02 03:04:05 ERROR x")]
    ['json', 'logfmt', None, None]
    """
    s = text.lstrip()
    if s.startswith("{"):
        if s.startswith('{"'):
            return "json"
        try:
            return "json" if isinstance(json.loads(s), dict) else None
        except (ValueError, RecursionError):
            return None
    if _LOGFMT_START.match(s) and len(logfmt(s)) >= 2:
        return "logfmt"
    return None


def head(path: Path) -> bytes:
    """The first bytes of a file (decompressed), to tell its format from."""
    with Input(path) as f:
        return f.read(HEAD_BYTES)


def sample(raw: bytes) -> list[str]:
    """The first non-blank, decodable lines of a file's head (its partial last line left out)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    parts = raw.split(b"\n")
    if len(raw) >= HEAD_BYTES - 3 and len(parts) > 1:
        parts.pop()
    out: list[str] = []
    for part in parts:
        try:
            text = part.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.strip():
            out.append(text)
            if len(out) >= HEAD_LINES:
                break
    return out


# --- templates -------------------------------------------------------------------------------

_QUOTED = re.compile(r"(?<![\w\"])\"[^\"\n]{1,200}\"|(?<![\w'])'[^'\n]{1,200}'(?![\w'])")
_VARIABLE = re.compile(r"(?<![\w.:+-])[\w.:+-]*\d[\w.:+-]*(?<![.:+-])")
#: Characters of a message's first line that the template is made of.
TEMPLATE_CHARS = 500


def template(message: str) -> str:
    r"""The template of a log message: what stays when variable parts are taken out.

    Only the first line counts (at most 500 characters). Quoted strings become
    ``"<*>"``, and every word with a digit in it (numbers, ids, hex, UUIDs, IPs,
    times, versions, ``k75gp``) becomes ``<*>``.

    >>> template("pod ns-2/hello-7-5ddd6bcd69-6rqct is not found: PodNotFound")
    'pod <*>/<*> is not found: PodNotFound'
    >>> template('user "bob" from 10.0.0.7:443 failed\nTraceback ...')
    'user "<*>" from <*> failed'
    """
    first = message.partition("\n")[0][:TEMPLATE_CHARS].strip()
    if '"' in first or "'" in first:
        first = _QUOTED.sub(_quoted_placeholder, first)
    return _VARIABLE.sub("<*>", first)


def _quoted_placeholder(m: re.Match[str]) -> str:
    q = m.group()[0]
    return f"{q}<*>{q}"
