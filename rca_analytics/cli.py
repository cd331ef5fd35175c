"""The ``rca`` command: a thin layer over the Python API for scripts.

Data goes to stdout, progress and errors to stderr; the exit status is 0 on
success, 1 on an rca_analytics error, 2 on a usage error and 3 when records were
rejected (the good ones are stored; ``--allow-rejects`` makes that a success).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__
from .errors import RcaError

__all__ = ["main"]

DEMO_FILE = "rca-demo.duckdb"


def _demo(args: argparse.Namespace) -> int:
    from . import demo
    from .errors import CorruptStore
    from .store import connect

    path = Path(args.path)
    if path.is_dir():
        print(f"rca: {path} is a folder; give a file path", file=sys.stderr)
        return 2
    if path.exists():
        if not args.force:
            print(
                f"rca: {path} exists; pass --force to replace it with a fresh demo store",
                file=sys.stderr,
            )
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
        print(demo.summary(store))
    return 0


def _import_sqlite(args: argparse.Namespace) -> int:
    from .store import connect

    with connect(args.into) as store:
        report = store.import_sqlite(args.legacy, progress=None if args.progress else False)
    print(report.summary())
    if report.rejects.empty:
        return 0
    for row in report.rejects.itertuples(index=False):
        named = isinstance(row.field, str) and row.field
        where = f"{row.table} {row.id!r}" + (f" field {row.field}" if named else "")
        print(f"rca: rejected: {where}: {row.code}: {row.message}", file=sys.stderr)
    return 0 if args.allow_rejects else 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rca", description="Incident root-cause analysis on an embedded DuckDB store."
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
    legacy.add_argument(
        "--into", default=None, help="the store to import into (default: $RCA_DB or ./rca.duckdb)"
    )
    legacy.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar on stderr"
    )
    legacy.add_argument(
        "--allow-rejects",
        action="store_true",
        help="exit 0 even when rows or links were rejected (they are listed on stderr)",
    )
    legacy.set_defaults(func=_import_sqlite)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.func(args)
    except RcaError as err:
        print(f"rca: error: {err}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
