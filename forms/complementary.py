"""« Faire une demande complémentaire »: the ANS number search, then one form with what the
referencing, the supplier and the rules ask for (guide chapter 5)."""
from .base import YES_NO, DocumentField, Radio, Select, TaskForm, When, choices, register
from .referencing import ReferencingSearchForm
from .validators import required
from .vat import VAT_RATES

NOT_LIABLE = "non_assujetti"

COMPANY_ERRORS = {
    "unavailable": "Le répertoire des entreprises est momentanément indisponible : votre demande est conservée, "
                   "veuillez relancer la recherche dans quelques instants.",
    "unknown": "Le numéro SIRET de votre compte n'est plus connu du répertoire des entreprises : "
               "contactez l'assistance.",
}


@register("complementary_search")
class ComplementarySearchForm(ReferencingSearchForm):
    """The recap (SIRET, dénomination sociale) and the ANS number. Each search runs the checks of
    the diagram in order; the page tells the first one that stopped the latest search."""

    @property
    def company_name(self) -> str | None:
        data = self.task.data
        return data.get("company_name") or (data.get("company") or {}).get("name")

    @property
    def refusal(self) -> str | None:
        data = self.task.data
        first = data.get("first_enrolment") or {}
        if first.get("allowed") is False:
            return first.get("reason")
        if self.unknown_number:
            return None  # the « numéro inconnu » alert
        check = data.get("ans_check") or {}
        if check.get("allowed") is False:
            return check.get("reason")
        company = data.get("company") or {}
        if company.get("found") is False:
            return COMPANY_ERRORS.get(company.get("error"), COMPANY_ERRORS["unavailable"])
        return None


def _referencing(form) -> dict:
    return form.task.data.get("referencing") or {}


def _validated(form) -> bool:
    return _referencing(form).get("validated") is True


def _hds(form) -> bool:
    return _validated(form) and _referencing(form).get("sons_dpi") is True


@register("complementary")
class ComplementaryForm(TaskForm):
    submit_label = "Terminer"
    back_label = "Retour"

    doc_referencing_certificate = DocumentField(kind="referencing_certificate", validators=[When(_validated)])
    hosts_health_data = Radio(
        "Assurez-vous l'hébergement de tout ou partie pour au moins un de vos clients ?", choices=YES_NO,
        validators=[When(_hds, message="Veuillez indiquer si vous hébergez des données de santé.")])
    doc_hds_certificate = DocumentField(kind="hds_certificate", validators=[When("hosts_health_data", "oui")])
    doc_hds_attestation = DocumentField(kind="hds_attestation", validators=[When("hosts_health_data", "non")])
    vat_rate = Select("Taux TVA", choices=[*VAT_RATES, *choices((NOT_LIABLE, "Non assujetti à la TVA"))],
                      validators=[required("Veuillez choisir le taux de TVA.")])
    doc_non_vat_proof = DocumentField(kind="non_vat_proof", validators=[When("vat_rate", NOT_LIABLE)])
    doc_signature_mandate = DocumentField(kind="signature_mandate", validators=[
        When(lambda form: (form.task.data.get("signature_mandate") or {}).get("required"))])
    doc_editor_mandate = DocumentField(kind="editor_mandate", validators=[When(lambda form: form.distributor)])

    @property
    def validated(self) -> bool:
        return _validated(self)

    @property
    def hds(self) -> bool:
        return _hds(self)

    @property
    def distributor(self) -> bool:
        return bool((self.task.data.get("company") or {}).get("distributor"))

    def initial(self, data: dict) -> dict:
        values = dict(data)
        if data.get("vat_liable") == "non":
            values["vat_rate"] = NOT_LIABLE
        return values

    def task_data(self) -> dict:
        """Stored like the initial enrolment's « Régime TVA » (liable or not, and the rate)."""
        data = super().task_data()
        liable = data.get("vat_rate") != NOT_LIABLE
        data.update(vat_liable="oui" if liable else "non", vat_rate=data["vat_rate"] if liable else None)
        return data
