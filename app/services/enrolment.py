"""Enrolment requests: start a draft, submit it, number it, discard or purge it."""
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..engine import Run
from ..extensions import db
from ..models import Counter, EnrolmentRequest, RequestEvent
from . import companies, documents, webhooks

INITIAL_PROCESS = "initial_enrolment"
COMPLEMENTARY_PROCESS = "complementary_enrolment"

#: What a complementary enrolment takes over from the SIRET's latest request (« Personne morale »).
COMPANY_KEYS = ("company_name", "trade_name", "recipient", "building", "street_number", "street_extension",
                "street_type", "street_name", "address_complement", "postal_code", "city")


def start(process_id: str = INITIAL_PROCESS, actor: str = "", data: dict | None = None,
          siret: str | None = None) -> EnrolmentRequest:
    """Create a draft request and its workflow instance, run until the first user task."""
    now = clock.now()
    request = EnrolmentRequest(public_id=str(uuid.uuid4()), created_at=now, updated_at=now, data={}, siret=siret)
    run = Run.start(process_id, request, data)
    request.instance = run.save()
    db.session.add(request)
    record(request, actor, "Demande commencée")
    return request


def latest_submitted(siret: str) -> EnrolmentRequest | None:
    return db.session.scalars(db.select(EnrolmentRequest).where(
        EnrolmentRequest.siret == siret, EnrolmentRequest.number.is_not(None))
        .order_by(EnrolmentRequest.submitted_at.desc(), EnrolmentRequest.id.desc())).first()


def company_name(siret: str) -> str | None:
    """The dénomination sociale of ``siret``: as its latest request gave it, else the company
    directory's (an account known from wave 1 has no wave-2 request yet)."""
    latest = latest_submitted(siret)
    return (latest.company_name if latest is not None else None) or companies.lookup(siret).get("name")


def start_complementary(user, siret: str, actor: str) -> EnrolmentRequest:
    """A complementary enrolment filed by the logged-in account holder ``user`` for ``siret``: the
    company is the one the ASP knows from the SIRET's latest request (if any), the holder is them."""
    latest = latest_submitted(siret)
    known = latest.data if latest is not None else {}
    data = {key: known[key] for key in COMPANY_KEYS if known.get(key)}
    if not data.get("company_name") and (name := company_name(siret)):
        data["company_name"] = name
    access = next(a for a in user.sirets if a.siret == siret)
    data.update(siret=siret, holder={"email": user.email, "first_name": user.first_name,
                                     "last_name": user.last_name, "depositary": access.depositary})
    return start(COMPLEMENTARY_PROCESS, actor, data, siret=siret)


def record(request: EnrolmentRequest, actor: str, action: str, detail: str = "") -> None:
    """Add a line to the request's history."""
    db.session.add(RequestEvent(request=request, at=clock.now(), actor=actor or "", action=action, detail=detail))


def account_holder(data: dict) -> tuple[str, str, str]:
    """(email, first name, last name) of the person the account is for: the logged-in holder who
    filed a complementary enrolment; in an initial one, the legal representative, or the
    dépositaire when the form was filled by a tiers déclarant."""
    holder = data.get("holder")
    if holder:
        return holder.get("email"), holder.get("first_name"), holder.get("last_name")
    person = "dep" if holder_is_depositary(data) else "rep"
    return data.get(f"{person}_email"), data.get(f"{person}_first_name"), data.get(f"{person}_last_name")


def holder_is_depositary(data: dict) -> bool:
    holder = data.get("holder")
    return bool(holder.get("depositary")) if holder else data.get("is_legal_representative") == "non"


def allocate_number(request: EnrolmentRequest) -> str:
    """Give the request its number ``ENR####M0``, once. The counter row is updated atomically
    (and locked until commit), so concurrent submissions cannot share a number."""
    if request.number is None:
        _ensure_counter("enrolment")
        sequence = db.session.execute(
            db.update(Counter).where(Counter.name == "enrolment")
            .values(value=Counter.value + 1).returning(Counter.value)).scalar_one()
        request.sequence, request.number = sequence, f"ENR{sequence:04d}M0"
    return request.number


def _ensure_counter(name: str) -> None:
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(Counter).values(name=name, value=0).on_conflict_do_nothing())


def file_submission(request: EnrolmentRequest, data: dict) -> None:
    """Record what was submitted: snapshot of the data, projections, documents filed."""
    documents.file_drafts(request, data)
    first = request.submitted_at is None
    request.data = {k: v for k, v in data.items() if not k.startswith("spiff_")}
    request.submitted_at = clock.now()
    request.siret = data.get("siret")
    request.company_name = data.get("company_name") or (data.get("company") or {}).get("name")
    request.holder_email = account_holder(data)[0]
    if first and request.number is not None:  # numbered just before (``allocate_number``): filed
        webhooks.filed(request)


def keep_added_values(request: EnrolmentRequest, values: dict) -> None:
    """The values of the fields the process package adds to a step completed after submission
    (an agent's task, a later deposit) join the request's data, the snapshot taken at submission that
    the recap and the review show; their documents are filed with the request's."""
    if request.submitted_at is None or not values:
        return
    request.data = {**(request.data or {}), **values}
    documents.file_named(request, {v for k, v in values.items() if k.startswith("doc_") and v})


def discard(request: EnrolmentRequest) -> None:
    """Delete a request with its workflow instance and documents (their files go after commit)."""
    list(request.documents)  # load them: the ORM then deletes each one, and its file after commit
    instance = request.instance
    db.session.delete(request)
    db.session.flush()
    db.session.delete(instance)


def purge_expired_drafts() -> int:
    """Delete drafts (never submitted) without activity for DRAFT_MAX_AGE_HOURS (flushed; the
    caller commits)."""
    limit = clock.now() - timedelta(hours=current_app.config["DRAFT_MAX_AGE_HOURS"])
    expired = db.session.scalars(db.select(EnrolmentRequest).where(
        EnrolmentRequest.number.is_(None), EnrolmentRequest.updated_at < limit)).all()
    for request in expired:
        discard(request)
    db.session.flush()
    return len(expired)
