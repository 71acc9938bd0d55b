"""The rules between a supplier's wave-2 enrolments (guide chapter 5), in one place: the pages, the
complementary-enrolment diagram's service tasks (app/handlers/eligibility.py) and the future funding
module all ask here.

- a first wave-2 enrolment (initial or complementary) validated by an agent — fully or partially —
  comes before any other: while the SIRET has a request filed and none validated yet, no other
  can be filed (an account known from wave 1, with no wave-2 request yet, files its first one);
- one ANS number = one enrolment: a number already carried by a request of the same SIRET that is
  not rejected cannot be filed again (refused at the SIRET search; step 1, before the SIRET is
  known, warns when the number has such a request for any SIRET);
- a SIRET that already has a portal account files complementary enrolments, from that account:
  the anonymous initial enrolment stops at the SIRET search;
- a dépositaire gives the legal representative's signature mandate once per wave and per SIRET:
  with their first wave-2 enrolment (asked at the Demandeur step of an initial one, in the form of
  a complementary one);
- funding advances are possible once a request is « Validée » and no anticipated request of the
  SIRET is still waiting to be finalised.

Which statuses reject, validate or leave an anticipated request to finalise is the statuses' own
definition (their outcome: app/package/statuses.py), not a list here.
"""
from dataclasses import dataclass

from ..extensions import db
from ..models import EnrolmentRequest, SupplierAccess, User
from ..package import statuses


def _not_rejected():
    return EnrolmentRequest.status.not_in(statuses.current().codes(lambda status: status.rejected))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # why not, in French, for the supplier

    def as_dict(self) -> dict:
        return {"allowed": self.allowed, "reason": self.reason}


def _submitted(siret: str):
    return db.select(EnrolmentRequest).where(EnrolmentRequest.siret == siret,
                                             EnrolmentRequest.number.is_not(None))


def _open(siret: str):
    """The submitted requests of ``siret`` that are not rejected."""
    return _submitted(siret).where(_not_rejected())


def _carrying(ans_number: str):
    """The condition: a request for ``ans_number`` (any case, surrounding spaces ignored)."""
    return db.func.upper(EnrolmentRequest.ans_number) == (ans_number or "").strip().upper()


def may_file_complementary(siret: str) -> Verdict:
    if db.session.scalars(_submitted(siret).where(EnrolmentRequest.validated_at.is_not(None))).first():
        return Verdict(True)
    waiting = db.session.scalars(_open(siret).order_by(EnrolmentRequest.submitted_at)).first()
    if waiting is None:  # no wave-2 enrolment yet (an account known from wave 1): this is the first
        return Verdict(True)
    return Verdict(False, "Une demande complémentaire n'est possible qu'après la validation, par un "
                          "gestionnaire de l'ASP, de votre première demande d'enrôlement de la vague 2 "
                          f"(initiale ou complémentaire) : la demande {waiting.number} est au statut "
                          f"« {statuses.of(waiting.status).supplier_label} ». Vous serez informé par courriel de sa validation.")


def may_file_ans_number(siret: str, ans_number: str) -> Verdict:
    existing = db.session.scalars(_open(siret).where(_carrying(ans_number))).first()
    if existing is not None:
        return Verdict(False, f"Le numéro de référencement {existing.ans_number} fait déjà l'objet de la demande "
                              f"d'enrôlement {existing.number} (statut : {statuses.of(existing.status).supplier_label}). Un numéro ANS ne "
                              "peut être enrôlé qu'une fois ; seule une demande rejetée peut être redéposée.")
    return Verdict(True)


def ans_number_enrolled(ans_number: str) -> bool:
    """Whether some SIRET already has a submitted, not rejected request for ``ans_number``."""
    return db.session.scalars(db.select(EnrolmentRequest.id).where(
        EnrolmentRequest.number.is_not(None), _not_rejected(), _carrying(ans_number))
    ).first() is not None


def may_file_initial(siret: str) -> Verdict:
    """An initial enrolment (anonymous) is for a SIRET without a portal account: one that has an
    account files complementary enrolments once logged in (the guide's introduction)."""
    if db.session.scalars(db.select(SupplierAccess.id).where(SupplierAccess.siret == siret)).first() is None:
        return Verdict(True)
    return Verdict(False, f"Le numéro SIRET {siret} dispose déjà d'un compte sur le portail SEGUR Numérique : "
                          "ses nouvelles demandes sont des demandes d'enrôlement complémentaires. Connectez-vous "
                          "avec ce compte, puis choisissez « Faire une demande complémentaire ».")


def is_depositary(siret: str, email: str) -> bool:
    """Whether the account of ``email`` acts for ``siret`` as its dépositaire."""
    return bool(db.session.scalar(
        db.select(SupplierAccess.depositary).join(User)
        .where(SupplierAccess.siret == siret, db.func.lower(User.email) == (email or "").strip().lower())))


def signature_mandate_required(siret: str, email: str) -> bool:
    """The « Mandat de délégation de signature du représentant légal » is asked of a dépositaire
    whose first wave-2 enrolment for ``siret`` this is (even if known from wave 1). A request they
    filed before that is not rejected carried it (or was an initial one, where it was asked at the
    Demandeur step)."""
    if not is_depositary(siret, email):
        return False
    earlier = db.session.scalars(_open(siret).where(
        db.func.lower(EnrolmentRequest.holder_email) == (email or "").strip().lower())).first()
    return earlier is None


def funding_advances_allowed(siret: str) -> Verdict:
    found = [statuses.of(code) for code in
             set(db.session.scalars(_submitted(siret).with_only_columns(EnrolmentRequest.status)))]
    if any(status.not_finalised for status in found):
        return Verdict(False, "Votre enrôlement anticipé n'est pas encore finalisé : déposez votre certificat "
                              "de référencement (et, pour un SONS DPI, le document HDS) pour pouvoir déposer "
                              "des demandes d'avance.")
    if not any(status.validated for status in found):
        return Verdict(False, "Aucune de vos demandes d'enrôlement n'est encore validée.")
    return Verdict(True)
