"""Step 1 « Référencement »: the ANS number, then what the referencing asks for."""
from wtforms import StringField

from .base import YES_NO, DocumentField, Radio, TaskForm, When, register
from .validators import max_length, required


@register("referencing_search")
class ReferencingSearchForm(TaskForm):
    submit_label = "Rechercher"
    ans_number = StringField("N° unique de référencement (ANS)",
                             [required("Veuillez saisir le numéro unique de référencement (ANS)."),
                              max_length(40)])

    @property
    def unknown_number(self) -> str | None:
        """The number just searched, when the directory did not know it."""
        result = self.task.data.get("referencing") or {}
        return result.get("ans_number") if result.get("found") is False else None

    @property
    def refusal(self) -> str | None:
        """Why the number searched cannot be filed (enrolment rules checked by the diagram after
        the search), when that is what brought the supplier back here."""
        if self.unknown_number:
            return None  # the « numéro inconnu » alert
        check = self.task.data.get("ans_check") or {}
        return check.get("reason") if check.get("allowed") is False else None


@register("referencing_anticipated")
class ReferencingAnticipatedForm(TaskForm):
    """Referencing not validated yet: no document now, the enrolment will be anticipated."""


@register("referencing_certificate")
class ReferencingCertificateForm(TaskForm):
    doc_referencing_certificate = DocumentField(kind="referencing_certificate")


@register("referencing_dpi")
class ReferencingDpiForm(ReferencingCertificateForm):
    hosts_health_data = Radio(
        "Assurez-vous l'hébergement de tout ou partie pour au moins un de vos clients ?",
        choices=YES_NO, validators=[required("Veuillez indiquer si vous hébergez des données de santé.")])
    doc_hds_certificate = DocumentField(kind="hds_certificate", validators=[When("hosts_health_data", "oui")])
    doc_hds_attestation = DocumentField(kind="hds_attestation", validators=[When("hosts_health_data", "non")])
