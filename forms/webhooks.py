"""The admins' form of a webhook endpoint (« Webhooks »): its address, what it is for, its events."""
from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError

from app.services import webhooks

from .base import choices
from .instruction import CheckboxList
from .validators import max_length, required


class WebhookForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

    url = StringField("Adresse de réception (URL)", [required("Veuillez saisir l'adresse de réception."),
                                                     max_length(2000)],
                      description="Format attendu : https://exemple.fr/webhooks")
    description = StringField("Description", [max_length(300)],
                              description="Facultatif : le système destinataire, son responsable…")
    events = CheckboxList("Événements envoyés", [required("Choisissez au moins un événement à envoyer.")],
                          choices=choices(*webhooks.EVENTS.items()))

    def validate_url(self, field):
        problem = webhooks.url_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
