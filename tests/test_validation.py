"""Field validators: normalised value, or ``Invalid`` with the French message shown to the user."""
import pytest

from app.services import validation
from app.services.validation import Invalid

SIRET_LENGTH = "Le numéro SIRET doit comporter 14 chiffres."
SIRET_KEY = "Le numéro SIRET saisi n'est pas valide (clé de contrôle incorrecte)."
PHONE = "Le numéro de téléphone saisi n'est pas un numéro français valide."
EMAIL = "L'adresse électronique saisie n'est pas valide."


@pytest.mark.parametrize("value, expected", [
    ("34866299000038", "34866299000038"),
    ("348 662 990 00038", "34866299000038"),
    (" 348.662.990.00038 ", "34866299000038"),
    ("35600000000048", "35600000000048"),  # La Poste's head office: Luhn key
    ("35600000049008", "35600000049008"),  # a La Poste establishment: sum of digits, not Luhn
])
def test_siret_accepted(value, expected):
    assert validation.siret(value) == expected


@pytest.mark.parametrize("value, message", [
    ("34866299000039", SIRET_KEY),
    ("35600000049009", SIRET_KEY),  # La Poste: sum of digits not a multiple of 5
    ("3486629900003", SIRET_LENGTH),
    ("348662990000380", SIRET_LENGTH),
    ("3486629900003A", SIRET_LENGTH),
    ("", SIRET_LENGTH),
    (None, SIRET_LENGTH),
])
def test_siret_refused(value, message):
    with pytest.raises(Invalid) as error:
        validation.siret(value)
    assert str(error.value) == message


@pytest.mark.parametrize("value, expected", [
    ("01 23 45 67 89", "+33123456789"),
    ("0123456789", "+33123456789"),
    ("01.23.45.67.89", "+33123456789"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("07-81-23-45-67", "+33781234567"),
    ("09 70 12 34 56", "+33970123456"),
    ("0590 20 12 34", "+590590201234"),   # Guadeloupe, fixed
    ("0690 00 12 34", "+590690001234"),   # Guadeloupe, mobile
    ("0596 30 12 34", "+596596301234"),   # Martinique
    ("0594 10 12 34", "+594594101234"),   # Guyane
    ("0262 16 12 34", "+262262161234"),   # La Réunion
    ("0692 12 34 56", "+262692123456"),
    ("0269 60 12 34", "+262269601234"),   # Mayotte
    ("+590 590 20 12 34", "+590590201234"),
    ("+687 26 12 34", "+687261234"),      # Nouvelle-Calédonie
])
def test_french_phone_accepted(value, expected):
    assert validation.french_phone(value) == expected


@pytest.mark.parametrize("value", [
    "01 23 45 67",          # too short
    "06 12 34 56 78 90",    # too long
    "00 12 34 56 78",       # no such prefix
    "0596 12 34 56",        # not a number of Martinique
    "+44 20 7946 0958",     # British
    "+1 202 555 0143",
    "06 12 34 56 78 poste 12",
    "téléphone",
    "",
    None,
])
def test_french_phone_refused(value):
    with pytest.raises(Invalid) as error:
        validation.french_phone(value)
    assert str(error.value) == PHONE


@pytest.mark.parametrize("value, expected", [
    ("jean.dupont@exemple.fr", "jean.dupont@exemple.fr"),
    ("  Jean.Dupont@EXEMPLE.FR ", "Jean.Dupont@exemple.fr"),
    ("contact+segur@éditeur-santé.fr", "contact+segur@éditeur-santé.fr"),
])
def test_email_accepted(value, expected):
    assert validation.email(value) == expected


@pytest.mark.parametrize("value, reason", [
    ("jean.dupont.exemple.fr", "Il manque le caractère « @ »."),
    ("@exemple.fr", "Il manque la partie située avant « @ »."),
    ("jean.dupont@", "Il manque le nom de domaine après « @ »."),
    ("jean.dupont@exemple", "Le nom de domaine après « @ » doit comporter un point (par exemple « exemple.fr »)."),
    ("jean..dupont@exemple.fr", "Elle ne peut pas contenir deux points consécutifs."),
    ("jean dupont@exemple.fr", "Elle contient des caractères non autorisés."),
    ("jean.@exemple.fr", "Elle ne peut pas comporter de point juste avant « @ »."),
    ("-jean@-exemple.fr", None),  # a hyphen, not a period: no misleading reason
    ("jean@exemple.invalid", None),  # reserved domain: no translated reason
    ("", None),
    (None, None),
])
def test_email_refused(value, reason):
    with pytest.raises(Invalid) as error:
        validation.email(value)
    assert str(error.value) == (f"{EMAIL} {reason}" if reason else EMAIL)


def test_iban_and_bic():
    assert validation.iban("fr76 3000 4000 0100 0123 4567 830") == "FR7630004000010001234567830"
    assert validation.iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    with pytest.raises(Invalid, match=r"^L'IBAN saisi n'est pas valide \(clé de contrôle incorrecte\)\.$"):
        validation.iban("FR7630004000010001234567831")
    with pytest.raises(Invalid, match="IBAN"):
        validation.iban("")
    assert validation.bic(" bnpa fr pp ") == "BNPAFRPP"
    assert validation.bic("COBADEFFXXX") == "COBADEFFXXX"
    for bad in ("BNPA", "BNP@FRPP", "BNPAZZPP", ""):
        with pytest.raises(Invalid):
            validation.bic(bad)
