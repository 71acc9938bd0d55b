"""Step 4 « Taux TVA »."""
from .base import YES_NO, DocumentField, Radio, Select, TaskForm, When, choices, register
from .validators import required

VAT_RATES = choices(("20", "20 %"), ("10", "10 %"), ("8.5", "8,5 %"), ("5.5", "5,5 %"), ("2.1", "2,1 %"))


@register("vat_regime")
class VatRegimeForm(TaskForm):
    vat_liable = Radio("Êtes-vous assujetti à un taux de TVA ?", choices=YES_NO,
                       validators=[required("Veuillez indiquer si vous êtes assujetti à la TVA.")])
    vat_rate = Select("Taux TVA", choices=VAT_RATES, validators=[When("vat_liable", "oui")])
    doc_non_vat_proof = DocumentField(kind="non_vat_proof", validators=[When("vat_liable", "non")])
