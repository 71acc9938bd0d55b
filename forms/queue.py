"""The agents' queue filters (read from the URL: a GET form, no CSRF token). ``number``,
``ans_number``, ``status`` and ``type`` are ``listing.Criteria``'s (applied by it). The statuses
offered are the package's (app/package/statuses.py), with their labels for agents; « À instruire »
are those where the agency must act."""
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Optional

from app.models import TYPES
from app.package import statuses

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
    number = StringField("Numéro de demande", filters=[_squeeze])
    siret = StringField("SIRET", filters=[_squeeze])
    ans_number = StringField("N° ANS", filters=[_squeeze])
    dsr = StringField("DSR (contient)", filters=[lambda value: " ".join((value or "").split())])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = statuses.current()
        waiting = [status.agent_label for status in current.to_instruct]
        self.status.choices = choices((TO_INSTRUCT, "À instruire (" + ", ".join(waiting) + ")"), (ALL, "Tous les statuts"),
                                      *[(status.code, status.agent_label) for status in current.submitted])
