"""The small forms of the login pages (not user-task forms: no form key, no task)."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import EqualTo

from app.services import accounts

from .validators import email, max_length, required


class LoginForm(FlaskForm):
    login = StringField("Votre identifiant", [required("Veuillez saisir votre identifiant."), max_length(254)])
    password = PasswordField("Votre mot de passe", [required("Veuillez saisir votre mot de passe.")])


class ForgottenLoginForm(FlaskForm):
    email = EmailField("Votre adresse électronique",
                       [required("Veuillez saisir votre adresse électronique."), max_length(254), email],
                       description="L'adresse électronique de votre compte. Format attendu : nom@domaine.fr")


class ForgottenPasswordForm(FlaskForm):
    login = StringField("Votre identifiant", [required("Veuillez saisir votre identifiant."), max_length(254)],
                        description="Vous pouvez aussi saisir l'adresse électronique de votre compte.")


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "Nouveau mot de passe", [required("Veuillez saisir un mot de passe.")],
        description=f"Au moins {accounts.MIN_PASSWORD_LENGTH} caractères, différent de votre identifiant "
                    "et de votre adresse électronique. Une phrase de plusieurs mots est un bon choix.")
    confirmation = PasswordField("Confirmation du nouveau mot de passe", [
        required("Veuillez confirmer le mot de passe."),
        EqualTo("password", "Les deux mots de passe saisis ne sont pas identiques.")])

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field):
        problems = accounts.password_problems(field.data, self.user)
        if problems:
            raise ValidationError(" ".join(problems))
