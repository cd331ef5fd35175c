"""Shared fixtures: real DuckDB files under tmp_path, and record factories."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import rca_analytics as rca

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


#: Figures of the reliability tests (crash rounds, batches verified, files refused...),
#: printed at the end of the run and copied into docs/reliability.md.
FIGURES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def tally() -> Counter[str]:
    """Count what a reliability test tried, for the end-of-run summary."""
    return FIGURES


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
