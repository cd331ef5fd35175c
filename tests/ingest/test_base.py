"""The readers' shared helpers: streaming lines, JSON documents, names of places."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rca_analytics import ReaderError
from rca_analytics.ingest import _base
from rca_analytics.ingest._base import Context, expand, json_document, json_lines, lines


def _codes(ctx: Context) -> list[tuple[str, str]]:
    return [(r.where, r.code) for r in ctx.rejects]


def test_lines_are_numbered_and_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"\xef\xbb\xbffirst\r\n\nsecond\n  \nthird without newline")
    ctx = Context()
    assert list(lines(path, ctx)) == [(1, "first"), (3, "second"), (5, "third without newline")]
    assert ctx.rejects == []
    assert ctx.done == ctx.total == path.stat().st_size


def test_bad_lines_are_rejected_by_number_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    huge = b"x" * (_base.MAX_LINE + 10)
    path.write_bytes(b"ok 1\n\xff\xfe binary \x00\n" + huge + b"\nok 4\n" + huge)
    ctx = Context()
    assert list(lines(path, ctx)) == [(1, "ok 1"), (4, "ok 4")]
    assert _codes(ctx) == [
        (f"{path}:2", "not_utf8"),
        (f"{path}:3", "line_too_long"),
        (f"{path}:5", "line_too_long"),
    ]


def test_a_line_longer_than_many_read_blocks_is_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "flood.log"
    with path.open("wb") as f:
        f.write(b"a\n")
        for _ in range(_base.MAX_LINE // (1 << 20) + 3):  # longer than MAX_LINE, in blocks
            f.write(b"y" * (1 << 20))
        f.write(b"\nb\n")
    ctx = Context()
    assert list(lines(path, ctx)) == [(1, "a"), (3, "b")]
    assert _codes(ctx) == [(f"{path}:2", "line_too_long")]


def test_gzip_files_are_read_and_a_broken_one_is_reported(tmp_path: Path) -> None:
    good = tmp_path / "app.log.gz"
    good.write_bytes(gzip.compress(b"one\ntwo\n"))
    ctx = Context()
    assert list(lines(good, ctx)) == [(1, "one"), (2, "two")]
    broken = tmp_path / "cut.log.gz"
    broken.write_bytes(gzip.compress(b"one\ntwo\n" * 1000)[:40])
    ctx = Context()
    list(lines(broken, ctx))
    assert [r.code for r in ctx.rejects] == ["unreadable"]


def test_json_lines_reject_what_does_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n{"a": \n[1, 2]\n' + "[" * 100_000 + "\n")
    ctx = Context()
    assert list(json_lines(path, ctx)) == [(1, {"a": 1}), (3, [1, 2])]
    assert _codes(ctx) == [(f"{path}:2", "bad_json"), (f"{path}:4", "bad_json")]


def test_json_documents_name_the_line_of_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text('{\n  "alerts": [\n    {"labels": }\n  ]\n}\n')
    ctx = Context()
    assert json_document(path, ctx) is None
    assert _codes(ctx) == [(f"{path}:3", "bad_json")]
    assert "column 16" in ctx.rejects[0].message
    binary = tmp_path / "garbage.json"
    binary.write_bytes(b'{"a":\n"\xff\xfe"}')
    assert json_document(binary, ctx) is None
    assert _codes(ctx)[-1] == (f"{binary}:2", "not_utf8")
    fine = tmp_path / "bom.json"
    fine.write_bytes(b'\xef\xbb\xbf{"ok": true}')
    assert json_document(fine, ctx) == {"ok": True}


def test_expand_walks_folders_in_order_and_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b/2.json", "a.json", "notes.txt", ".git/x.json", "b/.hidden.json"):
        (tmp_path / name).write_text("{}")
    assert expand(tmp_path, (".json",)) == [tmp_path / "a.json", tmp_path / "b" / "2.json"]
    assert expand([tmp_path / "notes.txt"], (".json",)) == [tmp_path / "notes.txt"]
    with pytest.raises(ReaderError, match=r"missing\.json: no such file"):
        expand([tmp_path / "missing.json"])


def test_levels_map_to_severities() -> None:
    cases = {
        "EMERG": "critical",
        "fatal": "critical",
        "CRITICAL": "critical",
        "Error": "high",
        "warn": "medium",
        "notice": "low",
        "info": "info",
        "debug": "info",
        60: "critical",
        50: "high",
        40: "medium",
        30: "info",
        "3": "high",
    }
    for level, severity in cases.items():
        rank = _base.level_rank(level)
        assert rank is not None, level
        assert _base.severity_for_level(rank) == severity, level
    assert _base.level_rank(True) is None
    assert _base.level_rank("shouting") is None


def test_rules_match_exact_names_before_patterns_and_callables_decide() -> None:
    rules = {"src/api/*": "api", "src/api/special.py": "special", "*": "other"}
    assert _base.apply_rule(rules, "src/api/special.py") == "special"
    assert _base.apply_rule(rules, "src/api/x.py") == "api"
    assert _base.apply_rule(rules, "README") == "other"
    assert _base.apply_rule(str.upper, "db") == "DB"


@pytest.mark.slow
@given(st.lists(st.text(), max_size=4))
def test_stable_ids_and_digests_are_deterministic_and_distinguish_parts(parts: list[str]) -> None:
    assert _base.stable_id(*parts) == _base.stable_id(*parts)
    assert _base.digest(*parts) == _base.digest(*parts)
    assert _base.digest(*parts, "x") != _base.digest(*parts)
    assert len(_base.digest(*parts)) == 16


@given(st.lists(st.one_of(st.text(), st.integers()), max_size=5))
def test_pointers_escape_their_parts(parts: list[str | int]) -> None:
    text = _base.pointer("f.json", *parts)
    tokens = text.split("#", 1)[1].split("/")[1:] if parts else []
    decoded = [t.replace("~1", "/").replace("~0", "~") for t in tokens]
    assert decoded == [str(p) for p in parts]


# --- zero ("unset") times -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",  # Go's zero time.Time
        "0001-01-01T00:00:00.000000000Z",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T05:30:00+05:30",  # Go's zero time printed in Asia/Kolkata
        "0000-12-31T19:03:58-04:56",  # ... and in America/New_York (local mean time)
        "0001-01-01T00:00:00",  # .NET DateTime.MinValue
        "0001-01-01 00:00:00",
        "0000-00-00 00:00:00",  # MySQL's zero date
        " 0001-01-01 ",
    ],
)
def test_zero_times_in_their_spellings(value: str) -> None:
    assert _base.is_zero_time(value) and _base.is_zero_time(value, unix=True)
    ctx = Context()
    assert _base.zero_as_missing(value, ctx) is None
    assert ctx.notes == {"zero_time_as_missing": 1}


@pytest.mark.parametrize(
    "value",
    [None, "", "2026-03-01T10:00:00Z", "0002-01-01T00:00:00Z", "10001-01-01", "1970-01-01",
     "soon", 1772359200, "1772359200", True, False, [], {}],
)  # fmt: skip
def test_times_that_are_not_zero_pass_unchanged(value: object) -> None:
    assert not _base.is_zero_time(value, unix=True)
    ctx = Context()
    assert _base.zero_as_missing(value, ctx, unix=True) is value
    assert ctx.notes == {}


def test_zero_unix_time_only_where_the_field_is_unix_time() -> None:
    for zero in (0, 0.0, "0", "00", "0.0", " 0 "):
        assert _base.is_zero_time(zero, unix=True), zero
        assert not _base.is_zero_time(zero), zero  # "0" is no ISO time: its reader says so
