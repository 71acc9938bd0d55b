"""The agents' queue filters (read from the URL: a GET form, no CSRF token). ``number``,
``ans_number``, ``status`` and ``type`` are ``listing.Criteria``'s (applied by it)."""
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Optional

from app.models import TYPES
from app.models.request import WAITING_ON_AGENCY
from app.services import listing

from .base import choices

TO_INSTRUCT, ALL = "a-instruire", "toutes"


def _squeeze(value):
    return "".join((value or "").split())


class QueueFilters(Form):
    status = SelectField("Statut", default=TO_INSTRUCT, choices=choices(
        (TO_INSTRUCT, "À instruire (" + ", ".join(WAITING_ON_AGENCY) + ")"), (ALL, "Tous les statuts"),
        *[(status, status) for status in listing.SUBMITTED_STATUSES]))
    type = SelectField("Type d'enrôlement", default=ALL,
                       choices=choices((ALL, "Tous les types"), *[(type_, type_) for type_ in TYPES]))
    deposited_from = DateField("Date de dépôt du", validators=[Optional()])
    deposited_to = DateField("Date de dépôt au", validators=[Optional()])
    number = StringField("Numéro de demande", filters=[_squeeze])
    siret = StringField("SIRET", filters=[_squeeze])
    ans_number = StringField("N° ANS", filters=[_squeeze])
    dsr = StringField("DSR (contient)", filters=[lambda value: " ".join((value or "").split())])
