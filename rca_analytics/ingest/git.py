r"""Git: the commits of local repositories as ``commit`` events, their tags as ``tag`` events.

The reader runs ``git`` (2.31 or later) on each repository: one ``git log`` process
whose output is parsed as it streams (NUL-separated fields between random markers, so
no message or file name can break a record), plus three quick calls to check the
repository and the revisions (``rev-parse``), count the commits (``rev-list --count``)
and list the tags (``for-each-ref``). Nothing is ever run through a shell, and git never
fetches: a partial clone's missing objects stay missing.

When ``git log`` stops midway because an object it needs is missing (a partial clone, a
lost blob), every commit is still read: a second ``git log`` that needs no file contents
lists the rest, ``git cat-file`` finds which of their diffs lack an object and
``git diff-tree`` counts the others; commits whose diffs cannot be counted get unknown
file statistics (``None``, never 0), noted as ``stats_unknown_missing_objects``.
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
from dataclasses import dataclass, field
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
#: Commits checked for missing objects and counted together after ``git log`` failed.
_BATCH = 1000
#: The note of commits whose file statistics could not be computed.
_STATS_UNKNOWN = "stats_unknown_missing_objects"
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
#: ``git log`` flags of the recovery pass: the changed files' object ids, no contents read.
_RAW_FLAGS = (
    "-z",
    "--root",
    "--raw",
    "--no-abbrev",
    "--no-renames",
    "--diff-merges=first-parent",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
)
#: Variables set for every git run: no lazy fetch of a partial clone's missing objects
#: (``GIT_NO_LAZY_FETCH``, honoured by the git releases of May 2024 on; for older ones, a
#: fetch is refused at once by allowing no transport), no prompt for credentials, no
#: optional locks.
_QUIET_ENV = {
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_ALLOW_PROTOCOL": "",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
}
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
    objects: Path


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
    env.update(_QUIET_ENV)
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
            "--git-path",
            "objects",
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
    objects = (folder / answer[3]).absolute()
    cdup = answer[4] if len(answer) > 4 else ""
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
            return _Repo(shown, name, [], 0, frozenset(), objects)  # no commit yet: nothing to read
        revs = []
    count = _git(shown, ["rev-list", "--count", *flags, "--end-of-options", *revs, "--"], env)
    if count.returncode != 0:
        raise ReaderError(
            f"{shown}: cannot read {', '.join(map(repr, revs)) or 'its refs'}: "
            f"{_stderr(count.stderr)}"
        )
    # the oldest commits of a shallow clone: git shows them without their parents
    shallow = frozenset(shallow_file.read_text().split()) if shallow_file.is_file() else frozenset()
    return _Repo(shown, name, revs, int(count.stdout.strip() or 0), shallow, objects)


def _unborn(repo: str, env: dict[str, str]) -> bool:
    done = _git(repo, ["rev-parse", "-q", "--verify", "HEAD^{commit}"], env)
    if done.returncode == 0:
        return False
    # HEAD names a branch without commits yet (a fresh repository)?
    return _git(repo, ["rev-list", "-n1", "--all"], env).stdout.strip() == b""


def _marker() -> str:
    return "\x1erca-" + secrets.token_hex(12) + "\x1f"


def _records(
    cmd: list[str], env: dict[str, str], marker: bytes, feed: IO[bytes] | None = None
) -> Iterator[bytes]:
    """Run ``cmd``; yield its output's records (the text after each ``marker``) as they come.

    ``feed`` (a file, so nothing waits on a pipe) is git's standard input; none by default.

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
                stdin=subprocess.DEVNULL if feed is None else feed,
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


@dataclass(slots=True)
class _Job:
    """What reading one repository's commits needs, whichever way git is asked."""

    repo: _Repo
    flags: list[str]
    env: dict[str, str]
    ctx: Context
    rule: Rule | None
    cache: dict[str, str | None]
    service: str | None
    max_files: int
    tags: dict[str, list[_Tag]]
    marker: str
    end: str
    read: int = 0
    #: Settings added once something is found missing (``mailmap.blob``).
    config: list[str] = field(default_factory=list)

    def log(self, flags: Sequence[str]) -> list[str]:
        """A ``git log`` of the commits to read, with ``flags`` and the reader's format."""
        return [
            "git",
            "-C",
            self.repo.where,
            *_CONFIG,
            *self.config,
            "log",
            *flags,
            f"--format={self.marker}{_COMMIT_FIELDS}%x00{self.end[1:]}",
            *self.flags,
            "--end-of-options",
            *self.repo.revs,
            "--",
        ]


def _read_repo(
    repo: _Repo,
    flags: list[str],
    env: dict[str, str],
    ctx: Context,
    component: Rule | None,
    service: Rule | None,
    max_files: int,
) -> Iterator[Parsed]:
    """The events of one repository: one ``git log --numstat``, and what it could not print.

    The common case is that one process, parsed as it streams. Should git stop midway
    (an object missing), the commits it printed stand and :func:`_recover` reads the rest.
    """
    tags = _tags(repo, env, ctx)
    named = service if isinstance(service, str) else apply_rule(service, repo.name)
    end = "\0" + _marker()
    job = _Job(repo, flags, env, ctx, component, {}, named, max_files, tags, _marker(), end)
    seen: set[str] = set()
    failed: Refused | None = None
    pending = 0
    try:
        for raw in _records(job.log(_LOG_FLAGS), env, job.marker.encode()):
            seen.add(_sha(raw))
            job.read += 1
            pending += 1
            if pending >= _ADVANCE_EVERY:
                ctx.advance(pending)
                pending = 0
            yield from _commit(raw, job, known=True)
    except Refused as err:
        failed = err
    finally:
        ctx.advance(pending)
    if failed is not None:  # a missing object, most likely: read the rest another way
        yield from _recover(job, seen, failed)


def _sha(raw: bytes) -> str:
    """The sha a commit record of ``git log`` or ``git diff-tree`` begins with."""
    return raw[: raw.find(b"\0")].decode("ascii", "replace")


# --- when git log stops: missing objects ----------------------------------------------


def _recover(job: _Job, seen: set[str], failed: Refused) -> Iterator[Parsed]:
    """The commits a failed ``git log --numstat`` did not print, each with what is known.

    A ``git log --raw`` (commits and trees only, no file contents) lists them with the
    objects each one's diff reads; ``git cat-file`` says which of those are missing, and
    ``git diff-tree`` counts the files of the commits that miss none. When even the trees
    are missing, a ``git log`` without diffs lists the rest with unknown statistics.
    Only a commit git cannot print at all is lost (``git_failed``).
    """
    ctx = job.ctx
    batch: list[bytes] = []
    with tempfile.TemporaryDirectory(prefix="rca-git-") as sandbox:
        if _mailmap_missing(job, Path(sandbox)):  # every git log would die reading it
            job.config = ["-c", "mailmap.blob="]
            ctx.note("mailmap_missing")
        try:
            for raw in _records(job.log(_RAW_FLAGS), job.env, job.marker.encode()):
                if _fresh(raw, seen):
                    batch.append(raw)
                    if len(batch) >= _BATCH:
                        yield from _counted(job, batch, Path(sandbox))
                        batch = []
            yield from _counted(job, batch, Path(sandbox))
            return
        except Refused as err:
            failed = err
        yield from _counted(job, batch, Path(sandbox))
    batch = []
    try:  # not even the trees: what the commits themselves say
        for raw in _records(job.log(("-z", "--no-color")), job.env, job.marker.encode()):
            if _fresh(raw, seen):
                batch.append(raw)
                if len(batch) >= _ADVANCE_EVERY:
                    yield from _unknown(job, batch)
                    batch = []
    except Refused as err:
        failed = err
    else:
        yield from _unknown(job, batch)
        return
    yield from _unknown(job, batch)
    if not job.read:
        raise ReaderError(f"{job.repo.where}: git log failed: {failed}")
    ctx.reject(job.repo.where, failed.code, f"git log stopped after {job.read:,} commits: {failed}")


def _mailmap_missing(job: _Job, sandbox: Path) -> bool:
    """Whether the ``.mailmap`` git reads from an object (``mailmap.blob``) is missing.

    A bare repository reads ``HEAD:.mailmap`` by default: in a bare partial clone, that
    blob is usually missing, and git dies on every ``%aN`` it would map.
    """
    where = job.repo.where
    spec = _git(where, ["config", "--get", "mailmap.blob"], job.env).stdout.strip()
    if not spec:
        bare = _git(where, ["rev-parse", "--is-bare-repository"], job.env).stdout.strip()
        if bare != b"true":
            return False
        spec = b"HEAD:.mailmap"
    if spec.startswith(b"-"):  # a revision, never an option
        return False
    # resolving a path in a tree reads trees only, never the blob itself
    found = _git(where, ["rev-parse", "--verify", "-q", os.fsdecode(spec)], job.env)
    oid = found.stdout.decode("ascii", "replace").strip()
    return found.returncode == 0 and bool(oid) and bool(_missing(job, {oid}, sandbox))


def _fresh(raw: bytes, seen: set[str]) -> bool:
    """Whether the commit of ``raw`` was not read yet (and remember it)."""
    sha = _sha(raw)
    if sha in seen:
        return False
    seen.add(sha)
    return True


def _unknown(job: _Job, batch: list[bytes]) -> Iterator[Parsed]:
    """The commits of ``batch`` without file statistics."""
    if not batch:
        return
    job.ctx.note(_STATS_UNKNOWN, len(batch))
    job.read += len(batch)
    for raw in batch:
        yield from _commit(raw, job, known=False)
    job.ctx.advance(len(batch))


def _counted(job: _Job, batch: list[bytes], sandbox: Path) -> Iterator[Parsed]:
    """The commits of ``batch`` (``git log --raw`` records), counted where git can."""
    if not batch:
        return
    end = job.end.encode()
    needs = {_sha(raw): _objects(raw[raw.find(end) + len(end) :]) for raw in batch}
    missing = _missing(job, {oid for oids in needs.values() for oid in oids}, sandbox)
    complete = [sha for sha, oids in needs.items() if missing.isdisjoint(oids)]
    counted = _diff_tree(job, complete)
    unknown = 0
    for raw in batch:
        full = counted.get(_sha(raw))
        if full is None:
            unknown += 1
            yield from _commit(raw, job, known=False)
        else:
            yield from _commit(full, job, known=True)
    if unknown:
        job.ctx.note(_STATS_UNKNOWN, unknown)
    job.read += len(batch)
    job.ctx.advance(len(batch))


def _objects(raw: bytes) -> set[str]:
    r"""The blob ids a commit's diff reads, from ``git log --raw -z --no-renames`` output.

    >>> sorted(_objects(b"\0\n:000000 100644 " + b"0" * 40 + b" " + b"b" * 40 + b" A\0x\0"
    ...                 b":160000 160000 " + b"c" * 40 + b" " + b"d" * 40 + b" M\0sub\0"))
    ['bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']
    """
    oids: set[str] = set()
    tokens = raw.split(b"\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if not token.startswith(b":"):
            continue
        fields = token[1:].split(b" ")
        if len(fields) < 5:
            continue
        i += 2 if fields[4][:1] in (b"R", b"C") else 1  # the path(s) follow
        for mode, oid in ((fields[0], fields[2]), (fields[1], fields[3])):
            if mode not in (b"000000", b"160000") and oid.strip(b"0"):  # none, a submodule
                oids.add(oid.decode("ascii", "replace"))
    return oids


def _missing(job: _Job, oids: set[str], sandbox: Path) -> set[str]:
    """Which of ``oids`` the repository does not have.

    ``git cat-file`` runs in ``sandbox``, an empty repository borrowing the objects of the
    one read (``objects/info/alternates``): it is no partial clone, so git answers
    "missing" where the repository itself would try to fetch and die.
    """
    if not oids:
        return set()
    if not (sandbox / "HEAD").exists():
        (sandbox / "objects" / "info").mkdir(parents=True)
        (sandbox / "refs").mkdir()
        (sandbox / "HEAD").write_text("ref: refs/heads/main\n")
        where = os.fsencode(job.repo.objects)
        if b"\n" in where:  # git reads a line in double quotes C-style
            escaped = where.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
            where = b'"' + escaped.replace(b"\n", b"\\n") + b'"'
        (sandbox / "objects" / "info" / "alternates").write_bytes(where + b"\n")
        sha256 = len(next(iter(oids))) == 64
        (sandbox / "config").write_text(
            "[core]\n\trepositoryformatversion = 1\n\tbare = true\n"
            + ("[extensions]\n\tobjectformat = sha256\n" if sha256 else "")
        )
    try:
        done = subprocess.run(
            ["git", f"--git-dir={sandbox}", "cat-file", "--batch-check=%(objectname)"],
            input="".join(f"{oid}\n" for oid in oids).encode(),
            capture_output=True,
            env=job.env,
            check=False,
        )
    except FileNotFoundError:
        raise ReaderError("git is not installed (or not on PATH)") from None
    if done.returncode != 0:
        return set()  # cannot tell: git diff-tree finds out, one failure at a time
    return {
        line.split(" ", 1)[0]
        for line in done.stdout.decode("ascii", "replace").splitlines()
        if line.endswith(" missing")
    }


def _diff_tree(job: _Job, shas: list[str]) -> dict[str, bytes]:
    """Records like ``git log``'s (message and ``--numstat``) of ``shas``, by sha.

    ``git diff-tree --stdin`` prints them in the order given; when it dies on one (an
    object missing after all), that one is left out and the rest is asked again.
    """
    found: dict[str, bytes] = {}
    cmd = [
        "git",
        "-C",
        job.repo.where,
        *_CONFIG,
        *job.config,
        "diff-tree",
        "--stdin",
        "--always",
        *_LOG_FLAGS,
        f"--format={job.marker}{_COMMIT_FIELDS}%x00{job.end[1:]}",
    ]
    todo = shas
    while todo:
        with tempfile.TemporaryFile() as feed:
            feed.write("".join(f"{sha}\n" for sha in todo).encode())
            feed.seek(0)
            try:
                for raw in _records(cmd, job.env, job.marker.encode(), feed):
                    found[_sha(raw)] = raw
            except Refused:
                rest = [sha for sha in todo if sha not in found]
                todo = rest[1:]  # the first one not printed is the one git died on
                continue
        break
    return found


# --- reading commits -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Commit:
    """One commit as git printed it, parsed; the file statistics ``None`` when unknown."""

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
    files: list[dict[str, Any]] | None
    n_files: int | None
    added: int | None
    deleted: int | None
    counted: dict[str, int]


def _commit(raw: bytes, job: _Job, *, known: bool) -> Iterator[Parsed]:
    """The ``commit`` event of one record, and the ``tag`` events of its tags.

    ``known``: whether the record's diff statistics are there (else they are unknown).
    """
    repo = job.repo
    rule = job.rule
    commit = _parse_commit(raw, job, known)
    if commit is None:
        return
    sha = commit.sha
    merge = len(commit.parents) > 1
    at_commit = job.tags.get(sha, [])
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
            "service": job.service,
            "source_id": sha,
            "summary": f"{one_line(commit.subject or '(no subject)', 190)} ({sha[:7]})",
            "data": _commit_data(commit, merge, ranked, at_commit, repo),
            "tags": _commit_tags(commit.subject, commit.body, merge, at_commit),
        },
        f"{repo.where}@{sha}",
    )
    for tag in at_commit:
        yield _tag_event(tag, sha, timestamp, constant, job.service, repo, job.ctx)


def _parse_commit(raw: bytes, job: _Job, known: bool) -> _Commit | None:
    """One commit of ``git log``'s output; ``None`` (after rejecting it) if unreadable."""
    repo = job.repo
    ctx = job.ctx
    end = job.end
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
    if known and sha in repo.shallow:  # its diff would be against nothing: every file "added"
        ctx.note("shallow_boundary_files_left_out")
        stats = ""
    try:
        committed_at = dt.datetime.fromisoformat(committed)
        counts = _files(stats, job.max_files, job.rule, job.cache) if known else None
    except (ValueError, IndexError) as err:
        ctx.reject(
            f"{repo.where}@{sha}",
            Reason.BAD_RECORD,
            f"git printed what could not be parsed: {err}",
        )
        return None
    subject, body, cut = _message(message, ctx)
    files, n_files, added, deleted, counted = counts or (None, None, None, None, {})
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
        "components": None if commit.files is None else ranked,
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
