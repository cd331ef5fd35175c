r"""What the ``rca`` command writes: text for people, data for programs.

Stored records and file names can hold terminal control sequences (ESC and CSI
sequences that recolour, retitle or clear a terminal, carriage returns that overwrite
a line) and bidirectional overrides that make text read differently from what it is.
Every human-readable line goes through :func:`say`, which shows such characters as
Python escapes instead of sending them to the terminal; machine formats go through
:func:`write_data` exactly as given (JSON escapes them itself; CSV and Parquet keep the
data exact). A failed write to stdout (its reader went away, its disk is full) raises
:class:`StdoutLost`, and stdout is muted so that Python's flush at exit stays quiet.

>>> printable("deploy \x1b[31mred\x1b[0m by \u202eana\tok\nnext")
'deploy \\x1b[31mred\\x1b[0m by \\u202eana\tok\nnext'
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Iterator

from .errors import RcaError

__all__ = ["StdoutLost", "flush", "printable", "say", "write_data"]

#: C0 controls but tab and newline, DEL, C1 controls (CSI is \x9b), the bidirectional
#: embeddings, overrides and isolates, and lone surrogates (undecodable file-name bytes).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` with every control character shown as an escape (``\x1b``, ``\u202e``).

    Tabs and newlines stay, for layout.
    """
    return _UNSAFE.sub(_escape, text)


class StdoutLost(RcaError):
    """Stdout could not be written: its reader went away (``| head``) or its disk is full.

    Attributes:
        error: What the system said.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _mute_stdout() -> None:
    """Point stdout at the null device (when it has a file descriptor)."""
    with contextlib.suppress(OSError):  # an in-memory stream has none
        stdout = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stdout)
        os.close(null)


@contextlib.contextmanager
def _writing_stdout() -> Iterator[None]:
    if sys.stdout is None:  # started with stdout closed (`rca ... >&-`)
        raise StdoutLost(OSError(errno.EBADF, os.strerror(errno.EBADF)))
    try:
        yield
    except OSError as err:
        _mute_stdout()
        raise StdoutLost(err) from err


def say(text: str, *, err: bool = False) -> None:
    """Write human-readable text, control characters escaped, ending in a newline.

    Args:
        text: The lines to show.
        err: Write to stderr (messages, rejects) instead of stdout.
    """
    text = printable(text if text.endswith("\n") else text + "\n")
    if err:
        sys.stderr.write(text)
    else:
        with _writing_stdout():
            sys.stdout.write(text)


def write_data(data: str | bytes) -> None:
    """Write machine-readable output (CSV, JSON lines, Parquet bytes) to stdout, unchanged.

    Text gets a final newline when it has none (nothing at all when it is empty).
    """
    with _writing_stdout():
        if isinstance(data, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        elif data:
            sys.stdout.write(data if data.endswith("\n") else data + "\n")


def flush() -> None:
    """Flush stdout, so that a closed pipe or a full disk shows now rather than at exit."""
    with _writing_stdout():
        sys.stdout.flush()


def table(rows: list[list[str]], header: list[str], *, right: frozenset[int] = frozenset()) -> str:
    """Rows as aligned text columns for a terminal: text left, the ``right`` columns right.

    >>> print(table([["0.92", "Deploy v2"], ["0.1", "x"]], ["conf", "what"], right={0}))
    conf  what
    0.92  Deploy v2
     0.1  x
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join(line(r) for r in [header, *rows])
