"""Field validators: each returns the normalised value or raises ``Invalid`` with a French message."""
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import siret as stdnum_siret

from . import bank


class Invalid(ValueError):
    """The value is refused; ``str(exc)`` is the message to show next to the field."""


def siret(value: str) -> str:
    """14 digits (spaces and dots ignored), Luhn key, or La Poste's rule for its establishments."""
    try:
        return stdnum_siret.validate(value or "")
    except InvalidChecksum:
        raise Invalid("Le numéro SIRET saisi n'est pas valide (clé de contrôle incorrecte).") from None
    except ValidationError:
        raise Invalid("Le numéro SIRET doit comporter 14 chiffres.") from None


# The ANS « numéro unique de référencement »: 3 letters, 1 digit, 3 letters, 3 digits (« JGe2DPI009 »).
_ANS_NUMBER = re.compile(r"^[A-Za-z]{3}\d[A-Za-z]{3}\d{3}$")


def ans_number(value: str) -> str:
    """An ANS referencing number well formed (spaces ignored); whether the ASP knows it is the
    directory's business."""
    number = "".join((value or "").split())
    if not _ANS_NUMBER.match(number):
        raise Invalid("Le numéro unique de référencement (ANS) doit comporter 10 caractères : 3 lettres, "
                      "1 chiffre, 3 lettres puis 3 chiffres (par exemple « JGe2DPI009 »).")
    return number


# Overseas departments numbered from the French plan: « 0590 12 34 56 » is dialled +590 590 12 34 56,
# so a national number with one of these prefixes is read in its territory (and only there).
_OVERSEAS_PREFIXES = {
    **dict.fromkeys(("0590", "0690", "0691"), ("GP", "BL", "MF")),
    **dict.fromkeys(("0594", "0694"), ("GF",)),
    **dict.fromkeys(("0596", "0696", "0697"), ("MQ",)),
    **dict.fromkeys(("0262", "0263", "0692", "0693"), ("RE",)),
    **dict.fromkeys(("0269", "0639"), ("YT",)),
}
_FRENCH_REGIONS = {"FR", "GP", "BL", "MF", "GF", "MQ", "RE", "YT", "PM", "NC", "PF", "WF"}
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s.()/-]+$")
PHONE_INVALID = "Le numéro de téléphone saisi n'est pas un numéro français valide."


def _parse_phone(value: str, region: str):
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in _FRENCH_REGIONS:
        return number
    return None


def french_phone(value: str) -> str:
    """A valid French number (metropolitan or overseas, fixed or mobile), returned in E.164."""
    value = (value or "").strip()
    if not _PHONE_CHARACTERS.match(value):
        raise Invalid(PHONE_INVALID)
    digits = re.sub(r"\D", "", value)
    regions = ("FR",) if value.startswith("+") else _OVERSEAS_PREFIXES.get(digits[:4], ("FR",))
    for region in regions:
        number = _parse_phone(value, region)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise Invalid(PHONE_INVALID)


EMAIL_INVALID = "L'adresse électronique saisie n'est pas valide."
# email-validator's reasons (English) that are worth telling, by the start of their text.
_EMAIL_REASONS = (
    ("An email address must have an @-sign", "Il manque le caractère « @ »."),
    ("The email address has the \"full-width\"", "Le caractère « @ » doit être saisi au clavier standard."),
    ("There must be something before the @-sign", "Il manque la partie située avant « @ »."),
    ("There must be something after the @-sign", "Il manque le nom de domaine après « @ »."),
    ("The part after the @-sign is not valid. It should have a period",
     "Le nom de domaine après « @ » doit comporter un point (par exemple « exemple.fr »)."),
    ("An email address cannot have two periods in a row", "Elle ne peut pas contenir deux points consécutifs."),
    ("An email address cannot end with a period.", "Elle ne peut pas se terminer par un point."),
    ("An email address cannot start with a period.", "Elle ne peut pas commencer par un point."),
    ("An email address cannot have a period immediately before the @-sign.",
     "Elle ne peut pas comporter de point juste avant « @ »."),
    ("The email address contains invalid characters", "Elle contient des caractères non autorisés."),
    ("The part after the @-sign contains invalid characters",
     "Le nom de domaine contient des caractères non autorisés."),
    ("The email address is too long", "Elle est trop longue."),
)


def email(value: str) -> str:
    """A syntactically valid address (no DNS look-up), normalised (domain in lower case…)."""
    value = (value or "").strip()
    if not value:
        raise Invalid(EMAIL_INVALID)
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        reason = next((fr for en, fr in _EMAIL_REASONS if str(exc).startswith(en)), None)
        raise Invalid(f"{EMAIL_INVALID} {reason}" if reason else EMAIL_INVALID) from None


def iban(value: str) -> str:
    """A valid IBAN, compact and in upper case."""
    result = bank.check(value, "")
    if result.iban_error:
        raise Invalid(result.iban_error)
    return result.iban


def bic(value: str) -> str:
    """A valid BIC, compact and in upper case."""
    result = bank.check("", value)
    if result.bic_error:
        raise Invalid(result.bic_error)
    return result.bic
