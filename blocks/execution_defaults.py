"""The ``ExecutionDefaults`` block: step timeout, retries and concurrency."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field


class ExecutionDefaults(Block):
    """Defaults for steps whose SKILL.md sets no timeout or retries of its own.

    Example:
        ```python
        ExecutionDefaults(step_timeout_seconds=60).save("default", overwrite=True)
        ```
    """

    _block_type_name = "Skillworks Execution Defaults"
    _block_type_slug = "skillworks-execution-defaults"
    _description = "Step timeout, retries and how many skill runs may execute at once."

    step_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of a step without its own.")
    step_retries: int = Field(default=0, ge=0, le=10, description="Retries of a step without its own.")
    concurrency_limit: int = Field(default=4, ge=1, description="Skill runs one served process executes at once.")
