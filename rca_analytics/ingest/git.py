r"""Git: the commits of local repositories as ``commit`` events, their tags as ``tag`` events.

The reader runs ``git`` (2.31 or later) on each repository: one ``git log`` process
whose output is parsed as it streams (NUL-separated fields between random markers, so
no message or file name can break a record), plus three quick calls to check the
repository and the revisions (``rev-parse``), count the commits (``rev-list --count``)
and list the tags (``for-each-ref``). Nothing is ever run through a shell.
Mappings, options and what is noted or rejected: ``docs/readers/git.md``.

>>> import os, subprocess, tempfile
>>> import rca_analytics as rca
>>> repo = tempfile.mkdtemp()
>>> env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
...        "GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com",
...        "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.com",
...        "GIT_AUTHOR_DATE": "2026-03-01T10:00:00+01:00",
...        "GIT_COMMITTER_DATE": "2026-03-01T10:00:00+01:00"}
>>> git = lambda *args: subprocess.run(["git", "-C", repo, *args], env=env, check=True,
...                                    capture_output=True)
>>> _ = git("init", "-b", "main")
>>> with open(os.path.join(repo, "pay.py"), "w") as f:
...     _ = f.write("a = 1\nb = 2\n")
>>> _ = git("add", "pay.py"); _ = git("commit", "-m", "Add pay")
>>> reading = rca.read("git", repo, component={"pay*": "payments"})
>>> ev = reading.events.iloc[0]
>>> ev.event_type, ev.component, str(ev.timestamp), ev.data["insertions"], ev.data["subject"]
('commit', 'payments', '2026-03-01 09:00:00+00:00', 2, 'Add pay')
>>> ev.data["committer_tz"], ev.data["authored_at"]
('+01:00', '2026-03-01T10:00:00+01:00')
"""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .._reasons import Reason
from ..errors import ReaderError
from ._base import Context, Parsed, Refused, Rule, apply_rule, check_rule, one_line

__all__ = ["MAX_BODY", "MAX_SUBJECT", "read"]

#: Longest message body kept in an event, in characters; longer ones are cut.
MAX_BODY = 2000
#: Longest subject (first paragraph of the message, on one line) kept, in characters.
MAX_SUBJECT = 500
#: Commits between two progress updates.
_ADVANCE_EVERY = 500
_CHUNK = 1 << 20
#: Variables that would make git read another repository than the one named (what
#: ``git rev-parse --local-env-vars`` lists, and the namespace).
_LOCAL_ENV = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_DIR",
        "GIT_GRAFT_FILE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_NAMESPACE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_WORK_TREE",
    }
)
#: Settings of the user's configuration that would change what ``git log`` prints.
_CONFIG = (
    "-c",
    "log.showSignature=false",
    "-c",
    "i18n.logOutputEncoding=UTF-8",
    "-c",
    "core.quotePath=false",
)
#: ``git log`` flags shared by the reader and its benchmark (the format comes apart).
_LOG_FLAGS = (
    "-z",
    "--root",
    "--find-renames",
    "--numstat",
    "--diff-merges=first-parent",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
)
_COMMIT_FIELDS = "%H%x00%P%x00%aN%x00%aE%x00%aI%x00%cN%x00%cE%x00%cI%x00%B"
_TAG_FIELDS = (
    "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00"
    "%(taggername)%00%(taggeremail)%00%(taggerdate:iso-strict)%00%(contents:subject)%00"
    "%(contents:body)"
)


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str
    annotated: bool
    tag_object: str | None
    tagger: str | None
    tagger_email: str | None
    date: dt.datetime | None
    subject: str | None
    body: str | None


@dataclass(slots=True)
class _Repo:
    where: str
    name: str
    revs: list[str]
    count: int
    shallow: frozenset[str]


def read(
    paths: list[str | os.PathLike[str]],
    ctx: Context,
    *,
    rev: str | Sequence[str] = "HEAD",
    all_refs: bool = False,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    component: Rule | None = None,
    service: Rule | None = None,
    max_files: int = 100,
) -> Iterator[Parsed]:
    """Yield a ``commit`` event per commit of the repositories, and a ``tag`` event per tag.

    Args:
        paths: Repositories: the top folder of a work tree, a ``.git`` folder or a bare
            repository.
        ctx: Where rejects, notes and progress (in commits) go.
        rev: What to read, as ``git log`` takes it: a branch, tag, sha or range
            (``v1.0..v2.0``, ``^old``), or a list of them (their union).
        all_refs: Also read every branch, tag and remote-tracking branch (not stash or
            notes).
        since: Only commits committed at or after this time (ISO 8601 text with an
            offset, or an aware datetime); git's ``--since``.
        until: Only commits committed at or before this time; git's ``--until``.
        component: The component of every event (a name), or a rule mapping each
            changed file's path to a component (dict of exact paths or globs, or a
            callable); a commit's component is the one most of its files map to.
        service: The service of every event (a name), or a rule mapping the
            repository's folder name (``shop`` for ``~/src/shop``) to a service; none
            by default or when nothing matches.
        max_files: Changed files listed in a commit's ``data["files"]`` (the counts
            cover all of them).

    Raises:
        ReaderError: git is missing, a path is not a repository, a revision is unknown
            or an option is wrong; nothing was read.
    """
    check_rule("component", component)
    check_rule("service", service)
    if not isinstance(max_files, int) or isinstance(max_files, bool) or max_files < 0:
        raise ReaderError(f"max_files must be a whole number >= 0, not {max_files!r}")
    revs = _revisions(rev, all_refs)
    window: list[str] = []
    low = _epoch(since, "since")
    high = _epoch(until, "until")
    if low is not None:
        window.append(f"--max-age={max(math.ceil(low), 0)}")
    if high is not None:
        window.append(f"--min-age={max(math.floor(high), 0)}")
    if low is not None and high is not None and low > high:
        raise ReaderError(f"since ({since}) is after until ({until}): no commit can match")
    refs = ["--branches", "--tags", "--remotes"] if all_refs else []
    env = {k: v for k, v in os.environ.items() if k not in _LOCAL_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    repos = [_open_repo(p, revs, window + refs, env, all_refs) for p in paths]
    ctx.add_total(sum(r.count for r in repos), "commits")
    for repo in repos:
        if repo.count == 0:
            continue
        yield from _read_repo(repo, window + refs, env, ctx, component, service, max_files)


# --- arguments ---------------------------------------------------------------------------


def _revisions(rev: str | Sequence[str], all_refs: bool) -> list[str]:
    revs = [rev] if isinstance(rev, str) else list(rev)
    for r in revs:
        if not isinstance(r, str) or not r.strip():
            raise ReaderError(f"rev must be a branch, tag, sha or range, not {r!r}")
        if r.startswith("-"):
            raise ReaderError(
                f"rev {r!r} starts with '-': revisions are names, never git options "
                "(use all_refs=True for every branch and tag, since/until for dates)"
            )
        if "\0" in r or "\n" in r:
            raise ReaderError(f"rev {r!r} contains a NUL or newline character")
    if not revs and not all_refs:
        raise ReaderError("no revision to read: give rev (e.g. 'HEAD') or all_refs=True")
    return revs


def _epoch(value: str | dt.datetime | None, name: str) -> float | None:
    if value is None:
        return None
    when: object = value
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ReaderError(
                f"{name}={value!r} is not an ISO 8601 time (like 2026-03-01T09:00:00Z)"
            ) from None
    if not isinstance(when, dt.datetime):
        raise ReaderError(f"{name} must be ISO 8601 text or a datetime, not {type(value).__name__}")
    if when.utcoffset() is None:
        raise ReaderError(
            f"{name}={value!r} has no UTC offset; give one (…Z, …+01:00) so the window "
            "is not a guess"
        )
    return when.timestamp()


# --- running git -----------------------------------------------------------------------


def _git(repo: str, args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", repo, *_CONFIG, *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise ReaderError("git is not installed (or not on PATH); the git reader runs it") from None


def _stderr(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return " ".join(text.splitlines()[-3:]) or "(no message)"


def _open_repo(
    path: str | os.PathLike[str],
    revs: list[str],
    flags: list[str],
    env: dict[str, str],
    all_refs: bool,
) -> _Repo:
    """Check ``path`` is a repository and ``revs`` exist there; count the commits."""
    shown = os.fspath(path)
    folder = Path(path)
    if not folder.exists():
        raise ReaderError(f"{shown}: no such file or folder")
    if not folder.is_dir():
        raise ReaderError(f"{shown}: not a git repository (a file, not a folder)")
    probe = _git(
        shown,
        [
            "rev-parse",
            "--absolute-git-dir",
            "--is-inside-git-dir",
            "--git-path",
            "shallow",
            "--show-cdup",
        ],
        env,
    )
    if probe.returncode != 0:
        raise ReaderError(f"{shown}: not a git repository ({_stderr(probe.stderr)})")
    answer = os.fsdecode(probe.stdout).split("\n")
    git_dir = Path(answer[0])
    inside_git_dir = answer[1] == "true"
    shallow_file = folder / answer[2]
    cdup = answer[3] if len(answer) > 3 else ""
    if inside_git_dir:
        if folder.resolve() != git_dir.resolve():
            raise ReaderError(
                f"{shown}: inside the repository {git_dir}, not the repository; give {git_dir}"
            )
        name = git_dir.parent.name if git_dir.name == ".git" else git_dir.name
        name = name.removesuffix(".git") or name
    else:
        if cdup:
            top = (folder / cdup).resolve()
            raise ReaderError(
                f"{shown}: a folder inside the repository {top}, not its top; give {top}"
            )
        name = folder.resolve().name
    revs = list(revs)
    if revs == ["HEAD"] and _unborn(shown, env):
        if not all_refs:
            return _Repo(shown, name, [], 0, frozenset())  # no commit yet: nothing to read
        revs = []
    count = _git(shown, ["rev-list", "--count", *flags, "--end-of-options", *revs, "--"], env)
    if count.returncode != 0:
        raise ReaderError(
            f"{shown}: cannot read {', '.join(map(repr, revs)) or 'its refs'}: "
            f"{_stderr(count.stderr)}"
        )
    # the oldest commits of a shallow clone: git shows them without their parents
    shallow = frozenset(shallow_file.read_text().split()) if shallow_file.is_file() else frozenset()
    return _Repo(shown, name, revs, int(count.stdout.strip() or 0), shallow)


def _unborn(repo: str, env: dict[str, str]) -> bool:
    done = _git(repo, ["rev-parse", "-q", "--verify", "HEAD^{commit}"], env)
    if done.returncode == 0:
        return False
    # HEAD names a branch without commits yet (a fresh repository)?
    return _git(repo, ["rev-list", "-n1", "--all"], env).stdout.strip() == b""


def _marker() -> str:
    return "\x1erca-" + secrets.token_hex(12) + "\x1f"


def _records(cmd: list[str], env: dict[str, str], marker: bytes) -> Iterator[bytes]:
    """Run ``cmd``; yield its output's records (the text after each ``marker``) as they come.

    A record is yielded once the next marker arrives (or git ended well), so a record
    cut short by git failing is never yielded.

    Raises:
        ReaderError: git is missing.
        Refused: git exited with an error (``git_failed``, after the complete records).
    """
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        except FileNotFoundError:
            raise ReaderError("git is not installed (or not on PATH)") from None
        stdout: IO[bytes] = proc.stdout  # type: ignore[assignment]
        try:
            buf = bytearray()
            start = 1
            size = len(marker)
            while block := stdout.read1(_CHUNK):  # type: ignore[attr-defined]
                buf += block
                last = buf.rfind(marker, start)
                if last <= 0:
                    start = max(1, len(buf) - size + 1)
                    continue
                complete = bytes(buf[:last])
                del buf[:last]
                start = 1
                yield from complete.split(marker)[1:]  # each piece begins with the marker
            code = proc.wait()
            if buf and code == 0:  # when git failed, its last record may be cut short
                yield from bytes(buf).split(marker)[1:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            stdout.close()
        if code != 0:
            errors.seek(0)
            raise Refused(Reason.GIT_FAILED, _stderr(errors.read()))


def _tags(repo: _Repo, env: dict[str, str], ctx: Context) -> dict[str, list[_Tag]]:
    """The tags of ``repo``, by the sha of the commit they name (annotated tags peeled)."""
    marker = _marker()
    cmd = ["git", "-C", repo.where, *_CONFIG, "for-each-ref", f"--format={marker}{_TAG_FIELDS}"]
    found: dict[str, list[_Tag]] = {}
    try:
        for raw in _records([*cmd, "refs/tags"], env, marker.encode()):
            text = _decode(raw, ctx)
            parts = text.split("\0", 9)
            if len(parts) != 10:
                ctx.reject(repo.where, Reason.BAD_RECORD, "a tag git listed could not be parsed")
                continue
            ref, kind, obj, peeled_kind, peeled, tagger, email, date, subject, body = parts
            name = ref.removeprefix("refs/tags/")
            if kind == "commit":
                target = obj
            elif kind == "tag" and peeled_kind == "commit":
                target = peeled
            else:
                ctx.skip("tag_not_on_commit")  # a tag of a tree or blob, or a tag of a tag
                continue
            annotated = kind == "tag"
            try:
                when = dt.datetime.fromisoformat(date) if date else None
            except ValueError:
                when = None  # a broken tagger line: the commit's time, noted when read
            found.setdefault(target, []).append(
                _Tag(
                    name=name,
                    annotated=annotated,
                    tag_object=obj if annotated else None,
                    tagger=tagger or None,
                    tagger_email=email.strip().removeprefix("<").removesuffix(">") or None,
                    date=when,
                    subject=one_line(subject, MAX_SUBJECT) if annotated else None,
                    body=body.rstrip()[:MAX_BODY] if annotated else None,
                )
            )
    except Refused as err:
        raise ReaderError(f"{repo.where}: cannot list tags: {err}") from None
    return found


def _decode(raw: bytes, ctx: Context) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        ctx.note("not_utf8_replaced")
        return raw.decode("utf-8", "replace")


# --- reading commits -------------------------------------------------------------------


def _read_repo(
    repo: _Repo,
    flags: list[str],
    env: dict[str, str],
    ctx: Context,
    component: Rule | None,
    service: Rule | None,
    max_files: int,
) -> Iterator[Parsed]:
    tags = _tags(repo, env, ctx)
    named = service if isinstance(service, str) else apply_rule(service, repo.name)
    marker = _marker()
    end = "\0" + _marker()
    cmd = [
        "git",
        "-C",
        repo.where,
        *_CONFIG,
        "log",
        *_LOG_FLAGS,
        f"--format={marker}{_COMMIT_FIELDS}%x00{end[1:]}",
        *flags,
        "--end-of-options",
        *repo.revs,
        "--",
    ]
    components: dict[str, str | None] = {}
    pending = 0
    read = 0
    try:
        for raw in _records(cmd, env, marker.encode()):
            read += 1
            pending += 1
            if pending >= _ADVANCE_EVERY:
                ctx.advance(pending)
                pending = 0
            yield from _commit(raw, repo, end, tags, ctx, component, components, named, max_files)
    except Refused as err:
        if not read:
            raise ReaderError(f"{repo.where}: git log failed: {err}") from None
        ctx.reject(repo.where, err.code, f"git log stopped after {read:,} commits: {err}")
    finally:
        ctx.advance(pending)


@dataclass(frozen=True, slots=True)
class _Commit:
    """One commit as git printed it, parsed."""

    sha: str
    parents: list[str]
    author: str
    email: str
    authored: str
    committer: str
    committer_email: str
    committed_at: dt.datetime
    subject: str
    body: str
    cut: bool
    files: list[dict[str, Any]]
    n_files: int
    added: int
    deleted: int
    counted: dict[str, int]


def _commit(
    raw: bytes,
    repo: _Repo,
    end: str,
    tags: dict[str, list[_Tag]],
    ctx: Context,
    rule: Rule | None,
    cache: dict[str, str | None],
    service: str | None,
    max_files: int,
) -> Iterator[Parsed]:
    commit = _parse_commit(raw, repo, end, ctx, rule, cache, max_files)
    if commit is None:
        return
    sha = commit.sha
    merge = len(commit.parents) > 1
    at_commit = tags.get(sha, [])
    ranked = sorted(
        commit.counted, key=commit.counted.__getitem__, reverse=True
    )  # ties: first seen
    constant = rule if isinstance(rule, str) else None
    timestamp = commit.committed_at.astimezone(dt.UTC)
    yield Parsed(
        "event",
        {
            "timestamp": timestamp,
            "source": "git",
            "event_type": "commit",
            "severity": "info",
            "component": constant or (ranked[0] if ranked else None),
            "service": service,
            "source_id": sha,
            "summary": f"{one_line(commit.subject or '(no subject)', 190)} ({sha[:7]})",
            "data": _commit_data(commit, merge, ranked, at_commit, repo),
            "tags": _commit_tags(commit.subject, commit.body, merge, at_commit),
        },
        f"{repo.where}@{sha}",
    )
    for tag in at_commit:
        yield _tag_event(tag, sha, timestamp, constant, service, repo, ctx)


def _parse_commit(
    raw: bytes,
    repo: _Repo,
    end: str,
    ctx: Context,
    rule: Rule | None,
    cache: dict[str, str | None],
    max_files: int,
) -> _Commit | None:
    """One commit of ``git log``'s output; ``None`` (after rejecting it) if unreadable."""
    text = _decode(raw, ctx)
    head = text.split("\0", 8)
    if len(head) != 9 or end not in head[8]:
        ctx.reject(
            repo.where,
            Reason.BAD_RECORD,
            f"a commit git printed could not be parsed: {text[:80]!r}",
        )
        return None
    sha, parents, author, email, authored, committer, committer_email, committed, rest = head
    message, _, stats = rest.partition(end)
    if sha in repo.shallow:  # its diff would be against nothing: every file "added"
        ctx.note("shallow_boundary_files_left_out")
        stats = ""
    try:
        committed_at = dt.datetime.fromisoformat(committed)
        files, n_files, added, deleted, counted = _files(stats, max_files, rule, cache)
    except (ValueError, IndexError) as err:
        ctx.reject(
            f"{repo.where}@{sha}",
            Reason.BAD_RECORD,
            f"git printed what could not be parsed: {err}",
        )
        return None
    subject, body, cut = _message(message, ctx)
    return _Commit(
        sha,
        parents.split(),
        author,
        email,
        authored,
        committer,
        committer_email,
        committed_at,
        subject,
        body,
        cut,
        files,
        n_files,
        added,
        deleted,
        counted,
    )


def _commit_data(
    commit: _Commit, merge: bool, ranked: list[str], at_commit: list[_Tag], repo: _Repo
) -> dict[str, Any]:
    """The ``data`` of a commit event."""
    return {
        "sha": commit.sha,
        "parents": commit.parents,
        "merge": merge,
        "author": commit.author,
        "author_email": commit.email,
        "authored_at": commit.authored,
        "committer": commit.committer,
        "committer_email": commit.committer_email,
        "committer_tz": _offset(commit.committed_at),
        "subject": commit.subject,
        "body": commit.body,
        "body_truncated": commit.cut,
        "files": commit.files,
        "files_total": commit.n_files,
        "insertions": commit.added,
        "deletions": commit.deleted,
        "components": ranked,
        "tags": [t.name for t in at_commit],
        "repository": repo.name,
    }


def _message(message: str, ctx: Context) -> tuple[str, str, bool]:
    """The subject, the body (cut to ``MAX_BODY``) and whether it was cut."""
    message = message.strip("\n").rstrip()
    first, _, body = message.partition("\n\n")
    subject = one_line(first, MAX_SUBJECT)
    body = body.strip("\n")
    cut = len(body) > MAX_BODY
    if cut:
        body = body[:MAX_BODY]
        ctx.note("message_body_cut")
    return subject, body, cut


def _commit_tags(subject: str, body: str, merge: bool, at_commit: list[_Tag]) -> list[str]:
    """The event tags of a commit: merge, revert and the git tags pointing at it."""
    event_tags = ["merge"] if merge else []
    if subject.startswith('Revert "') or "\nThis reverts commit " in "\n" + body:
        event_tags.append("revert")
    event_tags.extend(f"tag:{t.name}" for t in at_commit)
    return event_tags


def _tag_event(
    tag: _Tag,
    sha: str,
    timestamp: dt.datetime,
    constant: str | None,
    service: str | None,
    repo: _Repo,
    ctx: Context,
) -> Parsed:
    """The ``tag`` event of a git tag pointing at commit ``sha``."""
    if tag.annotated and tag.date is None:
        ctx.note("tag_without_date")
    return Parsed(
        "event",
        {
            "timestamp": timestamp if tag.date is None else tag.date.astimezone(dt.UTC),
            "source": "git",
            "event_type": "tag",
            "severity": "low",
            "component": constant,
            "service": service,
            "source_id": f"tag:{tag.name}:{sha}",
            "summary": f"Tag {tag.name} on {sha[:7]}" + (f": {tag.subject}" if tag.subject else ""),
            "data": {
                "name": tag.name,
                "sha": sha,
                "annotated": tag.annotated,
                "tag_object": tag.tag_object,
                "tagger": tag.tagger,
                "tagger_email": tag.tagger_email,
                "tagger_tz": None if tag.date is None else _offset(tag.date),
                "subject": tag.subject,
                "body": tag.body,
                "repository": repo.name,
            },
            "tags": ["annotated" if tag.annotated else "lightweight"],
        },
        f"{repo.where}@refs/tags/{tag.name}",
    )


def _offset(when: dt.datetime) -> str:
    """The UTC offset of a time as git wrote it, e.g. ``+01:00``.

    >>> _offset(dt.datetime.fromisoformat("2026-03-01T10:00:00-04:30"))
    '-04:30'
    """
    offset = when.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def _files(
    stats: str,
    max_files: int,
    rule: Rule | None,
    cache: dict[str, str | None],
) -> tuple[list[dict[str, Any]], int, int, int, dict[str, int]]:
    """Parse ``git log --numstat -z`` lines: files listed, files, lines added and deleted."""
    files: list[dict[str, Any]] = []
    counted: dict[str, int] = {}
    added_total = deleted_total = n = 0
    if not stats.startswith("\0\n"):
        if stats.strip("\0"):
            raise ValueError(f"unexpected text after the message: {stats[:40]!r}")
        return files, 0, 0, 0, counted
    tokens = stats[2:].split("\0")
    i = 0
    size = len(tokens)
    while i < size:
        token = tokens[i]
        i += 1
        if not token:
            continue
        added, deleted, path = token.split("\t", 2)
        old = None
        if not path:  # a rename: the old and the new path follow
            old, path = tokens[i], tokens[i + 1]
            i += 2
        n += 1
        binary = added == "-"
        if not binary:
            a, d = int(added), int(deleted)
            added_total += a
            deleted_total += d
        if rule is not None:
            if path in cache:
                name = cache[path]
            else:
                name = cache[path] = apply_rule(rule, path)
            if name:
                counted[name] = counted.get(name, 0) + 1
        if n <= max_files:
            entry: dict[str, Any] = {"path": path}
            if old is not None:
                entry["old_path"] = old
            if binary:
                entry.update(added=None, deleted=None, binary=True)
            else:
                entry.update(added=a, deleted=d)
            files.append(entry)
    return files, n, added_total, deleted_total, counted
