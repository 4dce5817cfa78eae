"""Git for skills: who commits, and how a commit a skill made is taken back.

Commands that change a repository still go through ``ctx.run`` (journaled, listed by the dry
run); this module holds the read-only queries around them and the undo of a commit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skills.caching import cached_for
from skills.commands import run_command
from skills.errors import CommandFailedError

# Used for a commit only when git has no user.name/user.email of its own.
FALLBACK_GIT_IDENTITY = ("skillworks", "skillworks@localhost")


def git_output(repository: Path, *argv: str) -> str | None:
    """Stdout of a read-only git query in ``repository``, or None when git says no (or the
    folder is not there yet: a workflow's dry run plans a repository an earlier node creates)."""
    if not repository.is_dir():
        return None
    result = run_command(["git", *argv], cwd=repository, timeout=30, check=False)
    return result.output.strip() if result.returncode == 0 else None


# Short: someone who just ran `git config --global user.name ...` and retries must be seen.
@cached_for(5.0)
def has_git_identity(cwd: Path) -> bool:
    """Whether git, run in ``cwd``, has a ``user.name`` and a ``user.email`` (asked every few seconds).

    One query for both: each git command costs a process-guard start (about 30 ms).
    """
    found = git_output(cwd, "config", "--get-regexp", r"^user\.(name|email)$") or ""
    keys_with_values = {key for key, _, value in (line.partition(" ") for line in found.splitlines()) if value.strip()}
    return keys_with_values >= {"user.name", "user.email"}


def identity_arguments(cwd: Path, warn: Callable[[str], None] | None = None) -> list[str]:
    """``-c user.name=… -c user.email=…`` for ``git commit`` when git has no identity in ``cwd``.

    A read-only query, run in the dry run too, so both show the same ``git commit``;
    ``warn`` hears which fallback identity is used.
    """
    if has_git_identity(cwd):
        return []
    name, email = FALLBACK_GIT_IDENTITY
    if warn is not None:
        warn(f"git has no user.name/user.email; committing as {name} <{email}>")
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def undo_commit(repository: Path, commit: str) -> str:
    """Take back ``commit``: drop it while it is still HEAD, else revert it with a new commit.

    Dropping moves the branch back and returns the index entries of the commit's paths to
    their parent's, leaving every other staged change and the working tree alone (the
    journal restores the files). Returns what was done: ``"reset"``, ``"reverted"`` or
    ``"already undone"`` (the commit is gone from the branch, or HEAD no longer carries its
    changes). Raises ``CommandFailedError`` if a revert conflicts (it is aborted first).
    """
    parent = git_output(repository, "rev-parse", "--verify", "--quiet", f"{commit}^")
    paths = (git_output(repository, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", commit) or "").splitlines()
    reachable = run_command(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=repository, timeout=30, check=False)
    if reachable.returncode != 0 or not _head_carries(repository, parent, paths):
        return "already undone"
    if git_output(repository, "rev-parse", "HEAD") == commit:
        if parent is None:  # the repository's first commit: the branch goes back to unborn
            run_command(["git", "update-ref", "-d", "HEAD"], cwd=repository, timeout=30)
            run_command(["git", "rm", "--cached", "--quiet", "-r", "--", *paths], cwd=repository, timeout=30)
        else:
            run_command(["git", "reset", "--quiet", "--soft", parent], cwd=repository, timeout=30)
            run_command(["git", "reset", "--quiet", parent, "--", *paths], cwd=repository, timeout=30)
        return "reset"
    revert = run_command(["git", *identity_arguments(repository), "revert", "--no-edit", commit], cwd=repository, timeout=60, check=False)
    if revert.returncode != 0:
        run_command(["git", "revert", "--abort"], cwd=repository, timeout=30, check=False)
        raise CommandFailedError(revert.argv, revert.returncode, revert.output)
    return "reverted"


def _head_carries(repository: Path, parent: str | None, paths: list[str]) -> bool:
    """Whether HEAD still differs from the commit's parent on the commit's paths."""
    if parent is None:
        return True
    same = run_command(["git", "diff", "--quiet", parent, "HEAD", "--", *paths], cwd=repository, timeout=30, check=False)
    return same.returncode != 0
