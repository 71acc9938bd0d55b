"""Accounts: creating them, opening a supplier's access, logging in, and the single-use links that
set a password. No HTTP here: the views (app/web/auth.py), the service task (accounts.open) and the
CLI call these functions; the caller commits.

Decisions:
- identifiant: ``F`` + 7 random digits for a supplier's account holder, ``AG`` + 6 random digits
  for the agency's staff (agent, analyst, admin); random rather than sequential so that an
  identifiant tells nothing about the others. A person may also be given a chosen identifiant (CLI).
- passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane: ~0.1 s per check, a
  seventh of argon2-cffi's 64 MiB default, which would make every login cost a server core for
  most of a second), rehashed at login when the parameters change; at least 12 characters, at most
  128, never the identifiant nor the email address.
- links: ``secrets.token_urlsafe(32)``, only the SHA-256 kept, valid PASSWORD_LINK_HOURS (72 by
  default), used once; a new link cancels the person's older unused ones.
- deposit links: when an agent asks for documents and the request's account holder has no account
  that may see its SIRET (accounts open at the first validation), the mail carries a personal link
  to deposit them, bound to that request (not to an account). Same tokens as the password links,
  valid DEPOSIT_LINK_DAYS (30 by default: the reminder comes after 15 days, then 15 more); each new
  request for documents cancels the request's earlier links; a link is spent when the deposit is
  finished (« Terminer mon dépôt » or « Je ne souhaite pas ajouter de pièces justificatives »: the
  request no longer awaits documents). Opening it gives that browser's session access to that
  request only (app/access.py).
- logins: after 5 failures for one identifiant, or 20 from one address, within 15 minutes, every
  attempt is refused (even with the right password) until the failures are older than 15 minutes;
  a successful login or a new password clears the identifiant's failures; the worker deletes
  failures older than 15 minutes (they no longer count).
- « J'ai oublié mon identifiant / mon mot de passe »: the form only records what was typed
  (``record_forgotten``), the same work for any account, so that neither the answer nor its time
  tells whether an account exists; the worker resolves it and queues the mail. The forms are also
  rate-limited per address and per value typed (app/web/auth.py).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from .. import clock
from ..extensions import db
from ..models import AccountToken, ForgottenRequest, LoginAttempt, SupplierAccess, User, UserRole
from ..package import statuses
from .. import roles
from ..roles import SUPPLIER
from . import outbox
from .enrolment import account_holder, holder_is_depositary

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_FAILURES_PER_LOGIN = 5
MAX_FAILURES_PER_ADDRESS = 20
LOCK_WINDOW = timedelta(minutes=15)

PASSWORD_LINK = "password"           # AccountToken.purpose of « mot de passe » links
PASSWORD_PATH = "/mot-de-passe/"     # where a link leads (app/web/auth.py)
DEPOSIT_LINK = "deposit"             # AccountToken.purpose of personal deposit links
DEPOSIT_PATH = "/depot/"             # where they lead (app/web/deposit_link.py)

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
LOCKED = ("Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est suspendue pendant "
          f"{LOCK_WINDOW.seconds // 60} minutes : réessayez plus tard, ou choisissez un nouveau mot de passe "
          "avec « J'ai oublié mon mot de passe ».")

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = _hasher.hash("not a password: equalises the time of unknown identifiants")


class AccountError(ValueError):
    """A request the service refuses, with the reason in French."""


# --- passwords --------------------------------------------------------------------------------

def password_problems(password: str, user: User) -> list[str]:
    """Why ``password`` may not be ``user``'s (French), empty when it may."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Le mot de passe doit contenir au plus {MAX_PASSWORD_LENGTH} caractères.")
    if password.strip().casefold() in {user.login.casefold(), user.email.casefold()}:
        problems.append("Le mot de passe ne doit être ni votre identifiant ni votre adresse électronique.")
    return problems


def set_password(user: User, password: str) -> None:
    problems = password_problems(password, user)
    if problems:
        raise AccountError(" ".join(problems))
    user.password_hash = _hasher.hash(password)


def _password_matches(user: User | None, password: str) -> bool:
    """Check ``password`` (always spending one hash's time) and upgrade an outdated hash."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


# --- users ------------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(db.func.lower(User.email) == normalise_email(email)))


def find_by_login(login: str) -> User | None:
    return db.session.scalar(db.select(User).where(db.func.lower(User.login) == (login or "").strip().lower()))


def _new_login(role: str) -> str:
    prefix, digits = ("F", 7) if role == SUPPLIER else ("AG", 6)
    while True:
        login = f"{prefix}{secrets.randbelow(10 ** digits):0{digits}d}"
        if find_by_login(login) is None:
            return login


def create_user(role: str, email: str, first_name: str = "", last_name: str = "",
                login: str | None = None, password: str | None = None) -> User:
    """A new active account (flushed, not committed). Without ``password`` the person sets it
    through a link (``password_link``). Raises AccountError when the role is unknown or the email
    or identifiant is taken."""
    _known_role(role)
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(f"Adresse électronique invalide « {email} ».")
    if find_by_email(email) is not None:
        raise AccountError(f"Un compte existe déjà pour l'adresse {email}.")
    login = (login or "").strip() or _new_login(role)
    if find_by_login(login) is not None:
        raise AccountError(f"L'identifiant {login} est déjà pris.")
    user = User(role=role, email=email, login=login, first_name=(first_name or "").strip(),
                last_name=(last_name or "").strip(), active=True, created_at=clock.now())
    user.held_roles.append(UserRole(role=role))
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def _known_role(code: str) -> None:
    known = roles.current()
    if code not in known:
        raise AccountError(f"Rôle inconnu « {code} » (rôles : {', '.join(r.code for r in known)}).")


def give_role(user: User, code: str) -> None:
    """Give ``user`` the role ``code`` too (an agent who is also a supervisor). Flushes."""
    _known_role(code)
    if code in user.roles:
        raise AccountError(f"Le compte {user.login} a déjà le rôle « {roles.current().label(code)} ».")
    user.held_roles.append(UserRole(role=code))
    db.session.flush()


def remove_role(user: User, code: str) -> None:
    """Take the role ``code`` from ``user``, who keeps at least one (the next becomes their main
    role). Flushes."""
    if code not in user.roles:
        raise AccountError(f"Le compte {user.login} n'a pas le rôle « {roles.current().label(code)} ».")
    if len(user.roles) == 1:
        raise AccountError(f"Le compte {user.login} doit garder au moins un rôle.")
    for held in [h for h in user.held_roles if h.role == code]:
        user.held_roles.remove(held)
    if user.role == code:
        user.role = next(r for r in user.roles if r != code)
    db.session.flush()


def roles_in_use() -> list[str]:
    """Every role some account holds (a package may not drop them)."""
    return list(db.session.scalars(db.select(UserRole.role).distinct())) + \
        list(db.session.scalars(db.select(User.role).distinct()))


def grant_siret(user: User, siret: str, request=None, depositary: bool = False) -> SupplierAccess | None:
    """Let ``user`` see the requests of ``siret`` (as its dépositaire or its legal representative);
    None when they already may."""
    if siret in user.siret_list:
        return None
    access = SupplierAccess(siret=siret, opened_at=clock.now(), request_id=request.id if request else None,
                            depositary=depositary)
    user.sirets.append(access)
    db.session.flush()
    return access


# --- links ------------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_hours() -> float:
    return float(current_app.config["PASSWORD_LINK_HOURS"])


def _open_links(purpose: str, owner):
    """The where-clause of the unspent, unexpired links of ``purpose`` whose owner is ``owner``."""
    return (owner, AccountToken.purpose == purpose, AccountToken.used_at.is_(None),
            AccountToken.expires_at > clock.now())


def _cancel_links(purpose: str, owner) -> None:
    db.session.execute(db.update(AccountToken).where(*_open_links(purpose, owner)).values(expires_at=clock.now()))


def _new_link(purpose: str, lifetime: timedelta, path: str, *, user: User | None = None,
              request=None) -> tuple[str, AccountToken]:
    """A new single-use link (absolute URL) of ``user`` or ``request``, cancelling their older
    unused links of the same purpose."""
    now = clock.now()
    _cancel_links(purpose, AccountToken.user_id == user.id if user is not None
                  else AccountToken.request_id == request.id)
    token = secrets.token_urlsafe(32)
    row = AccountToken(user=user, request=request, purpose=purpose, token_hash=_digest(token), created_at=now,
                       expires_at=now + lifetime)
    db.session.add(row)
    db.session.flush()
    return current_app.config["PORTAL_URL"].rstrip("/") + path + token, row


def password_link(user: User) -> tuple[str, AccountToken]:
    """A new single-use link to choose a password (absolute URL), cancelling older unused ones."""
    return _new_link(PASSWORD_LINK, timedelta(hours=link_hours()), PASSWORD_PATH, user=user)


def valid_link(token: str, lock: bool = False) -> AccountToken | None:
    """The unused, unexpired link ``token`` of an active account, or None."""
    query = db.select(AccountToken).where(AccountToken.token_hash == _digest(token or ""),
                                          AccountToken.purpose == PASSWORD_LINK)
    row = db.session.scalar(query.with_for_update() if lock else query)
    if row is None or row.used_at is not None or row.expires_at <= clock.now() or not row.user.active:
        return None
    return row


def use_link(token: str, password: str) -> User | None:
    """Set the password through link ``token`` (which is then spent). None when the link is no
    longer valid; AccountError when the password breaks a rule (the link stays valid)."""
    row = valid_link(token, lock=True)
    if row is None:
        return None
    set_password(row.user, password)
    row.used_at = clock.now()
    _clear_failures(row.user.login)
    return row.user


# --- deposit links ----------------------------------------------------------------------------

@dataclass
class DepositLink:
    url: str
    expires_at: datetime


def may_log_in_to_see(request) -> bool:
    """Whether the request's account holder has an active account that may see its SIRET."""
    user = find_by_email(request.holder_email or "")
    return user is not None and user.active and request.siret in user.siret_list


def deposit_link(request) -> DepositLink | None:
    """For a request that now awaits documents: cancel its earlier deposit links and, when its
    account holder cannot log in to see it, a new personal link to deposit them. None when they can."""
    if may_log_in_to_see(request):
        _cancel_links(DEPOSIT_LINK, AccountToken.request_id == request.id)
        return None
    url, row = _new_link(DEPOSIT_LINK, timedelta(days=float(current_app.config["DEPOSIT_LINK_DAYS"])),
                         DEPOSIT_PATH, request=request)
    return DepositLink(url, row.expires_at)


def deposit_link_open(link: AccountToken) -> bool:
    """Whether ``link`` (a deposit link) is neither spent nor expired nor replaced."""
    return link.used_at is None and link.expires_at > clock.now()


def check_deposit_link(token: str) -> tuple[AccountToken | None, str | None]:
    """The deposit link ``token`` when it opens its request's deposit now; otherwise (None, why
    not, in French)."""
    link = db.session.scalar(db.select(AccountToken).where(AccountToken.token_hash == _digest(token or ""),
                                                           AccountToken.purpose == DEPOSIT_LINK))
    if link is None or link.request is None:
        return None, ("Ce lien de dépôt n'est pas reconnu. Vérifiez que l'adresse copiée depuis le courriel "
                      "« Demande de pièces justificatives complémentaires » est complète.")
    number = link.request.number
    if link.used_at is not None or (deposit_link_open(link) and not statuses.of(link.request.status).offers(statuses.DEPOSIT)):
        return None, (f"Ce lien a déjà servi : le dépôt des pièces de la demande d'enrôlement {number} est "
                      "terminé. Si l'Agence a besoin d'autres pièces, vous recevrez un nouveau courriel avec "
                      "un nouveau lien.")
    if not deposit_link_open(link):
        return None, (f"Ce lien de dépôt a expiré le {clock.datetime_fr(link.expires_at)}, ou a été remplacé par "
                      "un lien plus récent : utilisez le lien du dernier courriel « Demande de pièces "
                      "justificatives complémentaires » reçu. Sinon, contactez l'assistance en indiquant le "
                      f"numéro de votre demande, {number}.")
    return link, None


def finish_deposit(request) -> None:
    """The deposit of ``request`` is finished: its open deposit links are spent. Flushes."""
    db.session.execute(db.update(AccountToken).values(used_at=clock.now())
                       .where(*_open_links(DEPOSIT_LINK, AccountToken.request_id == request.id)))
    db.session.flush()


# --- mails ------------------------------------------------------------------------------------

def _mail(event: str, user: User, request=None, **context) -> None:
    context |= {"login": user.login, "first_name": user.first_name, "last_name": user.last_name,
                "portal_url": current_app.config["PORTAL_URL"].rstrip("/"),
                "assistance_url": current_app.config["ASSISTANCE_URL"]}
    outbox.enqueue(event, user.email, context, request=request)


def send_password_link(user: User, event: str, request=None, **context) -> str:
    """Queue mail ``event`` carrying a new password link; returns the link."""
    url, row = password_link(user)
    _mail(event, user, request, link=url, link_hours=f"{link_hours():g}",
          expires_at=clock.datetime_fr(row.expires_at), **context)
    return url


def send_welcome(user: User, request=None) -> str:
    """Queue the two mails of a new account: its identifiant, then a link to choose the password
    (listed on ``request`` when the account is opened by one). Returns the link."""
    context = {"siret": request.siret, "number": request.number} if request is not None else {}
    _mail("identifiant", user, request, **context)
    return send_password_link(user, "mot_de_passe_initialisation", request, **context)


FORGOTTEN_LOGIN = "login"         # ForgottenRequest.kind: « J'ai oublié mon identifiant » (an email)
FORGOTTEN_PASSWORD = "password"   # « J'ai oublié mon mot de passe » (an identifiant or an email)


def forgotten_key(value: str) -> str:
    """What the « J'ai oublié » forms' rate limit counts per account: the value as typed, normalised."""
    return (value or "").strip().lower()[:254]


def record_forgotten(kind: str, value: str) -> None:
    """« J'ai oublié … »: record what was typed, whatever the account, so that the answer takes the
    same work and time for a known and an unknown one; the worker mails (``handle_next_forgotten``)."""
    db.session.add(ForgottenRequest(kind=kind, value=forgotten_key(value), at=clock.now()))
    db.session.flush()
    outbox.wake_after_commit()


def handle_next_forgotten() -> bool | None:
    """Resolve the oldest recorded « J'ai oublié » request and queue its mail when an active account
    matches (the identifiant for an email; a new password link for an identifiant or an email).
    Flushes; None when none is left."""
    row = db.session.scalars(db.select(ForgottenRequest).order_by(ForgottenRequest.id).limit(1)
                             .with_for_update(skip_locked=True)).first()
    if row is None:
        return None
    db.session.delete(row)
    if row.kind == FORGOTTEN_LOGIN:
        user = find_by_email(row.value)
    else:
        user = find_by_login(row.value) or find_by_email(row.value)
    if user is not None and user.active:
        if row.kind == FORGOTTEN_LOGIN:
            _mail("identifiant_oublie", user)
        else:
            send_password_link(user, "mot_de_passe_reinitialisation")
    db.session.flush()
    return True


# --- opening a supplier's access --------------------------------------------------------------

@dataclass
class Opening:
    outcome: str        # "created", "access_opened" or "already_open"
    user: User


def open_access(request) -> Opening:
    """On a request's first validation: give its account holder access to its SIRET.

    A new person gets an account and two mails (identifiant, link to set the password); a person
    already known by this email keeps their credentials and gets an « ouverture des accès » mail;
    nothing happens when the access is already open. Every mail is listed on the request."""
    if not request.holder_email or not request.siret:
        raise AccountError("la demande n'a pas d'adresse de titulaire de compte ou de SIRET")
    user = find_by_email(request.holder_email)
    depositary = holder_is_depositary(request.data or {})
    if user is None:
        _, first_name, last_name = account_holder(request.data or {})
        user = create_user(SUPPLIER, request.holder_email, first_name, last_name)
        grant_siret(user, request.siret, request, depositary)
        send_welcome(user, request)
        return Opening("created", user)
    if grant_siret(user, request.siret, request, depositary) is None:
        return Opening("already_open", user)
    _mail("ouverture_acces", user, request, siret=request.siret, number=request.number)
    return Opening("access_opened", user)


# --- logging in -------------------------------------------------------------------------------

def _login_key(login: str) -> str:
    return (login or "").strip().lower()[:254]


def _clear_failures(login: str) -> None:
    db.session.execute(db.delete(LoginAttempt).where(LoginAttempt.login == _login_key(login)))


def is_locked(login: str, address: str) -> bool:
    since = clock.now() - LOCK_WINDOW

    def failures(column, value):
        return db.session.scalar(db.select(db.func.count()).select_from(LoginAttempt)
                                 .where(column == value, LoginAttempt.at > since))

    return (failures(LoginAttempt.login, _login_key(login)) >= MAX_FAILURES_PER_LOGIN
            or failures(LoginAttempt.address, address) >= MAX_FAILURES_PER_ADDRESS)


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None


def authenticate(login: str, password: str, address: str) -> LoginResult:
    """Check an identifiant and password from ``address``; records failures, refuses while locked.
    On success the identifiant's failures are cleared and last_login_at is set."""
    address = (address or "?")[:64]
    if is_locked(login, address):
        return LoginResult(None, LOCKED)
    user = find_by_login(login)
    if not _password_matches(user, password) or not user.active:
        db.session.add(LoginAttempt(login=_login_key(login), address=address, at=clock.now()))
        return LoginResult(None, BAD_CREDENTIALS)
    _clear_failures(user.login)
    user.last_login_at = clock.now()
    return LoginResult(user)


def purge_login_attempts() -> int:
    """Delete the failed logins that no longer count (older than the lockout window); flushes."""
    result = db.session.execute(db.delete(LoginAttempt).where(LoginAttempt.at <= clock.now() - LOCK_WINDOW))
    return result.rowcount


def list_users() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.role, User.login)))
