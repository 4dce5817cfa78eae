"""Where workflows come from: the built-in examples (``skills/workflows/builtin/*.yaml``) and
the ones users save, kept as YAML under ``<workspace>/.skillworks/workflows/`` so every
facade and serving process sharing the workspace sees the same ones."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml

from skills.errors import UserMessageError
from skills.journal import JOURNAL_DIRNAME, write_atomically
from skills.workflows.spec import WorkflowSpec, parse_workflow

BUILTIN_FOLDER = Path(__file__).parent / "builtin"
WorkflowSource = Literal["builtin", "saved"]


class UnknownWorkflowError(UserMessageError):
    def __init__(self, workflow_id: str, known: list[str]) -> None:
        super().__init__(
            f"no workflow {workflow_id!r}",
            [f"known workflows: {', '.join(known) or 'none'}; list them with GET /api/workflows"],
        )


class BuiltinWorkflowError(UserMessageError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            f"{workflow_id!r} is a built-in workflow and cannot be replaced or deleted",
            ["save yours under another id"],
        )


class WorkflowLibrary:
    def __init__(self, workspace_root: Path) -> None:
        self.saved_folder = workspace_root / JOURNAL_DIRNAME / "workflows"

    def builtin(self) -> dict[str, WorkflowSpec]:
        return {spec.id: spec for spec in map(_read, sorted(BUILTIN_FOLDER.glob("*.yaml")))}

    def saved(self) -> dict[str, WorkflowSpec]:
        if not self.saved_folder.is_dir():
            return {}
        return {spec.id: spec for spec in map(_read, sorted(self.saved_folder.glob("*.yaml")))}

    def all(self) -> list[tuple[WorkflowSpec, WorkflowSource]]:
        builtin = [(spec, "builtin") for spec in self.builtin().values()]
        saved = [(spec, "saved") for spec in self.saved().values()]
        return [*builtin, *saved]  # type: ignore[list-item]

    def get(self, workflow_id: str) -> tuple[WorkflowSpec, WorkflowSource]:
        for spec, source in self.all():
            if spec.id == workflow_id:
                return spec, source
        raise UnknownWorkflowError(workflow_id, [spec.id for spec, _ in self.all()])

    def save(self, spec: WorkflowSpec) -> None:
        if spec.id in self.builtin():
            raise BuiltinWorkflowError(spec.id)
        self.saved_folder.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(spec.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
        write_atomically(self._file(spec.id), text.encode())

    def delete(self, workflow_id: str) -> None:
        if workflow_id in self.builtin():
            raise BuiltinWorkflowError(workflow_id)
        self.get(workflow_id)  # unknown -> UnknownWorkflowError
        os.unlink(self._file(workflow_id))

    def _file(self, workflow_id: str) -> Path:
        return self.saved_folder / f"{workflow_id}.yaml"  # ids are [a-z0-9-]: no path tricks


def _read(path: Path) -> WorkflowSpec:
    return parse_workflow(path.read_text(encoding="utf-8"))
