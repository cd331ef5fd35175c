"""The documentation runs: README.md and docs/**/*.md, as written, twice.

Every ```python block of a file runs, in order, in one namespace (a block may use what an
earlier block of the same file made), in a fresh temporary folder. Then the whole file
runs again, with a fresh namespace, in the same folder: examples must survive being run
twice, as a notebook cell is, so they cannot rely on a store being empty or a file being
new. A word after ``python`` in the fence marks a block:

- ```python spark: needs pyspark and Java; runs (alone, twice) only where the Spark test
  of the lake runs (pytest marker ``spark``);
- ```python slow: needs heavy data; runs (alone, twice) in the full suite (marker ``slow``);
- ```python no-run: shown, only compiled (for what cannot run here, e.g. a real
  repository path); keep these rare.

Marked blocks must stand alone: they run on their own, not after the file's other blocks.
The other checks: relative links point at files that exist, every page of docs/ is
reachable from README.md, and docs/cli.md is what scripts/cli_reference.py generates.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MARKS = {"spark", "slow", "no-run"}


@dataclass(frozen=True)
class Block:
    """One ```python block: where it is, its code and its marks."""

    page: Path
    line: int  # the first line of code, counting from 1
    code: str
    marks: frozenset[str]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def compiled(self) -> Any:
        """The code, compiled so that tracebacks name the page and its line numbers."""
        return compile("\n" * (self.line - 1) + self.code, str(self.page), "exec")


def blocks(page: Path) -> list[Block]:
    found = []
    for token in MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8")):
        words = token.info.split()
        if token.type != "fence" or not words or words[0] != "python":
            continue
        assert token.map is not None
        found.append(Block(page, token.map[0] + 2, token.content, frozenset(words[1:])))
    return found


BLOCKS = {page: blocks(page) for page in PAGES}


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _cases() -> Iterator[Any]:
    """One case per page (its plain blocks, in order), one per marked block."""
    for page, found in BLOCKS.items():
        plain = [b for b in found if not b.marks]
        if plain:
            yield pytest.param(plain, id=_name(page))
        for block in found:
            if block.marks & {"spark", "slow"}:
                marks = [getattr(pytest.mark, m) for m in sorted(block.marks) if m != "no-run"]
                yield pytest.param([block], id=block.where, marks=marks)


def test_blocks_are_marked_with_known_words() -> None:
    for found in BLOCKS.values():
        for block in found:
            assert block.marks <= MARKS, f"{block.where}: unknown mark {block.marks - MARKS}"
            if "pyspark" in block.code:
                assert "spark" in block.marks, f"{block.where}: uses Spark: ```python spark"


def test_the_docs_have_examples() -> None:
    assert blocks(ROOT / "README.md"), "README.md lost its first session"
    runs = sum(1 for found in BLOCKS.values() for b in found if "no-run" not in b.marks)
    assert runs >= 20


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_no_run_blocks_compile(page: Path) -> None:
    for block in BLOCKS[page]:
        if "no-run" in block.marks:
            block.compiled()


@pytest.mark.parametrize("examples", list(_cases()))
def test_examples_run_twice(
    examples: list[Block], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RCA_DB", raising=False)
    with warnings.catch_warnings():
        if any("spark" in b.marks for b in examples):  # runs where the lake's Spark test does
            from test_lake_spark import PANDAS_WARNING, require_spark

            require_spark()
            warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
        for attempt in ("first run", "second run, same folder"):
            namespace: dict[str, Any] = {"__name__": "__docs__"}
            for block in examples:
                try:
                    exec(block.compiled(), namespace)
                except Exception as err:
                    err.add_note(f"{block.where}: this example failed on its {attempt}")
                    raise


# -- links ----------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_relative_links_point_at_files(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{_name(page)}: link to {target}, which does not exist"


def test_every_page_is_reachable_from_the_readme() -> None:
    seen, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        if page in seen or page.suffix != ".md" or not page.is_file():
            continue
        seen.add(page)
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if not re.match(r"^[a-z]+:", target) and not target.startswith("#"):
                todo.append((page.parent / target.split("#")[0]).resolve())
    missing = [_name(p) for p in PAGES if p not in seen]
    assert not missing, f"no link from README.md (or a page it links) leads to {missing}"


# -- the generated CLI reference ------------------------------------------------------------


def _cli_reference() -> Any:
    spec = importlib.util.spec_from_file_location(
        "cli_reference", ROOT / "scripts/cli_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_generated_from_the_parser() -> None:
    script = _cli_reference()
    committed = script.DOC.read_text(encoding="utf-8")
    assert committed == script.render(committed), (
        f"docs/cli.md does not match rca's argument parser: run `{script.COMMAND}` "
        "and commit docs/cli.md"
    )


# -- pages that list what the package has -----------------------------------------------------


def test_the_api_page_names_every_public_name() -> None:
    import inspect

    import rca_analytics as rca

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    store = [n for n, _ in inspect.getmembers(rca.Store) if not n.startswith("_")]
    missing = [
        name
        for name in [*rca.__all__, *store]
        if not any(f"`{p}{name}{s}" in text for p in ("", "rca.") for s in ("`", "(", "."))
        and not re.search(rf"── {name}\b", text)  # in the drawn tree of errors
    ]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_the_layout_names_every_module_and_only_those() -> None:
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout") :]
    package = ROOT / "rca_analytics"
    named = set(re.findall(r"`rca_analytics/(\w+\.py)`", layout))
    for line in layout.splitlines():  # a subpackage's row names its modules
        folder = re.match(r"\| `rca_analytics/(\w+)/` \|", line)
        if folder:
            modules = re.findall(r"`(\w+\.py)`", line)
            named |= {f"{folder[1]}/{m}" for m in [*modules, "__init__.py"]}
    present = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    assert named == present, (
        "update the layout in docs/development.md: "
        f"not listed {sorted(present - named)}, gone {sorted(named - present)}"
    )
