"""Company directory: the establishment of a SIRET, its company name and its address.

Two adapters, chosen by ``config["COMPANY_DIRECTORY"]``:

- ``csv`` (default): the demo directory ``config["COMPANY_CSV"]`` shipped with the portal;
- ``api``: the public « API Recherche d'entreprises » (``GET /search?q=<siret>``).

``lookup`` never raises for a remote failure: it answers ``{"found": False, "error": "unavailable"}``.
"""
import csv
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar

import httpx
from flask import current_app
from stdnum.fr import siret as stdnum_siret

FIELDS = ("name", "street_number", "street_extension", "street_type", "street_name", "postal_code", "city")
UNKNOWN = {"found": False, "error": "unknown"}
UNAVAILABLE = {"found": False, "error": "unavailable"}

# INSEE codes of « type de voie » (Sirene, as FANTOIR) → the word shown in the form.
STREET_TYPES = {
    "ACH": "Ancien chemin", "AER": "Aérodrome", "AERG": "Aérogare", "AGL": "Agglomération",
    "AIRE": "Aire", "ALL": "Allée", "ANGL": "Angle", "ARC": "Arcade", "ART": "Ancienne route",
    "AUT": "Autoroute", "AV": "Avenue", "BD": "Boulevard", "BER": "Berge", "BRG": "Bourg",
    "BRTL": "Bretelle", "CAMP": "Camp", "CAN": "Canal", "CAR": "Carrefour", "CASR": "Caserne",
    "CC": "Chemin communal", "CD": "Chemin départemental", "CF": "Chemin forestier", "CHE": "Chemin",
    "CHEM": "Cheminement", "CHL": "Chalet", "CHP": "Champ", "CHS": "Chaussée", "CHT": "Château",
    "CHV": "Chemin vicinal", "CITE": "Cité", "CLOS": "Clos", "COIN": "Coin", "COR": "Corniche",
    "COTE": "Côte", "COUR": "Cour", "CPG": "Camping", "CR": "Chemin rural", "CRS": "Cours",
    "CRX": "Croix", "CTRE": "Centre", "DIG": "Digue", "DOM": "Domaine", "DSC": "Descente",
    "ECA": "Écart", "ECL": "Écluse", "ENC": "Enclos", "ESC": "Escalier", "ESP": "Esplanade",
    "ESPA": "Espace", "FG": "Faubourg", "FON": "Fontaine", "FOR": "Forêt", "FORT": "Fort",
    "FRM": "Ferme", "GAL": "Galerie", "GARE": "Gare", "GBD": "Grand boulevard", "GPL": "Grande place",
    "GR": "Grande rue", "HAM": "Hameau", "HLE": "Halle", "HLM": "HLM", "ILE": "Île", "ILOT": "Îlot",
    "IMP": "Impasse", "JARD": "Jardin", "LD": "Lieu-dit", "LOT": "Lotissement", "MAIL": "Mail",
    "MAR": "Marché", "MAS": "Mas", "MTE": "Montée", "PARC": "Parc", "PAS": "Passage", "PASS": "Passe",
    "PCH": "Petit chemin", "PKG": "Parking", "PL": "Place", "PLAN": "Plan", "PLE": "Passerelle",
    "PLN": "Plaine", "PLT": "Plateau", "PONT": "Pont", "PORT": "Port", "PROM": "Promenade",
    "PRT": "Petite route", "PRV": "Parvis", "PTA": "Petite allée", "PTE": "Porte", "PTR": "Petite rue",
    "PTTE": "Placette", "QUA": "Quartier", "QUAI": "Quai", "RES": "Résidence", "RLE": "Ruelle",
    "ROC": "Rocade", "RPE": "Rampe", "RPT": "Rond-point", "RTE": "Route", "RUE": "Rue",
    "SEN": "Sentier", "SQ": "Square", "TPL": "Terre-plein", "TRA": "Traverse", "TSSE": "Terrasse",
    "VAL": "Val", "VC": "Voie communale", "VCHE": "Vieux chemin", "VEN": "Venelle", "VGE": "Village",
    "VLA": "Villa", "VOIE": "Voie", "VTE": "Vieille route", "ZA": "Zone d'activité",
    "ZAC": "Zone d'aménagement concerté", "ZI": "Zone industrielle", "ZONE": "Zone",
}
# INSEE « indice de répétition » codes → the word written after the number.
STREET_EXTENSIONS = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}
_EXTENSION_WORDS = {"BIS": "bis", "TER": "ter", "QUATER": "quater", "QUINQUIES": "quinquies"}


#: Set while a simulation runs (``demo_only``): the demo directory answers, whatever the config says.
_demo_only: ContextVar[bool] = ContextVar("companies_demo_only", default=False)


@contextmanager
def demo_only():
    """Inside the block (this thread only), look-ups read the demo CSV, never the API."""
    token = _demo_only.set(True)
    try:
        yield
    finally:
        _demo_only.reset(token)


def lookup(siret: str) -> dict:
    """The establishment of ``siret``: ``{"found": True, "siret", "name", "street_…", "postal_code",
    "city"}``, or ``{"found": False, "error": "unknown" | "unavailable"}``."""
    number = stdnum_siret.compact(siret or "")
    if not stdnum_siret.is_valid(number):
        return dict(UNKNOWN)
    if current_app.config.get("COMPANY_DIRECTORY", "csv") == "api" and not _demo_only.get():
        return _lookup_api(number)
    return _lookup_csv(number)


def _found(siret: str, **fields) -> dict:
    return {"found": True, "siret": siret, **{key: fields.get(key) or None for key in FIELDS}}


# --- demo CSV ------------------------------------------------------------------------------------

def _lookup_csv(siret: str) -> dict:
    """Semicolon-separated, UTF-8, columns ``siret`` + FIELDS (street_type in words)."""
    with open(current_app.config["COMPANY_CSV"], encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file, delimiter=";"):
            if stdnum_siret.compact(row["siret"]) == siret:
                return _found(siret, **{key: (row.get(key) or "").strip() for key in FIELDS})
    return dict(UNKNOWN)


# --- API Recherche d'entreprises ------------------------------------------------------------------

def _lookup_api(siret: str) -> dict:
    config = current_app.config
    url = config["COMPANY_API_URL"].rstrip("/") + "/search"
    try:
        response = httpx.get(url, params={"q": siret}, timeout=config["COMPANY_API_TIMEOUT"],
                             headers={"Accept": "application/json"})
        if response.status_code != 200:  # 5xx, 429 (rate limit)…: the service cannot answer now
            return dict(UNAVAILABLE)
        results = response.json()["results"]
        if not isinstance(results, list):
            return dict(UNAVAILABLE)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):  # network, timeout, invalid JSON
        return dict(UNAVAILABLE)

    for unit in results:
        if not isinstance(unit, dict):
            continue
        establishment = next((e for e in unit.get("matching_etablissements") or []
                              if isinstance(e, dict) and e.get("siret") == siret), None)
        if establishment is None:
            continue
        siege = unit.get("siege") or {}
        if not establishment.get("libelle_voie") and siege.get("siret") == siret:
            establishment = {**siege, **{k: v for k, v in establishment.items() if v}}
        return _found(siret, name=_text(unit.get("nom_raison_sociale") or unit.get("nom_complet")),
                      **_address(establishment))
    return dict(UNKNOWN)


def _text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _address(establishment: dict) -> dict:
    """Address fields of an establishment of the API. In search results, the API gives the split
    address (numero_voie, type_voie…) for the head office but often only the one-line ``adresse``
    for the other establishments: that line is then split back."""
    postal_code = _text(establishment.get("code_postal"))
    city = _text(establishment.get("libelle_commune"))
    if establishment.get("libelle_voie"):
        extension = _text(establishment.get("indice_repetition")).upper()
        street_type = _text(establishment.get("type_voie")).upper()
        return {"street_number": _text(establishment.get("numero_voie")),
                "street_extension": STREET_EXTENSIONS.get(extension, extension.lower()),
                "street_type": STREET_TYPES.get(street_type, street_type.capitalize()),
                "street_name": _text(establishment.get("libelle_voie")),
                "postal_code": postal_code, "city": city}
    return {**_split_street(_text(establishment.get("adresse")).upper(), postal_code),
            "postal_code": postal_code, "city": city}


_NUMBER = re.compile(r"^\d+(-\d+)?$")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


# Words of a one-line address that name a type of street: the INSEE codes and the one-word labels.
_TYPE_WORDS = {**{_plain(label): label for label in STREET_TYPES.values() if " " not in label},
               **STREET_TYPES}


def _split_street(line: str, postal_code: str) -> dict:
    """« [complément] 12 B AV DES LILAS 75011 PARIS 11 » → number, extension, type and name."""
    city = (postal_code and re.search(rf"\s{re.escape(postal_code)}(\s|$)", line)) or re.search(r"\s\d{5}(\s|$)", line)
    words = line[:city.start() if city else len(line)].split()
    # The street number: the one followed by a type of street, else the first one.
    numbers = [i for i, word in enumerate(words) if _NUMBER.match(word)]
    start = next((i for i in numbers if any(word in _TYPE_WORDS for word in words[i + 1:i + 3])),
                 numbers[0] if numbers else None)
    number, extension = "", ""
    if start is not None:  # what comes before the number is a complement (building, company…)
        number, words = words[start], words[start + 1:]
        following = words[1] if len(words) > 2 else ""
        if words and words[0] in _EXTENSION_WORDS:
            extension, words = _EXTENSION_WORDS[words[0]], words[1:]
        elif words and len(words[0]) == 1 and following in _TYPE_WORDS:
            extension, words = STREET_EXTENSIONS.get(words[0], words[0].lower()), words[1:]
    street_type = ""
    if len(words) > 1 and words[0] in _TYPE_WORDS:
        street_type, words = _TYPE_WORDS[words[0]], words[1:]
    return {"street_number": number, "street_extension": extension,
            "street_type": street_type, "street_name": " ".join(words)}
