"""Steps of the wait-io benchmark skill."""

from __future__ import annotations

from skills.context import StepContext


def wait(ctx: StepContext) -> None:
    ctx.workspace.make_dirs(ctx.target)
    if ctx.params["seconds"] > 0:
        ctx.run(["sleep", f"{ctx.params['seconds']:g}"])
    ctx.workspace.write_text(ctx.file("done.txt"), "waited\n")
