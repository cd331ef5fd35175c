"""The README's Python examples run as written."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RCA_DB", raising=False)
    with warnings.catch_warnings():
        if "pyspark" in block:  # the Spark example runs where the Spark test does
            from test_lake_spark import PANDAS_WARNING, require_spark

            require_spark()
            warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
