"""The admins' « Créer un jeton d'API » form (not a user-task form: no form key, no task)."""
from flask_wtf import FlaskForm
from wtforms import StringField

from app.models.api_token import READ, SCOPES

from .base import Radio, choices
from .validators import max_length, required


class ApiTokenForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")  # WTForms' own messages in French (an unknown scope)

    integrator = StringField("Intégrateur", [required("Veuillez saisir le nom de l'intégrateur."), max_length(120)],
                             description="L'éditeur ou le service qui utilisera ce jeton (par exemple « Éditeur X »).")
    description = StringField("Usage (facultatif)", [max_length(300)],
                              description="À quoi sert ce jeton : le programme, l'environnement, le contact.")
    scope = Radio("Portée", choices=choices(*SCOPES.items()), default=READ,
                  validators=[required("Veuillez choisir la portée du jeton.")])
