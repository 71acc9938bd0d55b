"""The agents' queue filters (read from the URL: a GET form, no CSRF token). ``number``,
``ans_number``, ``status`` and ``type`` are ``listing.Criteria``'s (applied by it). The statuses
offered are the package's (app/package/statuses.py), with their labels for agents; « À instruire »
are those where the agency must act."""
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Optional

from app.models import TYPES
from app.package import statuses
from app.services import referencing
from app.services.listing import HINTS

from .base import choices

TO_INSTRUCT, ALL = "a-instruire", "toutes"


def _squeeze(value):
    return "".join((value or "").split())


class QueueFilters(Form):
    status = SelectField("Statut", default=TO_INSTRUCT)
    type = SelectField("Type d'enrôlement", default=ALL,
                       choices=choices((ALL, "Tous les types"), *[(type_, type_) for type_ in TYPES]))
    deposited_from = DateField("Date de dépôt du", validators=[Optional()])
    deposited_to = DateField("Date de dépôt au", validators=[Optional()])
    number = StringField("Numéro de demande", filters=[_squeeze], description=HINTS["number"])
    siret = StringField("SIRET", filters=[_squeeze], description="Les 14 chiffres")
    ans_number = StringField("N° ANS", filters=[_squeeze], description=HINTS["ans_number"])
    # One of the directory's DSR (an exact value, which an index serves with the lists' order); a
    # value no longer in the directory (a kept link) is still applied, and finds what has it.
    dsr = SelectField("DSR", default=ALL, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = statuses.current()
        waiting = [status.agent_label for status in current.to_instruct]
        self.status.choices = choices((TO_INSTRUCT, "À instruire (" + ", ".join(waiting) + ")"), (ALL, "Tous les statuts"),
                                      *[(status.code, status.agent_label) for status in current.submitted])
        dsrs = referencing.dsr_values()
        if self.dsr.data and self.dsr.data not in (ALL, *dsrs):
            dsrs.append(self.dsr.data)  # no longer in the directory (a kept link): shown as chosen
        self.dsr.choices = choices((ALL, "Tous les DSR"), *[(value, value) for value in dsrs])
