#!/usr/bin/env python3
"""Project tasks that need nothing but python3 (they create ./.venv themselves).

python3 tasks.py demo [PATH]   build a demo incident store and print its summary
python3 tasks.py test [ARGS]   install test deps (and, when missing, Debian's chromium for
                               the report's browser test and a Java runtime for the lake's
                               Spark test); run ruff, mypy and the whole suite: on every
                               core (pytest-xdist), then the timing-sensitive kill tests
                               (marker serial) alone (ARGS go to both pytest runs)
python3 tasks.py test --fast [ARGS]
                               the inner loop: ruff, mypy and, on every core, the tests
                               that need no Spark or browser and take under a second or so
                               (marker slow: kill tests, large data, property runs, child
                               processes), notebooks left out; mypy runs beside the tests
python3 tasks.py bench         run the benchmarks in bench/
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the package with ``extras`` when pyproject changed."""
    if not PY.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    spec = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", spec)
    stamp.write_text(digest)


def demo(args: list[str]) -> None:
    ensure_venv("")
    target = args or [str(ROOT / "build" / "demo.duckdb")]
    run(BIN / "rca", "demo", "--force", *target)


def ensure_debian(command: str, package: str, test: str) -> None:
    """Debian's ``package`` (for ``test``), installed when ``command`` is missing and possible."""
    if shutil.which(command):
        return
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"no {command} and no way to install it here: {test} will skip", file=sys.stderr)
        return
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("+", " ".join(install), file=sys.stderr, flush=True)
    if subprocess.run(install, env=env).returncode:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        run(*install)


#: What ``test --fast`` leaves out: the notebooks and the marked slow, Spark and browser tests.
FAST_MARKS = "not slow and not spark and not browser"
FAST_PATHS = ["tests", "rca_analytics"]
#: pytest-xdist: a worker per core, tests dealt out one by one (they share nothing but
#: read-only files). ``--dist loadfile`` (a module's fixtures made once) balanced worse:
#: the fast run took ~10 s longer. (``loadgroup`` would group by ``xdist_group`` marks,
#: but pytest-xdist 3.8 cannot tag pytest 9's node ids: it runs as ``load``.)
PARALLEL = ["-n", "auto", "--dist", "load"]
#: Tests that time their kills on this machine run alone, after the parallel run.
SERIAL = "serial"
#: pytest's exit status when it collected (or kept) no test.
NO_TESTS = 5


def _marks(args: list[str]) -> tuple[str | None, list[str]]:
    """The caller's ``-m`` expression (the last one, as pytest takes it) and the other args."""
    expression, rest = None, []
    items = iter(args)
    for arg in items:
        if arg == "-m":
            expression = next(items, "")
        elif arg.startswith("-m") and not arg.startswith("--"):
            expression = arg[2:]
        else:
            rest.append(arg)
    return expression, rest


def _both(mine: str, theirs: str | None) -> str:
    return mine if theirs is None else f"({theirs}) and ({mine})"


def pytest(*args: str) -> int:
    """Run pytest; its exit status. Bytecode (and pytest's rewritten test modules) is
    cached in .venv, even where PYTHONDONTWRITEBYTECODE is set: each xdist worker and
    child process would otherwise compile the package and the tests again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", str(VENV / "pycache"))
    cmd = [str(PY), "-m", "pytest", *args]
    print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def test(args: list[str]) -> None:
    ensure_venv("dev")
    fast = "--fast" in args
    args = [a for a in args if a != "--fast"]
    if not fast:
        if not shutil.which("chromium-browser"):
            ensure_debian("chromium", "chromium", "the report's browser test")
        if not os.environ.get("JAVA_HOME"):
            ensure_debian("java", "default-jre-headless", "the lake's Spark test")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    theirs, rest = _marks(args)
    chosen = any((ROOT / a.split("::")[0]).exists() for a in rest if not a.startswith("-"))
    paths = [] if chosen else FAST_PATHS  # files or tests named in ARGS narrow the fast run
    # mypy (a minute from a cold cache, mostly waiting) checks the package while the
    # parallel tests run, its output held back; the serial tests wait for it.
    with tempfile.TemporaryFile() as held:
        print("+", BIN / "mypy", "(beside the tests)", file=sys.stderr, flush=True)
        mypy = subprocess.Popen([BIN / "mypy"], cwd=ROOT, stdout=held, stderr=subprocess.STDOUT)
        if fast:
            codes = [pytest(*PARALLEL, "-m", _both(FAST_MARKS, theirs), *paths, *rest)]
        else:
            codes = [pytest(*PARALLEL, "-m", _both(f"not {SERIAL}", theirs), *rest)]
        codes.insert(0, mypy.wait())
        held.seek(0)
        sys.stdout.buffer.write(held.read())
        sys.stdout.flush()
    if not fast:
        # Then the serial tests alone; "no test selected" fails only when neither pytest
        # run had one (ARGS may choose a file without serial tests).
        codes.append(pytest("-p", "no:xdist", "-m", _both(SERIAL, theirs), *rest))
    failed = [code for code in codes if code not in (0, NO_TESTS)]
    if failed:
        sys.exit(failed[0])
    if all(code == NO_TESTS for code in codes[1:]):
        sys.exit(NO_TESTS)


def bench(args: list[str]) -> None:
    ensure_venv("dev")
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    for script in scripts:
        run(PY, script, *args)


TASKS = {"demo": demo, "test": test, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    TASKS[sys.argv[1]](sys.argv[2:])
