"""Bad input, through HTTP: each error in French next to its field, the input kept, nothing lost,
and each hostile file refused with the exact reason."""
import pytest

import files
from app.extensions import db
from app.models import Document
from app.services.documents import MAX_SIZE, POLYGLOT, UNKNOWN_TYPE
from journey import Journey, Supplier


def at(portal, client, form_key, supplier=None):
    journey = Journey(client, supplier)
    journey.start()
    journey.until(form_key)
    return journey


def submit(journey, **values):
    form = journey.fill().fill(**values)
    journey.page = form.submit(journey._submit_label())
    return journey.page


def value(page, name):
    return page.doc.xpath(f'string(//*[@name="{name}"]/@value)')


@pytest.mark.parametrize("siret, message", [
    ("1234", "Le numéro SIRET doit comporter 14 chiffres."),
    ("34866299000039", "Le numéro SIRET saisi n'est pas valide (clé de contrôle incorrecte)."),
])
def test_bad_siret(portal, client, siret, message):
    journey = at(portal, client, "siret_search")
    page = submit(journey, siret=siret)
    assert page.status == 422
    assert page.errors()["siret"] == [message]
    assert value(page, "siret") == siret


def test_applicant_errors_keep_the_input_and_the_accepted_files(portal, client):
    journey = at(portal, client, "applicant")
    page = submit(journey, rep_email_confirmation="autre@fournisseur-sante.fr", rep_phone="12 34",
                  postal_code="6922")
    assert page.status == 422
    errors = page.errors()
    assert errors["rep_email_confirmation"] == ["La confirmation ne correspond pas à l'email du représentant."]
    assert errors["rep_phone"] == ["Le numéro de téléphone saisi n'est pas un numéro français valide."]
    assert errors["postal_code"] == ["Le code postal doit comporter 5 chiffres."]
    assert value(page, "trade_name") == "BIS SANTE" and value(page, "rep_phone") == "12 34"
    assert "Fichier déposé : cni-representant.jpg" in page.content
    # Correcting only the wrong fields is enough: the identity document need not be sent again.
    form = page.form().fill(rep_email_confirmation="representant.legal@fournisseur-sante.fr",
                            rep_phone="01 23 45 67 89", postal_code="69220")
    journey.page = form.submit("Etape suivante")
    assert journey.form_key == "bank_details", journey.page.errors()


def test_each_missing_field_and_document_is_named(portal, client):
    journey = at(portal, client, "applicant", Supplier(legal_representative="non", quality="prestataire"))
    form = journey.page.form().fill(is_legal_representative="non", depositary_quality="prestataire")
    page = form.submit("Etape suivante")
    errors = page.errors()
    assert errors["trade_name"] == ["Ce champ est obligatoire."]
    assert errors["dep_email"] == ["Ce champ est obligatoire."]
    assert errors["doc_representative_id"] == [
        "Veuillez joindre le document « CNI, passeport ou titre de séjour du représentant »."]
    assert errors["doc_service_contract"] == [
        "Veuillez joindre le document « Contrat de prestation spécifiant la délégation de signature »."]
    assert "doc_signature_mandate" not in errors      # the other quality's document is not asked
    assert "doc_kbis" not in errors                   # the name was not changed


def test_changed_name_requires_a_kbis(portal, client):
    journey = at(portal, client, "applicant")
    form = journey.fill().fill(company_name="UN AUTRE NOM")
    form.files.pop("doc_kbis", None)
    page = form.submit("Etape suivante")
    assert page.errors()["doc_kbis"] == ["Veuillez joindre le document « KBIS »."]


def test_iban_bic_mismatch_and_unknown_bank(portal, client):
    journey = at(portal, client, "bank_details")
    page = submit(journey, bic="SOGEFRPP")
    assert page.errors()["bic"] == ["Le BIC ne correspond pas à la banque de l'IBAN (BIC attendu : BNPAFRPP)."]
    assert value(page, "iban") == "FR76 3000 4000 0100 0123 4567 830"
    page = submit(journey, iban="FR76 3000 4000 0100 0123 4567 831")
    assert "L'IBAN saisi n'est pas valide" in page.errors()["iban"][0]
    # A consistent IBAN/BIC: the domiciliation comes from the registry, whatever was typed.
    submit(journey, bank_domiciliation="MA BANQUE")
    assert journey.form_key == "vat_regime"
    journey.until("confirmation")
    assert "BNP PARIBAS" in journey.page.content and "MA BANQUE" not in journey.page.content


def test_a_bank_unknown_to_the_registry_asks_for_the_domiciliation(portal, client):
    journey = at(portal, client, "bank_details", Supplier(iban="FR7699999000010001234567809", bic="ABCDFRPP"))
    page = submit(journey)
    assert page.errors()["bank_domiciliation"] == ["Banque inconnue du référentiel : veuillez saisir la domiciliation."]
    submit(journey, bank_domiciliation="BANQUE LOCALE DE LANCIE")
    assert journey.form_key == "vat_regime"
    journey.until("confirmation")
    assert "BANQUE LOCALE DE LANCIE" in journey.page.content


HOSTILE = {
    "wrong magic": ("rib.pdf", b"GIF89a" + bytes(100), UNKNOWN_TYPE),
    "polyglot": ("rib.jpg", files.polyglot_jpeg_zip_bytes(), POLYGLOT),
    "encrypted PDF": ("rib.pdf", files.encrypted_pdf_bytes(),
                      "Le PDF est protégé par un mot de passe ou chiffré : déposez une version non protégée."),
    "PDF with JavaScript": ("rib.pdf", files.pdf_with_javascript_bytes(),
                            "Le PDF contient du JavaScript : ce type de document n'est pas accepté."),
    "4 Mo + 1 byte": ("rib.pdf", files.pdf_bytes(size=MAX_SIZE + 1),
                      "Le fichier dépasse la taille maximale de 4 Mo acceptée pour « RIB »."),
    "long name": ("r" * 47 + ".pdf", files.pdf_bytes(),
                  "Le nom du fichier ne doit pas excéder 50 caractères (51 actuellement)."),
    "path in name": ("../rib.pdf", files.pdf_bytes(),
                     "Le nom du fichier contient des caractères spéciaux non autorisés : « / »."),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_files_are_refused_with_the_reason(portal, client, case):
    filename, content, message = HOSTILE[case]
    journey = at(portal, client, "bank_details")
    form = journey.fill().attach("doc_rib", filename, content)
    page = form.submit("Etape suivante")
    assert page.status == 422
    assert page.errors()["doc_rib"] == [f"{filename} : {message}"]
    with portal.app_context():
        assert db.session.scalar(db.select(Document).where(Document.kind == "rib")) is None
    # The other fields are kept; a valid file then goes through.
    assert value(page, "iban") == "FR76 3000 4000 0100 0123 4567 830"
    journey.page = page.form().attach("doc_rib", "rib.pdf", files.pdf_bytes()).submit("Etape suivante")
    assert journey.form_key == "vat_regime"


def test_a_refused_file_keeps_the_one_already_deposited(portal, client):
    journey = at(portal, client, "vat_regime", Supplier(vat_liable="non"))
    journey.back()
    page = journey.page
    assert "Fichier déposé : rib.pdf" in page.content
    page = page.form().attach("doc_rib", "nouveau.pdf", files.encrypted_pdf_bytes()).submit("Etape suivante")
    assert page.status == 422 and "Fichier déposé : rib.pdf" in page.content


def test_vat_rate_or_proof_is_required(portal, client):
    journey = at(portal, client, "vat_regime")
    page = journey.page.form().submit("Etape suivante")
    assert page.errors()["vat_liable"] == ["Veuillez indiquer si vous êtes assujetti à la TVA."]
    page = page.form().fill(vat_liable="oui").submit("Etape suivante")
    assert page.errors()["vat_rate"] == ["Ce champ est obligatoire."]
    page = page.form().fill(vat_liable="non").submit("Etape suivante")
    assert page.errors()["doc_non_vat_proof"] == ["Veuillez joindre le document « Preuve de régime hors TVA »."]


def test_the_three_declarations_must_be_ticked(portal, client):
    journey = at(portal, client, "confirmation")
    page = journey.page.form().fill(accept_cgu=True).submit("Terminer")
    errors = page.errors()
    message = ["Vous devez cocher cette case pour terminer votre demande."]
    assert errors["accept_penal_code"] == message and errors["accept_sincerity"] == message
    assert "accept_cgu" not in errors


@pytest.mark.parametrize("filename", ["rapport..pdf", "facture (1).pdf", "a\u200bb.pdf"])
def test_every_inline_error_ends_with_one_full_stop(portal, client, filename):
    journey = at(portal, client, "bank_details")
    page = journey.fill().attach("doc_rib", filename, files.pdf_bytes()).fill(iban="FR76").submit("Etape suivante")
    assert page.status == 422
    messages = [m for ms in page.errors().values() for m in ms]
    assert messages and len(messages) >= 2
    for message in messages:  # « … ». » or « … . » would read as two
        assert message.endswith(".") and not message.removesuffix(".").rstrip(" »)").endswith("."), message


def test_a_file_input_is_named_by_its_short_label_and_described_by_the_format_hint(portal, client):
    page = at(portal, client, "bank_details").page
    field = page.doc.xpath("//input[@type='file'][@name='doc_rib']")[0]
    label = " ".join(page.doc.xpath(f"//label[@for='{field.get('id')}']")[0].text_content().split())
    assert label == "RIB *"
    described = [page.doc.xpath(f"string(//*[@id='{i}'])") for i in field.get("aria-describedby").split()]
    assert any("Taille maximale : 4 Mo. Formats supportés : jpg, jpeg, png, pdf." in text for text in described)


def test_labels_as_the_guide_writes_them(portal, client):
    page = at(portal, client, "applicant", Supplier(legal_representative="non")).page
    assert page.doc.xpath("//label[@for='doc_depositary_id']")[0].text_content().split("*")[0].strip() == \
        "CNI, passeport ou titre de séjour du demandeur"
    page = at(portal, client, "vat_regime").page
    assert "Êtes-vous assujetti à un taux de TVA ? *" in " ".join(page.texts("//fieldset//legend"))
