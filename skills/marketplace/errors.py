"""What the marketplace refuses, as errors a caller can catch and a user can act on."""

from __future__ import annotations

from dataclasses import dataclass

from skills.errors import UserMessageError


@dataclass(frozen=True)
class CheckFailure:
    """One publish check that failed: which, where, why, and what to do."""

    check: str  # e.g. archive-path-traversal, version-not-newer, maturity-tests
    reason: str
    file: str = ""
    hint: str = ""

    def __str__(self) -> str:
        where = f" ({self.file})" if self.file else ""
        return f"{self.check}{where}: {self.reason}"


class MarketplaceError(UserMessageError):
    """Root of what the marketplace refuses."""


class PublishRefused(MarketplaceError):
    """A package failed publish checks; ``failures`` lists every one found (all checks run)."""

    def __init__(self, failures: list[CheckFailure], status: int = 422) -> None:
        super().__init__(
            "The package was refused: " + "; ".join(str(failure) for failure in failures),
            [failure.hint for failure in failures if failure.hint],
        )
        self.failures = failures
        self.status = status


class UnknownMarketplaceSkill(MarketplaceError):
    def __init__(self, skill_id: str, version: str | None = None) -> None:
        what = f"{skill_id}@{version}" if version else skill_id
        super().__init__(f"The marketplace has no skill {what!r}.", ["Search with `skillworks marketplace search`."])
        self.skill_id = skill_id


class NotAllowed(MarketplaceError):
    """The caller's role or identity does not allow this (HTTP 403)."""


class Unauthenticated(MarketplaceError):
    """No identity, or an unknown token (HTTP 401)."""


class Conflict(MarketplaceError):
    """The request clashes with what is stored (HTTP 409)."""


class NotInstallable(MarketplaceError):
    """A banned version's package is kept for audit only (HTTP 403)."""


class VersionNotActive(NotInstallable):
    """Only ``active`` versions install (HTTP 409): this one is untrusted or banned, or none is active."""


class ImmutableVersionError(MarketplaceError):
    """Something tried to change or delete a published version's bytes, digest or signature."""

    def __init__(self, skill_id: str, version: str, fields: list[str]) -> None:
        super().__init__(
            f"{skill_id}@{version} is published and immutable; refused change to {', '.join(fields)}.",
            ["Publish a new version instead."],
        )


class SyncFailed(MarketplaceError):
    """The other marketplace could not be read (HTTP 502 when a facade syncs)."""


class StoreNotReady(MarketplaceError):
    """The database cannot be reached or migrated (HTTP 503)."""
