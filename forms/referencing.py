"""Step 1 « Référencement »: the ANS number, then what the referencing asks for."""
from wtforms import StringField

from app.services import eligibility

from .base import YES_NO, DocumentField, Radio, TaskForm, When, register
from .validators import ans_number, required


@register("referencing_search")
class ReferencingSearchForm(TaskForm):
    submit_label = "Rechercher"
    ans_number = StringField("N° unique de référencement (ANS)",
                             [required("Veuillez saisir le numéro unique de référencement (ANS)."),
                              ans_number])

    @property
    def unknown_number(self) -> str | None:
        """The number just searched, when the directory did not know it."""
        result = self.task.data.get("referencing") or {}
        return result.get("ans_number") if result.get("found") is False else None

    @property
    def refusal(self) -> str | None:
        """Why the number searched cannot be filed, when a rule checked after the search brought the
        supplier back here (the initial enrolment checks its rules at the SIRET search)."""
        return None


class ReferencingStepForm(TaskForm):
    """A step-1 page after the search: it warns when the number already has an enrolment, before
    any document is given (the SIRET is not known yet: the rule is checked at the SIRET search)."""

    @property
    def already_enrolled(self) -> bool:
        return eligibility.ans_number_enrolled((self.task.data.get("referencing") or {}).get("ans_number"))


@register("referencing_anticipated")
class ReferencingAnticipatedForm(ReferencingStepForm):
    """Referencing not validated yet: no document now, the enrolment will be anticipated."""


@register("referencing_certificate")
class ReferencingCertificateForm(ReferencingStepForm):
    doc_referencing_certificate = DocumentField(kind="referencing_certificate")


@register("referencing_dpi")
class ReferencingDpiForm(ReferencingCertificateForm):
    hosts_health_data = Radio(
        "Assurez-vous l'hébergement de tout ou partie pour au moins un de vos clients ?",
        choices=YES_NO, validators=[required("Veuillez indiquer si vous hébergez des données de santé.")])
    doc_hds_certificate = DocumentField(kind="hds_certificate", validators=[When("hosts_health_data", "oui")])
    doc_hds_attestation = DocumentField(kind="hds_attestation", validators=[When("hosts_health_data", "non")])
