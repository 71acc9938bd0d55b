"""The studio's editor of the refusal reasons (« Processus » › « Motifs de non-conformité des
pièces »): the whole list in one text, a reason per line, checked by the section's own rules."""
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from app.package import refusal_reasons

from .validators import max_length


class RefusalReasonsForm(FlaskForm):
    reasons = TextAreaField(
        "Motifs proposés aux agents", [max_length(20000)], render_kw={"rows": 10, "spellcheck": "true"},
        description="Un motif par ligne : « code | libellé », par exemple « perime | Document périmé ». Le code "
                    "reste attaché aux avis déjà donnés ; « Autre (préciser) » est toujours proposé après la liste.")

    def value(self) -> dict:
        return refusal_reasons.parse(self.reasons.data or "")[0]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        value, errors = refusal_reasons.parse(self.reasons.data or "")
        errors += [message[0].upper() + message[1:] for _, message in refusal_reasons.problems(value)]
        self.reasons.errors = list(self.reasons.errors) + errors
        return not errors
