#!/usr/bin/env python3
"""Project tasks that need nothing but python3 (they create ./.venv themselves).

python3 tasks.py demo [PATH]   build a demo incident store and print its summary
python3 tasks.py test [ARGS]   install test deps (and, when missing, Debian's chromium for
                               the report's browser test and a Java runtime for the lake's
                               Spark test); run ruff, mypy and the whole suite
                               (ARGS go to pytest)
python3 tasks.py test --fast [ARGS]
                               the inner loop: ruff, mypy and the tests that need no Spark,
                               browser or slow durability run, notebooks left out
python3 tasks.py bench         run the benchmarks in bench/
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
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
FAST = ["-m", "not slow and not spark and not browser", "tests", "rca_analytics"]


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
    run(BIN / "mypy")
    run(PY, "-m", "pytest", *(FAST if fast else []), *args)


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
