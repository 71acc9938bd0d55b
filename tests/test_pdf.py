"""Recap PDF, offline rendering and downloadable models."""
import http.server
import json
import threading
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string
from pypdf import PdfReader
from weasyprint.urls import URLFetchingError, path2url

from app.services import pdf
from app.services.declarations import DECLARATIONS
from app.web.models import MODELS


#: The document types' labels, as the package's files define them.
LABELS = {code: t["label"] for code, t in json.loads(
    (Path(__file__).parent.parent / "bpmn" / "package" / "document_types.json").read_text(encoding="utf-8")).items()}


def pdf_text(content: bytes) -> str:
    """Text of a PDF, whitespace (line breaks, non-breaking spaces) collapsed."""
    reader = PdfReader(BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def make_documents(**kinds):
    """({doc_<kind>: id}, {id: document}) for the given kind=file name."""
    data, documents = {}, {}
    for number, (kind, name) in enumerate(kinds.items(), start=101):
        data[f"doc_{kind}"] = number
        documents[number] = SimpleNamespace(original_name=name, label=LABELS[kind])
    return data, documents


def company(**extra):
    return {
        "siret": "44306184100047", "company_name": "HOPITAL LOGICIELS SAS",
        "trade_name": "HOP-LOG", "street_number": "12", "street_type": "Rue",
        "street_name": "DE LA REPUBLIQUE", "postal_code": "69002", "city": "LYON", **extra}


def validated_sons_dpi():
    docs, documents = make_documents(
        referencing_certificate="certificat-ans.pdf", hds_certificate="certificat-hds.pdf",
        representative_id="cni-legal.jpg", rib="rib-hoplog.pdf")
    data = {
        "ans_number": "JGe2DPI009",
        "referencing": {"software_name": "LOGICIEL HOP-DPI", "software_version": "Version DPI 22",
                        "dsr": "Hôpital / DPI / Vague 2", "profile": "SONS DPI",
                        "validated": True, "sons_dpi": True},
        "hosts_health_data": "oui",
        **company(company={"distributor": False}),
        "is_legal_representative": "oui", "rep_last_name": "LEGAL",
        "rep_first_name": "Représentant", "rep_email": "representant.legal@hoplog.fr",
        "rep_phone": "+33478000000",
        "iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPPXXX",
        "account_holder": "HOPITAL LOGICIELS SAS", "bank_domiciliation": "CA CENTRE EST",
        "vat_liable": "oui", "vat_rate": "8.5",
        **docs,
        # Left over from earlier answers: must not be shown.
        "dep_last_name": "ANCIEN", "doc_hds_attestation": 999,
    }
    documents[999] = SimpleNamespace(original_name="ancienne-attestation.pdf",
                                     label=LABELS["hds_attestation"])
    return data, documents


def anticipated_depositary():
    docs, documents = make_documents(
        kbis="kbis-2024.pdf", editor_mandate="mandat-editeur.pdf",
        representative_id="cni-representant.pdf", depositary_id="passeport-depositaire.pdf",
        signature_mandate="mandat-signature.pdf", rib="rib-distrib.pdf",
        non_vat_proof="attestation-franchise-tva.pdf", service_contract="ancien-contrat.pdf")
    data = {
        "ans_number": "JGe2LGC042",
        "referencing": {"software_name": "CABINET PLUS", "software_version": "4.2",
                        "dsr": "Médecin de ville / LGC / Vague 2", "profile": "LGC",
                        "validated": False, "sons_dpi": False},
        "hosts_health_data": "non",
        **company(company_name="DISTRI SANTE NOUVEAU NOM", company={"distributor": True}),
        "is_legal_representative": "non", "rep_last_name": "DUPONT",
        "rep_first_name": "Claire", "rep_email": "claire.dupont@distrisante.fr",
        "rep_phone": "+33145000000",
        "dep_last_name": "MARTIN", "dep_first_name": "Paul",
        "dep_email": "paul.martin@distrisante.fr", "dep_phone": "+33145000001",
        "depositary_quality": "employe",
        "iban": "FR7630006000011234567890189", "bic": "AGRIFRPPXXX",
        "account_holder": "DISTRI SANTE", "bank_domiciliation": "CA PARIS",
        "vat_liable": "non", "vat_rate": "20",
        **docs,
    }
    return data, documents


def render_recap(app, request, data, documents):
    with app.test_request_context():
        return pdf.render_pdf("pdf/recap.html", request=request, data=data, documents=documents)


def test_recap_of_validated_sons_dpi(app):
    data, documents = validated_sons_dpi()
    request = SimpleNamespace(number="ENR0601M0", enrolment_type="INITIAL", status="En cours",
                              siret="44306184100047",
                              submitted_at=datetime(2024, 3, 5, 23, 30, tzinfo=timezone.utc))
    content = render_recap(app, request, data, documents)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)

    for expected in [
        "Agence de services et de paiement — Portail SEGUR Numérique",
        "Récapitulatif de la demande d'enrôlement ENR0601M0",
        "INITIAL", "06/03/2024 à 00:30", "En cours",
        "Référencement", "N° unique de référencement (ANS) JGe2DPI009",
        "Nom du logiciel LOGICIEL HOP-DPI", "Version du logiciel Version DPI 22",
        "DSR concerné (couloir / type logiciel / vague) Hôpital / DPI / Vague 2",
        "Profil référencé SONS DPI",
        "Assurez-vous l'hébergement de tout ou partie pour au moins un de vos clients ? Oui",
        "Personne morale", "Numéro de SIRET 44306184100047",
        "Dénomination sociale HOPITAL LOGICIELS SAS", "Nom commercial HOP-LOG",
        "Type de voie Rue", "Nom de voie DE LA REPUBLIQUE", "Code postal 69002", "Commune LYON",
        "Demandeur", "Je suis le représentant légal Oui", "Nom du représentant LEGAL",
        "Prénom du représentant Représentant", "Email du représentant representant.legal@hoplog.fr",
        "Téléphone du représentant +33478000000",
        "Coordonnées bancaires", "IBAN FR76 3000 6000 0112 3456 7890 189", "BIC AGRIFRPPXXX",
        "Titulaire HOPITAL LOGICIELS SAS", "Domiciliation CA CENTRE EST",
        "Régime TVA", "Êtes-vous assujetti à un taux de TVA ? Oui", "Taux de TVA 8,5 %",
        "Pièces justificatives",
        "Certificat de référencement certificat-ans.pdf",
        "Certificat d'hébergement de données de santé certificat-hds.pdf",
        "CNI, passeport ou titre de séjour du représentant cni-legal.jpg",
        "RIB rib-hoplog.pdf",
        flat(DECLARATIONS["accept_cgu"]), flat(DECLARATIONS["accept_penal_code"]),
        flat(DECLARATIONS["accept_sincerity"]),
        "Page 1 / 2", "Page 2 / 2",
    ]:
        assert expected in text, expected

    for absent in ["Enrôlement anticipé", "dépositaire", "ANCIEN", "Attestation sur l'honneur",
                   "ancienne-attestation.pdf", "KBIS", "Mandat de l'éditeur",
                   "Preuve de régime hors TVA", "Qualité de tiers déclarant", "Complément"]:
        assert absent not in text, absent
    # The sections come in the guide's order.
    positions = [text.index(title) for title in [
        "Référencement", "Personne morale", "Demandeur", "Coordonnées bancaires", "Régime TVA",
        "Pièces justificatives", "Déclarations"]]
    assert positions == sorted(positions)


def test_recap_of_anticipated_request_with_depositary(app):
    data, documents = anticipated_depositary()
    request = SimpleNamespace(number="ENR0742M0", enrolment_type="INITIAL ANTICIPE",
                              status="En cours", siret="44306184100047",
                              submitted_at=datetime(2024, 7, 1, 10, 5, tzinfo=timezone.utc))
    text = pdf_text(render_recap(app, request, data, documents))

    for expected in [
        "Récapitulatif de la demande d'enrôlement ENR0742M0", "INITIAL ANTICIPE",
        "01/07/2024 à 12:05",
        "Enrôlement anticipé Le référencement ANS du logiciel n'est pas encore validé : le "
        "certificat de référencement sera transmis ultérieurement pour finaliser l'enrôlement.",
        "Dénomination sociale DISTRI SANTE NOUVEAU NOM",
        "Je suis le représentant légal Non", "Nom du représentant DUPONT",
        "Nom du dépositaire MARTIN", "Prénom du dépositaire Paul",
        "Email du dépositaire paul.martin@distrisante.fr",
        "Téléphone du dépositaire +33145000001",
        "Qualité de tiers déclarant Employé de la personne morale",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "Êtes-vous assujetti à un taux de TVA ? Non",
        "KBIS kbis-2024.pdf", "Mandat de l'éditeur pour le distributeur mandat-editeur.pdf",
        "CNI, passeport ou titre de séjour du représentant cni-representant.pdf",
        "CNI, passeport ou titre de séjour du dépositaire passeport-depositaire.pdf",
        "Mandat de délégation de signature du représentant légal mandat-signature.pdf",
        "RIB rib-distrib.pdf",
        "Preuve de régime hors TVA attestation-franchise-tva.pdf",
    ]:
        assert expected in text, expected

    for absent in ["Certificat de référencement ", "Assurez-vous l'hébergement",
                   "Certificat d'hébergement", "Taux de TVA", "Contrat de prestation",
                   "ancien-contrat.pdf", "Centre de gestion"]:
        assert absent not in text, absent


def test_recap_sections_markup(app):
    data, documents = validated_sons_dpi()
    with app.test_request_context():
        html = render_template_string(
            '{% from "recap/sections.html" import recap_sections %}'
            "{{ recap_sections(data, documents, headings_level=3) }}",
            data=data, documents=documents)
    assert html.count('<section class="recap-section') == 6
    assert '<h3 class="recap-section__title">Référencement</h3>' in html
    assert "<h2" not in html
    assert "<dt>Taux de TVA</dt>" in html and "<dd>8,5\u00a0%</dd>" in html


def test_fetcher_refuses_everything_outside_the_app_folders(app, tmp_path):
    with app.app_context():
        fetcher = pdf.local_fetcher()
        for url in ["http://example.org/logo.png", "https://example.org/style.css",
                    "ftp://example.org/font.woff2", "file:///etc/passwd",
                    "file://example.org/share/x.css", path2url(tmp_path / "x.css")]:
            with pytest.raises(URLFetchingError):
                fetcher(url)
        stylesheet = fetcher(path2url(f"{app.static_folder}/css/pdf.css"))
        assert stylesheet.content_type == "text/css"
        assert b"@page" in stylesheet.read()
        # A path that climbs out of the static folder is refused too.
        with pytest.raises(URLFetchingError):
            fetcher(path2url(f"{app.static_folder}/css/../../__init__.py"))


class CountingHandler(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        CountingHandler.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_external_urls_are_not_fetched(app, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    CountingHandler.requests.clear()
    html = f"""<!DOCTYPE html><html lang="fr"><head>
      <link rel="stylesheet" href="{origin}/style.css">
      <style>@import url("{origin}/import.css");
        @font-face {{ font-family: Distante; src: url("{origin}/font.woff2"); }}
        body {{ font-family: Distante; background: url("{origin}/fond.png"); }}</style>
      </head><body><p>Texte</p><img src="{origin}/logo.png" alt="logo"></body></html>"""
    try:
        with app.app_context():
            fetcher = pdf.local_fetcher()
            refused = []
            fetch = fetcher.fetch

            def spy(url, headers=None):
                try:
                    return fetch(url, headers)
                except URLFetchingError:
                    refused.append(url)
                    raise
            monkeypatch.setattr(fetcher, "fetch", spy)
            content = pdf.html_to_pdf(html)
    finally:
        server.shutdown()
        server.server_close()
    assert "Texte" in pdf_text(content)
    assert CountingHandler.requests == []
    assert {f"{origin}/{name}" for name in ["style.css", "logo.png"]} <= set(refused)


@pytest.mark.parametrize("slug", list(MODELS))
def test_models_are_downloadable(client, slug):
    response = client.get(f"/modeles/{slug}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.pdf"')
    text = pdf_text(response.data)
    title = {
        "contrat-de-prestation": "Contrat de prestation spécifiant la délégation de signature",
        "mandat-de-delegation": "Mandat de délégation de signature du représentant légal",
        "attestation-non-hebergement":
            "Attestation sur l'honneur de non hébergement de données de santé",
    }[slug]
    assert title in text
    assert "Agence de services et de paiement — Portail SEGUR Numérique" in text
    assert client.get(f"/modeles/{slug}.pdf").data == response.data


def test_unknown_model_is_404(client):
    assert client.get("/modeles/inconnu.pdf").status_code == 404
    assert client.get("/modeles/contrat-de-prestation.docx").status_code == 404
