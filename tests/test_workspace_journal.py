"""The workspace confines and journals every change; the journal undoes them byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skills.errors import PathOutsideWorkspaceError
from skills.journal import ExecutionJournal
from skills.workspace import Workspace
from tests.tree import tree_fingerprint


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "config.txt").write_bytes(b"old\x00bytes")
    os.chmod(tmp_path / "project" / "config.txt", 0o640)
    (tmp_path / "project" / "obsolete.txt").write_text("bye")
    return tmp_path


def journaled(root: Path, execution_id: str = "exec-1") -> Workspace:
    return Workspace(root, ExecutionJournal(root, execution_id))


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", "bad\x00name", ".skillworks/journal/x"])
def test_paths_outside_the_workspace_are_refused(root: Path, path: str) -> None:
    with pytest.raises(PathOutsideWorkspaceError):
        journaled(root).write_text(path, "x")


def test_a_symlink_cannot_lead_writes_outside_the_workspace(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (root / "link").symlink_to(outside)
    with pytest.raises(PathOutsideWorkspaceError, match="symlink"):
        journaled(root).write_text("link/file.txt", "x")
    assert list(outside.iterdir()) == []


def test_undo_restores_created_modified_and_deleted_files_with_their_modes(root: Path) -> None:
    before = tree_fingerprint(root)
    workspace = journaled(root)
    workspace.write_text("project/src/new.txt", "new")
    workspace.write_bytes("project/config.txt", b"changed")
    workspace.delete_file("project/obsolete.txt")
    assert tree_fingerprint(root) != before

    report = workspace.journal.undo()

    assert tree_fingerprint(root) == before
    assert sorted(report.deleted) == ["project/src", "project/src/new.txt"]
    assert sorted(report.restored) == ["project/config.txt", "project/obsolete.txt"]


def test_undo_is_idempotent_and_says_so(root: Path) -> None:
    workspace = journaled(root)
    workspace.write_text("project/new.txt", "new")
    workspace.journal.undo()
    again = ExecutionJournal(root, "exec-1").undo()
    assert again.already_undone is True


def test_undo_keeps_a_file_edited_since_unless_forced(root: Path) -> None:
    workspace = journaled(root)
    workspace.write_text("project/new.txt", "generated")
    (root / "project" / "new.txt").write_text("edited by hand")

    kept = workspace.journal.undo()
    assert kept.conflicts == ["project/new.txt"]
    assert (root / "project" / "new.txt").read_text() == "edited by hand"

    forced = workspace.journal.undo(force=True)
    assert forced.deleted == ["project/new.txt"] and not (root / "project" / "new.txt").exists()


def test_journal_is_written_before_the_change(root: Path) -> None:
    """A crash right after journaling leaves an entry whose change never happened: undo copes."""
    journal = ExecutionJournal(root, "crashed")
    workspace = Workspace(root, journal)
    workspace.expect_created("project/node_modules", is_dir=True)  # the command never ran
    assert journal.undo().deleted == []


def test_dry_run_records_changes_without_touching_disk_and_reads_its_own_writes(root: Path) -> None:
    before = tree_fingerprint(root)
    workspace = Workspace(root, pretend=True)
    workspace.write_text("project/a.txt", "a")
    workspace.write_text("project/config.txt", "overwritten")
    assert workspace.read_text("project/a.txt") == "a"
    assert [(c.path, c.kind) for c in workspace.changes] == [("project/a.txt", "create"), ("project/config.txt", "modify")]
    assert tree_fingerprint(root) == before


def test_writes_are_atomic_and_leave_no_temporary_files(root: Path) -> None:
    workspace = journaled(root)
    workspace.write_text("project/config.txt", "x" * 100_000)
    assert sorted(p.name for p in (root / "project").iterdir()) == ["config.txt", "obsolete.txt"]
