"""What every reader does with inputs that never end, inflate or block.

Limits count the bytes read (decompressed), never the size on disk, and special files
(FIFOs, devices, sockets) are refused before they are opened. Reads that could hang or
eat the machine's memory run under a deadline, or in a child process with a memory cap.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rca_analytics as rca
from rca_analytics.ingest import _base
from rca_analytics.ingest._base import MAX_DOCUMENT, MAX_LINE, Context, json_document

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, devices: POSIX only")

MIB = 1 << 20
ROOT = Path(rca.__file__).resolve().parents[1]

#: A small valid input of each file reader: its name and text.
SAMPLES: dict[str, tuple[str, str]] = {
    "logs": ("app.log", '{"time": "2026-03-01T10:00:00Z", "level": "error", "msg": "boom"}\n'),
    "alerts": (
        "alert.json",
        json.dumps(
            {
                "version": "4",
                "status": "firing",
                "alerts": [
                    {
                        "labels": {"alertname": "Down", "severity": "critical"},
                        "startsAt": "2026-03-01T10:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z",
                    }
                ],
            }
        ),
    ),
    "github": (
        "run.json",
        json.dumps(
            {
                "action": "completed",
                "repository": {"full_name": "acme/shop", "name": "shop"},
                "workflow_run": {
                    "id": 1,
                    "run_attempt": 1,
                    "name": "CI",
                    "status": "completed",
                    "conclusion": "failure",
                    "run_started_at": "2026-03-01T09:00:00Z",
                    "updated_at": "2026-03-01T09:05:00Z",
                },
            }
        ),
    ),
    "statuspage": (
        "incident.json",
        json.dumps(
            {
                "incident": {
                    "id": "inc1",
                    "name": "Checkout errors",
                    "status": "investigating",
                    "impact": "minor",
                    "created_at": "2026-03-01T10:00:00Z",
                    "updated_at": "2026-03-01T10:00:00Z",
                    "incident_updates": [],
                }
            }
        ),
    ),
    "otlp": (
        "trace.json",
        json.dumps(
            {
                "resourceSpans": [
                    {
                        "scopeSpans": [
                            {
                                "spans": [
                                    {
                                        "traceId": "5b8efff798038103d269b633813fc60c",
                                        "spanId": "eee19b7ec3c1b174",
                                        "name": "GET /cart",
                                        "startTimeUnixNano": "1772359200000000000",
                                        "endTimeUnixNano": "1772359200005000000",
                                        "status": {"code": 2, "message": "boom"},
                                    }
                                ]
                            }
                        ]
                    }
                ]
            }
        ),
    ),
    "junit": (
        "report.xml",
        '<testsuite name="api" timestamp="2026-03-01T10:00:00Z">'
        '<testcase name="t"><failure message="no"/></testcase></testsuite>',
    ),
}
KINDS = sorted(SAMPLES)
#: Readers of whole JSON documents, one per way in: ``json_values`` (alerts, otlp) looks
#: for JSON lines first, ``json_document`` (statuspage, github) does not.
BOMBED = ["alerts", "statuspage"]


def _rejects(reading: Any) -> list[tuple[str, str]]:
    return [(w, c) for w, c in reading.rejects[["where", "code"]].itertuples(index=False)]


def _records(reading: Any) -> int:
    return len(reading.events) + len(reading.investigations)


@pytest.fixture
def deadline() -> Iterator[None]:
    """A read that blocks (opening a FIFO waits for a writer) fails the test after 10 s.

    ``pytest.fail`` is no ``OSError`` a reader could take for a read error; the timer
    fires again every second in case something swallowed it anyway.
    """

    def expire(signum: int, frame: object) -> None:
        pytest.fail("the reader blocked: it opened a FIFO or waits on a device")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 10, 1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_samples_are_read(tmp_path: Path) -> None:
    for kind, (name, text) in SAMPLES.items():
        (tmp_path / name).write_text(text)
        reading = rca.read(kind, tmp_path / name)
        assert (_records(reading), _rejects(reading)) == (1, []), kind


# --- special files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options"), [*((k, {}) for k in KINDS), ("logs", {"format": "json"})]
)
@pytest.mark.usefixtures("deadline")
def test_a_fifo_named_directly_is_refused_without_opening_it(
    tmp_path: Path, kind: str, options: dict[str, str]
) -> None:
    fifo = tmp_path / SAMPLES[kind][0]
    os.mkfifo(fifo)
    reading = rca.read(kind, fifo, **options)
    assert _rejects(reading) == [(str(fifo), "not_regular_file")]
    assert "FIFO" in reading.rejects["message"][0]
    assert _records(reading) == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("deadline")
def test_special_files_in_a_folder_are_refused_and_the_rest_is_read(
    tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    name, text = SAMPLES[kind]
    (folder / name).write_text(text)
    fifo = folder / f"pipe-{name}"
    os.mkfifo(fifo)
    sock = folder / f"sock-{name}"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock))
    reading = rca.read(kind, folder)
    assert _rejects(reading) == [(str(fifo), "not_regular_file"), (str(sock), "not_regular_file")]
    assert _records(reading) == 1


@pytest.mark.usefixtures("deadline")
def test_the_progress_of_a_refused_file_is_complete(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    ctx = Context()
    assert json_document(fifo, ctx) is None
    assert [r.code for r in ctx.rejects] == ["not_regular_file"]
    assert ctx.done == ctx.total


# --- read limits, in-process (small limits) ----------------------------------------------------


def test_the_document_limit_counts_decompressed_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_base, "MAX_DOCUMENT", 1000)
    small = tmp_path / "small.json.gz"
    small.write_bytes(gzip.compress(json.dumps({"pad": " " * 900}).encode()))
    inflating = tmp_path / "big.json.gz"
    inflating.write_bytes(gzip.compress(json.dumps({"pad": " " * 2000}).encode()))
    plain = tmp_path / "big.json"
    plain.write_text(json.dumps({"pad": " " * 2000}))
    ctx = Context()
    assert json_document(small, ctx) == {"pad": " " * 900}
    assert json_document(inflating, ctx) is None
    assert json_document(plain, ctx) is None
    assert [(r.where, r.code) for r in ctx.rejects] == [
        (str(inflating), "too_large"),
        (str(plain), "too_large"),
    ]
    assert "more than 1,000 bytes (decompressed)" in ctx.rejects[0].message
    assert ctx.done == ctx.total


# --- devices and bombs, in a child process with a memory cap -----------------------------------

#: Reads ``[kind, path]`` pairs under a cap on address space (what it has after importing,
#: plus 2 GiB) and a deadline of 30 s a step; prints each reading's rejects (or what stopped
#: it) and the peak resident memory after it, in MiB.
CHILD = r"""
import json, resource, signal, sys
import rca_analytics as rca

status = open("/proc/self/status").read()
size = int(status.split("VmSize:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + (2 << 30), resource.RLIM_INFINITY))

class Blocked(BaseException):
    pass

def expire(signum, frame):
    raise Blocked()

signal.signal(signal.SIGALRM, expire)

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

out = {"module": rca.__file__, "baseline": peak(), "steps": []}
for kind, path in json.loads(sys.argv[1]):
    signal.setitimer(signal.ITIMER_REAL, 30, 1)
    try:
        reading = rca.read(kind, path)
        found = [[w, c, m] for w, c, m in reading.rejects[["where", "code", "message"]].values]
    except MemoryError:
        found = "MemoryError"
    except Blocked:
        found = "still reading after 30 s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out["steps"].append({"kind": kind, "path": path, "rejects": found, "peak": peak()})
print(json.dumps(out))
"""


def _gzip_of_spaces(path: Path, *, head: bytes, mib: int) -> Path:
    """``head`` then ``mib`` MiB of spaces, gzipped (one member per MiB: written in no time)."""
    member = gzip.compress(b" " * MIB, 9)
    with path.open("wb") as f:
        f.write(gzip.compress(head))
        for _ in range(mib):
            f.write(member)
    return path


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One child process reads every device and bomb below; its findings by (kind, file)."""
    if not (sys.platform == "linux" and Path("/proc/self/status").exists()):
        pytest.skip("memory is measured with Linux's /proc and getrusage")
    folder = tmp_path_factory.mktemp("bombs")
    first = SAMPLES["logs"][1].encode()
    line = _gzip_of_spaces(
        folder / "line.log.gz", head=first + b'{"msg": "', mib=4 * MAX_LINE // MIB
    )
    xml = _gzip_of_spaces(folder / "report.xml.gz", head=b'<testsuite name="', mib=600)
    json_bomb = _gzip_of_spaces(folder / "bomb.json.gz", head=b"", mib=600)
    assert json_bomb.stat().st_size < 2 * MIB  # small on disk, 600 MiB read
    steps = [("logs", str(line)), ("junit", str(xml))]  # the smallest peaks first
    steps += [(k, str(json_bomb)) for k in BOMBED]
    steps += [(k, "/dev/zero") for k in KINDS]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(steps)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout)
    assert Path(out["module"]).resolve().is_relative_to(ROOT)  # this tree's code was tested
    found = {(s["kind"], Path(s["path"]).name): s for s in out["steps"]}
    return {"baseline": out["baseline"], "found": found, "files": (line, xml, json_bomb)}


def _codes(step: dict[str, Any]) -> Any:
    rejects = step["rejects"]
    return rejects if isinstance(rejects, str) else [(w, c) for w, c, _ in rejects]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_device_named_directly_is_refused(child: dict[str, Any], kind: str) -> None:
    step = child["found"][(kind, "zero")]
    assert _codes(step) == [("/dev/zero", "not_regular_file")]
    assert "character device" in step["rejects"][0][2]


@pytest.mark.slow
@pytest.mark.parametrize("kind", BOMBED)
def test_a_gzip_bomb_is_refused_after_the_limit_in_bounded_memory(
    child: dict[str, Any], kind: str
) -> None:
    bomb = child["files"][2]
    step = child["found"][(kind, bomb.name)]
    assert _codes(step) == [(str(bomb), "too_large")]
    assert f"more than {MAX_DOCUMENT:,} bytes (decompressed)" in step["rejects"][0][2]
    # at most the limit is held (256 MiB), never the 600 MiB the file inflates to
    assert step["peak"] - child["baseline"] < 400, step["peak"]
    assert step["peak"] < 1024


@pytest.mark.slow
def test_one_gigantic_line_is_never_held_whole(child: dict[str, Any]) -> None:
    line = child["files"][0]
    step = child["found"][("logs", line.name)]
    assert _codes(step) == [(f"{line}:2", "line_too_long")]
    assert step["peak"] - child["baseline"] < 3 * MAX_LINE // MIB  # the line: 4 * MAX_LINE


@pytest.mark.slow
def test_junit_markup_longer_than_the_limit_is_refused_in_bounded_memory(
    child: dict[str, Any],
) -> None:
    xml = child["files"][1]
    step = child["found"][("junit", xml.name)]
    assert _codes(step) == [(f"{xml}:1", "too_large")]
    assert step["peak"] - child["baseline"] < 4 * MAX_LINE // MIB
