"""One vocabulary of reason codes: every code the package emits is a Reason, documented once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import rca_analytics as rca
from rca_analytics import _validate
from rca_analytics._reasons import RENAMED, Reason
from rca_analytics.ingest._base import Context, Refused

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "rca_analytics"
DOC = ROOT / "docs" / "reasons.md"
#: Modules whose codes must be current reasons (readers, validation, loading, imports).
STRICT = [
    *sorted((PACKAGE / "ingest").glob("*.py")),
    *(PACKAGE / name for name in ("_validate.py", "_bulk.py", "_loading.py", "_importing.py")),
    *(PACKAGE / name for name in ("_ingesting.py", "_lake_import.py")),
]
#: Calls that carry a reason code, and the position of the code among their arguments.
CODE_ARGUMENT = {
    "reject": 1,
    "Reject": 1,
    "Refused": 0,
    "Failure": 2,
    "PydanticCustomError": 0,
    "_whole": 1,
}


def _table(heading: str) -> list[list[str]]:
    """The rows of the markdown table under ``heading`` in docs/reasons.md."""
    text = DOC.read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def _calls(path: Path) -> list[tuple[int, str, ast.expr]]:
    """(line, call name, code argument) of every call carrying a code in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name not in CODE_ARGUMENT:
            continue
        code = next((k.value for k in node.keywords if k.arg == "code"), None)
        if code is None and len(node.args) > CODE_ARGUMENT[name]:
            code = node.args[CODE_ARGUMENT[name]]
        if code is not None:
            found.append((node.lineno, name, code))
    return found


def _members(tree: ast.AST) -> set[str]:
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Reason"
        and not node.attr.startswith("_")
    }


def test_a_reason_is_its_text() -> None:
    assert Reason.MISSING == "missing" and str(Reason.INVALID_TYPE) == "invalid_type"
    assert f"{Reason.BAD_JSON}" == "bad_json" and rca.Reason is Reason
    assert {r.value for r in Reason} == {r.name.lower() for r in Reason}  # one spelling


def test_codes_of_earlier_releases_name_their_new_reason() -> None:
    assert dict(RENAMED) == {
        "missing_field": Reason.MISSING,
        "wrong_type": Reason.INVALID_TYPE,
        "not_bool": Reason.INVALID_TYPE,
        "invalid_time": Reason.INVALID_DATETIME,
        "not_json": Reason.BAD_JSON,
        "bad_text": Reason.NOT_UTF8,
        "not_found": Reason.DANGLING_LINK,
        "link_rejected_by_review": Reason.REJECTED_BY_REVIEW,
    }
    for old, new in RENAMED.items():
        assert Reason(old) is new
        assert old not in {r.value for r in Reason}  # an old code is not also a current one
    with pytest.raises(ValueError, match="made_up"):
        Reason("made_up")


def test_the_documented_table_is_the_enum() -> None:
    rows = _table("The codes")
    codes = [row[0].strip("`") for row in rows]
    assert codes == [r.value for r in Reason]  # every reason once, in the enum's order
    for row in rows:
        assert len(row) == 4 and all(row), row  # code, meaning, who emits it, an example


def test_the_documented_renames_are_the_enum_s() -> None:
    rows = _table("Renamed codes")
    assert {row[0].strip("`"): row[1].strip("`") for row in rows} == {
        old: new.value for old, new in RENAMED.items()
    }


def test_the_changelog_lists_every_rename() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    for old, new in RENAMED.items():
        assert f"`{old}` → `{new}`" in changelog, old


@pytest.mark.parametrize("path", STRICT, ids=lambda p: p.name)
def test_readers_validators_and_loaders_emit_only_reasons(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert _members(tree) <= set(Reason.__members__), path.name
    for line, name, code in _calls(path):
        if isinstance(code, ast.Constant):
            assert code.value in {r.value for r in Reason}, f"{path.name}:{line} {code.value!r}"
        if name in ("reject", "Refused", "Reject", "_whole"):  # readers never write text
            assert not isinstance(code, ast.Constant), f"{path.name}:{line}: use a Reason"


@pytest.mark.slow
def test_every_code_in_the_package_is_understood() -> None:
    """Anywhere else (the store's own checks), a literal code is a reason or an earlier one."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        assert _members(tree) <= set(Reason.__members__), path.name
        for line, _name, code in _calls(path):
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                Reason(code.value)  # raises for a code outside the vocabulary
                assert line


def test_codes_written_in_the_lake_import_sql_are_reasons() -> None:
    text = (PACKAGE / "_lake_import.py").read_text()
    codes = set(re.findall(r"'([a-z_]+)\|", text)) | set(re.findall(r"'([a-z_]+)' AS code", text))
    assert codes, "the lake import writes codes in its SQL"
    for code in codes:
        Reason(code)


def test_pydantic_errors_become_reasons() -> None:
    for kind in _validate._CODES:
        assert isinstance(_validate.reason_of(kind), Reason)
    assert _validate.reason_of("missing") is Reason.MISSING
    assert _validate.reason_of("naive_datetime") is Reason.NAIVE_DATETIME
    assert _validate.reason_of("no_such_pydantic_error") is Reason.INVALID_VALUE
    with pytest.raises(rca.ValidationFailed) as err:
        rca.Event(source="git", event_type="x", severity="high", timestamp=1, data="{x")
    [failure] = err.value.failures
    assert failure.code is Reason.BAD_JSON  # was "not_json"


def test_a_reader_cannot_make_up_a_code() -> None:
    ctx = Context()
    with pytest.raises(TypeError, match="must be a Reason"):
        ctx.reject("a.log:1", "bad_stuff", "no")  # type: ignore[arg-type]
    ctx.reject("a.log:2", Reason.BAD_JSON, "column 1: Expecting value", value="{")
    assert [(r.where, r.code, r.value) for r in ctx.rejects] == [("a.log:2", "bad_json", "{")]


def test_one_exception_for_every_reader() -> None:
    err = Refused(Reason.INVALID_DATETIME, "not a time", field="time", value="soon")
    assert isinstance(err, rca.ReaderError) and str(err) == "not a time"
    ctx = Context()
    ctx.refuse(err, "app.log:7")
    ctx.refuse(Refused(Reason.TOO_LARGE, "too large", where="big.json"), "ignored")
    assert [(r.where, r.code, r.field, r.value) for r in ctx.rejects] == [
        ("app.log:7", Reason.INVALID_DATETIME, "time", "soon"),
        ("big.json", Reason.TOO_LARGE, None, None),
    ]
    for path in (PACKAGE / "ingest").glob("*.py"):
        text = path.read_text()
        for old in ("class _Bad", "class _Refuse", "class _Failed"):
            assert old not in text, f"{path.name}: {old}"
