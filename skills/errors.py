"""One error tree for everything a skill can refuse or fail at.

Every error a user may see carries a message that says what went wrong and what to do
about it; callers catch the specific subclass they can handle.
"""

from __future__ import annotations

from dataclasses import dataclass


class SkillworksError(Exception):
    """Root of every error skillworks raises on purpose."""


class UserMessageError(SkillworksError):
    """An error whose message is meant to be read by the person running a skill."""

    def __init__(self, message: str, suggestions: list[str] | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []
        self.field = field  # the parameter at fault, when one is


class SkillDefinitionError(SkillworksError):
    """A skill folder's SKILL.md or steps.py is malformed (a publisher's mistake)."""


class UnknownSkillError(UserMessageError):
    def __init__(self, skill_id: str, known: list[str]) -> None:
        super().__init__(
            f"No skill with id {skill_id!r}.",
            [f"Use one of: {', '.join(sorted(known))}."],
        )
        self.skill_id = skill_id


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one parameter: which field, why, and what to do."""

    field: str
    reason: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" + (f" ({self.hint})" if self.hint else "")


class InvalidParametersError(UserMessageError):
    """Parameters failed validation; ``issues`` says which fields and why."""

    def __init__(self, issues: list[FieldIssue]) -> None:
        super().__init__(
            "Invalid parameters: " + "; ".join(str(issue) for issue in issues),
            [issue.hint for issue in issues if issue.hint],
        )
        self.issues = issues


class PathOutsideWorkspaceError(UserMessageError):
    """A path would land outside the workspace root (traversal, absolute or symlink)."""

    def __init__(self, path: str, reason: str) -> None:
        shown = path if len(path) <= 120 else f"{path[:60]}…{path[-40:]} ({len(path)} characters)"
        super().__init__(
            f"Path {shown!r} is not allowed: {reason}.",
            ["Use a relative path inside the workspace, without '..' or symlinks."],
        )
        self.path = path


class CommandFailedError(UserMessageError):
    """A command a step ran exited non-zero or timed out."""

    def __init__(self, argv: list[str], returncode: int | None, output: str) -> None:
        status = "timed out" if returncode is None else f"exited with code {returncode}"
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"`{' '.join(argv)}` {status}.\n{tail}".rstrip())
        self.argv = argv
        self.returncode = returncode
        self.output = output


class StepError(UserMessageError):
    """A step found a problem it can explain (a missing tool, a bad project state)."""


class AdvisoryDatabaseError(UserMessageError):
    """The local advisory database could not be downloaded or read (``skillworks advisories update``)."""
