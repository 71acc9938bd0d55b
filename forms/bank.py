"""Step 3 « Coordonnées bancaires »."""
from wtforms import StringField, ValidationError

from app.services import bank

from .base import DocumentField, TaskForm, register
from .validators import max_length, required


@register("bank_details")
class BankDetailsForm(TaskForm):
    iban = StringField("IBAN", [required("Veuillez saisir l'IBAN.")])
    bic = StringField("BIC", [required("Veuillez saisir le BIC.")])
    account_holder = StringField("Titulaire", [required(), max_length(200)])
    bank_domiciliation = StringField("Domiciliation", [max_length(200)])
    doc_rib = DocumentField(kind="rib")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.iban.errors or self.bic.errors:
            return False
        result = bank.check(self.iban.data, self.bic.data)
        for field, error in ((self.iban, result.iban_error), (self.bic, result.bic_error or result.consistency_error)):
            if error:
                field.errors.append(error)
                valid = False
        if valid:
            self.iban.data, self.bic.data = result.iban, result.bic
            if result.known:  # the registry is the reference when it knows the bank
                self.bank_domiciliation.data = result.domiciliation
            elif not (self.bank_domiciliation.data or "").strip():
                self.bank_domiciliation.errors.append(
                    "Banque inconnue du référentiel : veuillez saisir la domiciliation.")
                valid = False
        return valid
