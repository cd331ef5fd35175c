"""The git reader against bare ``git log``, on a generated repository.

    .venv/bin/python bench/bench_git.py                 # 10,000 commits, 5 repeats
    .venv/bin/python bench/bench_git.py --commits 2000 --repeats 3

Builds a repository of N commits with ``git fast-import`` (3 files of ~40 lines changed
per commit over 240 files in 8 services, a lightweight tag every 500 commits and an
annotated one every 1,000), then measures, interleaved, the medians of:
- bare: ``git log`` with the reader's own flags and format, output to /dev/null;
- reader: the reader's records, consumed (``list(git.read(...))``);
- rca.read: the same into DataFrames;
- ingest: ``store.ingest("git", repo)`` into a fresh store file.
The goal: the reader within 2x of bare ``git log --numstat``. The table goes to stdout and
bench/RESULTS-git.md (``--no-write``: stdout only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rca_analytics as rca
from rca_analytics.ingest import git as git_reader
from rca_analytics.ingest._base import Context

SERVICES = ["payments", "search", "auth", "inventory", "web", "billing", "mobile", "api"]
FILES = [f"services/{s}/mod{i:02d}.py" for s in SERVICES for i in range(30)]
START = 1_767_225_600  # 2026-01-01T00:00:00Z
RULE = {f"services/{s}/*": s for s in SERVICES}


def _env() -> dict[str, str]:
    return {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def build_repository(path: Path, commits: int, seed: int = 7) -> None:
    """A linear history of ``commits`` commits, generated with git fast-import."""
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=_env())
    content = {f: [f"line {i} of {f}\n" for i in range(40)] for f in FILES}
    out: list[bytes] = []
    for n in range(1, commits + 1):
        when = START + n * 600
        message = f"Change {n}: tune {rng.choice(SERVICES)}\n\nWhy: ticket OPS-{n}.\n".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{n}\n".encode())
        out.append(f"author Dev {n % 17} <dev{n % 17}@example.com> {when} +0000\n".encode())
        out.append(f"committer Dev {n % 17} <dev{n % 17}@example.com> {when} +0000\n".encode())
        out.append(f"data {len(message)}\n".encode() + message)
        if n > 1:
            out.append(f"from :{n - 1}\n".encode())
        for f in rng.sample(FILES, 3):
            lines = content[f]
            for _ in range(rng.randint(1, 4)):
                lines[rng.randrange(len(lines))] = f"changed in {n}: {rng.random()}\n"
            if rng.random() < 0.3:
                lines.append(f"added in {n}\n")
            blob = "".join(lines).encode()
            out.append(f"M 100644 inline {f}\ndata {len(blob)}\n".encode() + blob + b"\n")
        out.append(b"\n")
        if n % 1000 == 0:
            tag = f"Release {n}\n".encode()
            out.append(f"tag v{n}\nfrom :{n}\n".encode())
            out.append(f"tagger Bot <bot@example.com> {when + 60} +0000\n".encode())
            out.append(f"data {len(tag)}\n".encode() + tag + b"\n")
        elif n % 500 == 0:
            out.append(f"reset refs/tags/l{n}\nfrom :{n}\n\n".encode())
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=b"".join(out),
        check=True,
        env=_env(),
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True, env=_env())


def bare_log(path: Path) -> None:
    marker = git_reader._marker()
    end = git_reader._marker()
    fmt = f"--format={marker}{git_reader._COMMIT_FIELDS}%x00{end}"
    subprocess.run(
        ["git", "-C", str(path), *git_reader._CONFIG, "log", *git_reader._LOG_FLAGS, fmt, "HEAD"],
        stdout=subprocess.DEVNULL,
        check=True,
        env=_env(),
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS-git.md")
    args = parser.parse_args()
    os.environ["RCA_PROGRESS"] = "0"
    os.environ.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    n = args.commits
    tags = n // 500
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        repo = folder / "repo"
        built, _ = timed(lambda: build_repository(repo, n))
        store_file = folder / "s.duckdb"

        def ingest() -> rca.IngestReport:
            for p in (store_file, store_file.with_name(store_file.name + ".wal")):
                p.unlink(missing_ok=True)
            with rca.connect(store_file) as store:
                return store.ingest("git", repo, component=RULE, progress=False)

        cases: dict[str, Callable[[], Any]] = {
            "bare": lambda: bare_log(repo),
            "reader": lambda: list(git_reader.read([repo], Context(), component=RULE)),
            "rca.read": lambda: rca.read("git", repo, component=RULE),
            "ingest": ingest,
        }
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.repeats):
            for name, fn in cases.items():
                secs, result = timed(fn)
                times[name].append(secs)
                if name == "reader":
                    assert len(result) == n + tags, len(result)
                if name == "ingest":
                    assert result.events["stored"] == n + tags, result.summary()
    med = {k: statistics.median(v) for k, v in times.items()}
    labels = {
        "bare": "bare `git log --numstat -z` (reader's flags, to /dev/null)",
        "reader": "git reader, records consumed",
        "rca.read": "rca.read('git') into DataFrames",
        "ingest": "store.ingest('git') into a fresh store",
    }
    rows = [["step", "median", "commits/s", "ratio to bare git log"], ["---"] * 4]
    for key, label in labels.items():
        rows.append(
            [label, f"{med[key]:.3f} s", f"{n / med[key]:,.0f}", f"{med[key] / med['bare']:.2f}x"]
        )
    table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{git_version.strip()}"
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = (
        f"# git reader\n\nRun {stamp} on {machine}. {n:,} commits (+{tags} tags), built in "
        f"{built:.1f} s; medians of {args.repeats} interleaved repeats. Goal: reader <= 2x bare "
        f"git log.\n\n{table}\n"
    )
    print(report)
    if not args.no_write:
        (Path(__file__).resolve().parent / "RESULTS-git.md").write_text(report)
    reader_ratio = med["reader"] / med["bare"]
    print(f"reader/bare = {reader_ratio:.2f}x ({'within' if reader_ratio <= 2 else 'OVER'} 2x)")


if __name__ == "__main__":
    main()
