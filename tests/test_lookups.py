"""Look-up services: ANS referencing directory, company directory (CSV and HTTP), bank registry."""
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

from app.extensions import db
from app.models import Referencing
from app.services import bank, companies, referencing

DATA = Path(__file__).resolve().parent.parent / "app" / "data"
HEADER = "ans_number;software_name;software_version;dsr;profile;validated;sons_dpi;editor_siren\n"
HOP_DPI = "JGe2DPI009;LOGICIEL HOP-DPI;Version DPI 22;Hôpital;Général, Stockage;oui;oui;348662990\n"


def import_text(text: str, bom: bool = False) -> referencing.ImportReport:
    return referencing.import_csv(io.BytesIO(("\ufeff" if bom else "").encode() + text.encode("utf-8")))


def stored() -> dict:
    return {r.ans_number: r for r in db.session.scalars(db.select(Referencing))}


# --- ANS referencing directory --------------------------------------------------------------------

def test_referencing_lookup_found_unknown_and_case_insensitive(app):
    with app.app_context():
        assert import_text(HEADER + HOP_DPI).ok
        expected = {"found": True, "ans_number": "JGe2DPI009", "software_name": "LOGICIEL HOP-DPI",
                    "software_version": "Version DPI 22", "dsr": "Hôpital", "profile": "Général, Stockage",
                    "validated": True, "sons_dpi": True, "editor_siren": "348662990"}
        assert referencing.lookup("JGe2DPI009") == expected
        # Any case, spaces ignored; the stored spelling is returned.
        assert referencing.lookup("  jge2 dpi009 ") == expected
        assert referencing.lookup("JGE2DPI009") == expected
        assert referencing.lookup(" XYZ 123 ") == {"found": False, "ans_number": "XYZ123"}
        assert referencing.lookup("") == {"found": False, "ans_number": ""}
        json.dumps(referencing.lookup("JGe2DPI009"))  # plain JSON scalars


def test_referencing_import_creates_then_updates(app, tmp_path):
    with app.app_context():
        report = import_text(HEADER + HOP_DPI + "MSv2VIL014;MEDISOFT;V5;Médecine de ville;Général, Client;"
                                                "true;false;812453678\n", bom=True)
        assert (report.created, report.updated, report.errors) == (2, 0, [])
        assert stored()["MSv2VIL014"].validated is True and stored()["MSv2VIL014"].sons_dpi is False
        assert stored()["MSv2VIL014"].wave == 2

        # Upsert by number, any case: the stored spelling stays; from a path this time.
        path = tmp_path / "update.csv"
        path.write_text(HEADER + "msv2vil014;MEDISOFT;V6;Médecine de ville;Général, Client;0;1;812 453 678\n"
                        + "RAd2RIS021;RADIOPACS;V1;Radiologie;Général, Environnement;1;0;523987147\n",
                        encoding="utf-8")
        report = referencing.import_csv(str(path))
        assert (report.created, report.updated, report.errors) == (1, 1, [])
        rows = stored()
        assert sorted(rows) == ["JGe2DPI009", "MSv2VIL014", "RAd2RIS021"]
        updated = rows["MSv2VIL014"]
        assert (updated.software_version, updated.validated, updated.sons_dpi, updated.editor_siren) == (
            "V6", False, True, "812453678")


def test_referencing_import_reports_every_error_and_imports_nothing(app):
    bad = (HEADER
           + HOP_DPI                                                                  # line 2: fine
           + "AAA1;Nom;V1;Hôpital;Général;peut-être;non;348662990\n"                 # 3: boolean
           + "AAA2;Nom;V1;Hôpital;Général;oui;non;348662991\n"                       # 4: SIREN key
           + "AAA3;Nom;V1;Hôpital;Général;oui;non\n"                                 # 5: column missing
           + "AAA4;;V1;Hôpital;Général;oui;non;348662990\n"                          # 6: empty value
           + "jge2dpi009;Nom;V1;Hôpital;Général;oui;non;348662990\n"                 # 7: duplicate
           + "AA-5;Nom;V1;Hôpital;Général;oui;non;348662990;en trop\n")              # 8: number, extra
    with app.app_context():
        report = import_text(bad)
        assert (report.created, report.updated) == (0, 0)
        assert not report.ok
        assert report.messages == [
            "Ligne 3 : valeur « peut-être » invalide pour « validated » (attendu : oui/non, true/false ou 1/0).",
            "Ligne 4 : SIREN de l'éditeur « 348662991 » invalide (9 chiffres avec une clé de contrôle correcte).",
            "Ligne 5 : colonne « editor_siren » manquante.",
            "Ligne 6 : la colonne « software_name » est vide.",
            "Ligne 7 : numéro « jge2dpi009 » déjà présent à la ligne 2.",
            "Ligne 8 : 9 valeurs au lieu de 8.",
            "Ligne 8 : numéro de référencement « AA-5 » invalide (lettres et chiffres uniquement).",
        ]
        assert stored() == {}  # not even the valid line

        report = import_text("ans_number;software_name;dsr\nX1;Nom;Hôpital\n")
        assert report.messages == [
            "Ligne 1 : colonne(s) manquante(s) dans l'en-tête : « software_version », « profile », "
            "« validated », « sons_dpi », « editor_siren »."]
        assert stored() == {}


def test_referencing_demo_csv_imports_cleanly_with_every_kind(app):
    with app.app_context():
        report = referencing.import_csv(DATA / "referencing_demo.csv")
        assert report.ok, report.messages
        assert report.created == len(stored()) >= 8
        kinds = {(r.validated, r.sons_dpi) for r in stored().values()}
        assert kinds == {(True, False), (True, True), (False, True), (False, False)}
        assert referencing.lookup("JGe2DPI009") == {
            "found": True, "ans_number": "JGe2DPI009", "software_name": "LOGICIEL HOP-DPI",
            "software_version": "Version DPI 22", "dsr": "Hôpital", "profile": "Général, Stockage",
            "validated": True, "sons_dpi": True, "editor_siren": "348662990"}
        # Editors are demo companies, so that the demo shows an editor and a distributor.
        sirens = {stdnum_siret.to_siren(row["siret"]) for row in demo_companies()}
        editors = {r.editor_siren for r in stored().values()}
        assert editors & sirens and sirens - editors


# --- company directory: demo CSV ------------------------------------------------------------------

def demo_companies():
    import csv
    with open(DATA / "companies.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file, delimiter=";"))


def test_demo_companies_have_valid_sirets_including_la_poste_and_the_guide_example():
    rows = demo_companies()
    assert len(rows) >= 10
    assert all(stdnum_siret.is_valid(row["siret"]) for row in rows)
    assert all(row["name"] and row["postal_code"] and row["city"] for row in rows)
    assert "34866299000038" in {row["siret"] for row in rows}
    la_poste = [row["siret"] for row in rows if row["siret"].startswith("356000000")]
    assert la_poste and la_poste[0] != "35600000000048"
    # La Poste's establishments follow their own rule (sum of the digits), not the Luhn key.
    assert not luhn.is_valid(la_poste[0]) and sum(map(int, la_poste[0])) % 5 == 0


def test_company_csv_found_and_unknown(app):
    with app.app_context():
        assert app.config["COMPANY_DIRECTORY"] == "csv"
        assert companies.lookup("348 662 990 00038") == {
            "found": True, "siret": "34866299000038", "name": "BEAUJOLAIS INFORMATIQUE SANTE",
            "street_number": None, "street_extension": None, "street_type": "Ancien chemin",
            "street_name": "LIEU DIT CHANTEMERLE", "postal_code": "69220", "city": "LANCIE"}
        la_poste = companies.lookup("35600000049008")
        assert la_poste["found"] and la_poste["name"] == "LA POSTE"
        assert companies.lookup("52398714700015")["street_extension"] == "bis"
        assert companies.lookup("73282932000074") == {"found": False, "error": "unknown"}  # valid, absent
        assert companies.lookup("34866299000039") == {"found": False, "error": "unknown"}  # bad key


# --- company directory: API Recherche d'entreprises on a real loopback server ---------------------

def _siege(**overrides):
    siege = {
        "activite_principale": "62.01Z", "activite_principale_registre_metier": None,
        "annee_tranche_effectif_salarie": "2022", "adresse": "3 ACH DE LA COTE 69220 LANCIE",
        "caractere_employeur": "O", "cedex": None, "code_pays_etranger": None, "code_postal": "69220",
        "commune": "69109", "complement_adresse": None, "coordonnees": "46.1769,4.7132",
        "date_creation": "1988-11-01", "date_debut_activite": "2008-01-01", "date_fermeture": None,
        "date_mise_a_jour": None, "date_mise_a_jour_insee": "2024-03-30T05:12:08", "departement": "69",
        "distribution_speciale": None, "epci": "200040574", "est_siege": True, "etat_administratif": "A",
        "geo_adresse": "3 Ancien chemin de la Côte 69220 Lancié", "geo_id": "69109_0120_00003",
        "indice_repetition": None, "latitude": "46.1769", "libelle_cedex": None, "libelle_commune": "LANCIE",
        "libelle_commune_etranger": None, "libelle_pays_etranger": None, "libelle_voie": "DE LA COTE",
        "liste_enseignes": None, "liste_finess": None, "liste_id_bio": None, "liste_idcc": ["1486"],
        "liste_id_organisme_formation": None, "liste_rge": None, "liste_uai": None,
        "longitude": "4.7132", "nom_commercial": None, "numero_voie": "3", "region": "84",
        "siret": "34866299000038", "statut_diffusion_etablissement": "O",
        "tranche_effectif_salarie": "11", "type_voie": "ACH",
    }
    siege.update(overrides)
    return siege


def _matching(**overrides):
    """A « matching établissement » as the search endpoint lists it: the split street fields are
    hidden (null), the one-line ``adresse`` and the commune are given."""
    hidden = ("activite_principale_registre_metier", "coordonnees", "cedex", "code_pays_etranger",
              "complement_adresse", "departement", "distribution_speciale", "geo_adresse",
              "indice_repetition", "libelle_cedex", "libelle_commune_etranger", "libelle_pays_etranger",
              "libelle_voie", "numero_voie", "type_voie", "date_mise_a_jour", "date_mise_a_jour_insee")
    etablissement = {**_siege(), **{field: None for field in hidden}}
    etablissement.update(overrides)
    return etablissement


def _result(matching, **overrides):
    result = {
        "siren": "348662990", "nom_complet": "BEAUJOLAIS INFORMATIQUE SANTE (BIS)",
        "nom_raison_sociale": "BEAUJOLAIS INFORMATIQUE SANTE", "sigle": "BIS",
        "nombre_etablissements": 3, "nombre_etablissements_ouverts": 2, "siege": _siege(),
        "activite_principale": "62.01Z", "categorie_entreprise": "PME", "caractere_employeur": None,
        "annee_categorie_entreprise": "2022", "date_creation": "1988-11-01", "date_fermeture": None,
        "date_mise_a_jour": "2024-05-02T10:11:12", "date_mise_a_jour_insee": "2024-03-30T05:12:08",
        "date_mise_a_jour_rne": "2024-04-02T11:12:13",
        "dirigeants": [{"nom": "MARTIN", "prenoms": "CLAIRE", "annee_de_naissance": "1970",
                        "date_de_naissance": "1970-04", "qualite": "Président de SAS",
                        "nationalite": "Française", "type_dirigeant": "personne physique"}],
        "etat_administratif": "A", "nature_juridique": "5710", "section_activite_principale": "J",
        "tranche_effectif_salarie": "11", "annee_tranche_effectif_salarie": "2022",
        "statut_diffusion": "O", "matching_etablissements": matching,
        "finances": {"2023": {"ca": 1250000, "resultat_net": 80000}},
        "complements": {"collectivite_territoriale": None, "convention_collective_renseignee": True,
                        "egapro_renseignee": False, "est_association": False, "est_bio": False,
                        "est_entrepreneur_individuel": False, "est_entrepreneur_spectacle": False,
                        "est_ess": False, "est_finess": False, "est_organisme_formation": False,
                        "est_qualiopi": False, "liste_id_organisme_formation": None, "est_rge": False,
                        "est_service_public": False, "est_societe_mission": False, "est_uai": False,
                        "identifiant_association": None, "statut_entrepreneur_spectacle": None},
    }
    result.update(overrides)
    return result


def _page(*results):
    return {"results": list(results), "total_results": len(results), "page": 1, "per_page": 10,
            "total_pages": 1 if results else 0}


class FakeApi:
    """A real HTTP server on loopback answering like the API; records what it received."""

    def __init__(self):
        self.requests = []
        self.status, self.body = 200, b"{}"
        self.release = threading.Event()
        self.wait_for_release = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                api.requests.append((url.path, parse_qs(url.query)))
                if api.wait_for_release:
                    api.release.wait(10)
                try:
                    self.send_response(api.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(api.body)))
                    self.end_headers()
                    self.wfile.write(api.body)
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, payload, status=200):
        self.status = status
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api(app):
    server = FakeApi()
    # A generous timeout: these answers come at once, however loaded the machine (the timeout has
    # its own test, where the answer never comes).
    app.config.update(COMPANY_DIRECTORY="api", COMPANY_API_URL=server.url + "/", COMPANY_API_TIMEOUT=10)
    yield server
    server.close()


def test_api_finds_an_establishment_that_is_not_the_head_office(app, api):
    other = _matching(siret="34866299000046", est_siege=False, adresse="RES LES VIGNES 12 B AV DES LILAS 69400 "
                      "VILLEFRANCHE-SUR-SAONE", code_postal="69400", libelle_commune="VILLEFRANCHE-SUR-SAONE")
    api.answer(_page(_result([other])))
    with app.app_context():
        result = companies.lookup("348 662 990 00046")
    assert result == {
        "found": True, "siret": "34866299000046", "name": "BEAUJOLAIS INFORMATIQUE SANTE",
        "street_number": "12", "street_extension": "bis", "street_type": "Avenue", "street_name": "DES LILAS",
        "postal_code": "69400", "city": "VILLEFRANCHE-SUR-SAONE"}
    assert api.requests == [("/search", {"q": ["34866299000046"]})]
    json.dumps(result)


@pytest.mark.parametrize("adresse, code_postal, expected", [
    ("12 RUE DE LA BARRE 69291 LYON CEDEX 02", "69002", ("12", None, "Rue", "DE LA BARRE")),
    ("BATIMENT 2 7 T ALLEE DES PINS 69400 ARNAS", "69400", ("7", "ter", "Allée", "DES PINS")),
    ("12-14 BD GAMBETTA 69400 ARNAS", "69400", ("12-14", None, "Boulevard", "GAMBETTA")),
    ("LD LES GRANDS CHAMPS 69400 ARNAS", "69400", (None, None, "Lieu-dit", "LES GRANDS CHAMPS")),
    ("ZONE ARTISANALE 69400 ARNAS", "69400", (None, None, "Zone", "ARTISANALE")),
])
def test_api_one_line_addresses_are_split(app, api, adresse, code_postal, expected):
    api.answer(_page(_result([_matching(siret="34866299000046", est_siege=False, adresse=adresse,
                                        code_postal=code_postal, libelle_commune="ARNAS")])))
    with app.app_context():
        result = companies.lookup("34866299000046")
    assert (result["street_number"], result["street_extension"], result["street_type"],
            result["street_name"], result["postal_code"]) == (*expected, code_postal)


def test_api_head_office_takes_the_split_address_of_the_siege(app, api):
    api.answer(_page(_result([_matching()])))
    with app.app_context():
        assert companies.lookup("34866299000038") == {
            "found": True, "siret": "34866299000038", "name": "BEAUJOLAIS INFORMATIQUE SANTE",
            "street_number": "3", "street_extension": None, "street_type": "Ancien chemin",
            "street_name": "DE LA COTE", "postal_code": "69220", "city": "LANCIE"}


def test_api_uses_the_split_fields_when_the_establishment_carries_them(app, api):
    etablissement = _siege(siret="34866299000046", est_siege=False, numero_voie="8", indice_repetition="T",
                           type_voie="BD", libelle_voie="GAMBETTA", code_postal="69400",
                           libelle_commune="VILLEFRANCHE-SUR-SAONE")
    # A person's business: no « raison sociale », the full name is used.
    api.answer(_page(_result([etablissement], nom_raison_sociale=None, nom_complet="CLAIRE MARTIN")))
    with app.app_context():
        result = companies.lookup("34866299000046")
    assert (result["name"], result["street_number"], result["street_extension"], result["street_type"],
            result["street_name"], result["city"]) == (
        "CLAIRE MARTIN", "8", "ter", "Boulevard", "GAMBETTA", "VILLEFRANCHE-SUR-SAONE")


def test_api_result_without_the_exact_siret_is_unknown(app, api):
    # The API matched the company (e.g. by SIREN) but lists another establishment.
    api.answer(_page(_result([_matching()]), _result([])))
    with app.app_context():
        assert companies.lookup("34866299000046") == {"found": False, "error": "unknown"}
    assert api.requests == [("/search", {"q": ["34866299000046"]})]


def test_api_empty_results_is_unknown(app, api):
    api.answer(_page())
    with app.app_context():
        assert companies.lookup("34866299000038") == {"found": False, "error": "unknown"}
    assert len(api.requests) == 1


@pytest.mark.parametrize("status, body", [
    (500, {"erreur": "Internal Server Error"}),
    (503, b"<html>Service Unavailable</html>"),
    (429, {"erreur": "Trop de requetes"}),
    (200, b'{"results": [ {"siren": '),      # truncated JSON
    (200, b"<html>maintenance</html>"),      # not JSON
    (200, {"erreur": "format inattendu"}),  # JSON without results
])
def test_api_failure_is_unavailable(app, api, status, body):
    api.answer(body, status)
    with app.app_context():
        assert companies.lookup("34866299000038") == {"found": False, "error": "unavailable"}
    assert api.requests == [("/search", {"q": ["34866299000038"]})]


def test_api_too_slow_is_unavailable(app, api):
    api.answer(_page(_result([_matching()])))
    api.wait_for_release = True  # the handler answers only once the test is over
    app.config["COMPANY_API_TIMEOUT"] = 0.2
    with app.app_context():
        assert companies.lookup("34866299000038") == {"found": False, "error": "unavailable"}
    assert len(api.requests) == 1


def test_api_nothing_listening_is_unavailable(app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.config.update(COMPANY_DIRECTORY="api", COMPANY_API_URL=f"http://127.0.0.1:{port}",
                      COMPANY_API_TIMEOUT=0.5)
    with app.app_context():
        assert companies.lookup("34866299000038") == {"found": False, "error": "unavailable"}


def test_api_invalid_siret_is_unknown_without_calling(app, api):
    with app.app_context():
        assert companies.lookup("34866299000039") == {"found": False, "error": "unknown"}
        assert companies.lookup("") == {"found": False, "error": "unknown"}
    assert api.requests == []


# --- bank ---------------------------------------------------------------------------------------

BNP_IBAN = "FR76 3000 4000 0100 0123 4567 830"


def test_bank_valid_french_iban_and_bic_give_the_domiciliation():
    result = bank.check(BNP_IBAN.lower(), " bnpa fr pp xxx ")
    assert (result.iban, result.bic) == ("FR7630004000010001234567830", "BNPAFRPPXXX")
    assert (result.iban_error, result.bic_error, result.consistency_error) == (None, None, None)
    assert (result.domiciliation, result.known, result.valid) == ("BNP PARIBAS", True, True)
    assert bank.lookup(BNP_IBAN, "BNPAFRPP") == {"valid": True, "domiciliation": "BNP PARIBAS", "known": True}


def test_bank_name_is_the_institution_not_a_branch_listed_under_the_same_code():
    societe_generale = "FR7630003031000001234567897"
    assert bank.check(societe_generale, "SOGEFRPPXXX").domiciliation == "SOCIETE GENERALE SA"
    assert bank.check(societe_generale, "").domiciliation == "SOCIETE GENERALE SA"


def test_bank_bic_of_another_bank_is_inconsistent():
    result = bank.check(BNP_IBAN, "SOGEFRPP")
    assert result.consistency_error == "Le BIC ne correspond pas à la banque de l'IBAN (BIC attendu : BNPAFRPP)."
    assert not result.valid and result.iban_error is None and result.bic_error is None
    assert bank.lookup(BNP_IBAN, "SOGEFRPP")["valid"] is False


def test_bank_bic_of_another_country_is_inconsistent():
    assert bank.check(BNP_IBAN, "DEUTDEFF").consistency_error == "Le BIC ne correspond pas au pays de l'IBAN (FR)."
    # A French overseas bank: FR IBAN, BIC of La Réunion.
    assert bank.check("FR7618719000010001234567857", "BFCORERX").valid


def test_bank_invalid_iban_key():
    result = bank.check("FR7630004000010001234567831", "BNPAFRPP")
    assert result.iban_error == "L'IBAN saisi n'est pas valide (clé de contrôle incorrecte)."
    assert not result.valid and result.consistency_error is None
    # IBAN key right, RIB key wrong.
    rib = bank.check("FR4930004000010001234567831", "BNPAFRPP")
    assert rib.iban_error == "L'IBAN saisi n'est pas valide (clé RIB incorrecte)."
    assert bank.check("FR76 3000 4000", "").iban_error == \
        "L'IBAN saisi n'est pas valide (longueur incorrecte pour ce pays)."


def test_bank_invalid_bic():
    for bic in ("BNPA", "BNPAXXPP", "BNP@FRPP", "BNPAFRPPXX"):
        result = bank.check(BNP_IBAN, bic)
        assert result.bic_error == "Le BIC saisi n'est pas valide.", bic
        assert result.domiciliation == "BNP PARIBAS"  # from the IBAN


def test_bank_foreign_iban():
    result = bank.check("DE89 3704 0044 0532 0130 00", "COBADEFFXXX")
    assert result.valid and (result.domiciliation, result.known) == ("Commerzbank", True)
    unknown_bank = bank.check("MC5811222000010123456789030", "CMCIMCM1")
    assert unknown_bank.valid and (unknown_bank.domiciliation, unknown_bank.known) == (None, False)


def test_bank_endpoint(client):
    response = client.get("/api/banque", query_string={"iban": BNP_IBAN, "bic": "BNPAFRPP"})
    assert response.status_code == 200
    assert response.get_json() == {"domiciliation": "BNP PARIBAS", "known": True, "errors": {}}

    # While typing: the empty BIC is not reported.
    assert client.get("/api/banque", query_string={"iban": BNP_IBAN}).get_json() == {
        "domiciliation": "BNP PARIBAS", "known": True, "errors": {}}

    data = client.get("/api/banque", query_string={"iban": BNP_IBAN, "bic": "SOGEFRPP"}).get_json()
    assert data["errors"] == {
        "consistency": "Le BIC ne correspond pas à la banque de l'IBAN (BIC attendu : BNPAFRPP)."}

    data = client.get("/api/banque", query_string={"iban": "FR7630004000010001234567831", "bic": "XX"}).get_json()
    assert data == {"domiciliation": None, "known": False, "errors": {
        "iban": "L'IBAN saisi n'est pas valide (clé de contrôle incorrecte).",
        "bic": "Le BIC saisi n'est pas valide."}}
