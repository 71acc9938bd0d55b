"""API tokens: creation (the secret shown once), authentication of a presented secret, revocation.

A token reads ``segur_<random>``; only its SHA-256 is stored. A secret has 256 bits of
randomness, so a plain hash (no salt, no slow function) is enough, and it is looked up by its
hash: timing the look-up tells nothing about a secret, only about its hash."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from .. import clock
from ..extensions import db
from ..models import ApiToken, User
from ..models.api_token import SCOPES

PREFIX = "segur_"
#: How many first characters of a secret name its token in the lists (after ``segur_``).
SHOWN = 8
#: ``last_used_at`` is written at most this often per token (not one write per call).
LAST_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(integrator: str, scope: str, description: str = "", by: User | None = None) -> Created:
    """A new token (added to the caller's transaction) and its secret."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(integrator=integrator.strip(), description=(description or "").strip(), scope=scope,
                     prefix=secret[:len(PREFIX) + SHOWN], secret_hash=digest(secret), created_at=clock.now(),
                     created_by_id=by.id if by is not None else None)
    db.session.add(token)
    return Created(token, secret)


def authenticate(secret: str) -> ApiToken | None:
    """The active token whose secret is ``secret``, its last use noted (at most once a minute,
    committed on its own); None for an unknown, garbled or revoked secret."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    hashed = digest(secret)
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.secret_hash == hashed))
    if token is None or not token.active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        token.last_used_at = now
        db.session.commit()
    return token


def revoke(token: ApiToken) -> bool:
    """Revoke ``token`` (the caller commits); False when it already was."""
    if not token.active:
        return False
    token.revoked_at = clock.now()
    return True


def listed() -> list[ApiToken]:
    """Every token, active ones first, newest first."""
    return list(db.session.scalars(db.select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                                ApiToken.created_at.desc(), ApiToken.id.desc())))
