"""The review grid's form, one per document: « Conforme » / « Non conforme », and for a refusal a
reason picked from the list or, with « Autre », typed (not a user-task form: no form key, no task)."""
from flask_wtf import FlaskForm
from wtforms import StringField

from app.models.document import CONFORME, NON_CONFORME
from app.services.verdicts import OTHER, reasons

from .base import Radio, Select, When, choices
from .validators import max_length, required


class DocumentVerdictForm(FlaskForm):
    class Meta:
        csrf = False  # the app's CSRFProtect checks the page's ``csrf_token()`` (as for TaskForm)

    verdict = Radio("Avis sur la pièce", choices=choices((CONFORME, "Conforme"), (NON_CONFORME, "Non conforme")),
                    validators=[required("Veuillez choisir « Conforme » ou « Non conforme ».")])
    reason_code = Select("Motif", choices=[], validators=[
        When("verdict", NON_CONFORME, message="Veuillez choisir le motif de non-conformité.")])
    reason = StringField("Précisez le motif", validators=[
        When("reason_code", OTHER, message="Veuillez préciser le motif de non-conformité."), max_length(300)])

    def __init__(self, document_id: int, formdata=None):
        super().__init__(formdata=formdata, prefix=f"piece-{document_id}")
        self.document_id = document_id
        self.reason_code.choices = choices(*reasons().items())  # the process package's list

