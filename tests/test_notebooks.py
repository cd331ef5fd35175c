"""Notebooks are executed by the suite (nbmake); here: they are committed clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import rca_analytics as rca

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_is_a_quickstart() -> None:
    assert "quickstart.ipynb" in {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_uses_only_the_public_api(path: Path) -> None:
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    source = "\n".join("".join(c["source"]) for c in code)
    used = set(re.findall(r"\brca\.(\w+)", source))
    assert used <= set(rca.__all__), used - set(rca.__all__)
    assert not re.search(r"\.\_[a-z]", source), "private attribute used"
