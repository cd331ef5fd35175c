"""The git reader against real repositories built here with git itself."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rca_analytics as rca
from rca_analytics.cli import main
from rca_analytics.ingest import git as git_reader
from rca_analytics.ingest._base import Context

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ANA = ("Ana Lima", "ana@example.com")
ZOE = ("Zoë Ålesund", "zoe@example.com")
LEI = ("李雷", "lei@example.com")
BOT = ("Release Bot", "bot@example.com")
#: The second commit's message: quotes, several paragraphs, characters that look like
#: record separators, trailing blank lines.
MESSAGE_2 = (
    'Move "db" to store \'properly\'\x1e\n\nBody line one\x1e\x1f\nline "two"\n\n'
    "- item %H %x00 \\0\n\n\n"
)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git configuration reaches the reader (nor the builders)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)


def _env(when: str, author: tuple[str, str], committed: str | None) -> dict[str, str]:
    return {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": BOT[0],
        "GIT_COMMITTER_EMAIL": BOT[1],
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": committed or when,
    }


class Repo:
    """A repository in a folder, built commit by commit with the git command."""

    def __init__(self, path: Path, init: bool = True) -> None:
        self.path = path
        if init:
            path.mkdir(parents=True)
            self.git("init", "-q", "-b", "main")

    def git(
        self,
        *args: str,
        when: str = "2026-03-01T08:00:00+00:00",
        author: tuple[str, str] = ANA,
        committed: str | None = None,
        stdin: bytes | None = None,
    ) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=_env(when, author, committed),
            input=stdin,
            capture_output=True,
            check=True,
        )
        return done.stdout.decode().strip()

    def commit(
        self,
        message: str | bytes,
        files: dict[str, str | bytes | None] | None = None,
        *,
        when: str,
        author: tuple[str, str] = ANA,
        committed: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> str:
        for name, content in (files or {}).items():
            path = self.path / name
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        self.git("add", "-A")
        raw = message if isinstance(message, bytes) else message.encode()
        self.git(
            *extra,
            "commit",
            "-q",
            "--allow-empty",
            "--cleanup=verbatim",
            "-F",
            "-",
            when=when,
            author=author,
            committed=committed,
            stdin=raw,
        )
        return self.git("rev-parse", "HEAD")

    def raw_commit(self, body: bytes, parent: str, when: int = 1772370000) -> str:
        """A commit object written byte for byte (what `git commit` would refuse)."""
        tree = self.git("rev-parse", f"{parent}^{{tree}}")
        content = (
            f"tree {tree}\nparent {parent}\nauthor Ana Lima <ana@example.com> {when} +0000\n"
            f"committer Release Bot <bot@example.com> {when} +0000\n\n"
        ).encode() + body
        sha = self.git("hash-object", "-t", "commit", "-w", "--stdin", stdin=content)
        self.git("update-ref", "refs/heads/main", sha)
        return sha


def lines(n: int) -> str:
    return "".join(f"line {i}\n" for i in range(n))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference history (main: c1..c7; feature: c1..c3), tags v1 and v2."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    try:
        repo = Repo(tmp_path_factory.mktemp("git") / "shop")
        shas: dict[str, str] = {}
        shas["c1"] = repo.commit(
            "Add payments API\n",
            {
                "services/payments/api.py": lines(3),
                "services/payments/db.py": lines(20),
                "README.md": lines(1),
            },
            when="2026-03-01T09:00:00+00:00",
        )
        shas["c2"] = repo.commit(
            MESSAGE_2,
            {
                "services/payments/db.py": None,
                "services/payments/store.py": lines(20) + "line 20\n",
                "assets/logo.png": bytes(range(256)) * 4,
            },
            when="2026-03-01T11:00:00+01:00",
            committed="2026-03-01T11:30:00+01:00",
            author=ZOE,
        )
        repo.git("tag", "v1")
        repo.git("checkout", "-q", "-b", "feature")
        shas["c3"] = repo.commit(
            "Add search index",
            {"services/search/index.py": lines(4)},
            when="2026-03-01T12:00:00+00:00",
            author=LEI,
        )
        repo.git("checkout", "-q", "main")
        shas["c4"] = repo.commit(
            "Fix payments timeout",
            {"services/payments/api.py": "line 0\nline 1 fixed\nline 2\n"},
            when="2026-03-01T12:30:00+00:00",
        )
        repo.git(
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge branch 'feature'",
            "feature",
            when="2026-03-01T13:00:00+00:00",
        )
        shas["c5"] = repo.git("rev-parse", "HEAD")
        shas["c6"] = repo.commit("Release 2.0", when="2026-03-01T14:00:00+00:00")
        repo.git(
            "tag",
            "-a",
            "v2",
            "-m",
            "Version 2.0\n\nChangelog: search, payments fix",
            when="2026-03-01T14:05:00+02:00",
            committed="2026-03-01T14:05:00+02:00",
        )
        shas["c7"] = repo.commit(
            f'Revert "Fix payments timeout"\n\nThis reverts commit {shas["c4"]}.\n',
            {"services/payments/api.py": lines(3)},
            when="2026-03-01T15:00:00+00:00",
        )
        yield {"path": repo.path, "repo": repo, **shas}
    finally:
        mp.undo()


RULE = {
    "services/payments/*": "payments",
    "services/search/*": "search",
    "README.md": "docs",
}


def by_id(reading: rca.Reading) -> dict[str, dict[str, Any]]:
    return {row["source_id"]: row for row in reading.events.to_dict("records")}


# --- mapping ---------------------------------------------------------------------------


def test_reads_every_commit_and_tag_of_head(shop: dict[str, Any]) -> None:
    reading = rca.read("git", shop["path"])
    events = by_id(reading)
    commits = [shop[f"c{i}"] for i in range(1, 8)]
    assert sorted(events) == sorted([*commits, f"tag:v1:{shop['c2']}", f"tag:v2:{shop['c6']}"])
    assert reading.rejects.empty
    assert reading.skipped == {}
    assert {e["event_type"] for e in events.values()} == {"commit", "tag"}
    assert events[shop["c1"]]["where"] == f"{shop['path']}@{shop['c1']}"


def test_first_commit_mapped_exactly(shop: dict[str, Any]) -> None:
    events = by_id(rca.read("git", shop["path"], component=RULE, service="shop-api"))
    ev = events[shop["c1"]]
    assert ev["timestamp"] == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert (ev["source"], ev["event_type"], ev["severity"]) == ("git", "commit", "info")
    assert (ev["component"], ev["service"]) == ("payments", "shop-api")
    assert ev["tags"] == []
    assert ev["data"] == {
        "sha": shop["c1"],
        "parents": [],
        "merge": False,
        "author": "Ana Lima",
        "author_email": "ana@example.com",
        "authored_at": "2026-03-01T09:00:00+00:00",
        "committer": "Release Bot",
        "committer_email": "bot@example.com",
        "committer_tz": "+00:00",
        "subject": "Add payments API",
        "body": "",
        "body_truncated": False,
        "files": [
            {"path": "README.md", "added": 1, "deleted": 0},
            {"path": "services/payments/api.py", "added": 3, "deleted": 0},
            {"path": "services/payments/db.py", "added": 20, "deleted": 0},
        ],
        "files_total": 3,
        "insertions": 24,
        "deletions": 0,
        "components": ["payments", "docs"],
        "tags": [],
        "repository": "shop",
    }


def test_rename_binary_unicode_author_and_message_with_separators(shop: dict[str, Any]) -> None:
    ev = by_id(rca.read("git", shop["path"], component=RULE))[shop["c2"]]
    # committer date (11:30+01:00) is the event time, the author date is kept in data
    assert ev["timestamp"] == dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.UTC)
    data = ev["data"]
    assert data["authored_at"] == "2026-03-01T11:00:00+01:00"
    assert (data["author"], data["author_email"]) == ("Zoë Ålesund", "zoe@example.com")
    # the subject is on one line, blanks (and control characters) collapsed
    assert data["subject"] == "Move \"db\" to store 'properly'"
    assert data["body"] == 'Body line one\x1e\x1f\nline "two"\n\n- item %H %x00 \\0'
    assert data["files"] == [
        {"path": "assets/logo.png", "added": None, "deleted": None, "binary": True},
        {
            "path": "services/payments/store.py",
            "old_path": "services/payments/db.py",
            "added": 1,
            "deleted": 0,
        },
    ]
    assert (data["files_total"], data["insertions"], data["deletions"]) == (2, 1, 0)
    assert data["tags"] == ["v1"]
    assert ev["tags"] == ["tag:v1"]
    assert ev["component"] == "payments"


def test_read_gives_utc_times_and_keeps_the_offsets_in_data(shop: dict[str, Any]) -> None:
    reading = rca.read("git", shop["path"])
    times = reading.events["timestamp"]
    assert isinstance(times.dtype, pd.DatetimeTZDtype) and str(times.dt.tz) == "UTC"
    events = by_id(reading)
    moved = events[shop["c2"]]  # committed 11:30+01:00
    assert moved["timestamp"] == pd.Timestamp("2026-03-01T10:30:00Z")
    assert moved["data"]["committer_tz"] == "+01:00"
    tag = events[f"tag:v2:{shop['c6']}"]  # tagged 14:05+02:00
    assert tag["timestamp"] == pd.Timestamp("2026-03-01T12:05:00Z")
    assert tag["data"]["tagger_tz"] == "+02:00"


def test_merge_has_first_parent_diff_and_tag(shop: dict[str, Any]) -> None:
    events = by_id(rca.read("git", shop["path"], component=RULE))
    ev = events[shop["c5"]]
    assert ev["data"]["merge"] is True
    assert ev["data"]["parents"] == [shop["c4"], shop["c3"]]
    assert ev["data"]["files"] == [{"path": "services/search/index.py", "added": 4, "deleted": 0}]
    assert ev["component"] == "search"
    assert ev["tags"] == ["merge"]
    assert ev["severity"] == "info"
    assert events[shop["c3"]]["data"]["author"] == "李雷"


def test_empty_commit_and_revert(shop: dict[str, Any]) -> None:
    events = by_id(rca.read("git", shop["path"], component=RULE))
    empty = events[shop["c6"]]
    assert empty["data"]["files"] == []
    assert (empty["data"]["files_total"], empty["data"]["insertions"]) == (0, 0)
    assert pd.isna(empty["component"])
    assert empty["tags"] == ["tag:v2"]
    revert = events[shop["c7"]]
    assert revert["tags"] == ["revert"]
    assert revert["data"]["body"] == f"This reverts commit {shop['c4']}."
    assert revert["data"]["files"] == [
        {"path": "services/payments/api.py", "added": 1, "deleted": 1}
    ]


def test_tag_events(shop: dict[str, Any]) -> None:
    events = by_id(rca.read("git", shop["path"], service="shop-api"))
    light = events[f"tag:v1:{shop['c2']}"]
    assert (light["event_type"], light["severity"], light["tags"]) == (
        "tag",
        "low",
        ["lightweight"],
    )
    # a lightweight tag has no date of its own: its commit's
    assert light["timestamp"] == dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.UTC)
    assert light["data"] == {
        "name": "v1",
        "sha": shop["c2"],
        "annotated": False,
        "tag_object": None,
        "tagger": None,
        "tagger_email": None,
        "tagger_tz": None,
        "subject": None,
        "body": None,
        "repository": "shop",
    }
    assert pd.isna(light["component"])
    assert light["service"] == "shop-api"
    annotated = events[f"tag:v2:{shop['c6']}"]
    assert annotated["timestamp"] == dt.datetime(2026, 3, 1, 12, 5, tzinfo=dt.UTC)
    assert annotated["tags"] == ["annotated"]
    tag_object = shop["repo"].git("rev-parse", "v2")
    assert annotated["data"] == {
        "name": "v2",
        "sha": shop["c6"],
        "annotated": True,
        "tag_object": tag_object,
        "tagger": "Release Bot",
        "tagger_email": "bot@example.com",
        "tagger_tz": "+02:00",
        "subject": "Version 2.0",
        "body": "Changelog: search, payments fix",
        "repository": "shop",
    }
    assert annotated["where"] == f"{shop['path']}@refs/tags/v2"


def test_component_rules(shop: dict[str, Any]) -> None:
    events = by_id(rca.read("git", shop["path"]))
    assert all(pd.isna(e["component"]) for e in events.values())
    assert events[shop["c1"]]["data"]["components"] == []

    def top(path: str) -> str | None:
        parts = path.split("/")
        return parts[1] if parts[0] == "services" else None

    # a tie goes to the component of the first file in git's (path) order
    tie = {"services/payments/api.py": "payments", "README.md": "docs"}
    events = by_id(rca.read("git", shop["path"], component=tie))
    assert events[shop["c1"]]["component"] == "docs"
    assert events[shop["c1"]]["data"]["components"] == ["docs", "payments"]

    events = by_id(rca.read("git", shop["path"], component=top))
    assert events[shop["c1"]]["component"] == "payments"
    assert events[shop["c5"]]["component"] == "search"
    assert pd.isna(events[shop["c6"]]["component"])


def test_service_and_component_as_names_or_rules(shop: dict[str, Any]) -> None:
    def picked(**options: Any) -> set[tuple[Any, Any]]:
        events = rca.read("git", shop["path"], **options).events
        rows = events[["service", "component"]].astype(object)
        return {tuple(r) for r in rows.where(rows.notna(), None).values.tolist()}

    assert picked() == {(None, None)}
    # a name: that service (component) for every commit and tag, files or not
    assert picked(service="webshop", component="app") == {("webshop", "app")}
    # a service rule maps the repository's folder name ("shop"); unmatched: none
    assert picked(service={"sh*": "webshop"}) == {("webshop", None)}
    assert picked(service=str.upper) == {("SHOP", None)}
    assert picked(service={"other": "x"}) == {(None, None)}


def test_stored_events(shop: dict[str, Any], tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("git", shop["path"], component=RULE)
    assert report.events == {
        "read": 9,
        "stored": 9,
        "updated": 0,
        "unchanged": 0,
        "rejected_rows": 0,
    }
    assert report.ok
    assert report.notes == {}
    frame = store.events(source_id=shop["c2"])
    assert frame["timestamp"].tolist() == [dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.UTC)]
    assert frame["data"][0]["author"] == "Zoë Ålesund"
    assert store.events(tags="merge")["source_id"].tolist() == [shop["c5"]]
    assert store.events(event_type="tag", min_severity="low")["source_id"].tolist() == [
        f"tag:v1:{shop['c2']}",
        f"tag:v2:{shop['c6']}",
    ]
    store.close()


@pytest.mark.slow
def test_idempotent_and_overlapping(shop: dict[str, Any], tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    first = store.ingest("git", shop["path"], rev="v1..v2")
    assert (first.events["read"], first.events["stored"]) == (5, 5)
    again = store.ingest("git", shop["path"], rev="v1..v2")
    assert (again.events["stored"], again.events["unchanged"]) == (0, 5)
    rest = store.ingest("git", shop["path"], all_refs=True)
    assert (rest.events["read"], rest.events["stored"], rest.events["unchanged"]) == (9, 4, 5)
    assert len(store.events()) == 9
    store.close()


def test_two_copies_of_a_repository_collapse(shop: dict[str, Any], tmp_path: Path) -> None:
    bare = tmp_path / "shop.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(shop["path"]), str(bare)], check=True)
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("git", [shop["path"], bare])
    assert report.events["read"] == 18
    assert (report.events["stored"], report.events["unchanged"]) == (9, 9)
    assert set(store.events()["data"].map(lambda d: d["repository"])) == {"shop"}
    store.close()


def test_git_dir_and_bare_repository_are_repositories(shop: dict[str, Any], tmp_path: Path) -> None:
    bare = tmp_path / "billing.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(shop["path"]), str(bare)], check=True)
    reading = rca.read("git", bare)
    assert len(reading.events) == 9
    assert set(reading.events["data"].map(lambda d: d["repository"])) == {"billing"}
    dot_git = rca.read("git", shop["path"] / ".git", rev="v1")
    assert len(dot_git.events) == 3  # c1, c2 and the tag v1
    assert set(dot_git.events["data"].map(lambda d: d["repository"])) == {"shop"}


def test_odd_tags(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "tags")
    sha = repo.commit("One", {"a.txt": "a\n"}, when="2026-03-01T09:00:00Z")
    repo.git("tag", "tree-tag", "HEAD^{tree}")  # a tag of a tree: no commit to attach it to
    # an annotated tag without a tagger line (old tools wrote such tags)
    old = repo.git(
        "hash-object",
        "-t",
        "tag",
        "-w",
        "--stdin",
        stdin=f"object {sha}\ntype commit\ntag old\n\nOld tag\n".encode(),
    )
    repo.git("update-ref", "refs/tags/old", old)
    ctx = Context()
    records = {r.record["source_id"]: r.record for r in git_reader.read([repo.path], ctx)}
    assert sorted(records) == sorted([sha, f"tag:old:{sha}"])
    tag = records[f"tag:old:{sha}"]
    assert tag["timestamp"] == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert tag["data"]["tagger"] is None
    assert (tag["data"]["subject"], tag["data"]["tag_object"]) == ("Old tag", old)
    assert ctx.skipped == {"tag_not_on_commit": 1}
    assert ctx.notes == {"tag_without_date": 1}


def test_shallow_clone(shop: dict[str, Any], tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    url = shop["path"].as_uri()
    subprocess.run(["git", "clone", "-q", "--depth", "2", url, str(clone)], check=True)
    ctx = Context()
    records = {r.record["source_id"]: r.record for r in git_reader.read([clone], ctx)}
    assert sorted(records) == sorted([shop["c6"], shop["c7"], f"tag:v2:{shop['c6']}"])
    # the boundary commit shows no parents; a diff against nothing would list every file
    boundary = records[shop["c6"]]["data"]
    assert (boundary["parents"], boundary["files"], boundary["insertions"]) == ([], [], 0)
    assert records[shop["c7"]]["data"]["files_total"] == 1
    assert ctx.notes == {"shallow_boundary_files_left_out": 1}


# --- choosing commits ------------------------------------------------------------------


def commits(reading: rca.Reading) -> set[str]:
    ev = reading.events
    return set(ev[ev["event_type"] == "commit"]["source_id"])


def test_range_branch_sha_and_lists(shop: dict[str, Any]) -> None:
    s = shop
    ranged = rca.read("git", s["path"], rev="v1..v2")
    assert commits(ranged) == {s["c3"], s["c4"], s["c5"], s["c6"]}
    assert set(ranged.events["source_id"]) - commits(ranged) == {f"tag:v2:{s['c6']}"}
    assert commits(rca.read("git", s["path"], rev="feature")) == {s["c1"], s["c2"], s["c3"]}
    assert commits(rca.read("git", s["path"], rev=s["c2"])) == {s["c1"], s["c2"]}
    assert commits(rca.read("git", s["path"], rev=["feature", f"^{s['c2']}", "v2"])) == {
        s["c3"],
        s["c4"],
        s["c5"],
        s["c6"],
    }
    assert commits(rca.read("git", s["path"], rev=[], all_refs=True)) == {
        s[f"c{i}"] for i in range(1, 8)
    }


def test_since_and_until(shop: dict[str, Any]) -> None:
    s = shop
    window = rca.read(
        "git", s["path"], since="2026-03-01T12:00:00Z", until="2026-03-01T14:00:00+01:00"
    )
    assert commits(window) == {s["c3"], s["c4"], s["c5"]}  # both ends included
    aware = rca.read(
        "git",
        s["path"],
        since=dt.datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=dt.UTC),  # a microsecond after c3
    )
    assert commits(aware) == {s["c4"], s["c5"], s["c6"], s["c7"]}
    # the window selects commits; a tag is read with its commit
    tagged = rca.read("git", s["path"], since="2026-03-01T14:00:00Z", until="2026-03-01T14:00Z")
    assert set(tagged.events["source_id"]) == {s["c6"], f"tag:v2:{s['c6']}"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"since": "2026-03-01T12:00:00"}, "no UTC offset"),
        ({"until": dt.datetime(2026, 3, 1, 12)}, "no UTC offset"),
        ({"since": "yesterday"}, "not an ISO 8601 time"),
        ({"since": 1772355600}, "ISO 8601 text or a datetime"),
        ({"since": "2026-03-02T00:00Z", "until": "2026-03-01T00:00Z"}, "is after until"),
        ({"max_files": -1}, "max_files"),
        ({"rev": []}, "no revision"),
        ({"rev": ""}, "must be a branch"),
        ({"rev": "main\nfeature"}, "newline"),
        ({"service": 3}, "service must be"),
        ({"component": ["payments"]}, "component must be"),
        ({"service": {"shop": 1}}, "service must be"),
    ],
)
def test_wrong_options(shop: dict[str, Any], options: dict[str, Any], message: str) -> None:
    with pytest.raises(rca.ReaderError, match=message):
        rca.read("git", shop["path"], **options)


# --- refusing ----------------------------------------------------------------------------


def test_not_a_repository(shop: dict[str, Any], tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(rca.ReaderError, match="plain: not a git repository"):
        rca.read("git", plain)
    with pytest.raises(rca.ReaderError, match="no such file or folder"):
        rca.read("git", tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(rca.ReaderError, match="not a git repository"):
        rca.read("git", tmp_path / "file.txt")
    with pytest.raises(rca.ReaderError, match=r"inside the repository .*shop, not its top"):
        rca.read("git", shop["path"] / "services")
    with pytest.raises(rca.ReaderError, match="inside the repository"):
        rca.read("git", shop["path"] / ".git" / "refs")


def test_bad_revision_stores_nothing(shop: dict[str, Any], tmp_path: Path) -> None:
    store = rca.connect(tmp_path / "s.duckdb")
    with pytest.raises(rca.ReaderError, match=r"cannot read 'nope'.*bad revision 'nope'"):
        store.ingest("git", shop["path"], rev="nope")
    with pytest.raises(rca.ReaderError, match="not a git repository"):
        store.ingest("git", [shop["path"], tmp_path], rev="v1")  # the second is no repository
    assert len(store.events()) == 0
    store.close()


@pytest.mark.parametrize("rev", ["--output=OUT", "-n1", "--all", "-"])
def test_revision_is_never_an_option(shop: dict[str, Any], tmp_path: Path, rev: str) -> None:
    out = tmp_path / "written"
    with pytest.raises(rca.ReaderError, match="starts with '-'"):
        rca.read("git", shop["path"], rev=rev.replace("OUT", str(out)))
    with pytest.raises(rca.ReaderError, match="starts with '-'"):
        rca.read("git", shop["path"], rev=["main", rev.replace("OUT", str(out))])
    assert not out.exists()


def test_git_missing(shop: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(rca.ReaderError, match="git is not installed"):
        rca.read("git", shop["path"])


def test_empty_repository_reads_nothing(tmp_path: Path) -> None:
    Repo(tmp_path / "fresh")
    assert len(rca.read("git", tmp_path / "fresh").events) == 0
    assert len(rca.read("git", tmp_path / "fresh", all_refs=True).events) == 0
    with pytest.raises(rca.ReaderError, match="cannot read 'main'"):
        rca.read("git", tmp_path / "fresh", rev="main")


# --- robustness ----------------------------------------------------------------------------


def test_environment_and_user_config_do_not_change_the_reading(
    shop: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = rca.read("git", shop["path"]).events.drop(columns="where")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(shop["path"]), str(clone)], check=True)
    for key, value in {
        "log.showSignature": "true",
        "color.ui": "always",
        "log.decorate": "full",
        "core.quotePath": "true",
        "diff.renames": "false",
        "log.showRoot": "false",
        "i18n.logOutputEncoding": "ISO-8859-1",
        "diff.external": "false",
        "log.abbrevCommit": "true",
        "format.pretty": "oneline",
        "diff.mnemonicPrefix": "true",
    }.items():
        subprocess.run(["git", "-C", str(clone), "config", key, value], check=True)
    # a GIT_DIR set in the environment must not make the reader read another repository
    other = Repo(tmp_path / "other")
    other.commit("Unrelated", {"x": "x\n"}, when="2026-01-01T00:00:00Z")
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    got = rca.read("git", clone).events.drop(columns="where")
    assert got.to_dict("records") == expected.assign(
        data=expected["data"].map(lambda d: {**d, "repository": "clone"})
    ).to_dict("records")


def test_odd_messages(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "odd")
    base = repo.commit("Base", {"a.txt": "a\n"}, when="2026-03-01T09:00:00Z")
    # bytes that are not UTF-8 without an encoding header: replaced, and noted
    latin = repo.raw_commit(b"Caf\xe9 cr\xe8me\n", base)
    # a NUL inside the message, which git commit refuses but an object can hold
    nul = repo.raw_commit(b"Before\x00after\n\nbody\n", latin, when=1772370060)
    # a message in a declared encoding is converted to UTF-8 by git
    declared = repo.commit(
        "Déjà vu\n".encode("latin-1"),
        {"b.txt": "b\n"},
        when="2026-03-01T10:00:00Z",
        extra=("-c", "i18n.commitEncoding=ISO-8859-1"),
    )
    ctx = Context()
    records = list(git_reader.read([repo.path], ctx))
    data = {r.record["source_id"]: r.record["data"] for r in records}
    assert data[latin]["subject"] == "Caf\ufffd cr\ufffdme"
    assert (data[nul]["subject"], data[nul]["body"]) == ("Before", "")  # git stops at the NUL
    assert data[declared]["subject"] == "Déjà vu"
    assert data[declared]["files"] == [{"path": "b.txt", "added": 1, "deleted": 0}]
    assert data[base]["files"] == [{"path": "a.txt", "added": 1, "deleted": 0}]
    assert ctx.notes == {"not_utf8_replaced": 1}
    assert ctx.rejects == []
    store = rca.connect(tmp_path / "s.duckdb")
    report = store.ingest("git", repo.path)
    assert (report.events["stored"], report.notes) == (4, {"not_utf8_replaced": 1})
    store.close()


@pytest.mark.parametrize(
    "name",
    ["a b.txt", "tab\there.txt", "new\nline.txt", "quote\"'.txt", "ünï/cødé.txt", "-dash.txt"],
)
def test_odd_file_names(tmp_path: Path, name: str) -> None:
    repo = Repo(tmp_path / "names")
    repo.commit("Odd name", {name: "1\n2\n"}, when="2026-03-01T09:00:00Z")
    repo.commit("Move it", {name: None, f"moved {name}": "1\n2\n"}, when="2026-03-01T10:00:00Z")
    reading = rca.read("git", repo.path, component={name: "odd", f"moved {name}": "moved"})
    first, second = reading.events.sort_values("timestamp").to_dict("records")
    assert first["data"]["files"] == [{"path": name, "added": 2, "deleted": 0}]
    assert first["component"] == "odd"
    assert second["data"]["files"] == [
        {"path": f"moved {name}", "old_path": name, "added": 0, "deleted": 0}
    ]
    assert second["component"] == "moved"


def test_large_commit_and_long_message(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "big")
    files: dict[str, str | bytes | None] = {
        f"src/m{i:03d}.py": lines(i % 5 + 1) for i in range(300)
    }
    body = "x" * 3_000_000  # a record longer than any block git writes at once
    sha = repo.commit(f"Vendor everything\n\n{body}\n", files, when="2026-03-01T09:00:00Z")
    repo.commit("Small", {"src/m000.py": "changed\n"}, when="2026-03-01T10:00:00Z")
    ctx = Context()
    records = {r.record["source_id"]: r.record for r in git_reader.read([repo.path], ctx)}
    data = records[sha]["data"]
    assert data["body"] == "x" * git_reader.MAX_BODY
    assert data["body_truncated"] is True
    assert len(data["files"]) == 100
    assert data["files"][0] == {"path": "src/m000.py", "added": 1, "deleted": 0}
    assert data["files_total"] == 300
    assert data["insertions"] == sum(i % 5 + 1 for i in range(300))
    assert ctx.notes == {"message_body_cut": 1}
    few = rca.read("git", repo.path, max_files=0, component={"src/*": "core"})
    assert [d["files"] for d in few.events["data"]] == [[], []]
    assert set(few.events["component"]) == {"core"}


def test_progress_in_commits(shop: dict[str, Any]) -> None:
    seen: list[tuple[int, int]] = []
    ctx = Context(lambda done, total: seen.append((done, total)))
    records = list(git_reader.read([shop["path"]], ctx, rev="v1..v2"))
    assert len(records) == 5
    assert (ctx.unit, ctx.total, ctx.done) == ("commits", 4, 4)
    assert seen[0] == (0, 4)
    assert seen[-1] == (4, 4)


def test_stopping_early_ends_git(shop: dict[str, Any]) -> None:
    records = git_reader.read([shop["path"]], Context())
    first = next(records)
    assert first.model == "event"
    records.close()  # git is killed and waited for; no warning about a running process


# --- missing objects ---------------------------------------------------------------------

STATS = ("files", "files_total", "insertions", "deletions", "components")


def _loose(repo: Path, oid: str) -> Path:
    """The file of a loose object (asserted to be loose: nothing packed it)."""
    path = repo / ".git" / "objects" / oid[:2] / oid[2:]
    assert path.is_file(), f"{oid} is not a loose object"
    return path


def test_missing_blob_leaves_every_commit_and_only_its_diffs_unknown(
    shop: dict[str, Any], tmp_path: Path
) -> None:
    complete = by_id(rca.read("git", shop["path"], component=RULE))
    copy = tmp_path / "copy" / "shop"  # same folder name: same data.repository
    subprocess.run(["git", "clone", "-q", str(shop["path"]), str(copy)], check=True)
    subprocess.run(["git", "-C", str(copy), "config", "gc.auto", "0"], check=True)
    # lines(3): added by c1 as api.py, replaced in c4, brought back by the revert c7 (HEAD),
    # so `git log --numstat` dies on its very first commit
    blob = shop["repo"].git("rev-parse", f"{shop['c1']}:services/payments/api.py")
    _loose(copy, blob).unlink()
    ctx = Context()
    records = {
        r.record["source_id"]: r.record for r in git_reader.read([copy], ctx, component=RULE)
    }
    assert sorted(records) == sorted(complete)  # every commit and tag
    assert ctx.rejects == []
    assert ctx.notes == {"stats_unknown_missing_objects": 3}
    assert (ctx.done, ctx.total) == (7, 7)
    unknown = {shop["c1"], shop["c4"], shop["c7"]}
    for sha, got in records.items():
        want = complete[sha]
        if sha not in unknown:  # counted by git diff-tree: exactly what git log printed
            wanted = None if pd.isna(want["component"]) else want["component"]
            assert (got["data"], got["component"], got["tags"]) == (
                want["data"],
                wanted,
                want["tags"],
            ), sha
            continue
        # never a number that was not measured: unknown, not 0 nor []
        assert all(got["data"][key] is None for key in STATS), got["data"]
        assert got["component"] is None
        known = {k: v for k, v in got["data"].items() if k not in STATS}
        assert known == {k: v for k, v in want["data"].items() if k not in STATS}
        assert (got["timestamp"], got["summary"], got["tags"]) == (
            want["timestamp"],
            want["summary"],
            want["tags"],
        )
    # a name as component is still everyone's component
    named = rca.read("git", copy, component="shop", rev=shop["c4"])
    assert set(named.events["component"]) == {"shop"}
    assert named.notes == {"stats_unknown_missing_objects": 2}  # c1 and c4; c3 is counted
    # stored, with the note; the command line says it went well
    db = tmp_path / "s.duckdb"
    store = rca.connect(db)
    report = store.ingest("git", copy)
    assert report.ok and report.events["stored"] == 9
    assert report.notes == {"stats_unknown_missing_objects": 3}
    stored = store.events(source_id=shop["c4"])["data"][0]
    assert (stored["files"], stored["insertions"], stored["subject"]) == (
        None,
        None,
        "Fix payments timeout",
    )
    store.close()
    assert main(["ingest", "git", str(copy), "--db", str(tmp_path / "cli.duckdb")]) == 0


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_missing_blob_midway(tmp_path: Path, damage: str) -> None:
    repo = Repo(tmp_path / "broken")
    repo.git("config", "gc.auto", "0")
    zero = repo.commit("Zero", {"z.txt": "z\n"}, when="2026-03-01T08:00:00Z")
    one = repo.commit("One", {"a.txt": "a\n"}, when="2026-03-01T09:00:00Z")
    two = repo.commit("Two", {"a.txt": "b\n"}, when="2026-03-01T10:00:00Z")
    three = repo.commit("Three", {"a.txt": "c\n"}, when="2026-03-01T11:00:00Z")
    # lose the blob `one` added: git log dies when it diffs `two`, after `three`
    lost = _loose(repo.path, repo.git("rev-parse", f"{one}:a.txt"))
    lost.unlink()
    if damage == "corrupt":  # there, but unreadable: only git diff-tree finds out
        lost.write_bytes(b"not a zlib stream")
    ctx = Context()
    data = {r.record["source_id"]: r.record["data"] for r in git_reader.read([repo.path], ctx)}
    assert list(data) == [three, two, one, zero]  # git's order, whichever way it was read
    assert data[three]["files"] == [{"path": "a.txt", "added": 1, "deleted": 1}]
    assert data[zero]["files"] == [{"path": "z.txt", "added": 1, "deleted": 0}]
    assert data[zero]["insertions"] == 1
    assert [data[sha]["files_total"] for sha in (two, one)] == [None, None]
    assert (data[two]["subject"], data[two]["parents"]) == ("Two", [one])
    assert ctx.notes == {"stats_unknown_missing_objects": 2}
    assert ctx.rejects == []
    # a range whose first commit is the broken one: git log fails before printing anything
    ranged = rca.read("git", repo.path, rev=two)
    assert ranged.events["source_id"].tolist() == [two, one, zero]
    assert ranged.rejects.empty


def _partial_clone(
    tmp_path: Path, spec: str, checkout: bool, gone: bool
) -> tuple[Path, dict[str, str]]:
    """A partial clone; ``gone``: its promisor remote is moved away (a lazy fetch fails)."""
    source = Repo(tmp_path / "source")
    shas = {
        "c1": source.commit("Add a", {"a.txt": lines(3)}, when="2026-03-01T09:00:00Z"),
        "c2": source.commit("Change a", {"a.txt": lines(4)}, when="2026-03-01T10:00:00Z"),
        "c3": source.commit("Add b", {"b.txt": lines(2)}, when="2026-03-01T11:00:00Z"),
        "c4": source.commit("Nothing", when="2026-03-01T12:00:00Z"),
    }
    source.git("config", "uploadpack.allowFilter", "true")
    source.git("config", "uploadpack.allowAnySHA1InWant", "true")
    clone = tmp_path / "clone"
    args = ["git", "clone", "-q", f"--filter={spec}", *([] if checkout else ["--no-checkout"])]
    subprocess.run([*args, source.path.as_uri(), str(clone)], check=True, timeout=60)
    if gone:
        source.path.rename(tmp_path / "gone")
    return clone, shas


def _missing_objects(repo: Path) -> set[str]:
    """The objects a partial clone lacks (``--missing=print`` never fetches)."""
    listed = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--objects", "--missing=print", "--all"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return {line[1:] for line in listed.splitlines() if line.startswith("?")}


@pytest.mark.parametrize(
    ("spec", "checkout", "gone", "unknown"),
    [
        ("blob:none", False, True, {"c1", "c2", "c3"}),  # no blob at all: the empty commit
        ("blob:none", True, True, {"c1", "c2"}),  # the checkout fetched HEAD's blobs: c3 whole
        ("tree:0", False, True, {"c1", "c2", "c3", "c4"}),  # no trees either: no diff at all
        ("blob:none", False, False, {"c1", "c2", "c3"}),  # the remote is there: never asked
    ],
)
def test_partial_clone_reads_every_commit_and_never_fetches(
    tmp_path: Path, spec: str, checkout: bool, gone: bool, unknown: set[str]
) -> None:
    clone, shas = _partial_clone(tmp_path, spec, checkout, gone)
    lacking = _missing_objects(clone)
    assert lacking
    db = tmp_path / "s.duckdb"
    code = (
        "import sys; from rca_analytics.cli import main; "
        "sys.exit(main(['ingest', 'git', sys.argv[1], '--db', sys.argv[2], '--no-progress']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(clone), str(db)],
        capture_output=True,
        text=True,
        timeout=120,  # a lazy fetch waiting on a remote would hang here
    )
    assert done.returncode == 0, done.stderr
    assert "stats_unknown_missing_objects" in done.stdout
    with rca.connect(db, read_only=True) as store:
        events = store.events(source="git")
    data = dict(zip(events["source_id"], events["data"], strict=True))
    assert set(data) == set(shas.values())  # every commit, with what is known
    subjects = {"c1": "Add a", "c2": "Change a", "c3": "Add b", "c4": "Nothing"}
    for name, sha in shas.items():
        assert data[sha]["subject"] == subjects[name]
        if name in unknown:
            assert all(data[sha][key] is None for key in STATS), (name, data[sha])
    known = {name: data[sha] for name, sha in shas.items() if name not in unknown}
    if "c3" in known:
        assert known["c3"]["files"] == [{"path": "b.txt", "added": 2, "deleted": 0}]
    if "c4" in known:
        assert (known["c4"]["files"], known["c4"]["files_total"]) == ([], 0)
    reading = rca.read("git", clone)
    assert reading.notes == {"stats_unknown_missing_objects": len(unknown)}
    assert reading.rejects.empty
    assert _missing_objects(clone) == lacking  # nothing was fetched


def test_bare_partial_clone_without_its_mailmap(tmp_path: Path) -> None:
    source = Repo(tmp_path / "source")
    source.commit("Map", {".mailmap": "Ana Mapped <ana@example.com>\n"}, when="2026-03-01T09:00Z")
    source.commit(
        "Edit", {".mailmap": "Ana Mapped <ana@example.com>\n\n"}, when="2026-03-01T10:00Z"
    )
    source.git("config", "uploadpack.allowFilter", "true")
    source.git("config", "uploadpack.allowAnySHA1InWant", "true")
    bare = tmp_path / "bare.git"
    url = source.path.as_uri()
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--filter=blob:none", url, str(bare)], check=True
    )
    assert {d["author"] for d in rca.read("git", source.path).events["data"]} == {"Ana Mapped"}
    # a bare repository maps names with HEAD:.mailmap, a blob this clone lacks: git would die
    # on the first name; the names are read unmapped instead, and that is noted
    reading = rca.read("git", bare)
    assert {d["author"] for d in reading.events["data"]} == {"Ana Lima"}
    assert reading.notes == {"mailmap_missing": 1, "stats_unknown_missing_objects": 2}
    assert reading.rejects.empty


def test_missing_commit_object_refuses_the_repository(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "lost")
    repo.git("config", "gc.auto", "0")
    one = repo.commit("One", {"a.txt": "a\n"}, when="2026-03-01T09:00:00Z")
    repo.commit("Two", {"a.txt": "b\n"}, when="2026-03-01T10:00:00Z")
    _loose(repo.path, one).unlink()  # no commit metadata to store: refused before reading
    store = rca.connect(tmp_path / "s.duckdb")
    with pytest.raises(rca.ReaderError, match="cannot read 'HEAD'"):
        store.ingest("git", repo.path)
    assert len(store.events()) == 0
    store.close()
