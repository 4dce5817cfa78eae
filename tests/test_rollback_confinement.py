"""Rollback cannot be turned against the host: attacks on the journal's undo, run as an attacker would.

Each test lets a run make its changes, then plants or swaps symlinks the way a hostile user
(or a compromised command inside the run) could, and undoes the run with and without
``force``. Nothing outside the workspace may change, ever; inside it, only what the run
created is removed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from skills.errors import PathOutsideWorkspaceError
from skills.journal import ExecutionJournal, JournalEntry
from skills.workspace import Workspace
from tests.tree import tree_fingerprint


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder beside the workspace holding what an attacker wants destroyed."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "src").mkdir()
    (folder / "src" / "precious.txt").write_text("years of work\n")
    (folder / "public").mkdir()
    (folder / "public" / "own.svg").write_text("<svg/>\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return workspace


def run_that_creates_a_project(root: Path, execution_id: str = "exec-swap") -> Workspace:
    """What react-setup does, in small: a project folder with files, a subfolder, a command-made tree."""
    workspace = Workspace(root, ExecutionJournal(root, execution_id))
    workspace.write_text("swap-a/package.json", "{}\n")
    workspace.write_text("swap-a/src/App.jsx", "export default 1\n")
    workspace.write_text("swap-a/public/vite.svg", "<svg/>\n")
    workspace.expect_created("swap-a/.git", is_dir=True)
    (root / "swap-a" / ".git").mkdir()  # as `git init` would
    (root / "swap-a" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return workspace


def swap_for_symlink(path: Path, target: Path) -> None:
    os.rename(path, path.with_name(path.name + ".moved"))
    path.symlink_to(target, target_is_directory=target.is_dir())


@pytest.mark.parametrize("force", [False, True])
def test_a_project_folder_swapped_for_a_symlink_leaves_everything_outside_intact(
    root: Path, outside: Path, force: bool
) -> None:
    workspace = run_that_creates_a_project(root)
    swap_for_symlink(root / "swap-a", outside)
    before = tree_fingerprint(outside)

    report = workspace.journal.undo(force=force)

    assert tree_fingerprint(outside) == before
    assert "swap-a/src/App.jsx" in report.conflicts
    assert "symlink" in report.reasons["swap-a/src/App.jsx"]
    assert (root / "swap-a").is_symlink() != force, "force removes the planted link itself, never its target"


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_planted_in_a_created_subfolder_is_kept_and_not_followed(
    root: Path, outside: Path, force: bool
) -> None:
    workspace = run_that_creates_a_project(root)
    (root / "swap-a" / "src" / "escape").symlink_to(outside)
    before = tree_fingerprint(outside)

    report = workspace.journal.undo(force=force)

    assert tree_fingerprint(outside) == before
    assert not (root / "swap-a" / "src" / "App.jsx").exists(), "what the run created is gone"
    assert (root / "swap-a" / "src" / "escape").is_symlink(), "what someone else put there stays"
    assert report.kept == ["swap-a/src", "swap-a"] and report.complete, "kept for others' files: the run is undone"
    assert report.reasons["swap-a/src"] == "holds files the run did not create"


@pytest.mark.parametrize("force", [False, True])
def test_a_created_file_replaced_by_a_symlink_never_touches_its_target(root: Path, outside: Path, force: bool) -> None:
    workspace = run_that_creates_a_project(root)
    (root / "swap-a" / "package.json").unlink()
    (root / "swap-a" / "package.json").symlink_to(outside / "src" / "precious.txt")
    before = tree_fingerprint(outside)

    report = workspace.journal.undo(force=force)

    assert tree_fingerprint(outside) == before
    if force:
        assert not (root / "swap-a" / "package.json").is_symlink()
    else:
        assert report.reasons["swap-a/package.json"] == "replaced by a symlink since the run"


@pytest.mark.parametrize("force", [False, True])
def test_a_command_made_tree_swapped_for_a_symlink_removes_only_the_link(
    root: Path, outside: Path, force: bool
) -> None:
    workspace = run_that_creates_a_project(root)
    swap_for_symlink(root / "swap-a" / ".git", outside / ".git")
    before = tree_fingerprint(outside)

    workspace.journal.undo(force=force)

    assert tree_fingerprint(outside) == before
    assert not (root / "swap-a" / ".git").exists() and not (root / "swap-a" / ".git").is_symlink()


def test_a_modified_file_behind_a_swapped_folder_is_not_restored_outside(root: Path, outside: Path) -> None:
    (root / "app").mkdir()
    (root / "app" / "precious.txt").write_text("original\n")
    workspace = Workspace(root, ExecutionJournal(root, "exec-modify"))
    workspace.write_text("app/precious.txt", "changed by the run\n")
    os.rename(root / "app", root / "app.moved")
    (root / "app").symlink_to(outside / "src")
    before = tree_fingerprint(outside)

    report = workspace.journal.undo(force=True)

    assert tree_fingerprint(outside) == before
    assert report.conflicts == ["app/precious.txt"]


def test_the_folder_swapped_while_the_undo_runs_is_never_followed(root: Path, outside: Path) -> None:
    """An attacker swaps the project folder back and forth as fast as possible during the undo,
    for a link to a mirror outside holding the same names and bytes (so even hashes match)."""
    workspace = Workspace(root, ExecutionJournal(root, "exec-race"))
    for index in range(400):
        workspace.write_text(f"race/dir{index % 10}/file{index}.txt", f"{index}\n")
        (outside / f"dir{index % 10}").mkdir(exist_ok=True)
        (outside / f"dir{index % 10}" / f"file{index}.txt").write_text(f"{index}\n")
    decoy = root / "race.decoy"
    stop = threading.Event()

    def swap_back_and_forth() -> None:
        while not stop.is_set():
            try:
                os.rename(root / "race", decoy)
                (root / "race").symlink_to(outside)
                (root / "race").unlink()
                os.rename(decoy, root / "race")
            except OSError:
                pass

    swapper = threading.Thread(target=swap_back_and_forth)
    before = tree_fingerprint(outside)
    swapper.start()
    try:
        workspace.journal.undo(force=True)
    finally:
        stop.set()
        swapper.join()

    assert tree_fingerprint(outside) == before


def test_writes_refuse_a_symlink_swapped_in_after_the_path_was_checked(root: Path, outside: Path) -> None:
    workspace = Workspace(root, ExecutionJournal(root, "exec-write"))
    workspace.write_text("proj/first.txt", "checked and written\n")
    swap_for_symlink(root / "proj", outside)

    with pytest.raises(PathOutsideWorkspaceError, match="symlink"):
        workspace.write_text("proj/first.txt", "through the link?\n")
    assert not (outside / "first.txt").exists()


def test_undo_from_two_processes_at_once_undoes_exactly_once(root: Path) -> None:
    workspace = run_that_creates_a_project(root, "exec-twice")
    reports = []
    threads = [
        threading.Thread(target=lambda: reports.append(ExecutionJournal(root, "exec-twice").undo())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(report.already_undone for report in reports) == [False, True, True, True]
    assert not (root / "swap-a").exists()
    assert workspace.journal.undone() is not None


def test_a_write_cut_short_by_a_crash_leaves_no_temporary_file_after_undo(root: Path) -> None:
    """The run died after journaling a file and before renaming its temp file into place."""
    workspace = Workspace(root, ExecutionJournal(root, "exec-torn"))
    workspace.write_text("proj/done.txt", "written\n")
    workspace.journal.record(JournalEntry(kind="create_file", path="proj/torn.txt", sha256="0" * 64))
    (root / "proj" / ".torn.txt.skillworks-tmp").write_text("half")

    report = workspace.journal.undo()

    assert report.complete and not (root / "proj").exists()
