"""Forms of the instruction diagrams: the agent's decision, the supplier's supporting-documents
deposit (chapter 6 of the guide) and the certificates that finalise an anticipated enrolment
(chapter 7)."""
from functools import cached_property

from flask_wtf.file import FileField
from wtforms import SelectMultipleField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from app.package import document_types
from app.services import documents, verdicts, webhooks

from .base import YES_NO, DocumentField, Radio, Select, TaskForm, When, choices, register
from .validators import max_length, required

#: Every decision an agent's review task may offer; the task's ``decisions`` property (in the
#: diagram) lists those it offers, in order.
DECISIONS = {
    "valider": "Valider",
    "valider_partiellement": "Valider partiellement (enrôlement anticipé)",
    "rejeter": "Rejeter",
    "demander_pieces": "Demander des pièces justificatives",
}


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if self.data:
            super().pre_validate(form)


@register("instruction_decision")
class InstructionDecisionForm(TaskForm):
    submit_label = "Enregistrer la décision"
    decision = Radio("Décision", validators=[required("Veuillez choisir une décision.")])
    reason = TextAreaField("Motif du rejet", validators=[
        When("decision", "rejeter", message="Veuillez indiquer le motif du rejet : il est envoyé au fournisseur."),
        max_length(2000)])
    requested_types = CheckboxList("Pièces justificatives à fournir", validators=[
        When("decision", "demander_pieces", message="Choisissez au moins un type de pièce à fournir.")])
    message = TextAreaField("Message au fournisseur", validators=[
        When("decision", "demander_pieces", message="Veuillez écrire le message envoyé au fournisseur."),
        max_length(2000)])

    def __init__(self, task, request, formdata=None):
        super().__init__(task, request, formdata)
        offered = [code.strip() for code in task.properties.get("decisions", "").split(",") if code.strip()]
        offered = [code for code in offered if code in DECISIONS
                   and (code != "valider_partiellement" or request.is_anticipated)]
        self.decision.choices = choices(*((code, DECISIONS[code]) for code in offered))
        # The types suppliers deposit, as the package defines them now (an analyst may add one).
        self.requested_types.choices = choices(*((t.code, t.label) for t in document_types.requestable()))

    def initial(self, data: dict) -> dict:
        """A new decision each time, never prefilled with the previous round's: only « Demander des
        pièces » starts from the review grid, the current documents found non conforming (types
        and a line per document with its reason), which the agent may still change."""
        kinds, message = verdicts.request_message(self.enrolment)
        requestable = {t.code for t in document_types.requestable()}
        return {"requested_types": [k for k in kinds if k in requestable], "message": message}

    def audit(self) -> tuple[str, str]:
        """(action, reason) written to the audit trail when the decision is recorded."""
        action = f"Décision : {DECISIONS.get(self.decision.data, self.decision.data)}"
        if self.decision.data == "demander_pieces":
            labels = ", ".join(document_types.label(c) for c in self.requested_types.data)
            return action, f"Pièces demandées : {labels}. Message : {self.message.data.strip()}"
        return action, (self.reason.data or "").strip()

    def event(self) -> tuple[str, dict] | None:
        if self.decision.data == "demander_pieces":  # « Demander des pièces »
            return webhooks.documents_requested(self.requested_types.data, self.message.data.strip())
        return None  # validations and rejections are announced by the status they set


@register("supporting_documents")
class SupportingDocumentsForm(TaskForm):
    """« Déposer une pièce complémentaire »: pick a type among those requested, a file,
    « Importer » (as many times as needed), then « Terminer mon dépôt », or « Je ne souhaite pas
    ajouter de pièces justificatives »."""

    submit_label = "Terminer mon dépôt"
    completing_actions = ("next", "none")
    local_actions = ("import",)
    document_type = Select("Type de pièce complémentaire")
    document_file = FileField("Fichier à importer")

    def __init__(self, task, request, formdata=None):
        super().__init__(task, request, formdata)
        known = document_types.current()
        #: The requested types, with their limits (the page lists them).
        self.requested = [known[c] for c in task.data.get("requested_types") or [] if c in known]
        self.document_type.choices = choices(*((t.code, t.label) for t in self.requested))

    @cached_property  # for the page only: a posted step does not read the verdicts
    def refusals(self) -> list:
        """The documents of the requested types the agent found non conforming (never who did)."""
        return verdicts.refused_of_kinds(self.enrolment, {t.code for t in self.requested})

    def initial(self, data: dict) -> dict:
        return {}

    def has_files(self) -> bool:
        return True  # « Importer » sends a file

    @property
    def round_marker(self) -> str:
        """What the documents imported for this deposit are marked with (one marker per round)."""
        return f"{documents.ROUND_MARKER}{self.task.id}"

    def imported(self):
        """This round's documents (the request's documents of every round are not loaded)."""
        return documents.uploaded_through(self.enrolment, [self.round_marker])

    def run_local_action(self, action: str, actor: str) -> str | None:
        """« Importer »: store the chosen file as a document of the chosen type. Returns the
        success message, or None with the errors on the fields."""
        kind = self.document_type.data
        if kind not in {c.value for c in self.document_type.choices}:
            self.document_type.errors = ["Sélectionnez le type de pièce complémentaire à déposer."]
        upload = self.document_file.data
        if upload is None or not getattr(upload, "filename", ""):
            self.document_file.errors = ["Sélectionnez le fichier à importer."]
        if self.document_type.errors or self.document_file.errors:
            return None
        try:
            checked = documents.check_upload(upload.filename, upload.read(), document_types.get(kind))
        except documents.UploadRejected as exc:
            self.document_file.errors = [f"{upload.filename} : {exc}"]
            return None
        documents.store(self.enrolment, kind, checked, field=self.round_marker, uploaded_by=actor,
                        state=documents.FILED)
        return f"Le fichier « {checked.original_name} » a bien été importé ({document_types.label(kind)})."

    def simulate_local_actions(self, sample, actor: str) -> None:
        """« Terminer mon dépôt » in a simulation: one sample file of each requested type imported
        first (each import would be a step of its own otherwise, undone before the next)."""
        if self.action == "next" and not self.imported():
            for requested in self.requested:
                documents.store(self.enrolment, requested.code, sample, field=self.round_marker, uploaded_by=actor,
                                state=documents.FILED)

    def validate(self, extra_validators=None):
        if self.action == "next" and not self.imported():
            self.document_file.errors = ["Importez au moins une pièce avant de terminer votre dépôt, "
                                         "ou choisissez « Je ne souhaite pas ajouter de pièces justificatives »."]
            return False
        return True

    def event(self) -> tuple[str, dict] | None:
        return webhooks.documents_deposited(self.imported()) if self.action == "next" else None

    def task_data(self) -> dict:
        return {"deposit": "aucune piece" if self.action == "none" else "pieces deposees",
                "deposited": [d.id for d in self.imported()]}

    def data_fields(self):
        return []


def _is_dpi(form) -> bool:
    return form.enrolment.is_sons_dpi


@register("certificates_deposit")
class CertificatesDepositForm(TaskForm):
    """Finalising an anticipated enrolment: the referencing certificate (type fixed) and, for a
    SONS DPI, the HDS certificate or the attestation, both in the same deposit."""

    submit_label = "Terminer mon dépôt"
    doc_final_referencing_certificate = DocumentField(kind="referencing_certificate")
    final_hosts_health_data = Radio(
        "Assurez-vous l'hébergement de tout ou partie pour au moins un de vos clients ?", choices=YES_NO,
        validators=[When(_is_dpi, message="Veuillez indiquer si vous hébergez des données de santé.")])
    doc_final_hds_certificate = DocumentField(kind="hds_certificate",
                                              validators=[When("final_hosts_health_data", "oui")])
    doc_final_hds_attestation = DocumentField(kind="hds_attestation",
                                              validators=[When("final_hosts_health_data", "non")])

    @property
    def is_dpi(self) -> bool:
        return _is_dpi(self)

    def event(self) -> tuple[str, dict]:
        return webhooks.documents_deposited([f.document for f in self.document_fields()
                                             if self.applies(f) and f.document is not None])
