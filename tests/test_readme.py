"""The README is the front door: short, with the two commands CI relies on.

Its Python examples run with every other page's, twice, in tests/test_docs.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The most the front door may weigh; the manual lives in docs/.
MAX_BYTES = 12 * 1024


def _commands(text: str) -> list[list[str]]:
    """The command lines of the ```bash blocks, comments dropped, split as a shell would."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(words)
    return lines


def test_the_readme_is_short() -> None:
    size = len(README.encode("utf-8"))
    assert size <= MAX_BYTES, f"README.md is {size:,} bytes; move detail into docs/"


def test_the_readme_gives_the_two_commands() -> None:
    commands = _commands(README)
    assert ["python3", "tasks.py", "demo"] in commands
    assert ["python3", "tasks.py", "test"] in commands
    assert "`python3 tasks.py test --fast`" in README


def test_ci_runs_the_test_command_of_the_readme() -> None:
    """`.ci/run` must run exactly the README's test command, so what CI runs is documented."""
    ci = [
        shlex.split(line, comments=True)
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ]
    readme_test = [c for c in _commands(README) if c[:3] == ["python3", "tasks.py", "test"]]
    assert readme_test == [["python3", "tasks.py", "test"]]
    assert readme_test[0] in ci, ".ci/run no longer runs the README's `python3 tasks.py test`"


def test_the_readme_maps_every_page() -> None:
    linked = set(re.findall(r"\]\((docs/[^)#\s]+)", README))
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    pages.add("docs/readers/README.md")
    missing = sorted((pages - linked) | (linked - pages))
    assert not missing, f"the README's map and docs/ disagree about {missing}"
