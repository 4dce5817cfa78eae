"""The ``SkillWorkspace`` block: where skills create and change files."""

from __future__ import annotations

from pathlib import Path

from prefect.blocks.core import Block
from pydantic import Field

DEFAULT_BLOCK_NAME = "default"


class SkillWorkspace(Block):
    """The folder every skill writes into; nothing outside it is ever touched.

    Example:
        ```python
        SkillWorkspace(root="~/projects").save("default", overwrite=True)
        ```
    """

    _block_type_name = "Skillworks Workspace"
    _block_type_slug = "skillworks-workspace"
    _description = "The folder skillworks' skills create and change files in."

    root: str = Field(default="~/projects", description="Workspace root; '~' is expanded.")

    def root_path(self) -> Path:
        return Path(self.root).expanduser()
