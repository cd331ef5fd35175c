from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rca_analytics as rca
from rca_analytics.cli import main

RCA = Path(sys.executable).with_name("rca")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--version"])
    assert excinfo.value.code == 0
    assert capsys.readouterr().out.strip() == f"rca_analytics {rca.__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_builds_a_store_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.duckdb"
    assert main(["demo", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Checkout 500s after payments deploy" in out
    assert "linker's top suspect: Deploy payments v2.14.0 to production" in out
    with rca.connect(path, read_only=True) as store:
        assert store.stats()["investigations"] == 4


@pytest.mark.slow
def test_demo_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "precious.duckdb"
    path.write_text("keep me")
    assert main(["demo", str(path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert path.read_text() == "keep me"
    assert main(["demo", "--force", str(path)]) == 0


@pytest.mark.slow
def test_force_never_replaces_a_store_another_process_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.duckdb"
    rca.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import rca_analytics as r, sys; s = r.connect({str(path)!r}); "
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert main(["demo", "--force", str(path)]) == 1
    finally:
        holder.communicate("")
    err = capsys.readouterr().err
    assert err.startswith("rca: error:") and str(holder.pid) in err
    with rca.connect(path) as store:  # the holder's file is intact and still empty
        assert store.stats()["events"] == 0


@pytest.mark.slow
@pytest.mark.skipif(not RCA.exists(), reason="console script not installed next to python")
def test_the_console_script_is_installed(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(RCA), "demo", str(tmp_path / "d.duckdb")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RCA_DB": ""},
    )
    assert "4 investigations" in result.stdout
    version = subprocess.run([str(RCA), "--version"], capture_output=True, text=True, check=True)
    assert rca.__version__ in version.stdout


JUNIT = """<testsuite name="api" tests="2" failures="1" timestamp="2026-03-01T10:00:00Z">
<testcase classname="t" name="ok" time="0.1"/>
<testcase classname="t" name="bad" time="0.2"><failure message="boom"/></testcase>
</testsuite>"""


@pytest.mark.slow
def test_ingest_stores_prints_a_summary_and_lists_rejects_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ok.xml").write_text(JUNIT)
    (tmp_path / "cut.xml").write_text(JUNIT[:60])
    db = tmp_path / "s.duckdb"
    args = ["ingest", "junit", str(tmp_path / "ok.xml"), str(tmp_path / "cut.xml"), "--db", str(db)]
    assert main(args) == 3
    out, err = capsys.readouterr()
    assert "events: 1 read, 1 stored" in out
    assert f"rca: rejected: {tmp_path / 'cut.xml'}:" in err and "bad_xml" in err
    assert main([*args, "--allow-rejects", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["events"]["unchanged"] == 1 and body["rejects"][0]["code"] == "bad_xml"
    assert (body["report"], body["kind"], body["unchanged"], body["rejected_rows"]) == (
        "IngestReport",
        "junit",
        1,
        1,
    )
    with rca.connect(db, read_only=True) as store:
        assert store.events()["severity"].tolist() == ["medium"]


def test_ingest_refuses_options_its_reader_does_not_take(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ok.xml").write_text(JUNIT)
    base = ["ingest", "junit", str(tmp_path / "ok.xml"), "--db", str(tmp_path / "s.duckdb")]
    assert main([*base, "--since", "2026-01-01"]) == 2
    assert "the junit reader takes no --since" in capsys.readouterr().err
    assert main([*base, "--component", "no-equals-sign"]) == 2
    assert "PATTERN=NAME" in capsys.readouterr().err
    assert main([*base, "--component", "api=payments", "--tz", "Europe/Berlin"]) == 0
    with rca.connect(tmp_path / "s.duckdb", read_only=True) as store:
        assert store.events()["component"].tolist() == ["payments"]
    assert (
        main(["ingest", "junit", str(tmp_path / "missing.xml"), "--db", str(tmp_path / "s.duckdb")])
        == 1
    )
    assert "missing.xml: no such file" in capsys.readouterr().err


def test_ingest_that_reads_nothing_says_so_and_fails_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.duckdb")
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("not a report")  # a name the junit reader passes over
    assert main(["ingest", "junit", str(empty), str(other), "--db", db]) == 1
    out, err = capsys.readouterr()
    message = (
        f"no input files in {empty}, {other}: the junit reader takes files named *.xml, "
        "*.xml.gz from folders"
    )
    assert f"  {message}\n" in out
    assert err == (
        f"rca: ingest junit: {message}; nothing stored (--allow-empty makes this exit 0)\n"
    )
    assert main(["ingest", "junit", str(empty), "--db", db, "--allow-empty", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["notes"] == {"no_input_files": 1}
    assert "no input files in" in err and "--allow-empty" not in err
    (other / "empty.json").write_text("[]")  # a file, but nothing in it
    assert main(["ingest", "statuspage", str(other), "--db", db]) == 1
    assert "rca: ingest statuspage: nothing read from " in capsys.readouterr().err
    with rca.connect(db, read_only=True) as store:
        assert store.stats()["events"] == 0


@pytest.mark.slow
def test_linking_from_the_shell(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_linking import build

    with rca.connect(store_path) as store:
        inv, ids = build(store)
    db = ["--db", str(store_path)]
    assert main(["suggest", inv.id, *db, "--limit", "5"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    titles = ("changes (", "symptoms (", "context (", "conf ", "* suspect:")
    assert len([line for line in lines if not line.strip().startswith(titles)]) == 5
    assert lines[0].startswith("changes (") and lines[1].split() == [
        "conf", "when", "what", "where", "why", "event_id"
    ]  # fmt: skip
    assert ids["cause"] in out.split("symptoms (")[0]  # among the changes, seen first
    assert main(["changes", inv.id, *db, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["event_id"] for r in rows} >= {ids["cause"], ids["other_deploy"]}
    assert {r["scope"] for r in rows} >= {"component", "other"}
    assert main(["autolink", inv.id, *db, "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["stored"] > 0 and counts["investigations"] == 1
    assert counts["report"] == "AutoLinkReport" and "links" not in counts
    assert main(["review", ids["cause"], inv.id, "--reject", "--by", "ana", *db]) == 0
    assert "rejected" in capsys.readouterr().out
    assert main(["review", ids["alert"], inv.id, "--accept", *db]) == 0
    capsys.readouterr()
    assert main(["quality", *db, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["labelled"] == 2 and figures["false_positives"] == 1
    assert main(["suggest", "no-such-investigation", *db]) == 1
    assert "no-such-investigation" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["review", ids["cause"], inv.id, *db])  # --accept or --reject is required


@pytest.mark.slow
def test_query_writes_csv_json_and_parquet(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    with rca.connect(store_path) as store:
        store.add_events(
            [
                {"source": "ci", "event_type": "deploy", "severity": sev, "component": comp,
                 "timestamp": f"2026-03-01T10:0{i}:00Z", "tags": ["a", "b"],
                 "data": {"n": i, "text": 'quote " and, comma'}}
                for i, (sev, comp) in enumerate(
                    [("critical", "pay"), ("info", "pay"), ("critical", "web")]
                )
            ]
        )  # fmt: skip
    db = ["--db", str(store_path)]
    assert main(["query", "events", *db, "--severity", "critical", "--format", "csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(frame) == 2 and set(frame["component"]) == {"pay", "web"}
    assert json.loads(frame["data"][0]) == {"n": 0, "text": 'quote " and, comma'}
    assert json.loads(frame["tags"][0]) == ["a", "b"]
    assert main(["query", "events", *db, "--component", "pay", "web", "--format", "json",
                 "--columns", "source,component,timestamp,tags,data"]) == 0  # fmt: skip
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"source", "component", "timestamp", "tags", "data"}
    assert rows[0]["tags"] == ["a", "b"] and rows[0]["data"]["n"] == 0  # nested, not text
    with pytest.raises(SystemExit):  # one value only
        main(["query", "events", *db, "--since", "2026-01-01", "2026-02-01"])
    out = tmp_path / "e.parquet"
    assert main(["query", "events", *db, "--format", "parquet", "-o", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 3
    assert main(["query", "investigations", *db, "--severity", "critical"]) == 2
    assert "takes no --severity" in capsys.readouterr().err
    assert main(["query", "events", *db, "--severity", "urgent"]) == 1
    assert "urgent" in capsys.readouterr().err


@pytest.mark.slow
def test_report_from_the_shell(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with rca.connect(store_path) as store:
        inv = store.add_investigation(
            {"title": "Checkout 500s", "detected_at": "2026-03-01T10:00:00Z",
             "resolved_at": "2026-03-01T11:00:00Z", "status": "resolved"}
        )  # fmt: skip
    db = ["--db", str(store_path)]
    assert main(["report", "postmortem", inv.id, *db, "--no-plot"]) == 0
    assert capsys.readouterr().out.startswith("# Postmortem: Checkout 500s")
    assert main(["report", "postmortem", inv.id, *db, "-o", str(tmp_path / "pm.html")]) == 0
    assert (tmp_path / "pm.html").read_text().startswith("<!DOCTYPE html>")
    assert main(["report", "review", *db, "--since", "2026-02-01", "--until", "2026-04-01",
                 "--format", "html", "--no-plot"]) == 0  # fmt: skip
    assert "Reliability review 2026-02-01 to 2026-04-01" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a postmortem needs its investigation
        main(["report", "postmortem", *db])
    assert main(["report", "postmortem", *db, inv.id, "--no-plot"]) == 0  # options first too
    capsys.readouterr()
    assert main(["report", "review", *db, "--format", "md", "-o", str(tmp_path / "r.html")]) == 2
    assert "--format md but the output is a .html file" in capsys.readouterr().err
    assert main(["report", "review", *db, "-o", str(tmp_path / "missing" / "r.md")]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert main(["report", "review", *db, "--no-plot", "-o", str(tmp_path / "plain")]) == 0
    assert (tmp_path / "plain.md").exists()
