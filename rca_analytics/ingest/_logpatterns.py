r"""Line formats of plain-text logs: the built-in catalogue and formats of your own.

A :class:`LineFormat` is a regular expression with named groups, matched at the
start of each line, and the time formats of its ``time`` group. The groups ``time``,
``level``, ``logger``, ``thread``, ``pid``, ``host`` and ``message`` fill the event;
every other named group goes into its ``data``. The patterns use the syntax both
Python's :mod:`re` and RE2 (DuckDB's engine) accept: no look-around, no
back-references.

>>> f = FORMATS["hdfs"]
>>> f.match("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 done")
... # doctest: +NORMALIZE_WHITESPACE
{'time': '081109 203615', 'pid': '148', 'level': 'INFO',
 'logger': 'dfs.DataNode$PacketResponder', 'message': 'PacketResponder 1 done'}
>>> user = LineFormat.custom(r"(?P<time>\S+ \S+) \[(?P<level>\w+)\] (?P<message>.*)",
...                          time_format="%d.%m.%Y %H:%M:%S")
>>> user.match("24.12.2025 10:00:00 [ERROR] disk full")["level"]
'ERROR'
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ReaderError
from . import _logformats as lf

__all__ = [
    "CATALOGUE",
    "FIELDS",
    "FORMATS",
    "PLAIN",
    "LineFormat",
    "continues",
    "detect",
    "user_format",
]

#: Groups that fill the event's own fields (every other named group goes into ``data``).
FIELDS = ("time", "level", "logger", "thread", "pid", "host", "message")
#: What ``level`` values of every format mean, besides the usual names (``ERROR``...).
_EMPTY: Mapping[str, str] = MappingProxyType({})

# Pieces of patterns.
_ISO = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
)
_MON = r"[A-Z][a-z]{2}"
_BSD = rf"{_MON} [ \d]?\d \d{{2}}:\d{{2}}:\d{{2}}(?:\.\d{{1,6}})?"
# A [thread] that may hold one level of brackets: [QuorumPeer[myid=1]/0:0:2181]
_BRACKETED = r"\[(?P<thread>(?:[^\[\]]|\[[^\]]*\])*)\]"
# Longest first: an alternative that is the start of another comes after it.
_LEVEL_WORDS = "|".join(sorted(lf.LEVEL_WORDS, key=lambda w: (-len(w), w)))
_UPPER_LEVELS = _LEVEL_WORDS.upper()
_ISO_TIMES = ("iso",)


def continues(line: str) -> bool:
    r"""Whether a line that is not an entry's first line looks like the rest of one.

    Indented lines, and the lines that Java and Python stack traces start at the
    margin: ``Caused by:``, ``Traceback (...``, ``... 5 more``, an exception's name.

    >>> [continues(s) for s in ("\tat a.B.c(B.java:1)", "java.io.IOException: x",
    ...                         "Caused by: x", "... 12 more", "hello there")]
    [True, True, True, True, False]
    """
    return _CONTINUES.match(line) is not None


#: RE2 and Python: what :func:`continues` tests.
CONTINUES = (
    r"(?:\s|Caused by:|Suppressed:|Traceback \(|During handling of|The above exception|"
    r"\.\.\. \d+ (?:more|common frames omitted)|"
    r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:Exception|Error|Throwable|Failure|Exit|"
    r"Interrupt|Warning)\b)"
)
_CONTINUES = re.compile(CONTINUES)


@dataclass(frozen=True, eq=False)
class LineFormat:
    """A plain-text log format: a pattern of named groups and how to read its fields.

    Attributes:
        name: What ``format=`` calls it.
        title: What it is, for people (``Apache error log``).
        pattern: Matched at the start of a line (Python ``re`` and RE2 syntax).
        time_formats: ``strptime`` formats of the ``time`` group (``%y %m %d %H %M %S``,
            ``%b`` month names, ``%a`` day names, ``%f`` microseconds, ``%g``
            milliseconds, ``%z`` offsets), tried in order; ``("iso",)`` reads ISO 8601
            / RFC 3339 in any precision, ``T`` or a space, ``.`` or ``,``.
            A format without a year (``%Y``/``%y``) takes ``year=`` or the inferred
            year (noted).
        levels: What its ``level`` values mean (lower case) when they are not the
            usual names: ``{"e": "error"}`` for klog's ``E0527``.
        level_from: ``level`` (the group), ``status`` (HTTP status: 5xx error, 4xx
            notice, else info) or ``pri`` (syslog PRI, else a level group).
        multiline: Lines that do not match and look like the rest of an entry (stack
            traces, indented lines) belong to the entry above.
        continuation_levels: Levels whose lines belong to the entry above
            (PostgreSQL's ``DETAIL:``, ``STATEMENT:``).
        sample: A line of the format (the docs and tests show it).
    """

    name: str
    title: str
    pattern: str
    time_formats: tuple[str, ...] = _ISO_TIMES
    levels: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    level_from: str = "level"
    multiline: bool = True
    continuation_levels: tuple[str, ...] = ()
    sample: str = ""
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            compiled = re.compile(self.pattern)
        except re.error as err:
            raise ReaderError(f"format {self.name!r}: the pattern is not valid: {err}") from None
        object.__setattr__(self, "compiled", compiled)

    # --- what the pattern holds ---------------------------------------------------------

    @property
    def groups(self) -> list[str]:
        """The names of the pattern's groups 1..n, in order (``_<n>`` when unnamed)."""
        names = {i: n for n, i in self.compiled.groupindex.items()}
        return [names.get(i, f"_{i}") for i in range(1, self.compiled.groups + 1)]

    @property
    def has_year(self) -> bool:
        """Whether its times carry a year (else one is given or inferred)."""
        return self.time_formats == _ISO_TIMES or all(
            "%Y" in f or "%y" in f for f in self.time_formats
        )

    def match(self, line: str) -> dict[str, str] | None:
        """The named groups of a line that matches (absent ones left out), or None."""
        m = self.compiled.match(line)
        if m is None:
            return None
        return {k: v for k, v in m.groupdict().items() if v is not None}

    # --- formats of your own ------------------------------------------------------------

    @classmethod
    def custom(
        cls,
        pattern: str,
        *,
        time_format: str | list[str] | tuple[str, ...] | None = None,
        name: str = "custom",
        title: str = "",
        levels: Mapping[str, str] | None = None,
        multiline: bool = True,
        sample: str = "",
    ) -> LineFormat:
        """A format of your own: a pattern with a ``time`` group, and its time format(s).

        Raises:
            ReaderError: The pattern is not valid, has no ``time`` group, uses what
                RE2 lacks (look-around, back-references), or a sample does not match.
        """
        if isinstance(time_format, str):
            formats: tuple[str, ...] = (time_format,)
        elif time_format:
            formats = tuple(time_format)
        else:
            formats = _ISO_TIMES
        for f in formats:
            if not isinstance(f, str) or not f:
                raise ReaderError(f"format {name!r}: time_format {f!r} is not a format")
        if re.search(r"\(\?<?[=!]|\\[1-9]|\(\?P=", pattern):
            raise ReaderError(
                f"format {name!r}: the pattern uses look-around or a back-reference, "
                "which the reader's engine (RE2) does not run"
            )
        out = cls(
            name=name,
            title=title or f"your format {name!r}",
            pattern=pattern,
            time_formats=formats,
            levels=MappingProxyType({str(k).lower(): str(v) for k, v in (levels or {}).items()}),
            multiline=multiline,
            sample=sample,
        )
        if "time" not in out.compiled.groupindex:
            raise ReaderError(f"format {name!r}: the pattern has no (?P<time>...) group")
        if sample and out.match(sample) is None:
            raise ReaderError(f"format {name!r}: its sample does not match its pattern")
        return out


def user_format(value: Any, time_format: str | list[str] | None) -> LineFormat | None:
    """The format ``format=`` names when it is not a built-in name, or None.

    A :class:`LineFormat`; a pattern (text holding ``(?P<``); a dict of
    :meth:`LineFormat.custom`'s arguments; or the path of a ``.toml`` or ``.json``
    file holding such a dict.

    Raises:
        ReaderError: The value is none of these, or the format is not valid.
    """
    if isinstance(value, LineFormat):
        return value
    if isinstance(value, Mapping):
        spec = dict(value)
    elif isinstance(value, str) and "(?P<" in value:
        return LineFormat.custom(value, time_format=time_format)
    elif isinstance(value, str | Path) and Path(value).suffix.lower() in (".toml", ".json"):
        spec = _format_file(Path(value))
    else:
        return None
    if time_format is not None:
        spec.setdefault("time_format", time_format)
    pattern = spec.pop("pattern", None)
    if not isinstance(pattern, str):
        raise ReaderError("a format of your own needs a 'pattern' (text)")
    allowed = {"time_format", "name", "title", "levels", "multiline", "sample"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ReaderError(
            f"a format has no key {', '.join(map(repr, unknown))}; its keys: pattern, "
            + ", ".join(sorted(allowed))
        )
    return LineFormat.custom(pattern, **spec)


def _format_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        spec = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ReaderError(f"format file {str(path)!r} cannot be read: {err}") from None
    if not isinstance(spec, dict):
        raise ReaderError(f"format file {str(path)!r} must hold a table of keys")
    spec.setdefault("name", path.stem)
    return spec


# --- the catalogue ---------------------------------------------------------------------

_ONE_LETTER = MappingProxyType(
    {"v": "trace", "d": "debug", "i": "info", "w": "warning", "e": "error", "f": "fatal",
     "a": "fatal", "s": "info"}
)  # fmt: skip

_PUNCT = r"[\[\]()<>:|]*"
#: Any line that starts with a time: the level is the first of the next four words that
#: names one, in capitals (``ERROR``) or brackets (``[warn]``), or ``level=...``;
#: logger and thread come from what is around it (``_logformats.plain_header``).
PLAIN = LineFormat(
    "plain",
    "any line that starts with a time (ISO 8601, 2024/01/02, Apache, syslog)",
    rf"\[?(?P<time>{_ISO}|\d{{4}}/\d{{2}}/\d{{2}}[T ]\d{{2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,9}})?"
    rf"|\d{{2}}/{_MON}/\d{{4}}:\d{{2}}:\d{{2}}:\d{{2}}(?: [+-]\d{{4}})?|{_BSD})\]?(?:\s+|$)"
    r"(?P<message>(?:(?:\S+\s+){0,3}?"
    rf'(?:(?:level|lvl)="?(?P<level>(?i:{_LEVEL_WORDS}))"?'
    rf"|[\[(<]{_PUNCT}(?P<level2>(?i:{_LEVEL_WORDS})){_PUNCT}"
    rf"|{_PUNCT}(?P<level3>{_UPPER_LEVELS}){_PUNCT})(?:\s|$))?.*)",
    (
        "iso",
        "%Y/%m/%d %H:%M:%S.%f",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%dT%H:%M:%S.%f",
        "%Y/%m/%dT%H:%M:%S",
        "%d/%b/%Y:%H:%M:%S %z",
        "%d/%b/%Y:%H:%M:%S",
        "%b %d %H:%M:%S",
        "%b %d %H:%M:%S.%f",
    ),
    sample="2024-01-02 03:04:05,123 ERROR [main] foo: msg one",
)

#: The built-in formats, the most specific first (detection prefers the earlier on ties).
CATALOGUE: tuple[LineFormat, ...] = (
    LineFormat(
        "apache_error",
        "Apache httpd error log (2.2 and 2.4)",
        rf"\[(?P<time>{_MON} {_MON} [ \d]?\d \d{{2}}:\d{{2}}:\d{{2}}(?:\.\d{{1,6}})? \d{{4}})\] "
        r"\[(?:(?P<module>[\w-]+):)?(?P<level>[a-z]+\d?)\]"
        r"(?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])?"
        r"(?: \[client (?P<client>[^\]]+)\])? ?(?P<message>.*)",
        ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S.%f %Y"),
        levels=MappingProxyType({f"trace{i}": "trace" for i in range(1, 9)}),
        sample="[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
    ),
    LineFormat(
        "access",
        "Apache/nginx access log (common and combined)",
        r"(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) "
        rf"\[(?P<time>\d{{2}}/{_MON}/\d{{4}}:\d{{2}}:\d{{2}}:\d{{2}} [+-]\d{{4}})\] "
        r'"(?P<message>(?P<method>[A-Z]+) (?P<path>\S+)(?: (?P<protocol>[^"\s]*))?|[^"]*)" '
        r"(?P<status>\d{3}) (?P<bytes>\d+|-)"
        r'(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?',
        ("%d/%b/%Y:%H:%M:%S %z",),
        level_from="status",
        multiline=False,
        sample='10.0.0.7 - bob [02/Jan/2024:03:04:05 +0100] "GET /api/orders HTTP/1.1" 502 '
        '157 "-" "curl/8.5.0"',
    ),
    LineFormat(
        "nginx_error",
        "nginx error log",
        r"(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>[a-z]+)\] "
        r"(?P<pid>\d+)#(?P<tid>\d+): (?:\*(?P<connection>\d+) )?(?P<message>.*)",
        ("%Y/%m/%d %H:%M:%S",),
        sample="2024/01/02 03:04:09 [error] 1234#0: *5 upstream timed out (110: Connection "
        "timed out) while reading response header from upstream",
    ),
    LineFormat(
        "redis",
        "Redis server log",
        rf"(?P<pid>\d+):(?P<role>[XCSM]) (?P<time>\d{{1,2}} {_MON} \d{{4}} "
        r"\d{2}:\d{2}:\d{2}(?:\.\d{3})?) (?P<level>[.*#-]) (?P<message>.*)",
        ("%d %b %Y %H:%M:%S.%g", "%d %b %Y %H:%M:%S"),
        levels=MappingProxyType({".": "debug", "-": "verbose", "*": "notice", "#": "warning"}),
        sample="1:M 02 Jan 2024 03:04:05.123 # Background saving error",
    ),
    LineFormat(
        "postgres",
        "PostgreSQL server log (log_line_prefix '%m [%p] ' and similar)",
        r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)"
        r"(?: (?P<zone>[A-Z]{2,5}|[+-]\d{2}(?::?\d{2})?))? \[(?P<pid>\d+)\][: ]"
        r"(?:(?P<session>[^\s:]*(?:@[^\s:]*)?):? ?)?"
        r"(?P<level>LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]?|STATEMENT|DETAIL|"
        r"HINT|CONTEXT|QUERY|LOCATION):\s+(?P<message>.*)",
        (
            "%Y-%m-%d %H:%M:%S.%f%z",
            "%Y-%m-%d %H:%M:%S%z",
            "%Y-%m-%d %H:%M:%S.%f",
            "%Y-%m-%d %H:%M:%S",
        ),
        levels=MappingProxyType(
            {
                "log": "info",
                "statement": "info",
                "detail": "info",
                "hint": "info",
                "context": "info",
                "query": "info",
                "location": "info",
                "debug1": "debug",
                "debug2": "debug",
                "debug3": "debug",
                "debug4": "debug",
                "debug5": "debug",
            }
        ),
        continuation_levels=("statement", "detail", "hint", "context", "query", "location"),
        sample="2024-01-02 03:04:05.123 UTC [4711] ERROR:  deadlock detected",
    ),
    LineFormat(
        "mysql",
        "MySQL and MariaDB error log",
        r"(?P<time>\d{4}-\d{2}-\d{2}[T ] ?\d{1,2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?"
        r"|\d{6} +\d{1,2}:\d{2}:\d{2})\s+(?:(?P<thread>\d+) )?"
        r"\[(?P<level>Note|Warning|ERROR|Error|System|Info|Debug)\]"
        r"(?: \[(?P<code>MY-\d+)\])?(?: \[(?P<logger>[A-Za-z]+)\])? (?P<message>.*)",
        (
            "%Y-%m-%dT%H:%M:%S.%fZ",
            "%Y-%m-%dT%H:%M:%SZ",
            "%Y-%m-%dT%H:%M:%S.%f%z",
            "%Y-%m-%d %H:%M:%S.%f",
            "%Y-%m-%d %H:%M:%S",
            "%y%m%d %H:%M:%S",
        ),
        levels=MappingProxyType({"note": "info", "system": "info"}),
        sample="2024-01-02T03:04:05.123456Z 0 [Warning] [MY-010068] [Server] CA certificate "
        "ca.pem is self signed.",
    ),
    LineFormat(
        "klog",
        "Kubernetes klog / glog",
        r"(?P<level>[IWEF])(?P<time>\d{4} \d{2}:\d{2}:\d{2}\.\d{6})\s+(?P<pid>\d+) "
        r"(?P<source>[^:\]\s]+:\d+)\] (?P<message>.*)",
        ("%m%d %H:%M:%S.%f",),
        levels=_ONE_LETTER,
        sample="E0527 07:36:43.123456       1 reflector.go:138] failed to list *v1.Pod: "
        "connection refused",
    ),
    LineFormat(
        "android",
        "Android logcat (threadtime)",
        r"(?P<time>\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\s+(?P<pid>\d+)\s+(?P<tid>\d+) "
        r"(?P<level>[VDIWEFA]) (?P<logger>[^:]*?)\s*: (?P<message>.*)",
        ("%m-%d %H:%M:%S.%g",),
        levels=_ONE_LETTER,
        sample="03-17 16:13:38.811  1702  2395 E WindowManager: window not found",
    ),
    LineFormat(
        "openstack",
        "OpenStack (oslo.log)",
        r"(?:(?P<file>\S+\.log\S*) )?(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) "
        r"(?P<pid>\d+) (?P<level>[A-Z]+) (?P<logger>[\w.]+) "
        r"(?:\[(?P<request>[^\]]*)\] )?(?P<message>.*)",
        sample="2017-05-16 00:00:04.500 2931 WARNING nova.virt.libvirt.imagecache "
        "[req-addc1839-2ed5-4778-b57e-5854eb7b8b09 - - - - -] Unknown base file: "
        "/var/lib/nova/instances/_base/a489c868",
    ),
    LineFormat(
        "hdfs",
        "Hadoop HDFS (log4j, yyMMdd HHmmss)",
        r"(?P<time>\d{6} \d{6}) (?P<pid>\d+) (?P<level>[A-Z]+) (?P<logger>[\w$.]+): "
        r"(?P<message>.*)",
        ("%y%m%d %H%M%S",),
        sample="081109 203615 148 WARN dfs.DataNode$DataXceiver: 10.251.43.21:50010:"
        "Got exception while serving blk_-4006 to /10.251.43.21",
    ),
    LineFormat(
        "spark",
        "Spark and Hadoop (log4j, yy/MM/dd HH:mm:ss)",
        r"(?P<time>\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?P<level>[A-Z]+) "
        r"(?P<logger>[\w$.]+): (?P<message>.*)",
        ("%y/%m/%d %H:%M:%S",),
        sample="17/06/09 20:11:11 ERROR executor.Executor: Exception in task 0.0 in stage 1.0",
    ),
    LineFormat(
        "catalina",
        "Tomcat catalina and java.util.logging (dd-MMM-yyyy HH:mm:ss.SSS)",
        rf"(?P<time>\d{{2}}-{_MON}-\d{{4}} \d{{2}}:\d{{2}}:\d{{2}}(?:\.\d{{3}})?) "
        r"(?P<level>SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST) "
        r"\[(?P<thread>[^\]]*)\] (?P<logger>[\w$.]+) (?P<message>.*)",
        ("%d-%b-%Y %H:%M:%S.%g", "%d-%b-%Y %H:%M:%S"),
        levels=MappingProxyType({"config": "info"}),
        sample="08-Dec-2026 01:02:03.456 SEVERE [main] org.apache.catalina.startup.Catalina.start "
        "The required Server component failed to start",
    ),
    LineFormat(
        "elasticsearch",
        "Elasticsearch and OpenSearch ([time][LEVEL][logger] [node])",
        rf"\[(?P<time>{_ISO})\]\[(?P<level>[A-Z]+)\s*\]\[(?P<logger>[^\]]+?)\s*\]\s*"
        r"(?:\[(?P<host>[^\]]*)\]\s*)?(?P<message>.*)",
        sample="[2024-01-02T03:04:05,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1] high "
        "disk watermark [90%] exceeded",
    ),
    LineFormat(
        "windows_cbs",
        "Windows CBS/CSI servicing log (time, level, component)",
        r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}), (?P<level>Info|Warning|Error)\s+"
        r"(?P<logger>\S+)\s+(?P<message>.*)",
        ("%Y-%m-%d %H:%M:%S",),
        sample="2016-09-28 04:30:31, Error                 CSI    00000013 (F) "
        "STATUS_OBJECT_NAME_NOT_FOUND #2 failed",
    ),
    LineFormat(
        "log4j",
        "log4j, logback, Spring Boot, ZooKeeper (time, level, [thread], logger)",
        rf"(?P<time>{_ISO})\s+(?:- )?(?:{_BRACKETED}\s+)?"
        rf"(?P<level>{_UPPER_LEVELS}|Info|Warning|Error|Debug|Trace|Fatal|Critical|Notice)\s+"
        r"(?:(?P<pid>\d+) --- (?:\[[^\]]*\] )?)?"
        r"(?:\[\s*(?P<thread2>(?:[^\[\]]|\[[^\]]*\])*)\]\s+)?"
        r"(?:(?P<logger>[\w$.\-/]+(?:@\d+)?)(?::\d+)?\s*(?:- |: |:$))?(?:- )?(?P<message>.*)",
        sample="2015-10-18 18:01:47,978 WARN [main] org.apache.hadoop.mapreduce.v2.app."
        "MRAppMaster: Job init failed",
    ),
    LineFormat(
        "python",
        "Python logging (asctime, name, levelname, message)",
        rf"(?P<time>{_ISO})\s*(?:-|:|\|)?\s*(?P<logger>[\w.]+)\s*(?:-|:|\|)\s*"
        rf"(?P<level>{_UPPER_LEVELS})\s*(?:-|:|\|)\s*(?P<message>.*)",
        sample="2024-01-02 03:04:07,123 - payments.db - CRITICAL - pool exhausted 100/100",
    ),
    LineFormat(
        "syslog5424",
        "syslog RFC 5424",
        r"<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<time>\S+) (?P<host>\S+) "
        r"(?P<logger>\S+) (?P<pid>\S+) (?P<msgid>\S+)(?: (?P<message>.*))?$",
        level_from="pri",
        multiline=False,
        sample="<11>1 2026-03-01T10:00:00Z web-1 api 1234 - - disk /dev/sda1 failed",
    ),
    LineFormat(
        "syslog",
        "syslog RFC 3164 and /var/log files (level from PRI, or a word after the tag)",
        rf"(?:<(?P<pri>\d{{1,3}})>)?(?P<time>{_BSD}|\d{{4}}-\d{{2}}-\d{{2}}T\S+)\s+"
        r"(?:(?P<host>[^\s:\[\]]+)\s+)?"
        r"(?:(?P<logger>[^\s:\[\]()]+(?:\([^)\s]*\))?)(?: (?P<tag_version>v?\d[\w.-]*))?"
        r"(?:\[(?P<pid>[^\]]*)\])?|(?P<logger2>[^:\[\]]+)\[(?P<pid2>[^\]]*)\])"
        r"(?: \([^)]*\))?:(?: +|$)"
        rf"(?:(?P<level>(?i:{_LEVEL_WORDS})):\s+|\[(?P<level2>(?i:{_LEVEL_WORDS}))\]\s+|"
        rf"<(?P<level3>(?i:{_LEVEL_WORDS}))>\s+|(?P<level4>{_UPPER_LEVELS})\s+)?"
        r"(?P<message>.*)$",
        ("%b %d %H:%M:%S", "%b %d %H:%M:%S.%f"),
        level_from="pri",
        multiline=False,
        sample="Dec 10 07:51:15 LabSZ sshd[24324]: error: Received disconnect from "
        "195.154.37.122: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
    ),
    LineFormat(
        "golog",
        "Go's log package (2009/11/10 23:00:00)",
        r"(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) "
        r"(?:(?P<source>[\w./-]+\.go:\d+): )?"
        rf"(?:\[?(?P<level>(?i:{_LEVEL_WORDS}))\]?:? )?(?P<message>.*)",
        ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S"),
        sample="2024/01/02 03:04:05 main.go:42: error: cannot reach the database",
    ),
)

#: The catalogue by name.
FORMATS: Mapping[str, LineFormat] = MappingProxyType({f.name: f for f in CATALOGUE})


def _syslog_like(groups: dict[str, str]) -> bool:
    """A syslog line without PRI needs a host and a tag that are not level words."""
    if "pri" in groups:
        return True
    host, tag = groups.get("host"), groups.get("logger", "")
    return host is not None and not lf.is_level_word(host) and not lf.is_level_word(tag)


def detect(path: Path) -> tuple[str | LineFormat | None, int]:
    """(format of the file, or None; number of non-blank lines looked at, -1 when blank).

    Each of the first 20 non-blank lines votes for what it is: JSON, logfmt, or each
    built-in format whose pattern it matches; the format with most votes wins (ties:
    JSON, then the catalogue's order, then logfmt, then ``plain``).

    Raises:
        Refused: The file is not a regular file (``not_regular_file``).
        OSError: The file cannot be read (``EOFError``/``gzip.BadGzipFile`` for bad gzip).
    """
    head = lf.head(path)
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        return None, -1
    lines = lf.sample(head)
    votes: dict[str | LineFormat, int] = {"json": 0}
    votes.update(dict.fromkeys(CATALOGUE, 0))
    votes.update({"logfmt": 0, PLAIN: 0})
    for text in lines:
        kind = lf.classify(text)
        if kind in ("json", "logfmt"):
            votes[kind] += 1
            continue
        for fmt in (*CATALOGUE, PLAIN):
            groups = fmt.match(text)
            if groups is not None and (not fmt.name.startswith("syslog") or _syslog_like(groups)):
                votes[fmt] += 1
    best = max(votes, key=lambda k: votes[k])
    return (best if votes[best] else None), len(lines)
