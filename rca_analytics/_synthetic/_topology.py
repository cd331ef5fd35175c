"""The made-up fleet of a synthetic history.

Services, their components, teams, regions, dependencies, files, endpoints and the
recurring log templates of each component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._settings import HistorySettings
from ._tools import Floats, Ints, Objs, lognormal, stream_rng
from ._vocabulary import (
    BACKGROUND,
    DIRS,
    ENDPOINTS,
    FILES,
    REGIONS,
    SERVICE_NAMES,
    SUFFIXES,
    TEAMS,
)


@dataclass
class Topology:
    """Services and components by number; the names are at those positions."""

    services: list[str]
    team: list[str]
    regions: list[list[str]]
    deps: list[list[int]]
    svc_weight: Floats
    components: list[str]
    comp_service: Ints
    comp_weight: Floats
    comp_paths: list[list[str]]
    endpoints: list[list[str]]
    comp_templates: list[Ints]  # background template ids per component
    comp_template_p: list[Floats]

    def comps_of(self, svc: int) -> Ints:
        """The components of service ``svc`` (its ``-api`` first)."""
        return np.flatnonzero(self.comp_service == svc).astype(np.int64)

    def region(self, rng: np.random.Generator, svc: Ints) -> Objs:
        """A region of each event's service (services run in one or two)."""
        out = np.empty(len(svc), object)
        pick = rng.random(len(svc))
        for i, regions in enumerate(self.regions):
            rows = svc == i
            out[rows] = np.asarray(regions, object)[(pick[rows] * len(regions)).astype(int)]
        return out


def build_topology(s: HistorySettings) -> Topology:
    """The fleet of these settings, from its own random stream."""
    rng = stream_rng(s.seed, "topology")
    pool = SERVICE_NAMES
    services = [
        pool[i % len(pool)] + ("" if i < len(pool) else str(i // len(pool) + 1))
        for i in range(s.services)
    ]
    team = [f"team:{TEAMS[(i // 2) % len(TEAMS)]}" for i in range(s.services)]
    regions = _regions(rng, len(services))
    deps = _dependencies(rng, s.services)
    components, comp_service = _components(rng, services, s.components_per_service)
    nc = len(components)
    comp_weight = lognormal(rng, 1.0, 0.5, nc)
    comp_weight /= comp_weight.mean()
    svc_weight = lognormal(rng, 1.0, 0.5, s.services)
    svc_weight /= svc_weight.mean()
    paths = [_paths(rng) for _ in range(nc)]
    endpoints = [
        [ENDPOINTS[int(j)] for j in rng.choice(len(ENDPOINTS), 3, replace=False)] for _ in services
    ]
    templates, probs = _templates(rng, nc)
    return Topology(
        services,
        team,
        regions,
        deps,
        svc_weight,
        components,
        np.asarray(comp_service, np.int64),
        comp_weight,
        paths,
        endpoints,
        templates,
        probs,
    )


def _regions(rng: np.random.Generator, n: int) -> list[list[str]]:
    """One region per service, a second one for about a third of them."""
    regions = []
    for _ in range(n):
        first = int(rng.integers(0, len(REGIONS)))
        more = rng.random() < 0.3
        regions.append([REGIONS[first]] + ([REGIONS[(first + 1) % len(REGIONS)]] if more else []))
    return regions


def _dependencies(rng: np.random.Generator, n: int) -> list[list[int]]:
    """One or two of the services after each one (the last depends on none)."""
    deps: list[list[int]] = []
    for i in range(n):
        later = list(range(i + 1, n))
        k = min(len(later), int(rng.integers(1, 3)))
        deps.append(sorted(int(x) for x in rng.choice(later, k, replace=False)) if k else [])
    return deps


def _components(
    rng: np.random.Generator, services: list[str], sizes: tuple[int, int]
) -> tuple[list[str], list[int]]:
    """Component names (``<service>-api`` first) and the service of each."""
    lo, hi = sizes
    components: list[str] = []
    comp_service: list[int] = []
    for i, svc in enumerate(services):
        k = int(rng.integers(lo, hi + 1))
        extra = rng.choice(len(SUFFIXES) - 1, k - 1, replace=False) + 1
        for j in [0, *sorted(int(x) for x in extra)]:
            components.append(f"{svc}-{SUFFIXES[j]}")
            comp_service.append(i)
    return components, comp_service


def _paths(rng: np.random.Generator) -> list[str]:
    """The source files of one component, sorted."""
    return sorted(
        {
            f"{DIRS[d]}/{FILES[f]}.py"
            for d, f in zip(
                rng.integers(0, len(DIRS), 14).tolist(),
                rng.integers(0, len(FILES), 14).tolist(),
                strict=True,
            )
        }
    )


def _templates(rng: np.random.Generator, nc: int) -> tuple[list[Ints], list[Floats]]:
    """The recurring background templates of each component, with Zipf-like odds."""
    templates, probs = [], []
    for _ in range(nc):
        k = int(rng.integers(3, 7))
        chosen = rng.choice(len(BACKGROUND), k, replace=False).astype(np.int64)
        p = 1.0 / np.arange(1, k + 1) ** 1.1
        templates.append(chosen)
        probs.append(p / p.sum())
    return templates, probs
