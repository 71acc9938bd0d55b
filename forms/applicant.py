"""Step 2 « Demandeur »: SIRET search, then the company, its representative and the dépositaire."""
from wtforms import EmailField, StringField, TelField

from .base import YES_NO, DocumentField, Radio, TaskForm, When, choices, register
from .captcha import CaptchaField
from .validators import SameAs, email, max_length, phone, postal_code, required, siret

QUALITIES = choices(("prestataire", "Centre de gestion, expert-comptable..."),
                    ("employe", "Employé de la personne morale"))


@register("siret_search")
class SiretSearchForm(TaskForm):
    submit_label = "Rechercher"
    transient = ("captcha",)
    siret = StringField("Numéro de SIRET", [required("Veuillez saisir le numéro SIRET."), siret])
    captcha = CaptchaField()

    @property
    def lookup_error(self) -> str | None:
        """'unknown' or 'unavailable' when the last search did not find the company."""
        result = self.task.data.get("company") or {}
        return result.get("error") if result.get("found") is False else None

    def _refused(self, check: str) -> str | None:
        verdict = self.task.data.get(check) or {}
        return verdict.get("reason") if not self.lookup_error and verdict.get("allowed") is False else None

    @property
    def refusal(self) -> str | None:
        """Why the number of step 1 cannot be filed for the SIRET searched (one ANS number = one
        enrolment), when the diagram's rule brought the supplier back here."""
        return self._refused("ans_check")

    @property
    def account_refusal(self) -> str | None:
        """Why this SIRET files no initial enrolment: it has a portal account (checked after the
        number's rule)."""
        return None if self.refusal else self._refused("account_check")


def _tiers(*more):
    return [When("is_legal_representative", "non"), *more]


def _name_changed(form) -> bool:
    found = (form.task.data.get("company") or {}).get("name") or ""
    return " ".join((form.company_name.data or "").split()).upper() != " ".join(found.split()).upper()


@register("applicant")
class ApplicantForm(TaskForm):
    transient = ("rep_email_confirmation", "dep_email_confirmation")

    # Personne morale (prefilled from the SIRET look-up)
    company_name = StringField("Dénomination sociale", [required(), max_length(200)])
    trade_name = StringField("Nom commercial", [required(), max_length(200)])
    recipient = StringField("Identité du destinataire / service", [max_length(100)])
    building = StringField("Entrée / Bât / Immeuble", [max_length(100)])
    street_number = StringField("N°", [max_length(10)])
    street_extension = StringField("Extension", [max_length(10)])
    street_type = StringField("Type de voie", [required(), max_length(50)])
    street_name = StringField("Nom de voie", [required(), max_length(200)])
    address_complement = StringField("Complément d'adresse", [max_length(200)])
    postal_code = StringField("Code postal", [required(), postal_code])
    city = StringField("Commune", [required(), max_length(100)])
    doc_kbis = DocumentField(kind="kbis", validators=[When(_name_changed)])
    doc_editor_mandate = DocumentField(
        kind="editor_mandate",
        validators=[When(lambda form: (form.task.data.get("company") or {}).get("distributor"))])

    # Représentant légal (always)
    is_legal_representative = Radio("Je suis le représentant légal", choices=YES_NO,
                                    validators=[required("Veuillez indiquer si vous êtes le représentant légal.")])
    rep_last_name = StringField("Nom du représentant", [required(), max_length(100)])
    rep_first_name = StringField("Prénom du représentant", [required(), max_length(100)])
    rep_email = EmailField("Email du représentant", [required(), email])
    rep_email_confirmation = EmailField("Confirmation email du représentant", [
        required(), SameAs("rep_email", "La confirmation ne correspond pas à l'email du représentant.")])
    rep_phone = TelField("Téléphone du représentant", [required(), phone])
    doc_representative_id = DocumentField(kind="representative_id")

    # Dépositaire (tiers déclarant)
    dep_last_name = StringField("Nom du dépositaire", _tiers(max_length(100)))
    dep_first_name = StringField("Prénom du dépositaire", _tiers(max_length(100)))
    dep_email = EmailField("Email du dépositaire", _tiers(email))
    dep_email_confirmation = EmailField("Confirmation email du dépositaire", _tiers(
        SameAs("dep_email", "La confirmation ne correspond pas à l'email du dépositaire.")))
    dep_phone = TelField("Téléphone du dépositaire", _tiers(phone))
    doc_depositary_id = DocumentField("CNI, passeport ou titre de séjour du demandeur",  # the guide's label
                                      kind="depositary_id", validators=_tiers())
    depositary_quality = Radio("Merci de préciser votre qualité en tant que tiers déclarant",
                               choices=QUALITIES, validators=_tiers())
    doc_service_contract = DocumentField(kind="service_contract", validators=[
        When(lambda form: form.is_legal_representative.data == "non"
             and form.depositary_quality.data == "prestataire")])
    doc_signature_mandate = DocumentField(kind="signature_mandate", validators=[
        When(lambda form: form.is_legal_representative.data == "non"
             and form.depositary_quality.data == "employe")])

    ADDRESS = ("street_number", "street_extension", "street_type", "street_name", "postal_code", "city")

    def initial(self, data: dict) -> dict:
        values = dict(data)
        company = data.get("company") or {}
        values.setdefault("company_name", company.get("name"))
        for key in self.ADDRESS:
            values.setdefault(key, company.get(key))
        # The addresses were confirmed when the step was completed: show them confirmed again.
        for person in ("rep", "dep"):
            values.setdefault(f"{person}_email_confirmation", data.get(f"{person}_email"))
        return values

    @property
    def distributor(self) -> bool:
        return bool((self.task.data.get("company") or {}).get("distributor"))
