"""Shared fixtures: real DuckDB files under tmp_path, and record factories."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported where used: pytest-xdist's controller runs no test
    import rca_analytics as rca

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# pytest-xdist workers must collect the same test ids, and an id made from a set (the
# repr of {'a', 'b'}) depends on the string hash seed: the workers, started after this
# runs, inherit one seed (random per run, as Python's own).
os.environ.setdefault("PYTHONHASHSEED", str(random.SystemRandom().randint(1, 2**32 - 1)))


#: Figures of the reliability tests (crash rounds, batches verified, files refused...),
#: printed at the end of the run and copied into docs/reliability.md.
FIGURES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def tally() -> Counter[str]:
    """Count what a reliability test tried, for the end-of-run summary."""
    return FIGURES


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand this worker's figures to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["rca_figures"] = dict(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """In the pytest-xdist controller: add up the figures of each worker that finished."""
    FIGURES.update(getattr(node, "workeroutput", {}).get("rca_figures", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, n in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {n:,}")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "incidents.duckdb"


@pytest.fixture
def store(store_path: Path) -> Iterator[rca.Store]:
    import rca_analytics as rca

    with rca.connect(store_path) as s:
        yield s


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store file holding ``demo.build()``'s history, made once per process.

    Copy it (``demo_store`` does); never open or change it: every test shares it.
    """
    import rca_analytics as rca
    from rca_analytics import demo

    path = tmp_path_factory.mktemp("demo-template") / "demo.duckdb"
    with rca.connect(path) as s:
        demo.build(s)
    return path


@pytest.fixture
def demo_store(demo_file: Path, store_path: Path) -> Iterator[rca.Store]:
    """A store at ``store_path`` filled by ``demo.build()`` (a copy of ``demo_file``).

    The same history as building it in the test, seconds faster; being a copy, it has
    ``demo_file``'s store id (as any copied file does).
    """
    import rca_analytics as rca

    shutil.copyfile(demo_file, store_path)
    with rca.connect(store_path) as s:
        yield s


@pytest.fixture
def event_data() -> Callable[..., dict[str, Any]]:
    """Factory of valid event dicts; keyword arguments override fields."""
    counter = iter(range(1_000_000))

    def make(**overrides: Any) -> dict[str, Any]:
        n = next(counter)
        data: dict[str, Any] = {
            "source": "git",
            "event_type": "commit",
            "severity": "info",
            "timestamp": T0 + dt.timedelta(minutes=n),
            "source_id": f"sha{n:04d}",
            "component": "payments",
            "service": "checkout-api",
            "tags": ["deploy"],
            "data": {"author": "ana", "files": 3},
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def investigation_data() -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "title": "Checkout 500s",
            "impact_severity": "critical",
            "priority": "P0",
            "detected_at": "2026-03-01T09:15:00Z",
            "component_affected": "payments",
        }
        data.update(overrides)
        return data

    return make


#: Real third-party inputs (see ../shared/realworld/README.md); tests using them skip
#: cleanly when the folder is absent. RCA_REALWORLD points elsewhere.
REALWORLD = Path(
    os.environ.get(
        "RCA_REALWORLD", Path(__file__).resolve().parents[1].parent / "shared" / "realworld"
    )
)


@pytest.fixture
def realworld() -> Path:
    """The folder of real-world samples, or skip the test when it is not here."""
    if not REALWORLD.is_dir():
        pytest.skip(f"real-world samples not found at {REALWORLD}")
    return REALWORLD
