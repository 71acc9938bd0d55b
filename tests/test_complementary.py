"""« Faire une demande complémentaire » (guide chapter 5): the form, the rules between a supplier's
enrolments, and the shared instruction diagram."""

import pytest

from app.extensions import db
from app.models import EnrolmentRequest, SupplierAccess
from complementary_steps import Filer
from instruction_steps import PENDING_DPI, Agent, Holder, file_request
from journey import Supplier
from files import pdf_bytes
from rows import stored

MEDISOFT = "81245367800011"     # editor of MSv2VIL014 (validated) and HOp2DPI027 (validated SONS DPI)
BEAUJOLAIS = "34866299000038"   # editor of JGe2DPI009 and JGe2DPI015 (SONS DPI, not validated)
DISTRIMED = "88412097300018"    # editor of nothing: a distributor


def kinds(app, public_id) -> list[str]:
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        return sorted(d.kind for d in request.documents)


def test_a_wave_1_account_files_a_complementary_enrolment_instructed_to_validated(portal, mailbox):
    filer = Filer.new(portal, MEDISOFT, email="contact@medisoft.fr", first_name="Léa", last_name="MEDISOFT")
    nav = filer.browser.get("/espace").texts("//nav[@id='navigation-principale']")[0]
    assert "Faire une demande complémentaire" in nav
    page = filer.start()
    assert page.h1 == "Demande d'enrôlement complémentaire"
    recap = page.texts("//*[@id='recapitulatif']")[0]
    assert f"Siret : {MEDISOFT}" in recap and "Dénomination sociale" in recap

    page = filer.search("msv2vil014")
    assert filer.form_key == "complementary"
    assert "MEDISOFT SOLUTIONS" in page.texts("//*[@id='recapitulatif']")[0]
    assert "MEDISOFT CABINET" in page.content and "Version 5.3" in page.content
    fields = page.form().fields()
    assert "doc_referencing_certificate" in fields and "vat_rate" in fields
    assert not {"hosts_health_data", "doc_signature_mandate", "doc_editor_mandate"} & fields
    assert page.doc.xpath("//select[@name='vat_rate']/option[@value='5.5']")

    page = page.form().submit("Terminer")  # nothing given
    assert page.status == 422
    assert set(page.errors()) >= {"doc_referencing_certificate", "vat_rate"}
    page = filer.finish(vat_rate="10")
    assert page.h1 == "Confirmation"
    assert ("Demande d'enrôlement validée. Le numéro de votre demande est le ENR0001M0. Merci de le conserver"
            in page.content)
    request = stored(portal, filer.public_id)
    assert (request.status, request.enrolment_type, request.siret) == ("in_progress", "COMPLEMENTAIRE", MEDISOFT)
    assert request.company_name == "MEDISOFT SOLUTIONS" and request.holder_email == "contact@medisoft.fr"
    assert (request.data["vat_liable"], request.data["vat_rate"]) == ("oui", "10")
    assert kinds(portal, filer.public_id) == ["recap_pdf", "referencing_certificate"]
    acknowledgment = mailbox.to("contact@medisoft.fr")
    assert len(acknowledgment) == 1 and "ENR0001" in acknowledgment[0]["Subject"]

    # Shown once: the page after « Terminer » is the request's own from now on.
    assert filer.browser.get(f"/demandes/{filer.public_id}/etape").url.startswith("/espace/demandes/")
    listing = filer.browser.get("/espace/demandes")
    row = listing.texts("//tbody/tr")[0]
    assert "ENR0001" in row and "COMPLEMENTAIRE" in row and "En cours" in row

    Agent(portal).decide(filer.public_id, "valider")
    assert stored(portal, filer.public_id).status == "validated"
    assert any(m["Subject"].startswith("Acceptation") for m in mailbox.to("contact@medisoft.fr"))
    detail = filer.browser.get(f"/espace/demandes/{filer.public_id}")
    assert "Statut : Validée" in detail.h1
    sections = detail.texts("//*[contains(@class, 'fr-accordion__title')]")
    assert any("Logiciel" in s for s in sections) and any("TVA" in s for s in sections)
    assert not any("Demandeur" in s or "Coordonnées bancaires" in s for s in sections), sections
    assert "COMPLEMENTAIRE" in detail.content


def test_the_next_enrolments_wait_for_the_first_validation(portal, mailbox):
    filer = Filer.new(portal, MEDISOFT)
    other_tab = Filer(filer.browser, MEDISOFT)
    first = filer.file("MSv2VIL014")
    first_id = filer.public_id

    menu = filer.menu()
    card = menu.texts(f"//*[@id='siret-{MEDISOFT}']")[0]
    assert "Demande complémentaire non disponible" in card and "ENR0001M0" in card and "En cours" in card
    assert not menu.doc.xpath(f"//form[@id='start-{MEDISOFT}']")
    # The same rule, checked by the diagram when the search is made: a draft started before.
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(EnrolmentRequest)) == 1
    refused = filer.browser.post("/enrolement/complementaire", {"siret": [MEDISOFT],
                                                                "csrf_token": [_csrf(menu)]})
    assert "validation, par un gestionnaire de l'ASP, de votre première demande" in " ".join(refused.alerts())

    Agent(portal).decide(first_id, "valider")
    assert filer.menu().doc.xpath(f"//form[@id='start-{MEDISOFT}']")
    second = Filer(filer.browser, MEDISOFT).file("HOp2DPI027")
    assert "ENR0002M0" in second.content and first.status == 200


def test_the_diagram_checks_the_first_validation_at_the_search(portal, mailbox):
    one, two = Filer.new(portal, MEDISOFT), None
    two = Filer.new(portal, MEDISOFT)  # a colleague with access to the same SIRET
    two.start()                         # allowed now: no wave-2 request yet
    one.file("MSv2VIL014")
    page = two.search("HOp2DPI027")
    assert two.form_key == "complementary_search"
    alert = " ".join(page.alerts())
    assert "Enrôlement impossible pour ce numéro" in alert and "ENR0001M0" in alert
    assert page.form().values["ans_number"] == ["HOp2DPI027"]  # nothing lost


def test_one_ans_number_is_one_enrolment(portal, mailbox):
    filer = Filer.new(portal, MEDISOFT)
    first_id = (filer.file("MSv2VIL014"), filer.public_id)[1]
    agent = Agent(portal)
    agent.decide(first_id, "valider")

    filer.start()
    page = filer.search("MSV2VIL014")
    assert filer.form_key == "complementary_search"
    assert "fait déjà l'objet de la demande d'enrôlement ENR0001M0" in " ".join(page.alerts())
    # Another number goes on; the page forgets the previous refusal.
    page = filer.search("HOp2DPI027")
    assert filer.form_key == "complementary"

    # Checked again at « Terminer »: filed from another tab in between.
    other = Filer(filer.browser, MEDISOFT)
    other.start()
    other.search("HOp2DPI027")
    second = other.finish()
    assert second.h1 == "Confirmation"
    page = filer.finish()
    assert filer.form_key == "complementary_search"
    assert "fait déjà l'objet de la demande d'enrôlement ENR0002M0" in " ".join(page.alerts())

    agent.decide(other.public_id, "rejeter", reason="Certificat illisible.")
    filer.search("HOp2DPI027")
    assert filer.form_key == "complementary"  # a rejected request's number may be filed again
    assert "ENR0003M0" in filer.finish().content


def test_the_signature_mandate_is_asked_of_a_depositary_once_per_wave(portal, mailbox):
    depositary = Filer.new(portal, MEDISOFT, depositary=True, email="depot@cabinet.fr")
    depositary.start()
    page = depositary.search("MSv2VIL014")
    assert "doc_signature_mandate" in page.form().fields()
    assert "Mandat de délégation de signature du représentant légal" in page.content
    form = page.form().attach("doc_referencing_certificate", "certificat.pdf", pdf_bytes("ANS")).fill(vat_rate="20")
    page = form.submit("Terminer")
    assert page.status == 422 and "doc_signature_mandate" in page.errors()
    assert "certificat.pdf" in page.content  # the certificate given is kept
    depositary.finish()
    assert "signature_mandate" in kinds(portal, depositary.public_id)
    Agent(portal).decide(depositary.public_id, "valider")

    depositary.start()
    page = depositary.search("HOp2DPI027")
    assert depositary.form_key == "complementary" and "doc_signature_mandate" not in page.form().fields()

    # The legal representative of the same SIRET is never asked.
    representative = Filer.new(portal, MEDISOFT, email="dirigeant@medisoft.fr")
    representative.start()
    representative.search("HOp2DPI027")
    assert "doc_signature_mandate" not in representative.page.form().fields()


def test_no_mandate_when_the_depositary_first_enrolled_with_an_initial_request(portal, mailbox):
    supplier = Supplier(legal_representative="non", quality="employe")
    public_id, supplier = file_request(portal, supplier)
    Agent(portal).decide(public_id, "valider")
    with portal.app_context():
        assert db.session.scalar(db.select(SupplierAccess.depositary)) is True
    holder = Holder(portal, mailbox, supplier.holder_email)
    filer = Filer(holder.browser, supplier.siret)
    filer.start()
    page = filer.search("JGe2DPI015")
    assert filer.form_key == "complementary" and "doc_signature_mandate" not in page.form().fields()


def test_a_distributor_joins_the_editors_mandate(portal, mailbox):
    filer = Filer.new(portal, DISTRIMED)
    filer.start()
    page = filer.search("MSv2VIL014")
    assert "en tant que distributeur" in page.content
    form = page.form().attach("doc_referencing_certificate", "certificat.pdf", pdf_bytes("ANS")).fill(vat_rate="20")
    page = form.submit("Terminer")
    assert page.status == 422 and "doc_editor_mandate" in page.errors()
    assert filer.finish().h1 == "Confirmation"
    assert "editor_mandate" in kinds(portal, filer.public_id)


@pytest.mark.parametrize("hosts, document", [("oui", "hds_certificate"), ("non", "hds_attestation")])
def test_a_sons_dpi_answers_the_hds_question(portal, mailbox, hosts, document):
    filer = Filer.new(portal, MEDISOFT)
    filer.start()
    page = filer.search("HOp2DPI027")
    assert "hosts_health_data" in page.form().fields()
    page = page.form().fill(vat_rate="20").submit("Terminer")
    assert page.status == 422 and "hosts_health_data" in page.errors()
    filer.finish(hosts=hosts, vat_rate="non_assujetti")
    assert document in kinds(portal, filer.public_id) and "non_vat_proof" in kinds(portal, filer.public_id)
    request = stored(portal, filer.public_id)
    assert (request.data["hosts_health_data"], request.data["vat_liable"], request.data["vat_rate"]) == (hosts, "non", None)


def test_an_anticipated_complementary_enrolment_is_finalised(portal, mailbox):
    filer = Filer.new(portal, BEAUJOLAIS, email="claire@bis-sante.fr")
    filer.start()
    page = filer.search(PENDING_DPI)
    fields = page.form().fields()
    assert "Enrôlement anticipé" in page.content
    assert not {"doc_referencing_certificate", "hosts_health_data"} & fields
    filer.finish()
    request = stored(portal, filer.public_id)
    assert request.enrolment_type == "COMPLEMENTAIRE ANTICIPE"
    listing = filer.browser.get("/espace/demandes").texts("//tbody/tr")[0]
    assert "COMPLEMENTAIRE ANTICIPE" in listing

    agent = Agent(portal)
    agent.decide(filer.public_id, "valider_partiellement")
    assert stored(portal, filer.public_id).status == "partially_validated"
    page = filer.browser.get(f"/demandes/{filer.public_id}/etape")
    form = page.form().attach("doc_final_referencing_certificate", "certificat-ans.pdf", pdf_bytes("ANS"))
    page = form.fill(final_hosts_health_data="oui").attach("doc_final_hds_certificate", "hds.pdf",
                                                           pdf_bytes("HDS")).submit("Confirmer")
    assert page.status == 200, page.errors()
    assert stored(portal, filer.public_id).status == "certificates_to_validate"
    agent.decide(filer.public_id, "valider")
    assert stored(portal, filer.public_id).status == "validated"


def test_complementary_enrolment_is_for_logged_in_suppliers_of_the_siret(portal, client):
    assert client.get("/enrolement/complementaire").status_code == 302
    filer = Filer.new(portal, MEDISOFT)
    menu = filer.menu()
    page = filer.browser.post("/enrolement/complementaire", {"siret": [BEAUJOLAIS], "csrf_token": [_csrf(menu)]})
    assert page.status == 404
    agent = Agent(portal)
    assert agent.browser.get("/enrolement/complementaire").status == 404


def _csrf(page) -> str:
    return page.doc.xpath("//input[@name='csrf_token']/@value")[0]


def test_the_supplier_home_leads_to_a_complementary_enrolment_named_from_the_directory(portal, mailbox):
    filer = Filer.new(portal, MEDISOFT)  # known from wave 1: no wave-2 request gives the company's name
    home = filer.browser.get("/espace")
    button = home.doc.xpath("//main//a[normalize-space()='Faire une demande complémentaire']/@href")
    assert button == ["/enrolement/complementaire"]
    page = filer.browser.get(button[0])
    assert page.status == 200 and page.h1 == "Faire une demande complémentaire"
    card = " ".join(page.texts(f"//*[@id='siret-{MEDISOFT}']"))
    assert "MEDISOFT SOLUTIONS" in card and "Non renseigné" not in card
    assert page.texts(f"//*[@id='siret-{MEDISOFT}']//h2") == [f"SIRET {MEDISOFT}"]
    assert "Récapitulatif" not in page.content

    filer.page = page.form(f"start-{MEDISOFT}").submit()
    recap = filer.page.texts("//*[@id='recapitulatif']")[0]
    assert "MEDISOFT SOLUTIONS" in recap and "Non renseigné" not in recap
