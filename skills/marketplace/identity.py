"""Who calls the marketplace: accounts with roles, and their API tokens (stored hashed).

``SKILLWORKS_API_TOKEN`` acts as the admin named ``admin``; so does a caller without a token
on an open facade (loopback, no ``SKILLWORKS_API_TOKEN``), who may already run any skill
on this machine. Everyone else is an account holding a token made with
``skillworks marketplace token create NAME --role ROLE``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from skills.marketplace.errors import Conflict, NotAllowed
from skills.marketplace.models import ROLES, Account, ApiToken, Role

ADMIN_NAME = "admin"
TOKEN_PREFIX = "swk_"
_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


@dataclass(frozen=True)
class Caller:
    """The identity behind a request."""

    name: str
    role: Role

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise NotAllowed(
                f"{self.name!r} ({self.role}) may not do this; it needs the role {' or '.join(roles)}.",
                ["Ask an admin for a token with that role: `skillworks marketplace token create NAME --role ROLE`."],
            )


ADMIN = Caller(ADMIN_NAME, "admin")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: Role) -> str:
    """A new token for account ``name`` (created with ``role`` if new); shown once, stored hashed."""
    if not re.match(_NAME_PATTERN, name):
        raise Conflict(f"Invalid account name {name!r}.", ["Use lowercase letters, digits, '.', '_' and '-' (at most 64)."])
    if role not in ROLES:
        raise Conflict(f"Unknown role {role!r}.", [f"Use one of: {', '.join(ROLES)}."])
    account = account_for(session, Caller(name, role))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(account_id=account.id, token_hash=token_hash(token), prefix=token[:10]))
    session.flush()
    return token


def account_for(session: Session, caller: Caller) -> Account:
    """The caller's account, made on first use; a name keeps the role it was first given."""
    account = session.scalar(select(Account).where(Account.name == caller.name))
    if account is None:
        account = Account(name=caller.name, role=caller.role)
        session.add(account)
        session.flush()
    elif account.role != caller.role:
        raise Conflict(
            f"Account {caller.name!r} exists with the role {account.role}, not {caller.role}.",
            ["Choose another name, or create the token with the account's role."],
        )
    return account


def caller_for_token(session: Session, token: str) -> Caller | None:
    """The account a marketplace token belongs to, or None for an unknown token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None:
        return None
    return Caller(row.account.name, row.account.role)  # type: ignore[arg-type]
