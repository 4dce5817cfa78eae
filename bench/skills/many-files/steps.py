"""Steps of the many-files benchmark skill."""

from __future__ import annotations

from skills.context import StepContext


def write_files(ctx: StepContext) -> None:
    for index in range(int(ctx.params["files"])):
        ctx.workspace.write_text(ctx.file(f"part{index % 20}", f"file{index}.txt"), f"{index}\n")
