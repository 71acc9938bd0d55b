"""Anti-robot check: ALTCHA proof of work, self-hosted (no third party, no cookie).

Protocol: ALTCHA PoW **v2**, the one the widget ``altcha`` 3.x speaks natively. The challenge
served at ``GET /captcha/challenge`` is ``{"parameters": {...}, "signature": "..."}``; the widget
finds a counter whose PBKDF2/SHA-256 key (password = nonce + counter as big-endian uint32)
starts with ``keyPrefix`` and posts, in the hidden field named like the form field,
``base64(JSON {"challenge": {"parameters", "signature"}, "solution": {"counter", "derivedKey",
"time"}})``. (The widget still accepts a v1 challenge, but only by converting it.)

Configuration:

- ``ALTCHA_COST`` is the v2 ``cost`` parameter, i.e. the PBKDF2 iteration count of one attempt.
  With the default key prefix ``"00"`` the browser makes 256 attempts on average, so its work is
  about 256 × ALTCHA_COST iterations; the server re-derives the key once (ALTCHA_COST iterations).
- ``ALTCHA_EXPIRES_SECONDS``: lifetime of a challenge (``expiresAt``, Unix seconds, signed).
- ``CAPTCHA_ENABLED``: when False every payload is accepted.

The HMAC key is derived from ``SECRET_KEY``. Expiry is checked against ``clock.now()`` (the
``altcha`` library also checks it against the wall clock, as the widget does: a clock frozen in
the past makes challenges look expired). A payload is accepted once: the signature of its
challenge is recorded in ``UsedCaptcha`` until the challenge expires (the caller commits).

API: ``check(payload)`` raises ``CaptchaError`` (French message for the user); ``verify(payload)``
is the same as a boolean. ``forms.captcha.CaptchaField`` renders the widget and validates with
``check``.
"""
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import altcha
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..extensions import db
from ..models import UsedCaptcha

ALGORITHM = "PBKDF2/SHA-256"
MESSAGE_REQUIRED = "Veuillez valider le contrôle anti-robot (captcha)."
MESSAGE_EXPIRED = ("Le contrôle anti-robot a expiré ou a déjà été utilisé : "
                   "veuillez le valider à nouveau.")
MESSAGE_NOSCRIPT = ("Le contrôle anti-robot nécessite JavaScript : activez-le dans votre "
                    "navigateur pour envoyer ce formulaire.")
_MAX_PAYLOAD_LENGTH = 4096  # a genuine payload is about 600 characters


class CaptchaError(Exception):
    """A refused payload; ``message`` is meant for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _hmac_secret() -> str:
    secret = current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, b"segur:altcha-challenge", hashlib.sha256).hexdigest()


def new_challenge() -> dict:
    """A signed challenge, as the widget expects it from its ``challenge`` URL."""
    config = current_app.config
    challenge = altcha.create_challenge(
        algorithm=ALGORITHM,
        cost=config["ALTCHA_COST"],
        expires_at=clock.now() + timedelta(seconds=config["ALTCHA_EXPIRES_SECONDS"]),
        hmac_secret=_hmac_secret(),
    )
    return challenge.to_dict()


def check(payload: str | None) -> None:
    """Accept a payload posted by the widget once, or raise ``CaptchaError``.

    The use is recorded in the session (in a savepoint; expired records are purged on the way) and
    the caller's commit makes it final, like the rest of the step: a request that rolls back leaves
    the payload usable again. A concurrent use of the same payload waits for that commit, then is
    refused.
    """
    if not current_app.config["CAPTCHA_ENABLED"]:
        return
    if not payload or len(payload) > _MAX_PAYLOAD_LENGTH:
        raise CaptchaError(MESSAGE_REQUIRED)
    result = altcha.verify_solution(payload, _hmac_secret())  # parses, never raises on bad input
    if result.expired:
        raise CaptchaError(MESSAGE_EXPIRED)
    if not result.verified:
        raise CaptchaError(MESSAGE_REQUIRED)

    # Verified, hence issued by us: well formed, HMAC-SHA-256 signature (64 hex characters).
    challenge = altcha.Payload.from_base64(payload).challenge
    expires_at = challenge.parameters.expires_at
    if type(expires_at) is not int:
        raise CaptchaError(MESSAGE_REQUIRED)
    now = clock.now()
    if expires_at < now.timestamp():
        raise CaptchaError(MESSAGE_EXPIRED)

    db.session.execute(delete(UsedCaptcha).where(UsedCaptcha.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(UsedCaptcha(
                signature=challenge.signature,
                expires_at=datetime.fromtimestamp(expires_at, timezone.utc)))
    except IntegrityError:
        raise CaptchaError(MESSAGE_EXPIRED) from None


def verify(payload: str | None) -> bool:
    """True when the payload is accepted (see ``check``), False otherwise."""
    try:
        check(payload)
    except CaptchaError:
        return False
    return True
