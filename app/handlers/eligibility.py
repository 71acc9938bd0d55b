"""The enrolment rules as service tasks, so that the diagrams show where each one is checked (the
pages ask the same functions: app/services/eligibility.py)."""
from ..engine.registry import Param, handler
from ..services import eligibility


@handler("eligibility.complementary", "Règle : première demande de la vague 2 validée",
         Param("siret", "Numéro de SIRET"))
def complementary(ctx, siret):
    return eligibility.may_file_complementary(siret or "").as_dict()


@handler("eligibility.ans_number", "Règle : un numéro ANS = un enrôlement",
         Param("siret", "Numéro de SIRET"), Param("ans_number", "N° unique de référencement (ANS)"))
def ans_number(ctx, siret, ans_number):
    return {**eligibility.may_file_ans_number(siret or "", ans_number or "").as_dict(), "ans_number": ans_number}


@handler("eligibility.initial", "Règle : un SIRET titulaire d'un compte fait des demandes complémentaires",
         Param("siret", "Numéro de SIRET"))
def initial(ctx, siret):
    return eligibility.may_file_initial(siret or "").as_dict()


@handler("eligibility.signature_mandate", "Règle : mandat de signature du dépositaire, une fois par vague",
         Param("siret", "Numéro de SIRET"), Param("email", "Email du titulaire du compte"))
def signature_mandate(ctx, siret, email):
    return {"required": eligibility.signature_mandate_required(siret or "", email or "")}
