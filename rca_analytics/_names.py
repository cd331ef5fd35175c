"""One vocabulary for component and service names.

Names are compared by their *key*: lower case, without leading or trailing space, with
runs of white space as one space. ``"Payments "``, ``"payments"`` and ``"PAYMENTS"``
are one name.

>>> key("  Payments   API ")
'payments api'
>>> key(None) is None
True

A store's aliases (``payments-api`` is ``payments``) map keys to the name a team uses;
:class:`Aliases` answers the two questions queries ask of them: which keys a requested
name stands for (filters), and how to show a stored name (frames).

>>> names = Aliases({"payments": "payments", "payments-api": "payments"})
>>> names.keys("Payments-API")
['payments', 'payments-api']
>>> names.canonical("PAYMENTS"), names.canonical("checkout")
('payments', 'checkout')

Nothing here imports from the package: any layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["WHITESPACE", "Aliases", "key", "key_sql"]

#: Every character Python's ``str.split()`` splits on (``str.isspace``), in Unicode 14+:
#: ASCII ``\t\n\v\f\r``, the four information separators ``\x1c``-``\x1f``, space,
#: NEL, no-break space and the Unicode spaces and separators.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]+"
_RUNS = re.compile("[" + re.escape(WHITESPACE) + "]+")
#: DuckDB's ``lower`` works one character at a time: no final sigma, ``İ`` -> ``i``.
_LOWER_AS_SQL = str.maketrans({"\u03a3": "\u03c3", "\u0130": "i"})


def key(name: str | None) -> str | None:
    """The comparison key of a name (None stays None; blank text is None).

    The same as :func:`key_sql` computes in DuckDB, character for character.
    """
    if name is None:
        return None
    out = _RUNS.sub(" ", str(name).translate(_LOWER_AS_SQL)).strip(" ").lower()
    return out or None


def key_sql(expr: str) -> str:
    """SQL for the key of a VARCHAR expression (``expr`` must be whitelisted SQL).

    Agrees with :func:`key` on every string (``tests/test_names.py`` checks it).
    """
    return f"nullif(lower(trim(regexp_replace({expr}, '{_CLASS}', ' ', 'g'))), '')"


@dataclass(frozen=True)
class Aliases:
    """A store's aliases: alias key -> the name the team uses (its own key included).

    Every name that has aliases is an alias of itself too (see :mod:`._aliases`), so
    that every spelling of it shows as the team writes it.
    """

    names: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.names)

    def canonical(self, name: str) -> str:
        """How a stored or requested name is shown: its alias's name, else itself."""
        k = key(name)
        return self.names.get(k, name) if k is not None else name

    def group(self, k: str) -> str:
        """The key of the name an alias key stands for (``k`` itself when none)."""
        target = self.names.get(k)
        return k if target is None else key(target) or k

    def keys(self, name: str) -> list[str]:
        """The keys a requested name matches: its own, and every alias of its name."""
        k = key(name)
        if k is None:
            return []
        group = self.group(k)
        out = {k, group} | {a for a in self.names if self.group(a) == group}
        return sorted(out)

    def keys_of(self, names: Iterable[str]) -> list[str]:
        """:meth:`keys` of several names, each key once, in order."""
        out: dict[str, None] = {}
        for name in names:
            out.update(dict.fromkeys(self.keys(name)))
        return list(out)
