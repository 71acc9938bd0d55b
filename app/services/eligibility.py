"""The rules between a supplier's wave-2 enrolments (guide chapter 5), in one place: the pages,
the complementary-enrolment diagram's service tasks and the future funding module all ask here.

- a first wave-2 enrolment (initial or complementary) validated by an agent — fully or partially —
  comes before any other; its validation is what opened the supplier's access (accounts.open), so
  an open access for the SIRET is that proof;
- one ANS number = one enrolment: a number already carried by a request of the same SIRET that is
  not rejected cannot be filed again;
- funding advances are possible once a request is « Validée » and no anticipated request of the
  SIRET is still waiting to be finalised.
"""
from dataclasses import dataclass

from ..extensions import db
from ..models import EnrolmentRequest, SupplierAccess
from ..models.request import CERTIFICATES_TO_VALIDATE, PARTIALLY_VALIDATED, REJECTED, VALIDATED

#: Statuses of an anticipated request validated partially but not finalised yet.
NOT_FINALISED = (PARTIALLY_VALIDATED, CERTIFICATES_TO_VALIDATE)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # why not, in French, for the supplier


def _submitted(siret: str):
    return db.select(EnrolmentRequest).where(EnrolmentRequest.siret == siret,
                                             EnrolmentRequest.number.is_not(None))


def first_enrolment_validated(siret: str) -> bool:
    return db.session.scalar(db.select(db.func.count()).select_from(SupplierAccess)
                             .where(SupplierAccess.siret == siret)) > 0


def may_file_complementary(siret: str) -> Verdict:
    if not first_enrolment_validated(siret):
        return Verdict(False, "Une demande complémentaire n'est possible qu'après la validation, par un "
                              "gestionnaire de l'ASP, de votre première demande d'enrôlement de la vague 2 "
                              "(initiale ou complémentaire). Vous serez informé par courriel de cette validation.")
    return Verdict(True)


def may_file_ans_number(siret: str, ans_number: str) -> Verdict:
    existing = db.session.scalars(_submitted(siret).where(
        db.func.upper(EnrolmentRequest.ans_number) == (ans_number or "").strip().upper(),
        EnrolmentRequest.status != REJECTED)).first()
    if existing is not None:
        return Verdict(False, f"Le numéro de référencement {existing.ans_number} fait déjà l'objet de la demande "
                              f"d'enrôlement {existing.number} (statut : {existing.status}). Un numéro ANS ne "
                              "peut être enrôlé qu'une fois ; seule une demande rejetée peut être redéposée.")
    return Verdict(True)


def funding_advances_allowed(siret: str) -> Verdict:
    statuses = set(db.session.scalars(_submitted(siret).with_only_columns(EnrolmentRequest.status)))
    if statuses & set(NOT_FINALISED):
        return Verdict(False, "Votre enrôlement anticipé n'est pas encore finalisé : déposez votre certificat "
                              "de référencement (et, pour un SONS DPI, le document HDS) pour pouvoir déposer "
                              "des demandes d'avance.")
    if VALIDATED not in statuses:
        return Verdict(False, "Aucune de vos demandes d'enrôlement n'est encore validée.")
    return Verdict(True)
