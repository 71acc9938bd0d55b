"""The one choke point through which every web load of a request goes. Deny by default.

- anonymous: only the request they started in this browser (its public id is kept in their
  session), until they quit or the session ends; or the one request whose personal deposit link
  (app/services/accounts.py) was opened in this browser, while that link is neither spent nor
  expired, and they may complete its deposit only;
- supplier (capability « supplier_space »): the submitted requests of the SIRETs their account was
  opened for;
- staff (capability « see_requests »: agents instruct, analysts follow the diagrams, admins
  reassign): every submitted request. Drafts belong to whoever is filling them in and are shown to
  nobody else;
- an integrator's program, on ``/api/v1`` with an API token (app/api/auth.py): the capability
  « see_requests » and nothing else, hence what staff see: every submitted request, read-only,
  by its number (no draft, no session: a portal cookie is ignored there).

Who may do what is the package's permissions table (capability → roles, app/package/roles.py), read
through ``can`` and ``require_capability``; an account may hold several roles.

A request is answered with 404, never 403, so that nobody learns that someone else's exists.
"""
from functools import cache, wraps

from flask import abort, session
from flask_login import current_user
from sqlalchemy import bindparam, exists
from sqlalchemy.orm import joinedload, with_expression

from .extensions import db, login_manager
from .models import AccountToken, EnrolmentRequest, Incident, User, WorkflowInstance
from . import package
from .package import statuses
from . import roles as role_data
from .roles import ADMIN, AGENT, ANALYST, SUPPLIER
from .services.accounts import deposit_link_open

_DRAFTS = "enrolment_drafts"
_DEPOSIT = "deposit_link"  # {"request": public id, "link": AccountToken id}: one at a time
#: How many requests started in one browser session stay reachable (one per open tab, say).
MAX_DRAFTS = 5


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def remember_draft(request: EnrolmentRequest) -> None:
    """Starting a request in another tab keeps the earlier ones reachable."""
    drafts = [d for d in session.get(_DRAFTS, []) if d != request.public_id]
    session[_DRAFTS] = [*drafts, request.public_id][-MAX_DRAFTS:]


def forget_draft(request: EnrolmentRequest) -> None:
    session[_DRAFTS] = [d for d in session.get(_DRAFTS, []) if d != request.public_id]


def filled_in_this_browser(request: EnrolmentRequest) -> bool:
    """Whether ``request`` was started in this browser session (a draft, or just submitted)."""
    return request.public_id in session.get(_DRAFTS, [])


def open_deposit(link: AccountToken) -> None:
    """A personal deposit link was opened in this browser: its request, and no other, becomes
    reachable here while the link is neither spent nor expired (a link opened later replaces it)."""
    session[_DEPOSIT] = {"request": link.request.public_id, "link": link.id}


def forget_deposit() -> None:
    session.pop(_DEPOSIT, None)


def opened_by_deposit_link(request: EnrolmentRequest) -> bool:
    """Whether this browser opened ``request``'s deposit link, still neither spent nor expired."""
    grant = session.get(_DEPOSIT) or {}
    if grant.get("request") != request.public_id:
        return False
    link = db.session.get(AccountToken, grant.get("link") or 0)
    return link is not None and link.request_id == request.id and deposit_link_open(link)


def role() -> str | None:
    """The current user's main role, None when anonymous."""
    return current_user.role if current_user.is_authenticated else None


def roles() -> tuple[str, ...]:
    """Every role the current user holds (anonymous people fill in as suppliers)."""
    return current_user.roles if current_user.is_authenticated else (SUPPLIER,)


def can(capability: str, user=None) -> bool:
    """Whether the current user (or ``user``) may ``capability``, by the permissions table (an API
    token's integrator holds fixed capabilities instead: app/api/auth.py)."""
    user = user if user is not None else current_user
    if not user.is_authenticated:
        return False
    fixed = getattr(user, "capabilities", None)
    return capability in fixed if fixed is not None else role_data.current().allows(user.roles, capability)


def current_lanes() -> tuple[str, ...]:
    """The lanes whose user tasks the current user completes (anonymous people fill the supplier's;
    none for a role that completes no task, e.g. an analyst)."""
    return role_data.current().lanes_of(roles())


def current_actor() -> str:
    """How the current user is named in a request's history."""
    if not current_user.is_authenticated:
        return "fournisseur (demande en ligne)"
    return f"{current_user.display_name} ({current_user.login})"


def current_user_id() -> int | None:
    """The account acting (recorded on the user tasks it completes), None when anonymous."""
    return current_user.id if current_user.is_authenticated else None


def require_capability(capability: str):
    """View decorator: the user must be logged in and hold a role with ``capability`` (login page
    otherwise, 404 for a logged-in user without it: the page does not exist for them)."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(capability):
                abort(404)
            return view(*args, **kwargs)
        return wrapper
    return decorator


def may_see(request: EnrolmentRequest) -> bool:
    if filled_in_this_browser(request):  # the person who filled it in, in this browser
        return True
    if opened_by_deposit_link(request):  # its account holder, from the mail asking for documents
        return True
    if request.is_draft:
        return False
    if can("see_requests"):
        return True
    return can("supplier_space") and request.siret in current_user.siret_list


@cache
def _request_query():
    """Built once (every request page runs it): the request with its instance, versions, whether an
    incident holds it, and the current package's id."""
    held = exists().where(Incident.request_id == EnrolmentRequest.id, Incident.resolved_at.is_(None))
    query = (db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == bindparam("public_id"))
             .options(joinedload(EnrolmentRequest.instance).joinedload(WorkflowInstance.process_version),
                      joinedload(EnrolmentRequest.instance).joinedload(WorkflowInstance.package),
                      with_expression(EnrolmentRequest.held, held)))
    return package.with_current(query)


def load_request(public_id: str) -> EnrolmentRequest:
    """The request ``public_id`` if the current user may see it; 404 otherwise (no hint that it
    exists)."""
    row = db.session.execute(_request_query(), {"public_id": public_id}).first()
    if row is None:
        abort(404)
    request, package_id, package_sha = row
    package.remember_current(package_id, package_sha)  # the roles and statuses read below
    if not may_see(request):
        abort(404)
    return request


def visible_requests():
    """A select of the submitted requests the current user may list (none for anonymous)."""
    query = db.select(EnrolmentRequest).where(EnrolmentRequest.number.is_not(None))
    if can("see_requests"):
        return query
    if can("supplier_space"):
        return query.where(EnrolmentRequest.siret.in_(current_user.siret_list))
    return query.where(db.false())


def may_complete(request: EnrolmentRequest, run, task) -> str | None:
    """None when the current user may complete the request's ready ``task`` (of one of their
    lanes; the request is already known to be visible to them); otherwise why not, in French."""
    if task.lane in role_data.current().staff_lanes:
        if not holds(request):
            return "Prenez d'abord la demande en charge : seul l'agent qui la détient peut l'instruire."
        return run.separation_refusal(task, current_user.id)
    if request.is_draft or can("supplier_space"):
        return None
    if statuses.of(request.status).offers(statuses.DEPOSIT) and opened_by_deposit_link(request):
        return None
    return "Connectez-vous à votre espace fournisseur pour poursuivre cette demande."


def holds(request: EnrolmentRequest) -> bool:
    """Whether the current user may complete the request's staff tasks: they must hold (« prendre
    en charge ») the request first, so that two agents never decide it twice."""
    return can("instruct") and request.claimed_by_id == current_user.id


__all__ = ["ADMIN", "AGENT", "ANALYST", "SUPPLIER", "can", "current_actor", "current_lanes", "filled_in_this_browser",
           "current_user_id", "forget_deposit", "forget_draft", "holds", "load_request", "may_complete", "may_see", "open_deposit",
           "opened_by_deposit_link", "remember_draft", "require_capability", "role", "roles", "visible_requests"]
