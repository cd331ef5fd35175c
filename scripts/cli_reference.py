#!/usr/bin/env python3
"""Write the reference part of docs/cli.md from the ``rca`` command's argument parser.

Run it after changing ``rca_analytics/cli.py``::

    .venv/bin/python scripts/cli_reference.py          # rewrite docs/cli.md
    .venv/bin/python scripts/cli_reference.py --check  # exit 1 when docs/cli.md is stale

Everything in docs/cli.md above the marker line is written by hand and kept as it is;
everything below it is generated here, from the parser that ``rca`` itself uses, so the
reference cannot drift from the command (``tests/test_docs.py`` runs the check). The
output depends only on the parser (not on the terminal width or the Python version's
help formatter).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"
COMMAND = ".venv/bin/python scripts/cli_reference.py"
MARKER = (
    "<!-- Everything below is generated from rca_analytics/cli.py by scripts/cli_reference.py;"
    f" do not edit it here: change the parser, then run `{COMMAND}`. -->"
)
WIDTH = 100
#: argparse's own groups (their title changed in Python 3.10); others get a heading.
_DEFAULT_GROUPS = ("positional arguments", "options", "optional arguments")


def _parser() -> argparse.ArgumentParser:
    sys.path.insert(0, str(ROOT))
    from rca_analytics import cli

    return cli._parser()


def _cell(text: object) -> str:
    """Text for a Markdown table cell: pipes escaped, lines joined."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _choices(action: argparse.Action) -> str | None:
    if action.choices is None or isinstance(action, argparse._SubParsersAction):
        return None
    return "|".join(str(c) for c in action.choices)


def _metavar(action: argparse.Action) -> str:
    """The placeholder: the parser's metavar, a short list of choices, else the name in capitals."""
    if isinstance(action.metavar, str):
        return action.metavar
    choices = _choices(action)
    if choices is not None and choices.count("|") < 3:
        return choices
    return action.dest.upper()


def _args(action: argparse.Action) -> str:
    """What follows the flag (or stands for a positional), argparse's nargs spelled out."""
    if action.nargs == 0:
        return ""
    m = _metavar(action)
    if action.nargs is None or action.nargs == 1:
        return m
    if action.nargs == "?":
        return f"[{m}]"
    if action.nargs == "*":
        return f"[{m}...]"
    if action.nargs == "+":
        return f"{m}..."
    if isinstance(action.nargs, int):
        return " ".join([m] * action.nargs)
    return "..."  # argparse.REMAINDER and friends: not used by rca


def _shown(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
    ]


def _usage(prog: str, parser: argparse.ArgumentParser) -> str:
    """One usage line (wrapped at WIDTH): positionals first, then the options."""
    parts = [prog]
    actions = _shown(parser)
    for action in actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            parts.append(_args(action))
    grouped: dict[int, argparse._MutuallyExclusiveGroup] = {}
    for group in parser._mutually_exclusive_groups:
        for action in group._group_actions:
            grouped[id(action)] = group
    done: set[int] = set()
    for action in actions:
        if not action.option_strings:
            continue
        exclusive = grouped.get(id(action))
        if exclusive is not None:
            if id(exclusive) in done:
                continue
            done.add(id(exclusive))
            alternatives = " | ".join(_flag(a) for a in exclusive._group_actions)
            parts.append(f"({alternatives})" if exclusive.required else f"[{alternatives}]")
        else:
            parts.append(_flag(action) if action.required else f"[{_flag(action)}]")
    for action in actions:
        if isinstance(action, argparse._SubParsersAction):
            parts.append(f"{action.metavar or 'COMMAND'} ...")
    lines, line = [], ""
    for part in parts:
        if line and len(line) + 1 + len(part) > WIDTH:
            lines.append(line)
            line = " " * (len(prog) + 1) + part
        else:
            line = f"{line} {part}" if line else part
    lines.append(line)
    return "\n".join(lines)


def _flag(action: argparse.Action) -> str:
    args = _args(action)
    return f"{action.option_strings[-1]} {args}" if args else action.option_strings[-1]


def _names(action: argparse.Action) -> str:
    if not action.option_strings:
        return _cell(f"`{_args(action)}`")
    args = _args(action)
    return _cell(", ".join(f"`{s} {args}`" if args else f"`{s}`" for s in action.option_strings))


def _meaning(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    text = action.help or ""
    if isinstance(action, argparse._VersionAction):
        text = "print the version and exit"
    extra = []
    choices = _choices(action)
    if choices is not None and "|" in choices and _metavar(action) != choices:
        extra.append("one of " + ", ".join(f"`{c}`" for c in choices.split("|")))
    repeats = isinstance(action, (argparse._AppendAction, argparse._ExtendAction))
    if repeats and "repeatable" not in text:
        extra.append("repeatable")
    for group in parser._mutually_exclusive_groups:
        if action in group._group_actions:
            flags = ", ".join(f"`{_flag(a)}`" for a in group._group_actions)
            extra.append(f"one of {flags} is required" if group.required else f"one of {flags}")
    return _cell("; ".join(t for t in (text, *extra) if t))


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, [], ""):
        return ""
    return f"`{action.default}`"


def _table(actions: Iterable[argparse.Action], parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning | default |", "| --- | --- | --- |"]
    for action in actions:
        rows.append(f"| {_names(action)} | {_meaning(action, parser)} | {_default(action)} |")
    return rows


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand, in the parser's order."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((name, helps.get(name, ""), sub))
    return found


def _anchor(title: str) -> str:
    """GitHub's anchor of a heading (lower case, punctuation dropped, blanks to dashes)."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _command(prog: str, helptext: str, parser: argparse.ArgumentParser, level: int) -> list[str]:
    out = [f"{'#' * level} `{prog}`", ""]
    if helptext:
        out += [helptext[0].upper() + helptext[1:] + ".", ""]
    if parser.description:
        out += [" ".join(parser.description.split()), ""]
    out += ["```text", _usage(prog, parser), "```", ""]
    subs = _subcommands(parser)
    shown = [a for a in _shown(parser) if not isinstance(a, argparse._SubParsersAction)]
    named = [g for g in parser._action_groups if g.title not in _DEFAULT_GROUPS]
    in_named = {id(a) for g in named for a in g._group_actions}
    plain = [a for a in shown if id(a) not in in_named]
    plain.sort(key=lambda a: bool(a.option_strings))  # positionals first, as in the usage
    if plain:
        out += [*_table(plain, parser), ""]
    for group in named:
        actions = [a for a in shown if a in group._group_actions]
        if actions:
            out += [f"{(group.title or '').capitalize()}:", "", *_table(actions, parser), ""]
    for name, sub_help, sub in subs:
        out += _command(f"{prog} {name}", sub_help, sub, level + 1)
    return out


def _epilog_section(epilog: str, title: str) -> list[tuple[str, str]]:
    """``(name, text)`` pairs of one section (``exit status:``, ``environment:``) of the epilog."""
    pairs: list[tuple[str, str]] = []
    inside = False
    for line in epilog.splitlines():
        if not line.startswith(" "):
            inside = line.strip() == f"{title}:"
            continue
        if not inside:
            continue
        match = re.match(r"^  (\S+)\s+(.*)$", line)
        if match:
            pairs.append((match[1], match[2]))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]} {line.strip()}")
    return pairs


def reference() -> str:
    """The generated part of docs/cli.md (after the marker line)."""
    parser = _parser()
    out = ["## Commands", ""]
    if parser.description:
        out += [" ".join(parser.description.split()), ""]
    out += [
        "```text",
        _usage("rca", parser),
        "```",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    for name, helptext, _sub in _subcommands(parser):
        out.append(f"| [`rca {name}`](#{_anchor(f'rca {name}')}) | {_cell(helptext)} |")
    options = [a for a in _shown(parser) if not isinstance(a, argparse._SubParsersAction)]
    out += ["", *_table(options, parser), ""]
    epilog = parser.epilog or ""
    out += ["## Exit status", "", "| status | meaning |", "| --- | --- |"]
    out += [
        f"| `{code}` | {_cell(text)} |" for code, text in _epilog_section(epilog, "exit status")
    ]
    out += ["", "## Environment", "", "| variable | meaning |", "| --- | --- |"]
    out += [
        f"| `{name}` | {_cell(text)} |" for name, text in _epilog_section(epilog, "environment")
    ]
    out.append("")
    for name, helptext, sub in _subcommands(parser):
        out += _command(f"rca {name}", helptext, sub, 2)
    return "\n".join(out).rstrip("\n") + "\n"


def render(current: str) -> str:
    """docs/cli.md as it should be: the hand-written part of ``current``, then the reference."""
    if MARKER not in current:
        raise SystemExit(f"{DOC}: the marker line is missing; put it back:\n{MARKER}")
    return current.split(MARKER)[0] + MARKER + "\n\n" + reference()


def main(argv: list[str]) -> int:
    """Rewrite docs/cli.md, or with ``--check`` say whether it is up to date."""
    check = "--check" in argv
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if current == wanted:
        return 0
    if check:
        print(f"{DOC.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1
    DOC.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
