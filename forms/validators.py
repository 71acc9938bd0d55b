"""WTForms validators over the validation services (one rule, one place, French messages)."""
from wtforms import ValidationError
from wtforms.validators import DataRequired, Length, Regexp

from app.services import validation

from .base import REQUIRED


class Normalised:
    """Runs a validation service function on the field; keeps its normalised value."""

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            field.data = self.check(field.data)
        except validation.Invalid as exc:
            raise ValidationError(str(exc)) from None


class SameAs:
    """The confirmation field must repeat another one (e.g. « Confirmation email »)."""

    def __init__(self, other: str, message: str):
        self.other, self.message = other, message

    def __call__(self, form, field):
        other = form[self.other].data or ""
        if (field.data or "").strip().lower() != other.strip().lower():
            raise ValidationError(self.message)


def required(message: str = REQUIRED):
    return DataRequired(message)


def max_length(n: int):
    return Length(max=n, message=f"Ce champ ne doit pas dépasser {n} caractères.")


siret = Normalised(validation.siret)
ans_number = Normalised(validation.ans_number)
email = Normalised(validation.email)
phone = Normalised(validation.french_phone)
postal_code = Regexp(r"^\s*\d{5}\s*$", message="Le code postal doit comporter 5 chiffres.")
