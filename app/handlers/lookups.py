"""Look-up service tasks: ANS referencing directory, company directory, bank registry."""
from ..services import bank, companies, referencing
from ..engine.registry import Param, handler


@handler("referencing.lookup", "Recherche du référencement ANS",
         Param("ans_number", "N° unique de référencement (ANS)"))
def lookup_referencing(ctx, ans_number):
    result = referencing.lookup(ans_number or "")
    if result["found"]:
        request = ctx.request
        request.ans_number, request.profile, request.dsr = (
            result["ans_number"], result["profile"], result["dsr"])
    return result


@handler("company.lookup", "Recherche de l'entreprise par SIRET",
         Param("siret", "Numéro de SIRET"),
         Param("editor_siren", "SIREN de l'éditeur du logiciel référencé", required=False))
def lookup_company(ctx, siret, editor_siren=None):
    result = companies.lookup(siret or "")
    if result["found"]:
        ctx.request.siret = result["siret"]
        # The referencing belongs to its editor: any other company files as a distributor.
        result["distributor"] = bool(editor_siren) and result["siret"][:9] != editor_siren
    return result


@handler("bank.lookup", "Contrôle IBAN/BIC et domiciliation",
         Param("iban", "IBAN"), Param("bic", "BIC"))
def lookup_bank(ctx, iban, bic):
    return bank.lookup(iban or "", bic or "")
